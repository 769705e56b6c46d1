/**
 * The arguments of one generated client call, built from the operation's schemas (see example-value.ts):
 * every path, query, header and cookie parameter (optional ones too, except deprecated ones and headers
 * the client sets itself), and a body for the operation's first request media type.
 */
import { deref, exampleValue, type ExampleOptions } from "./example-value.js";

type Obj = Record<string, unknown>;

export interface BuiltCall {
  /** `RequestArgs` of the generated function: path / query / headers / cookies / body / contentType. */
  args: Obj;
  /** The request media type the body was built for (null: no body). */
  mediaType: string | null;
  /** Parameter styles used (for the coverage summary), e.g. `query:deepObject`. */
  styles: string[];
}

/** Headers a client sets itself (credentials, negotiation); a spec that lists them as parameters is not asking the caller. */
const CLIENT_HEADERS = new Set(["accept", "content-type", "content-length", "authorization", "cookie", "host", "user-agent"]);

/** `in:name` of the API-key schemes: the client sends those from config, the caller does not pass them. */
function credentialParams(doc: Obj): Set<string> {
  const schemes = ((doc.components as Obj | undefined)?.securitySchemes ?? {}) as Record<string, Obj>;
  const out = new Set<string>();
  for (const raw of Object.values(schemes)) {
    const s = deref(doc, raw).schema;
    if (s.type === "apiKey" && typeof s.in === "string" && typeof s.name === "string") out.add(`${s.in}:${s.name.toLowerCase()}`);
  }
  return out;
}

function bodyKind(mediaType: string): "json" | "text" | "form" | "multipart" | "binary" {
  const m = mediaType.toLowerCase();
  if (m === "application/json" || m.endsWith("+json") || m.startsWith("application/json;")) return "json";
  if (m.startsWith("application/x-www-form-urlencoded")) return "form";
  if (m.startsWith("multipart/form-data")) return "multipart";
  if (m.startsWith("text/")) return "text";
  return "binary";
}

export function buildCall(doc: Obj, path: string, method: string, opts: ExampleOptions = {}): BuiltCall {
  const item = deref(doc, (doc.paths as Obj)[path]).schema;
  const op = deref(doc, item[method.toLowerCase()]).schema;
  const creds = credentialParams(doc);
  const params = new Map<string, Obj>();
  for (const raw of [...((item.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])]) {
    const p = deref(doc, raw).schema;
    if (typeof p.name === "string" && typeof p.in === "string") params.set(`${p.in}:${p.name}`, p);
  }
  const args: Obj = {};
  const styles: string[] = [];
  const put = (where: string, name: string, value: unknown) => {
    const bag = (args[where] ??= {}) as Obj;
    bag[name] = value;
  };
  for (const p of params.values()) {
    const name = p.name as string;
    const where = p.in as string;
    if (p.deprecated === true && p.required !== true) continue;
    if (creds.has(`${where}:${name.toLowerCase()}`)) continue;
    if (where === "header" && CLIENT_HEADERS.has(name.toLowerCase())) continue;
    let schema = p.schema;
    if (schema === undefined && typeof p.content === "object" && p.content !== null) schema = (Object.values(p.content as Obj)[0] as Obj | undefined)?.schema;
    let value = exampleValue(doc, schema ?? { type: "string" }, opts);
    if (value === undefined) continue;
    if (where === "header" && typeof value === "object" && value !== null) {
      if (p.required !== true) continue;
      value = Array.isArray(value) ? value.join(",") : JSON.stringify(value);
    }
    if (typeof p.style === "string") styles.push(`${where}:${p.style}`);
    put(where === "path" ? "path" : where === "query" ? "query" : where === "header" ? "headers" : "cookies", name, value);
  }
  let mediaType: string | null = null;
  const body = op.requestBody === undefined ? undefined : deref(doc, op.requestBody).schema;
  const content = (body?.content ?? {}) as Record<string, Obj>;
  const first = Object.keys(content)[0];
  if (first !== undefined) {
    mediaType = first;
    const kind = bodyKind(first);
    const schema = content[first]?.schema ?? (kind === "binary" ? { type: "string", format: "binary" } : { type: "string" });
    const value = kind === "binary" ? new TextEncoder().encode("conformance body") : exampleValue(doc, schema, { ...opts, binary: kind === "multipart" ? "blob" : "bytes" });
    args.body = kind === "text" && typeof value !== "string" ? "example" : value;
    args.contentType = first;
    styles.push(`body:${kind}`);
  }
  return { args, mediaType, styles };
}
