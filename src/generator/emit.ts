/**
 * Assemble the generated module text. Deterministic (no timestamps, document order throughout) and
 * tree-shakable: top-level statements are type declarations and `const`/`function` declarations only;
 * the client creation is marked `/* @__PURE__ *\/`.
 */
import type { ClientSpec, OperationSpec, SecurityRequirement, SecurityScheme } from "../client/types.js";
import { type AuthChoice, planAuthChoice, planSecurity, planServers, type PlannedKey } from "./config-keys.js";
import { collectOperations, deref, isJsonMedia, opTypeStem, type MediaInfo, type OperationInfo, type Rename } from "./operations.js";
import { camelCase, NameAllocator, pascalCase, propKey, safeTypeName, safeValueName } from "./names.js";
import { isObject, type JsonObject } from "./pointer.js";
import type { ProgressReporter } from "./progress.js";
import { cyclicComponents, discriminatorValues, docComment, immediateRefs, SchemaEmitter, type SchemaContext, type SchemaMode, typeDeps } from "./schema-to-ts.js";

export interface EmitOptions {
  /** Integration name as registered in Bifrost. */
  integration: string;
  /** Normalised module name (file name without .ts). */
  moduleName: string;
  /** Where the runtime is imported from. Default "bifrost/client". */
  clientImport?: string;
  /** Property descriptions as doc comments (default true). */
  propertyDocs?: boolean;
  onProgress?: ProgressReporter;
  /** How calls authenticate (`--auth`); default `spec`: the spec's security schemes. */
  auth?: AuthChoice;
}

export interface EmitResult {
  /** The `--auth` choice the module was generated with (recorded in its header). */
  auth: AuthChoice;
  source: string;
  exportName: string;
  operations: Array<{ name: string; operationId: string | null; method: string; path: string; paginated: boolean }>;
  renames: Rename[];
  schemaCount: number;
  configKeys: PlannedKey[];
  warnings: string[];
}

