/**
 * Operations of a (validated, 3.x) document: names, parameters, bodies, responses, security, pagination.
 */
import type { PaginationSpec, ParamSpec, SecurityRequirement } from "../client/types.js";
import { camelCase, pascalCase, safeValueName, words } from "./names.js";
import { isObject, resolvePointer, type JsonObject } from "./pointer.js";
import { METHODS } from "./validate.js";

interface ParamInfo {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: unknown;
  description?: string;
  deprecated: boolean;
  /** Non-default serialisation, for the OperationSpec (null when defaults apply). */
  spec: ParamSpec | null;
}

export interface MediaInfo {
  mediaType: string;
  schema: unknown;
  /** From a Swagger 2.0 `produces` list, the response having no schema (typed by the media type alone). */
  produces?: true;
}

/** Where `markSwagger2Produces` keeps a schemaless response's media types through the 3.0 conversion. */
const PRODUCES = "x-bifrost-produces";

/**
 * Swagger 2.0, before conversion: a response without a schema whose operation `produces` a non-JSON media
 * type (`image/png`, `text/html`) would lose it (the converter drops `produces` without a schema). Keep it
 * as an extension, so the response is typed by its media type rather than as no body.
 */
export function markSwagger2Produces(doc: JsonObject): void {
  const global = Array.isArray(doc.produces) ? doc.produces : [];
  for (const item of Object.values(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op) || !isObject(op.responses)) continue;
      const produces = (Array.isArray(op.produces) ? op.produces : global).filter((m): m is string => typeof m === "string");
      if (!produces.some((m) => !isJsonMedia(m))) continue;
      for (const [status, r] of Object.entries(op.responses)) {
        if (isObject(r) && r.$ref === undefined && r.schema === undefined && status !== "204" && method !== "head") r[PRODUCES] = [...produces];
      }
    }
  }
}

interface ResponseInfo {
  status: string;
  media: MediaInfo[];
  headers: string[];
}

export interface OperationInfo {
  /** Final function name (unique). */
  name: string;
  /** operationId from the spec, if any. */
  operationId: string | null;
  method: string;
  path: string;
  summary?: string;
  description?: string;
  deprecated: boolean;
  params: ParamInfo[];
  body: { required: boolean; media: MediaInfo[]; description?: string } | null;
  responses: ResponseInfo[];
  security: SecurityRequirement[] | undefined;
  pagination: PaginationSpec | null;
  /** The schema of one item when paginated. */
  itemSchema: unknown;
}

export interface Rename {
  method: string;
  path: string;
  operationId: string | null;
  wanted: string;
  name: string;
  reason: "duplicate" | "reserved";
}

export function deref(doc: JsonObject, v: unknown, depth = 0): unknown {
  let cur = v;
  for (let i = 0; i < 20 && isObject(cur) && typeof cur.$ref === "string"; i++) cur = resolvePointer(doc, cur.$ref);
  void depth;
  return cur;
}

/** A readable name without operationId: GET /users/{id}/posts → getUsersByIdPosts. */
export function nameFromPath(method: string, path: string): string {
  const parts: string[] = [method.toLowerCase()];
  for (const seg of path.split("/")) {
    if (!seg) continue;
    const m = /^\{(.+)\}$/.exec(seg);
    if (m) parts.push("By", ...words(m[1] as string));
    else parts.push(...words(seg.replace(/\{[^}]*\}/g, " ")));
  }
  return camelCase(parts.join(" "));
}

const DEFAULT_STYLE: Record<string, string> = { query: "form", cookie: "form", path: "simple", header: "simple" };

