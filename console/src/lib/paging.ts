/**
 * Cursor paging for the console's tables (pure): the cursors of the pages visited so far, so
 * "Previous" goes back without the server knowing about backward cursors. Rows per page stay ≤ 100.
 */

/** Rows per page in every paged table (the contract: no page renders more than 100 rows). */
export const PAGE_SIZE = 100;

export interface Paging {
  /** The cursor that loaded each visited page (null = the first). */
  cursors: Array<string | null>;
  /** The page shown (index into `cursors`). */
  index: number;
}

/** The query of one page: `limit` (PAGE_SIZE), the filters that are set (empty ones left out) and the page's cursor. */
export function pageQuery(cursor: string | null, filters: Record<string, string> = {}): Record<string, string> {
  const query: Record<string, string> = { limit: String(PAGE_SIZE) };
  for (const [name, value] of Object.entries(filters)) if (value !== "") query[name] = value;
  if (cursor) query.cursor = cursor;
  return query;
}

export const FIRST_PAGE: Paging = { cursors: [null], index: 0 };

export function currentCursor(p: Paging): string | null {
  return p.cursors[p.index] ?? null;
}

/** The next page, loaded with the `next_cursor` of the page shown. */
export function nextPage(p: Paging, nextCursor: string): Paging {
  return { cursors: [...p.cursors.slice(0, p.index + 1), nextCursor], index: p.index + 1 };
}

export function previousPage(p: Paging): Paging {
  return { cursors: p.cursors, index: Math.max(0, p.index - 1) };
}

const COUNT = new Intl.NumberFormat("en-US");

/** "101–200 of 1,000" (the rows shown on this page, of the total the server counted). */
export function rangeLabel(p: Pick<Paging, "index">, shown: number, total: number | null, pageSize = PAGE_SIZE): string {
  const from = p.index * pageSize + (shown ? 1 : 0);
  const to = p.index * pageSize + shown;
  const of = total === null ? "" : ` of ${COUNT.format(total)}`;
  return `${COUNT.format(from)}–${COUNT.format(to)}${of}`;
}

/** Page `index` of rows the console already holds (clamped to the last page), ≤ `size` rows, and whether more follow. */
export function localPage<T>(rows: readonly T[], index: number, size = PAGE_SIZE): { rows: T[]; index: number; offset: number; more: boolean } {
  const last = Math.max(0, Math.ceil(rows.length / size) - 1);
  const at = Math.min(Math.max(0, index), last);
  const offset = at * size;
  return { rows: rows.slice(offset, offset + size), index: at, offset, more: offset + size < rows.length };
}