/** A TS/JS literal for plain data, keys bare where possible. */
function lit(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(lit).join(", ")}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, x]) => `${propKey(k)}: ${lit(x)}`).join(", ")} }`;
}

const PRIMITIVE = new Set(["string", "number", "integer", "boolean"]);

export function emitModule(doc: JsonObject, opts: EmitOptions): EmitResult {
  const warnings: string[] = [];
  const warnSet = new Set<string>();
  const warn = (m: string): void => {
    if (!warnSet.has(m)) {
      warnSet.add(m);
      warnings.push(m);
    }
  };
  const progress = opts.onProgress ?? (() => undefined);
  const exportName = safeValueName(camelCase(opts.moduleName));

  // ---- component schemas → names
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const types = new NameAllocator();
  const named = new Map<object, string>();
  const order: TypeEntry[] = [];
  for (const [raw, schema] of Object.entries(schemas)) {
    const name = types.claim(safeTypeName(pascalCase(raw)));
    if (isObject(schema)) named.set(schema, name);
    order.push({ name, raw, schema: isObject(schema) ? schema : schema === false ? false : true, kind: "plain" });
  }
  const ctx: SchemaContext = { doc, named, scc: new Map(), warn, bases: new Map() };
  discriminatorUnions(ctx, order, types);
  const graph = new Map<string, string[]>();
  for (const o of order) graph.set(o.name, o.kind === "union" ? o.children.map((c) => c.name) : typeof o.schema === "object" ? immediateRefs(ctx, o.schema) : []);
  ctx.scc = cyclicComponents(graph);
  const em = new SchemaEmitter(ctx);
  em.docs = opts.propertyDocs !== false;
  planVariants(ctx, em, order, types);

  // ---- security, servers
  const auth = opts.auth ?? "spec";
  const chosen = auth === "spec" ? null : planAuthChoice(auth);
  const sec = chosen ?? planSecurity(doc);
  if (sec.unsupported.length > 0) warn(`security schemes not supported by the runtime (requirements using them are dropped): ${sec.unsupported.join(", ")}`);
  const taken = new Set(["base_url", ...sec.keys.map((k) => k.key)]);
  const srv = planServers(doc, taken);
  const configKeys: PlannedKey[] = [{ key: "base_url", type: "string", description: "Base URL of the API (overrides the spec's server URL)" }, ...sec.keys, ...srv.keys];
  const unsupported = new Set(sec.unsupported);
  const cleanSecurity = (reqs: SecurityRequirement[] | undefined): SecurityRequirement[] | undefined => {
    // A chosen scheme applies to every operation: the spec's requirements are ignored.
    if (reqs === undefined || chosen) return undefined;
    const kept = reqs.filter((r) => Object.keys(r).every((k) => !unsupported.has(k) && (k in sec.schemes || (warn(`security requirement names unknown scheme "${k}"; dropped`), false))));
    // Only unsupported alternatives: fall back to the spec default rather than claiming "no auth".
    return kept.length === 0 && reqs.length > 0 ? undefined : kept;
  };

  // ---- operations
  const collected = collectOperations(doc, [exportName, "paginate"]);
  for (const w of collected.warnings) warn(w);
  const ops = collected.operations;

  const out: string[] = [];
  const info = isObject(doc.info) ? doc.info : {};
  const title = typeof info.title === "string" ? info.title : "API";
  const version = typeof info.version === "string" ? info.version : "";
  const clientImport = opts.clientImport ?? "bifrost/client";
  out.push(
    `// Generated by \`bifrost sdk generate\` from ${JSON.stringify(title).slice(1, -1).replace(/\*\//g, "")}${version ? ` ${version.replace(/[\r\n]/g, " ")}` : ""} (OpenAPI ${String(doc.openapi)}). Do not edit; regenerate instead.\n`,
    ...(chosen ? [`// bifrost sdk generate --auth ${auth}\n`] : []),
    `/* eslint-disable */\n`,
    `import { ${RUNTIME_IMPORTS_MARK} } from ${JSON.stringify(clientImport)};\n`,
    `import type { ${TYPE_IMPORTS_MARK} } from ${JSON.stringify(clientImport)};\n\n`,
    `/** Per-call options (signal, timeoutMs, maxRetries, contentType, parseAs). */\n`,
    `export type $Options = Omit<$RequestArgs, "path" | "query" | "headers" | "cookies" | "body">;\n`,
    `/** A binary body: bytes, a Blob / File, a string, or a stream (sent once, never retried). */\n`,
    `export type $Binary = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | string;\n`,
    `/** A file in a request: a Blob / File, or bytes. */\n`,
    `export type $File = Blob | ArrayBuffer | Uint8Array;\n\n`,
  );

  // ---- schema types (and their request / response variants where readOnly / writeOnly properties differ)
  for (const o of order) {
    const s = o.schema;
    const d = o.kind === "base" ? `The properties of ${o.of} itself (its subtypes extend it).` : isObject(s) ? [typeof s.title === "string" && s.title !== o.raw ? s.title : "", typeof s.description === "string" ? s.description : ""].filter(Boolean).join("\n\n") : "";
    const extra = isObject(s) && s.deprecated === true ? ["@deprecated"] : [];
    out.push(docComment(d, "", extra));
    out.push(`export type ${o.name} = ${typeText(em, o, null)};\n`);
    const v = em.variants.get(o.name);
    if (v?.request) out.push(docComment(`${o.name} as sent in a request: without its readOnly properties (files as Blob / File or bytes).`, ""), `export type ${v.request} = ${typeText(em, o, "request")};\n`);
    if (v?.response) out.push(docComment(`${o.name} as received in a response: without its writeOnly properties.`, ""), `export type ${v.response} = ${typeText(em, o, "response")};\n`);
  }
  if (order.length > 0) out.push("\n");

  // ---- client
  const spec: ClientSpec = { integration: opts.integration, servers: srv.servers, securitySchemes: sec.schemes };
  const globalSec = chosen ? chosen.security : cleanSecurity(Array.isArray(doc.security) ? (doc.security.filter(isObject) as unknown as SecurityRequirement[]) : undefined);
  if (globalSec !== undefined) spec.security = globalSec;
  // Only the security-scheme appliers this spec's schemes need (unused ones stay out of bundles).
  const appliers = [...new Set(Object.values(spec.securitySchemes).map(applierOf))];
  out.push(`const $spec: $ClientSpec = ${lit(spec)};\n`, `const $client = /* @__PURE__ */ $createClientWith($spec, [${appliers.map((a) => `$${a}`).join(", ")}]);\n\n`);

  // ---- operations
  const paginated: string[] = [];
  /** Runtime extensions imported (only those some operation needs, so unused ones stay out of bundles). */
  const used = new Set<string>(["createClientWith", ...appliers]);
  /** Runtime types named (besides the three every module uses). */
  const typesUsed: string[] = ["ClientSpec", "OperationSpec", "RequestArgs"];
  const total = ops.length;
  let n = 0;
  for (const op of ops) {
    const stem = opTypeStem(op);
    const argsName = types.claim(`${stem}Args`);
    const respName = types.claim(`${stem}Response`);
    const argsType = emitArgs(op, em, doc);
    const respType = responseType(op, em);
    const errType = errorType(op, em);
    const errName = errType ? types.claim(`${stem}Error`) : null;
    const opSpec: OperationSpec = { id: op.operationId ?? op.name, method: op.method.toUpperCase() as OperationSpec["method"], path: op.path };
    const ps = op.params.flatMap((p) => (p.spec ? [p.spec] : []));
    if (ps.length > 0) opSpec.params = ps;
    if (op.body) opSpec.body = { mediaTypes: op.body.media.map((m) => m.mediaType), ...(op.body.required ? { required: true } : {}) };
    const security = cleanSecurity(op.security);
    if (security !== undefined) opSpec.security = security;
    if (op.pagination) opSpec.pagination = op.pagination;
    const optionalArgs = !argsType.required;
    out.push(`export type ${argsName} = ${argsType.text};\n`);
    out.push(`export type ${respName} = ${respType};\n`);
    if (errName) typesUsed.push("ApiError", "Call", "ErrorStatus");
    if (errName) out.push(docComment(`The errors ${op.name} declares, by status (narrow with \`isApiError(e, ${op.name}) && e.status === …\`).`, ""), `export type ${errName} = ${errType};\n`);
    out.push(`const ${op.name}$: $OperationSpec = ${lit(opSpec)};\n`);
    const docLines: string[] = [];
    if (op.summary) docLines.push(op.summary.trim());
    if (op.description && op.description.trim() !== op.summary?.trim()) docLines.push(...(docLines.length ? [""] : []), op.description.trim());
    const extra = [...(docLines.length ? [""] : []), `\`${op.method.toUpperCase()} ${op.path}\``, ...(op.deprecated ? ["@deprecated"] : [])];
    out.push(docComment(docLines.join("\n"), "", extra));
    const ext = extensionsOf(opSpec);
    for (const x of ext) used.add(x);
    const extArg = ext.length > 0 ? `, [${ext.map((x) => `$${x}`).join(", ")}]` : "";
    out.push(`export function ${op.name}(args: ${argsName}${optionalArgs ? " = {}" : ""}): ${errName ? `$Call<${respName}, ${errName}>` : `Promise<${respName}>`} {\n  return $client.request<${respName}>(${op.name}$, args${extArg});\n}\n\n`);
    if (op.pagination) {
      used.add("paginate");
      paginated.push(`  ${op.name}: (args: ${argsName}${optionalArgs ? " = {}" : ""}): AsyncIterable<${em.inline(op.itemSchema, "  ", "response")}> => $paginate($client, ${op.name}$, args${extArg}),\n`);
    }
    if (++n % 200 === 0) progress({ phase: "emit", done: n, total });
  }
  out.push(docComment("Async iterators over every item, for the operations whose spec shows a pagination pattern.", ""));
  out.push(`export const paginate = {\n${paginated.join("")}};\n\n`);
  out.push(docComment(`${title}: every operation of the integration "${opts.integration}". Import single functions instead for the smallest bundle.`, ""));
  out.push(`export const ${exportName} = {\n${ops.map((o) => `  ${o.name},\n`).join("")}  paginate,\n};\n`);
  progress({ phase: "emit", done: total, total });

  const imports = [...used].sort().map((x) => `${x} as $${x}`).join(", ");
  return {
    auth,
    source: out
      .join("")
      .replace(RUNTIME_IMPORTS_MARK, imports)
      .replace(TYPE_IMPORTS_MARK, [...new Set(typesUsed)].sort().map((x) => `${x} as $${x}`).join(", ")),
    exportName,
    operations: ops.map((o) => ({ name: o.name, operationId: o.operationId, method: o.method.toUpperCase(), path: o.path, paginated: o.pagination !== null })),
    renames: collected.renames,
    schemaCount: order.length,
    configKeys,
    warnings,
  };
}