function paramSpec(p: JsonObject, where: ParamInfo["in"]): ParamSpec | null {
  const spec: ParamSpec = { name: p.name as string, in: where };
  let special = false;
  if (typeof p.style === "string" && p.style !== DEFAULT_STYLE[where]) {
    spec.style = p.style as NonNullable<ParamSpec["style"]>;
    special = true;
  }
  const defaultExplode = (typeof p.style === "string" ? p.style : DEFAULT_STYLE[where]) === "form";
  if (typeof p.explode === "boolean" && p.explode !== defaultExplode) {
    spec.explode = p.explode;
    special = true;
  } else if (special && typeof p.explode === "boolean") spec.explode = p.explode;
  if (p.allowReserved === true) {
    spec.allowReserved = true;
    special = true;
  }
  if (isObject(p.content)) {
    const mt = Object.keys(p.content)[0];
    if (mt) {
      spec.contentType = mt;
      special = true;
    }
  }
  return special ? spec : null;
}

function paramSchema(p: JsonObject): unknown {
  if (p.schema !== undefined) return p.schema;
  if (isObject(p.content)) {
    const first = Object.values(p.content)[0];
    if (isObject(first)) return first.schema;
  }
  return undefined;
}

export function isJsonMedia(mt: string): boolean {
  const m = mt.toLowerCase().split(";")[0]?.trim() ?? "";
  return m === "application/json" || m.endsWith("+json") || m === "*/*" || m === "application/*" || m === "text/json" || m.endsWith("/json");
}

function mediaList(_doc: JsonObject, content: unknown): MediaInfo[] {
  if (!isObject(content)) return [];
  return Object.entries(content).map(([mediaType, m]) => ({ mediaType, schema: isObject(m) ? m.schema : undefined }));
}

export interface CollectResult {
  operations: OperationInfo[];
  renames: Rename[];
  warnings: string[];
}

export function collectOperations(doc: JsonObject, reservedNames: Iterable<string>): CollectResult {
  const ops: OperationInfo[] = [];
  const warnings: string[] = [];
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    if (path.startsWith("x-")) continue;
    const item = deref(doc, rawItem);
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      // Operation-level parameters override path-level ones with the same name + location.
      const byKey = new Map<string, JsonObject>();
      for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(doc, raw);
        if (!isObject(p) || typeof p.name !== "string" || typeof p.in !== "string") continue;
        byKey.set(`${p.in}:${p.in === "header" ? p.name.toLowerCase() : p.name}`, p);
      }
      const params: ParamInfo[] = [];
      for (const p of byKey.values()) {
        const where = p.in as ParamInfo["in"];
        if (where === "header" && /^(accept|content-type|authorization)$/i.test(p.name as string)) continue;
        params.push({
          name: p.name as string,
          in: where,
          required: where === "path" || p.required === true,
          schema: paramSchema(p),
          ...(typeof p.description === "string" ? { description: p.description } : {}),
          deprecated: p.deprecated === true,
          spec: paramSpec(p, where),
        });
      }
      let body: OperationInfo["body"] = null;
      const rb = deref(doc, op.requestBody);
      if (isObject(rb)) {
        const media = mediaList(doc, rb.content);
        if (media.length > 0) body = { required: rb.required === true, media, ...(typeof rb.description === "string" ? { description: rb.description } : {}) };
      }
      const responses: ResponseInfo[] = [];
      if (isObject(op.responses)) {
        for (const [status, raw] of Object.entries(op.responses)) {
          const r = deref(doc, raw);
          if (!isObject(r)) continue;
          const produced = !isObject(r.content) && Array.isArray(r[PRODUCES]) ? r[PRODUCES].filter((m): m is string => typeof m === "string").map((mediaType) => ({ mediaType, schema: undefined, produces: true as const })) : [];
          responses.push({ status, media: produced.length > 0 ? produced : mediaList(doc, r.content), headers: isObject(r.headers) ? Object.keys(r.headers) : [] });
        }
      }
      const security = Array.isArray(op.security) ? (op.security.filter(isObject) as unknown as SecurityRequirement[]) : undefined;
      const info: OperationInfo = {
        name: "",
        operationId: typeof op.operationId === "string" && op.operationId.trim() ? op.operationId : null,
        method,
        path,
        ...(typeof op.summary === "string" ? { summary: op.summary } : {}),
        ...(typeof op.description === "string" ? { description: op.description } : {}),
        deprecated: op.deprecated === true,
        params,
        body,
        responses,
        security,
        pagination: null,
        itemSchema: undefined,
      };
      detectPagination(doc, info);
      ops.push(info);
    }
  }
  const renames = assignNames(ops, reservedNames);
  return { operations: ops, renames, warnings };
}

