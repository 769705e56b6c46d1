/**
 * Keyset pagination shared by every list (HTTP routes, MCP tools, the CLI's walks): the page size
 * rule, the opaque cursor (base64url of the last row's sort keys, never a secret) and the `q`
 * substring pattern. See docs/decisions.md ("Keyset pagination").
 */
import { ValidationError } from "./errors.js";

const PAGE_DEFAULT = 100;
export const PAGE_MAX = 500;

/** A sort key value as it travels in a cursor. */
export type CursorKey = string | number;

/** One page of a list: the rows and the cursor of the next page (null = this was the last). */
export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

/** `limit` (number or query string) → a whole number 1…PAGE_MAX; omitted = PAGE_DEFAULT. */
export function pageLimit(raw: number | string | undefined, max = PAGE_MAX, fallback = PAGE_DEFAULT): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === "number" ? raw : /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ValidationError(`limit must be a whole number from 1 to ${max}; got ${JSON.stringify(String(raw).slice(0, 20))}.`, { path: "limit" });
  }
  return n;
}

/** The cursor of the page after `keys` (the last row's sort keys). `kind` ties it to one list and sort. */
export function encodeCursor(kind: string, keys: readonly CursorKey[]): string {
  return Buffer.from(JSON.stringify([kind, ...keys]), "utf8").toString("base64url");
}

/**
 * The sort keys in `cursor`, checked against `shape` (one entry per key: "s" string, "n" integer).
 * Anything else — not base64url JSON, another list's or sort's cursor, wrong key types — is a 422
 * naming `cursor`, before any query runs.
 */
export function decodeCursor(cursor: string, kind: string, shape: readonly ("s" | "n")[]): CursorKey[] {
  const bad = () => new ValidationError("cursor is not one this list returned for this sort (pass next_cursor from the previous page as is, or start again without it).", { path: "cursor" });
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== kind) throw bad();
  const keys = parsed.slice(1) as unknown[];
  keys.forEach((k, i) => {
    const ok = shape[i] === "s" ? typeof k === "string" && k.length <= 600 : typeof k === "number" && Number.isSafeInteger(k);
    if (!ok) throw bad();
  });
  return keys as CursorKey[];
}

/**
 * Cut a page from rows read with LIMIT limit+1: the extra row only says another page exists; the
 * cursor carries the last returned row's keys.
 */
export function cutPage<T>(rows: readonly T[], limit: number, kind: string, keysOf: (row: T) => readonly CursorKey[]): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(kind, keysOf(last)) : null };
}

/** `q` → a LIKE pattern (lower case, `%`/`_`/`\` escaped with `\`) for a case-insensitive substring match; empty = no filter. */
export function likePattern(q: string | undefined): string | undefined {
  if (q === undefined) return undefined;
  const t = q.trim().toLowerCase();
  if (t === "") return undefined;
  if (t.length > 200) throw new ValidationError("q must be at most 200 characters.", { path: "q" });
  return `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The same substring rule in memory (lists that are not database tables: catalog, workflows). */
export function matchesQ(q: string | undefined, ...fields: ReadonlyArray<string | null | undefined>): boolean {
  const t = q?.trim().toLowerCase();
  if (!t) return true;
  return fields.some((f) => typeof f === "string" && f.toLowerCase().includes(t));
}

/** Keyset paging over an in-memory list already in its stable order with a unique `key`. */
export function pageInMemory<T>(rows: readonly T[], opts: { limit: number; cursor?: string | undefined; kind: string; key: (row: T) => string }): Page<T> {
  const after = opts.cursor === undefined ? undefined : (decodeCursor(opts.cursor, opts.kind, ["s"])[0] as string);
  const start = after === undefined ? 0 : rows.findIndex((r) => opts.key(r) > after);
  const rest = start < 0 ? [] : rows.slice(start);
  return cutPage(rest, opts.limit, opts.kind, (r) => [opts.key(r)]);
}

/** What a list takes from its caller (HTTP query, MCP arguments, CLI walk). */
export interface PageInput {
  limit?: number | string | undefined;
  cursor?: string | undefined;
  q?: string | undefined;
}

/**
 * Check a page request of the list `kind` whose cursor holds keys of `shape`: the page size, and the
 * store query that reads one row more than it (so `cutPage` knows whether another page follows).
 */
export function pageRequest(input: PageInput, kind: string, shape: readonly ("s" | "n")[], max = PAGE_MAX): { limit: number; read: { limit: number; after?: CursorKey[]; like?: string } } {
  const limit = pageLimit(input.limit, max);
  const read: { limit: number; after?: CursorKey[]; like?: string } = { limit: limit + 1 };
  if (input.cursor !== undefined) read.after = decodeCursor(input.cursor, kind, shape);
  const like = likePattern(input.q);
  if (like !== undefined) read.like = like;
  return { limit, read };
}