const RUNTIME_IMPORTS_MARK = "\u0000runtime-imports\u0000";
const TYPE_IMPORTS_MARK = "\u0000type-imports\u0000";

/** The runtime's security-scheme applier (see `AuthApplier` in bifrost/client) for a scheme. */
function applierOf(s: SecurityScheme): string {
  if (s.type === "apiKey") return s.in === "header" ? "apiKeyHeader" : s.in === "query" ? "apiKeyQuery" : "apiKeyCookie";
  return s.type === "http" && s.scheme === "basic" ? "basicAuth" : "bearerAuth";
}

/** Which runtime extensions (see `Extension` in bifrost/client) an operation needs: styled params, the request body (JSON / text, non-JSON encoders). */
function extensionsOf(op: OperationSpec): string[] {
  const ext: string[] = [];
  if (op.params?.some((p) => p.in === "path" || p.in === "query")) ext.push("styledParams");
  for (const raw of op.body?.mediaTypes ?? []) {
    const mt = raw.toLowerCase();
    // JSON (application/json, *+json) and text/* need no encoder of their own: every body extension encodes them.
    if (/[+/]json\b/.test(mt) || mt.startsWith("text/")) continue;
    const x = mt.startsWith("application/x-www-form-urlencoded") ? "formBody" : mt.startsWith("multipart/form-data") ? "multipartBody" : "binaryBody";
    if (!ext.includes(x)) ext.push(x);
  }
  // JSON / text only (or no media type: sent as JSON): jsonBody.
  if (op.body && !ext.some((x) => x.endsWith("Body"))) ext.push("jsonBody");
  return ext;
}

