import { ClientError, clientError } from "./errors.js";
import type { EncodedBodyInit, Extension, OperationSpec, ParamSpec } from "./types.js";

const RESERVED = /%(3A|2F|3F|5B|5D|40|21|24|27|28|29|2A|2C|3B)/gi;

/** Scalars to their wire text: Dates as ISO strings, everything else through String(). */
export const str = (v: unknown): string => (v instanceof Date ? v.toISOString() : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));

const enc = encodeURIComponent;

/** A plain object (record of fields): not an array, Date, Blob, bytes, stream, FormData, URLSearchParams, Map… */
function isPlain(v: unknown): v is Record<string, unknown> {
  return Object.prototype.toString.call(v) === "[object Object]" && !(Symbol.asyncIterator in (v as object));
}

/** Bytes, a Blob / File, a web or Node stream: a value no text or field encoding may silently flatten. */
const isBinary = (v: unknown): boolean =>
  v instanceof Blob || v instanceof ArrayBuffer || ArrayBuffer.isView(v) || v instanceof ReadableStream || (typeof v === "object" && v !== null && Symbol.asyncIterator in v);

/** A short name for the kind of a value, for errors. */
const kind = (v: unknown): string => (v === null ? "null" : typeof v === "object" ? Object.prototype.toString.call(v).slice(8, -1) : typeof v);

function paramSpec(op: OperationSpec, name: string, where: ParamSpec["in"]): ParamSpec | undefined {
  if (op.params) for (const p of op.params) if (p.name === name && p.in === where) return p;
  return undefined;
}

/** Defined entries of an object (undefined and null skipped). */
function entries(o: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(o).filter((e) => e[1] !== undefined && e[1] !== null);
}

/** RFC 6570-ish expansion for path and header params (styles simple / label / matrix). */
function expand(name: string, v: unknown, p: ParamSpec | undefined, e: (s: string) => string): string {
  const style = p?.style ?? "simple";
  const explode = p?.explode ?? false;
  const prefix = style === "label" ? "." : style === "matrix" ? ";" : "";
  const sep = explode && style !== "simple" ? prefix : ",";
  if (p?.contentType) return prefix + (style === "matrix" ? `${name}=` : "") + e(JSON.stringify(v));
  if (Array.isArray(v)) {
    const items = v.map((x) => e(str(x)));
    if (style === "matrix") return explode ? items.map((i) => `;${name}=${i}`).join("") : `;${name}=${items.join(",")}`;
    return prefix + items.join(sep);
  }
  if (isPlain(v)) {
    const kv = entries(v);
    const parts = explode ? kv.map(([k, x]) => `${e(k)}=${e(str(x))}`) : kv.flatMap(([k, x]) => [e(k), e(str(x))]);
    if (style === "matrix") return explode ? parts.map((x) => `;${x}`).join("") : `;${name}=${parts.join(",")}`;
    return prefix + parts.join(sep);
  }
  return style === "matrix" ? `;${name}=${e(str(v))}` : prefix + e(str(v));
}

/** A path template split once: `parts[0] {names[0]} parts[1] {names[1]} … parts[n]`. */
interface PathTemplate {
  parts: string[];
  names: string[];
}

/** Path templates by template text, split on first use (a template is a spec constant). */
const templates = new Map<string, PathTemplate>();

function templateOf(path: string): PathTemplate {
  let t = templates.get(path);
  if (!t) {
    const split = path.split(/\{([^}]+)\}/);
    t = { parts: split.filter((_x, i) => i % 2 === 0), names: split.filter((_x, i) => i % 2 === 1) };
    if (templates.size > 10_000) templates.clear();
    templates.set(path, t);
  }
  return t;
}

/** "." / ".." (also as %2e): WHATWG URLs treat them as dot segments that would climb out of the base path. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Fill `{name}` in the path template with `one(name, value)`; values may not be `.`/`..` segments. */
function fillPath(op: OperationSpec, values: Record<string, unknown> | undefined, one: (name: string, v: unknown) => string): string {
  const { parts, names } = templateOf(op.path);
  let out = parts[0] as string;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const v = values?.[name];
    const seg = v === undefined || v === null ? "." : one(name, v);
    if (seg.length <= 6 && DOT_SEGMENT.test(seg)) {
      throw clientError("INVALID_REQUEST", 422, `${op.id}: bad path param ${name}`, { operationId: op.id, param: name, value: seg });
    }
    out += seg + (parts[i + 1] as string);
  }
  return out;
}

/** A scalar's wire text, percent-encoded. */
const encScalar = (v: unknown): string => enc(typeof v === "string" ? v : str(v));

/** Path params, style simple without explode (the default). */
export const buildPath = (op: OperationSpec, values: Record<string, unknown> | undefined): string =>
  fillPath(op, values, (_n, v) => (typeof v !== "object" ? encScalar(v) : (Array.isArray(v) ? v : isPlain(v) ? entries(v).flat() : [v]).map(encScalar).join(",")));

