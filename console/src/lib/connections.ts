/**
 * The Connections page and the connection actions (pure, unit-tested): filters ⇄ the hash query and
 * the `GET /api/connections` query, column sorting, which actions fit a row, and the texts the bulk
 * actions produce.
 */

export type ConnState = "not_connected" | "connected" | "refreshing" | "needs_reauth" | "error";

/** The fields of a connection row these helpers read (GET /api/connections, the Mappings tab rows). */
export interface ConnLike {
  integration: string;
  org: string | null;
  flow: string | null;
  state: ConnState;
}

const SORT_COLUMNS = ["integration", "org", "state", "expires_at", "last_refresh_at"] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export interface ConnectionFilter {
  q: string;
  /** Empty = every state. */
  states: ConnState[];
  integration: string;
  /** Digits as typed; "" = no expiry filter. */
  expiringDays: string;
  unmapped: boolean;
  sort: SortColumn;
  order: "asc" | "desc";
}

export const EMPTY_FILTER: ConnectionFilter = { q: "", states: [], integration: "", expiringDays: "", unmapped: false, sort: "integration", order: "asc" };

const STATES: readonly ConnState[] = ["not_connected", "connected", "refreshing", "needs_reauth", "error"];

/** `#/connections?state=needs_reauth&sort=org` → the filter (unknown values are dropped). */
export function filterFromQuery(q: URLSearchParams): ConnectionFilter {
  const sort = SORT_COLUMNS.find((c) => c === q.get("sort"));
  const days = q.get("expiring_within_days") ?? "";
  return {
    q: q.get("q") ?? "",
    states: (q.get("state") ?? "").split(",").filter((s): s is ConnState => (STATES as readonly string[]).includes(s)),
    integration: q.get("integration") ?? "",
    expiringDays: /^\d{1,5}$/.test(days) ? days : "",
    unmapped: q.get("unmapped") === "true",
    sort: sort ?? "integration",
    order: q.get("order") === "desc" ? "desc" : "asc",
  };
}

/** The filter's query parameters (defaults and empty fields left out): the hash query and the API query share them. */
export function filterParams(f: ConnectionFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.q.trim()) out.q = f.q.trim();
  if (f.states.length) out.state = f.states.join(",");
  if (f.integration.trim()) out.integration = f.integration.trim();
  if (/^\d+$/.test(f.expiringDays)) out.expiring_within_days = f.expiringDays;
  if (f.unmapped) out.unmapped = "true";
  if (f.sort !== "integration") out.sort = f.sort;
  if (f.order !== "asc") out.order = f.order;
  return out;
}

/** The query of one `GET /api/connections` page. */
export function connectionsQuery(f: ConnectionFilter, cursor: string | null, limit: number): Record<string, string> {
  return { ...filterParams(f), limit: String(limit), ...(cursor ? { cursor } : {}) };
}

/** A click on a column header: the same column flips the order, another column sorts ascending by it. */
export function toggleSort(f: ConnectionFilter, column: SortColumn): ConnectionFilter {
  return { ...f, sort: column, order: f.sort === column && f.order === "asc" ? "desc" : "asc" };
}

/** `aria-sort` of a column header. */
export function ariaSort(f: ConnectionFilter, column: SortColumn): "ascending" | "descending" | "none" {
  if (f.sort !== column) return "none";
  return f.order === "asc" ? "ascending" : "descending";
}

/** One row's identity: `INTEGRATION/ORG` (`-` for the integration-level row). */
export function rowKey(r: Pick<ConnLike, "integration" | "org">): string {
  return `${r.integration}/${r.org ?? "-"}`;
}

export interface RowActions {
  /** The authorization-code popup: "Connect", or "Reconnect" where a token row is there. */
  connect: "Connect" | "Reconnect" | null;
  /** A one-time connect link (authorization code, one organization, not connected now). */
  link: boolean;
  /** Force a refresh (client credentials: mint a new token): only where a token is there. */
  refresh: boolean;
  /** Delete the stored token. */
  disconnect: boolean;
}

/**
 * The actions that fit a row: nothing to refresh or disconnect on a row that is not connected (it gets
 * Connect and, for authorization code with an organization, Copy connect link); a needs-re-auth row
 * is connected again (its refresh token is dead), not refreshed. Client-credentials tokens are
 * obtained on first use, so those rows have no Connect.
 */
export function rowActions(r: ConnLike): RowActions {
  if (r.flow === null) return { connect: null, link: false, refresh: false, disconnect: false };
  const authCode = r.flow === "authorization_code";
  const settled = r.state !== "refreshing";
  return {
    connect: authCode && settled ? (r.state === "not_connected" ? "Connect" : "Reconnect") : null,
    link: authCode && r.org !== null && (r.state === "not_connected" || r.state === "needs_reauth" || r.state === "error"),
    refresh: r.state === "connected" || r.state === "error",
    disconnect: r.state !== "not_connected",
  };
}

/** The selected rows a bulk action applies to. */
export function bulkTargets<R extends ConnLike>(rows: readonly R[], action: "refresh" | "link" | "disconnect"): R[] {
  return rows.filter((r) => rowActions(r)[action]);
}

export interface BulkResult {
  key: string;
  ok: boolean;
  /** "refreshed" / the link URL / the server's error message. */
  text: string;
}

/** "3 refreshed, 1 failed" */
export function bulkSummary(results: readonly BulkResult[], verb: string): string {
  const ok = results.filter((r) => r.ok).length;
  const failed = results.length - ok;
  return `${ok} ${verb}${failed ? `, ${failed} failed` : ""}`;
}

/** One line per created link, `org → URL`, for the customer admins (failures are not listed). */
export function linkBlock(results: ReadonlyArray<BulkResult & { org: string }>): string {
  return results
    .filter((r) => r.ok)
    .map((r) => `${r.org} → ${r.text}`)
    .join("\n");
}

/** Runs `fn` over `items` with at most `width` calls in flight, keeping the input order in the results. */
export async function mapLimited<T, U>(items: readonly T[], width: number, fn: (item: T) => Promise<U>): Promise<U[]> {
  const out = new Array<U>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/** `#/connections?…` with these filters (the others at their defaults). */
export function connectionsHref(f: Partial<ConnectionFilter>): string {
  const q = new URLSearchParams(filterParams({ ...EMPTY_FILTER, ...f })).toString();
  return `#/connections${q ? `?${q}` : ""}`;
}