function primitiveOrString(em: SchemaEmitter, doc: JsonObject, schema: unknown, indent: string): string {
  const s = deref(doc, schema);
  if (isObject(s)) {
    const t = Array.isArray(s.type) ? s.type.filter((x) => x !== "null") : [s.type];
    // Header and cookie values are never null on the wire: drop 3.0 `nullable` / 3.1 "null".
    if (t.length === 1 && typeof t[0] === "string" && PRIMITIVE.has(t[0]) && s.format !== "binary") return em.inline({ ...s, nullable: false, type: t[0], ...(Array.isArray(s.enum) ? { enum: s.enum.filter((v) => v !== null) } : {}) }, indent);
  }
  return "string";
}

function emitArgs(op: OperationInfo, em: SchemaEmitter, doc: JsonObject): { text: string; required: boolean } {
  const groups: Array<{ key: string; required: boolean; body: string }> = [];
  const where = [
    ["path", "path"],
    ["query", "query"],
    ["header", "headers"],
    ["cookie", "cookies"],
  ] as const;
  for (const [loc, key] of where) {
    const ps = op.params.filter((p) => p.in === loc);
    if (ps.length === 0) continue;
    const lines: string[] = [];
    for (const p of ps) {
      lines.push(docComment(p.description, "    ", p.deprecated ? ["@deprecated"] : []).replace(/\n$/, ""));
      const t = loc === "header" || loc === "cookie" ? primitiveOrString(em, doc, p.schema, "    ") : em.inline(p.schema, "    ", "request");
      lines.push(`    ${propKey(p.name)}${p.required ? "" : "?"}: ${t};`);
    }
    groups.push({ key, required: ps.some((p) => p.required), body: `{\n${lines.filter(Boolean).join("\n")}\n  }` });
  }
  if (op.body) groups.push({ key: "body", required: op.body.required, body: bodyType(op.body.media, em) });
  if (groups.length === 0) return { text: "$Options", required: false };
  const required = groups.some((g) => g.required);
  return { text: `{\n${groups.map((g) => `  ${g.key}${g.required ? "" : "?"}: ${g.body};`).join("\n")}\n} & $Options`, required };
}

function bodyType(media: MediaInfo[], em: SchemaEmitter): string {
  const parts: string[] = [];
  for (const m of media) {
    const mt = m.mediaType.toLowerCase();
    if (isJsonMedia(mt)) parts.push(em.inline(m.schema, "  ", "request"));
    else if (mt.startsWith("multipart/")) parts.push(m.schema === undefined ? "FormData" : `${wrapT(em.inline(m.schema, "  ", "request"))} | FormData`);
    else if (mt === "application/x-www-form-urlencoded") parts.push(m.schema === undefined ? "{ [key: string]: unknown } | URLSearchParams" : `${wrapT(em.inline(m.schema, "  ", "request"))} | URLSearchParams`);
    else if (mt.startsWith("text/")) parts.push("string");
    else parts.push("$Binary");
  }
  const uniq = [...new Set(parts)];
  if (uniq.includes("unknown")) return "unknown";
  return uniq.length === 1 ? (uniq[0] as string) : uniq.map(wrapT).join(" | ");
}