/** Query params, style form with explode (the default): arrays repeated, objects as their own keys. */
export function simpleQuery(query: Record<string, unknown>): string {
  let out = "";
  const add = (n: string, x: unknown): void => void (out += `${out ? "&" : ""}${enc(n)}=${encScalar(x)}`);
  for (const k in query) {
    if (!Object.prototype.hasOwnProperty.call(query, k)) continue;
    const v = query[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "object") add(k, v);
    else if (isPlain(v)) for (const [n, x] of entries(v)) add(n, x);
    else if (Array.isArray(v)) for (const x of v) add(k, x);
    else add(k, v);
  }
  return out;
}

/** Non-default parameter styles (label, matrix, spaceDelimited, pipeDelimited, deepObject, explode, allowReserved, content). */
export const styledParams: Extension = {
  params: (op, where, values) => (where === "path" ? fillPath(op, values, (n, v) => expand(n, v, paramSpec(op, n, "path"), enc)) : buildQuery(op, values)),
};

/** Serialise query params per style/explode (form, spaceDelimited, pipeDelimited, deepObject). */
export function buildQuery(op: OperationSpec, query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const out: string[] = [];
  for (const [name, v] of entries(query)) {
    const p = paramSpec(op, name, "query");
    const e = p?.allowReserved ? (s: string) => enc(s).replace(RESERVED, decodeURIComponent) : enc;
    const style = p?.style ?? "form";
    const explode = p?.explode ?? style === "form";
    const k = enc(name);
    if (p?.contentType) out.push(`${k}=${e(JSON.stringify(v))}`);
    else if (style === "deepObject") deep(out, k, v, e);
    else if (Array.isArray(v)) {
      if (explode) for (const x of v) out.push(`${k}=${e(str(x))}`);
      else out.push(`${k}=${v.map((x) => e(str(x))).join(style === "spaceDelimited" ? "%20" : style === "pipeDelimited" ? "|" : ",")}`);
    } else if (isPlain(v)) {
      const kv = entries(v);
      if (explode) for (const [pk, x] of kv) out.push(`${enc(pk)}=${e(str(x))}`);
      else out.push(`${k}=${kv.map(([pk, x]) => `${enc(pk)},${e(str(x))}`).join(",")}`);
    } else out.push(`${k}=${e(str(v))}`);
  }
  return out.join("&");
}

/** `filter[status]=open&filter[tags]=a&filter[tags]=b`, nested objects as `a[b][c]` (brackets encoded). */
function deep(out: string[], key: string, v: unknown, e: (s: string) => string): void {
  if (Array.isArray(v)) for (const x of v) deep(out, key, x, e);
  else if (isPlain(v)) for (const [k, x] of entries(v)) deep(out, `${key}%5B${enc(k)}%5D`, x, e);
  else if (v !== undefined && v !== null) out.push(`${key}=${e(str(v))}`);
}

/** Nested form fields: `a[b]=c`, arrays repeated (`tags=a&tags=b`), arrays of objects indexed (`items[0][id]=1`). Binary values throw (`bad(path)`). */
function formFields(value: unknown, bad: (field: string, v: unknown) => never, prefix = "", out: Array<[string, string]> = []): Array<[string, string]> {
  if (isBinary(value)) bad(prefix, value);
  if (Array.isArray(value)) {
    value.forEach((x, i) => formFields(x, bad, isPlain(x) || Array.isArray(x) ? `${prefix}[${i}]` : prefix, out));
  } else if (isPlain(value)) {
    for (const [k, x] of entries(value)) formFields(x, bad, prefix ? `${prefix}[${k}]` : k, out);
  } else if (value !== undefined && value !== null) out.push([prefix, str(value)]);
  return out;
}

function isJson(mediaType: string): boolean {
  // application/json, application/x+json, anything/json, anything+json.
  return /[+/]json\b/i.test(mediaType);
}