function assignNames(ops: OperationInfo[], reservedNames: Iterable<string>): Rename[] {
  const reserved = new Set(reservedNames);
  const used = new Set<string>();
  const renames: Rename[] = [];
  for (const op of ops) {
    const wanted = safeValueName(op.operationId ? camelCase(op.operationId) : nameFromPath(op.method, op.path));
    let name = wanted;
    let reason: Rename["reason"] = "duplicate";
    if (reserved.has(name)) {
      name = `${wanted}Op`;
      reason = "reserved";
    }
    const base = name;
    for (let i = 2; used.has(name) || reserved.has(name); i++) name = `${base}${i}`;
    used.add(name);
    op.name = name;
    if (name !== wanted) renames.push({ method: op.method.toUpperCase(), path: op.path, operationId: op.operationId, wanted, name, reason: reason === "reserved" && base === name ? "reserved" : "duplicate" });
  }
  return renames;
}

/** Type-name stem for an operation's types. */
export function opTypeStem(op: OperationInfo): string {
  return pascalCase(op.name);
}

// ---------------------------------------------------------------- pagination

const CURSOR_PARAMS = ["cursor", "page_token", "pageToken", "next_token", "nextToken", "continuation_token", "continuationToken", "continue", "after", "page_cursor", "pageCursor", "next", "marker"];
const CURSOR_FIELDS = ["next_cursor", "nextCursor", "next_page_token", "nextPageToken", "next_token", "nextToken", "continuation_token", "continuationToken", "continue", "cursor", "next_page_cursor", "nextPageCursor", "marker", "next_marker", "nextMarker"];
const PAGE_PARAMS = ["page", "page_number", "pageNumber"];
const SIZE_PARAMS = ["per_page", "perPage", "page_size", "pageSize", "limit", "size", "count", "max_results", "maxResults"];
const OFFSET_PARAMS = ["offset", "skip", "start", "startAt", "start_at"];
const LIMIT_PARAMS = ["limit", "max_results", "maxResults", "count", "size", "page_size", "pageSize", "per_page", "top"];
const NEXT_URL_FIELDS = ["@odata.nextLink", "odata.nextLink", "next_page_uri", "next_page_url", "nextPageUrl", "nextLink", "next_link", "next_url", "nextUrl", "next_href", "nextHref"];
const LAST_ITEM_PARAMS = ["starting_after", "startingAfter", "after_id", "afterId"];
const HAS_MORE_FIELDS = ["has_more", "hasMore", "more", "has_next", "hasNext"];
const ITEM_FIELDS = ["data", "items", "results", "values", "records", "entries", "elements", "list", "value", "issues", "members", "channels", "messages", "users", "files"];

function successSchema(doc: JsonObject, op: OperationInfo): { schema: unknown; headers: string[] } | null {
  const ok = op.responses.find((r) => /^2\d\d$/.test(r.status) || /^2xx$/i.test(r.status));
  if (!ok) return null;
  const json = ok.media.find((m) => isJsonMedia(m.mediaType));
  return { schema: json ? deref(doc, json.schema) : undefined, headers: ok.headers };
}

function typeOf(s: unknown): string | null {
  if (!isObject(s)) return null;
  if (typeof s.type === "string") return s.type;
  if (Array.isArray(s.type)) return (s.type.find((t) => t !== "null") as string | undefined) ?? null;
  if (s.properties !== undefined) return "object";
  if (s.items !== undefined) return "array";
  return null;
}