function wrapT(t: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(t) ? t : `(${t})`;
}

/** The success statuses of an operation: 2xx (and 2XX), else `default`. */
function successResponses(op: OperationInfo): OperationInfo["responses"] {
  const ok = op.responses.filter((r) => /^2\d\d$/.test(r.status) || /^2xx$/i.test(r.status));
  return ok.length > 0 ? ok : op.responses.filter((r) => r.status === "default");
}

/** Binary media types (a body without a schema is a Blob): images, audio, video, fonts, octet-stream, archives, PDF. */
const BINARY_MEDIA = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-7z-compressed|vnd\.openxmlformats|msword|vnd\.ms-)/i;

function responseType(op: OperationInfo, em: SchemaEmitter): string {
  const chosen = successResponses(op);
  if (chosen.length === 0) return "unknown";
  const parts: string[] = [];
  for (const r of chosen) {
    if (r.status === "204" || r.status === "205" || op.method === "head" || r.media.length === 0) {
      parts.push("undefined");
      continue;
    }
    // With a JSON representation on offer, that is what the client reads (it asks for JSON first).
    const json = r.media.filter((m) => isJsonMedia(m.mediaType.toLowerCase()));
    for (const m of json.length > 0 ? json : r.media) {
      const mt = m.mediaType.toLowerCase();
      if (isJsonMedia(mt)) parts.push(m.schema === undefined ? "unknown" : em.inline(m.schema, "", "response"));
      else if (mt.startsWith("text/")) parts.push("string");
      // Swagger 2.0 `produces` without a schema: typed by the media type alone.
      else if (m.produces) parts.push(BINARY_MEDIA.test(mt) ? "Blob" : "unknown");
      else parts.push("Blob");
    }
  }
  const uniq = [...new Set(parts)];
  if (uniq.includes("unknown")) return "unknown";
  return uniq.length === 1 ? (uniq[0] as string) : uniq.map(wrapT).join(" | ");
}

/**
 * The `ApiError`s an operation declares, by status: `$ApiError<404, NotFound> | $ApiError<Exclude<$ErrorStatus<4>, 404>, Problem> | …`;
 * statuses it does not declare carry `unknown`. Null when it declares no error response.
 */
function errorType(op: OperationInfo, em: SchemaEmitter): string | null {
  const success = new Set(successResponses(op));
  const errs = op.responses.filter((r) => !success.has(r) && (/^[345]\d\d$/.test(r.status) || /^[345]xx$/i.test(r.status) || r.status === "default"));
  if (errs.length === 0) return null;
  // The body as the runtime reads it: parsed JSON when the response is JSON, else the text.
  const body = (r: (typeof errs)[number]): string => {
    const ts = r.media.map((m) => (isJsonMedia(m.mediaType.toLowerCase()) ? (m.schema === undefined ? "unknown" : em.inline(m.schema, "", "response")) : "string"));
    const u = [...new Set(ts.length > 0 ? ts : ["string"])];
    return u.includes("unknown") ? "unknown" : u.map(wrapT).join(" | ");
  };
  const exact = errs.filter((r) => /^\d+$/.test(r.status));
  const ranges = errs.filter((r) => /^[345]xx$/i.test(r.status));
  const literals = exact.map((r) => r.status);
  const parts = exact.map((r) => `$ApiError<${r.status}, ${body(r)}>`);
  const taken = (c: string): string => {
    const mine = literals.filter((l) => l.startsWith(c));
    return mine.length > 0 ? `Exclude<$ErrorStatus<${c}>, ${mine.join(" | ")}>` : `$ErrorStatus<${c}>`;
  };
  for (const r of ranges) parts.push(`$ApiError<${taken(r.status[0] as string)}, ${body(r)}>`);
  const other = [...literals, ...ranges.map((r) => `$ErrorStatus<${r.status[0]}>`)];
  const rest = other.length > 0 ? `Exclude<$ErrorStatus, ${other.join(" | ")}>` : "$ErrorStatus";
  const def = errs.find((r) => r.status === "default");
  parts.push(`$ApiError<${rest}, ${def ? body(def) : "unknown"}>`);
  return parts.join(" | ");
}