/** BIFROST_CLIENT_INVALID_REQUEST for a body that cannot be encoded as `mediaType` (nothing is sent). */
const refuse = (op: OperationSpec, mediaType: string, what: string, fix: string, field?: string): never => {
  throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: ${field ? `body field "${field}" is` : "body is"} ${what}, which ${mediaType} cannot carry; ${fix}. Nothing was sent.`, {
    operationId: op.id,
    mediaType,
    ...(field ? { field } : {}),
  });
};

/**
 * The request body (the `encode` of every body extension): the media type is `args.contentType`, else the
 * first of `op.body.mediaTypes`; JSON and `text/*` are encoded here, others by the first `body` encoder in
 * `ext` that takes them (formBody, multipartBody, binaryBody). A value the media type cannot carry (a Blob
 * as JSON, an object as text) is refused, never sent empty.
 */
const encode: NonNullable<Extension["encode"]> = (op, args, ext) => {
  const b = args.body;
  if (b === undefined) throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: body required`, { operationId: op.id });
  const mt = args.contentType ?? op.body?.mediaTypes[0] ?? "application/json";
  if (isJson(mt)) {
    if (isBinary(b) || b instanceof FormData || b instanceof URLSearchParams) refuse(op, mt, `a ${kind(b)}`, "pass the JSON value itself (or choose another contentType the operation accepts)");
    return { body: JSON.stringify(b), type: mt, replayable: true };
  }
  if (/^text\//i.test(mt)) {
    // Bytes and Blobs are sent as they are (the caller's encoding); objects have no text form.
    if (b instanceof Blob || b instanceof ArrayBuffer || ArrayBuffer.isView(b)) return { body: b as EncodedBodyInit, type: mt, replayable: true };
    if (typeof b === "object" && b !== null && !(b instanceof Date)) refuse(op, mt, `a ${kind(b)}`, "pass a string (or bytes / a Blob)");
    return { body: str(b), type: mt, replayable: true };
  }
  let e;
  for (const x of ext) if ((e = x.body?.(b, mt, op))) return e;
  throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: no encoder for ${mt}`, { operationId: op.id, mediaType: mt });
};

/** JSON (`application/json`, `*+json`) and `text/*` request bodies. */
export const jsonBody: Extension = { encode };

/** `application/x-www-form-urlencoded`: an object (nested as `a[b]=c`), a string or URLSearchParams; files and streams are refused. */
export const formBody: Extension = { encode, body: (body, mediaType, op) => {
  if (!/^application\/x-www-form-urlencoded/i.test(mediaType)) return undefined;
  const fix = "send files as multipart/form-data, or pass strings";
  if (typeof body === "string" || body instanceof URLSearchParams) return { body, type: mediaType, replayable: true };
  if (!isPlain(body)) refuse(op, mediaType, `a ${kind(body)}`, "pass an object of fields, a string or URLSearchParams");
  const fields = formFields(body, (field, v) => refuse(op, mediaType, `a ${kind(v)}`, fix, field));
  return { body: new URLSearchParams(fields).toString(), type: mediaType, replayable: true };
} };

/** A file part: Blob / File as is (File keeps its name), bytes as a Blob. */
const filePart = (v: Blob | ArrayBuffer | ArrayBufferView): Blob => (v instanceof Blob ? v : new Blob([v as ArrayBuffer]));

/**
 * `multipart/form-data`: a FormData; an object of fields (Blob / File / bytes as files, arrays as repeated
 * parts, objects as JSON parts, Dates as ISO strings); or one file alone (a schema `{type: string, format:
 * binary}`), sent as the part `file`. Streams are refused: read them first (`await new Response(stream).blob()`).
 */
export const multipartBody: Extension = { encode, body: (body, mediaType, op) => {
  if (!/^multipart\/form-data/i.test(mediaType)) return undefined;
  if (body instanceof FormData) return { body, type: undefined, replayable: true };
  const fd = new FormData();
  const stream = (field?: string): never => refuse(op, mediaType, "a stream", "read it into a Blob first (`await new Response(stream).blob()`)", field);
  const add = (k: string, x: unknown): void => {
    if (x instanceof Blob || x instanceof ArrayBuffer || ArrayBuffer.isView(x)) fd.append(k, filePart(x), (x as { name?: string }).name || k);
    else if (isBinary(x)) stream(k);
    else if (isPlain(x) || Array.isArray(x)) fd.append(k, new Blob([JSON.stringify(x)], { type: "application/json" }));
    else fd.append(k, str(x));
  };
  if (isBinary(body)) {
    if (body instanceof ReadableStream || !(body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body))) stream();
    add("file", body);
  } else if (isPlain(body)) {
    for (const [k, v] of entries(body)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null) add(k, x);
  } else refuse(op, mediaType, `a ${kind(body)}`, "pass an object of fields, a FormData, or one Blob / File");
  return { body: fd, type: undefined, replayable: true };
} };

/** Any other media type: Uint8Array (any ArrayBuffer view), ArrayBuffer, Blob, string, or a stream (web ReadableStream or async iterable, sent once). */
export const binaryBody: Extension = { encode, body: (body, mediaType, op) => {
  if (typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob) {
    return { body: body as EncodedBodyInit, type: mediaType, replayable: true };
  }
  // undici accepts async iterables (a Node Readable) as a body.
  if (isBinary(body)) return { body: body as EncodedBodyInit, type: mediaType, replayable: false };
  return refuse(op, mediaType, `a ${kind(body)}`, "pass bytes (Uint8Array / ArrayBuffer), a Blob / File, a string or a stream");
} };
