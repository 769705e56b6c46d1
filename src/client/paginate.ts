import { ClientError } from "./errors.js";
import { str } from "./serialize.js";
import type { Client, Extension, OperationSpec, RequestArgs } from "./types.js";

function pick(body: unknown, path: readonly string[] | undefined): unknown {
  let v = body;
  for (const k of path ?? []) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** `<https://…?page=2>; rel="next", <…>; rel="last"` → the next URL. */
function nextLink(h: string | null): string | undefined {
  if (!h) return undefined;
  for (const m of h.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    if (/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?/i.test(m[2] ?? "")) return m[1];
  }
  return undefined;
}

const empty = (v: unknown): boolean => v === undefined || v === null || v === "";

/**
 * Every item across pages of `op`, following `op.pagination` (Link header, cursor, page, offset, next
 * URL in the body, last item's id). A next URL on another origin is requested without credentials.
 * Stops on an empty page, a missing next marker, or a marker seen before (a server repeating itself).
 */
export async function* paginate<T = unknown>(client: Client, op: OperationSpec, args: RequestArgs = {}, ext?: readonly Extension[]): AsyncGenerator<T, void, undefined> {
  const p = op.pagination;
  if (!p) throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: no pagination`, { operationId: op.id });
  const query: Record<string, unknown> = { ...args.query };
  let next: string | undefined;
  const seen = new Set<string>();
  for (let page = 0; page < 100_000; page++) {
    const { body, headers, url } = await client.page(op, { ...args, query }, ext, next);
    const items = pick(body, p.itemsPath);
    if (items === undefined || items === null) return;
    if (!Array.isArray(items)) {
      throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: no item array at ${(p.itemsPath ?? []).join(".") || "body"}`, { operationId: op.id, itemsPath: p.itemsPath ?? [] });
    }
    for (const item of items) yield item as T;
    if (items.length === 0) return;
    let marker: string;
    if (p.style === "link" || p.style === "nextUrl") {
      const link = p.style === "link" ? nextLink(headers.get("link")) : pick(body, p.responsePath);
      if (empty(link)) return;
      next = new URL(str(link), url).href;
      marker = next;
    } else if (p.style === "cursor" || p.style === "lastItemCursor") {
      const c = p.style === "cursor" ? pick(body, p.responsePath) : pick(body, p.hasMorePath) === true ? pick(items[items.length - 1], p.idPath) : undefined;
      if (empty(c)) return;
      query[p.param] = c;
      marker = str(c);
    } else {
      const sizeKey = p.style === "page" ? p.sizeParam : p.limitParam;
      const size = sizeKey ? Number(query[sizeKey]) : 0;
      if (size > 0 && items.length < size) return;
      const cur = Number(query[p.param] ?? (p.style === "page" ? (p.start ?? 1) : 0));
      query[p.param] = p.style === "page" ? cur + 1 : cur + items.length;
      marker = str(query[p.param]);
    }
    // A server that repeats its cursor or link would loop forever.
    if (seen.has(marker)) return;
    seen.add(marker);
  }
}