interface PlainEntry {
  name: string;
  raw: string;
  schema: JsonObject | boolean;
  kind: "plain" | "base";
  /** kind "base": the discriminator parent it is the own object type of. */
  of?: string;
}

interface UnionEntry {
  name: string;
  raw: string;
  schema: JsonObject;
  kind: "union";
  property: string;
  children: Array<{ name: string; values: string[] }>;
}

type TypeEntry = PlainEntry | UnionEntry;

/** `~` and `/` escaped for a JSON pointer segment. */
const pointerSegment = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Discriminator parents (a `discriminator`, no oneOf/anyOf) that other components extend with `allOf`
 * become tagged unions of those subtypes (`Pet = ({ petType: "cat" } & Cat) | …`); the parent's own object
 * type is renamed `PetBase`, which the subtypes' `allOf` then refer to.
 */
function discriminatorUnions(ctx: SchemaContext, order: TypeEntry[], types: NameAllocator): void {
  const children = new Map<JsonObject, Array<{ name: string; ref: string }>>();
  for (const o of order) {
    if (!isObject(o.schema) || !Array.isArray(o.schema.allOf)) continue;
    for (const m of o.schema.allOf) {
      const t = isObject(m) && typeof m.$ref === "string" ? deref(ctx.doc, m) : undefined;
      if (!isObject(t) || t === o.schema || !ctx.named.has(t) || Array.isArray(t.oneOf) || Array.isArray(t.anyOf)) continue;
      if (!isObject(t.discriminator) || typeof t.discriminator.propertyName !== "string") continue;
      const list = children.get(t) ?? [];
      if (!list.some((c) => c.name === o.name)) list.push({ name: o.name, ref: `#/components/schemas/${pointerSegment(o.raw)}` });
      children.set(t, list);
    }
  }
  for (let i = 0; i < order.length; i++) {
    const o = order[i] as TypeEntry;
    const kids = isObject(o.schema) ? children.get(o.schema) : undefined;
    if (!kids || !isObject(o.schema)) continue;
    const disc = o.schema.discriminator as JsonObject;
    const base = types.claim(`${o.name}Base`);
    ctx.bases.set(o.schema, base);
    const union: UnionEntry = { name: o.name, raw: o.raw, schema: o.schema, kind: "union", property: disc.propertyName as string, children: kids.map((k) => ({ name: k.name, values: discriminatorValues(disc, k.ref) })) };
    order.splice(i, 1, { name: base, raw: o.raw, schema: o.schema, kind: "base", of: o.name }, union);
    i++;
  }
}

/** Give every type whose request (readOnly left out) or response (writeOnly left out) shape differs a variant name. */
function planVariants(ctx: SchemaContext, em: SchemaEmitter, order: TypeEntry[], types: NameAllocator): void {
  const deps = new Map(order.map((o) => [o.name, o.kind === "union" ? { readOnly: false, writeOnly: false, binary: false, refs: o.children.map((c) => c.name) } : typeDeps(ctx, o.schema)] as const));
  const need = { request: new Set<string>(), response: new Set<string>() };
  for (const [name, d] of deps) {
    if (d.readOnly || d.binary) need.request.add(name);
    if (d.writeOnly) need.response.add(name);
  }
  for (const set of [need.request, need.response]) {
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, d] of deps) {
        if (!set.has(name) && d.refs.some((r) => set.has(r))) {
          set.add(name);
          changed = true;
        }
      }
    }
  }
  for (const o of order) {
    const v: { request?: string; response?: string } = {};
    if (need.request.has(o.name)) v.request = types.claim(`${o.name}Writable`);
    if (need.response.has(o.name)) v.response = types.claim(`${o.name}Readable`);
    if (v.request || v.response) em.variants.set(o.name, v);
  }
}

/** The type text of one entry, as a whole (`mode` null) or as sent / received. */
function typeText(em: SchemaEmitter, o: TypeEntry, mode: SchemaMode): string {
  if (o.kind !== "union") return em.component(o.name, o.schema, mode);
  return o.children.map((c) => `({ ${propKey(o.property)}: ${c.values.map((v) => JSON.stringify(v)).join(" | ")} } & ${em.nameFor(c.name, mode)})`).join(" | ");
}