/** An object schema's properties, merged through `allOf` (OData collections: base pagination + `value`). */
function propsOf(doc: JsonObject, schema: unknown, depth = 0): JsonObject | null {
  const s = deref(doc, schema);
  if (!isObject(s) || depth > 8) return null;
  let out: JsonObject | null = isObject(s.properties) ? { ...s.properties } : null;
  if (Array.isArray(s.allOf)) {
    for (const part of s.allOf) {
      const p = propsOf(doc, part, depth + 1);
      if (p) out = { ...p, ...out };
    }
  }
  return out;
}

/** Where the items are: [] when the body is the array; a property path otherwise. */
function findItems(doc: JsonObject, body: unknown): { path: string[]; item: unknown } | null {
  const s = deref(doc, body);
  if (typeOf(s) === "array" && isObject(s)) return { path: [], item: (s as JsonObject).items };
  const props = propsOf(doc, s);
  if (!props) return null;
  const arrays = Object.entries(props).filter(([, p]) => typeOf(deref(doc, p)) === "array");
  if (arrays.length === 0) return null;
  const pick = arrays.find(([k]) => ITEM_FIELDS.includes(k)) ?? (arrays.length === 1 ? arrays[0] : undefined);
  if (!pick) return null;
  const arr = deref(doc, pick[1]) as JsonObject;
  return { path: [pick[0]], item: arr.items };
}

function findField(doc: JsonObject, body: unknown, names: string[], depth: number): string[] | null {
  const props = propsOf(doc, body);
  if (!props) return null;
  for (const n of names) if (n in props) return [n];
  if (depth <= 0) return null;
  for (const [k, p] of Object.entries(props)) {
    if (typeOf(deref(doc, p)) !== "object") continue;
    const sub = findField(doc, p, names, depth - 1);
    if (sub) return [k, ...sub];
  }
  return null;
}

function detectPagination(doc: JsonObject, op: OperationInfo): void {
  if (op.method !== "get") return;
  const ok = successSchema(doc, op);
  if (!ok) return;
  const items = findItems(doc, ok.schema);
  if (!items) return;
  const itemsPath = items.path.length > 0 ? { itemsPath: items.path } : {};
  const query = new Map(op.params.filter((p) => p.in === "query").map((p) => [p.name, p] as const));
  const set = (p: PaginationSpec): void => {
    op.pagination = p;
    op.itemSchema = items.item;
  };
  if (ok.headers.some((h) => h.toLowerCase() === "link")) return set({ style: "link", ...itemsPath });
  // Stripe: `has_more` in the body, `starting_after` = the last item's id.
  const lastParam = LAST_ITEM_PARAMS.find((n) => query.has(n));
  const hasMore = lastParam ? findField(doc, ok.schema, HAS_MORE_FIELDS, 0) : null;
  if (lastParam && hasMore) {
    return set({ style: "lastItemCursor", param: lastParam, idPath: ["id"], hasMorePath: hasMore, ...itemsPath });
  }
  // OData `@odata.nextLink`, Twilio `next_page_uri`: a next-page URL in the body.
  const nextUrl = findField(doc, ok.schema, NEXT_URL_FIELDS, 1);
  if (nextUrl) return set({ style: "nextUrl", responsePath: nextUrl, ...itemsPath });
  const cursorParam = CURSOR_PARAMS.find((n) => query.has(n));
  if (cursorParam) {
    const field = findField(doc, ok.schema, cursorParam === "continue" ? ["continue"] : CURSOR_FIELDS, 2);
    if (field) return set({ style: "cursor", param: cursorParam, responsePath: field, ...itemsPath });
  }
  const pageParam = PAGE_PARAMS.find((n) => query.has(n));
  if (pageParam) {
    const size = SIZE_PARAMS.find((n) => query.has(n));
    return set({ style: "page", param: pageParam, ...itemsPath, ...(size ? { sizeParam: size } : {}) });
  }
  const offsetParam = OFFSET_PARAMS.find((n) => query.has(n));
  if (offsetParam) {
    const limit = LIMIT_PARAMS.find((n) => query.has(n));
    if (limit) return set({ style: "offset", param: offsetParam, limitParam: limit, ...itemsPath });
  }
}
