/**
 * The connections lists at scale: every (integration with an OAuth provider) × organization with its
 * mapping and connection state (`GET /api/connections`), and one integration's organizations
 * (`GET /api/console/integrations/:name/organizations`) with its counts in one grouped query
 * (`GET /api/console/integrations/:name/summary`). Filtering, sorting, paging and counting run in the
 * database (src/storage/connections.ts); this module checks the input and shapes the answer.
 */
import { ValidationError } from "../core/errors.js";
import { checkIntegrationName, checkOrgSlug } from "../core/names.js";
import { cutPage, decodeCursor, likePattern, pageLimit } from "../core/page.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import type { Deps } from "../kernel/deps.js";
import { connectionSortShape } from "../storage/connections.js";
import type { ConnectionQuery, ConnectionSort, IntegrationOrgCount, IntegrationOrgQuery, OAuthTokenState } from "../storage/store.js";

const CONNECTION_STATES: readonly OAuthTokenState[] = ["not_connected", "connected", "refreshing", "needs_reauth", "error"];
const CONNECTION_SORTS: readonly ConnectionSort[] = ["integration", "org", "state", "expires_at", "last_refresh_at"];

/** One row of `GET /api/connections`: names and state, never a token or secret. */
export interface ConnectionRowView {
  integration: string;
  org: string | null;
  org_name: string | null;
  mapped: boolean;
  entity_id: string | null;
  entity_name: string | null;
  flow: string;
  state: OAuthTokenState;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
  has_refresh_token: boolean;
}

interface IntegrationOrgView {
  org: string;
  org_name: string;
  mapped: boolean;
  entity_id: string | null;
  entity_name: string | null;
  override_count: number;
  state: OAuthTokenState | null;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
}

interface CommonInput {
  limit?: number | string | undefined;
  cursor?: string | undefined;
  q?: string | undefined;
  /** Comma list of states. */
  state?: string | undefined;
  unmapped?: boolean | undefined;
}

export interface ConnectionListInput extends CommonInput {
  integration?: string | undefined;
  org?: string | undefined;
  expiringWithinDays?: number | string | undefined;
  sort?: string | undefined;
  order?: string | undefined;
}

function parseStates(raw: string | undefined): OAuthTokenState[] | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = parts.filter((s) => !(CONNECTION_STATES as readonly string[]).includes(s));
  if (parts.length === 0 || unknown.length > 0) {
    throw new ValidationError(`state must be a comma list of ${CONNECTION_STATES.join(", ")}; got ${JSON.stringify(raw.slice(0, 80))}.`, { path: "state" });
  }
  return parts as OAuthTokenState[];
}

function oneOf<T extends string>(raw: string | undefined, allowed: readonly T[], fallback: T, path: string): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ValidationError(`${path} must be one of ${allowed.join(", ")}; got ${JSON.stringify(raw.slice(0, 40))}.`, { path });
  return raw as T;
}

function days(raw: number | string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === "number" ? raw : /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 36_500) throw new ValidationError(`expiring_within_days must be a whole number of days from 0 to 36500; got ${JSON.stringify(String(raw).slice(0, 20))}.`, { path: "expiring_within_days" });
  return n;
}

/** The filters both lists take (states, search, unmapped) and the caller's scope, validated. */
function commonFilters(input: CommonInput, scopeOrgId: string | null): Pick<ConnectionQuery, "states" | "like" | "unmapped" | "scopeOrgId"> {
  const f: Pick<ConnectionQuery, "states" | "like" | "unmapped" | "scopeOrgId"> = {};
  const states = parseStates(input.state);
  if (states) f.states = states;
  const like = likePattern(input.q);
  if (like !== undefined) f.like = like;
  if (input.unmapped) f.unmapped = true;
  if (scopeOrgId !== null) f.scopeOrgId = scopeOrgId;
  return f;
}

/**
 * One page of connections. `scopeOrgId`: an org admin's organization (only its rows; the caller has
 * checked that a named `org` is its own). Unknown integration or org → 404.
 */
export async function listConnections(deps: Deps, input: ConnectionListInput, scopeOrgId: string | null = null) {
  const limit = pageLimit(input.limit);
  const sort = oneOf(input.sort, CONNECTION_SORTS, "integration", "sort");
  const order = oneOf(input.order, ["asc", "desc"] as const, "asc", "order");
  const query: ConnectionQuery = { sort, order, limit: limit + 1 };
  if (input.cursor !== undefined) query.after = decodeCursor(input.cursor, `connections:${sort}:${order}`, connectionSortShape(sort));
  Object.assign(query, commonFilters(input, scopeOrgId));
  const within = days(input.expiringWithinDays);
  if (within !== undefined) query.expiringBefore = new Date(Date.parse(deps.clock.now()) + within * 86_400_000).toISOString();
  if (input.integration !== undefined) query.integrationId = (await requireIntegration(deps.store, checkIntegrationName(input.integration))).id;
  if (input.org !== undefined) query.orgId = (await requireOrg(deps.store, checkOrgSlug(input.org))).id;
  const { rows, total } = await deps.store.listConnections(query);
  const page = cutPage(rows, limit, `connections:${sort}:${order}`, (r) => r.keys);
  const connections: ConnectionRowView[] = page.rows.map((r) => ({
    integration: r.integration,
    org: r.org,
    org_name: r.orgName,
    mapped: r.mapped,
    entity_id: r.entityId,
    entity_name: r.entityName,
    flow: r.flow,
    state: r.state,
    expires_at: r.expiresAt,
    last_refresh_at: r.lastRefreshAt,
    last_error: r.lastError,
    has_refresh_token: r.hasRefreshToken,
  }));
  return { connections, next_cursor: page.nextCursor, total };
}

/** One page of an integration's organizations, by slug. `scopeOrgId` as in listConnections. */
export async function listIntegrationOrganizations(deps: Deps, integrationName: string, input: CommonInput, scopeOrgId: string | null = null) {
  const limit = pageLimit(input.limit);
  const integration = await requireIntegration(deps.store, integrationName);
  const query: IntegrationOrgQuery = { integrationId: integration.id, limit: limit + 1 };
  if (input.cursor !== undefined) query.after = decodeCursor(input.cursor, "integration-orgs", ["s"]);
  Object.assign(query, commonFilters(input, scopeOrgId));
  const { rows, total } = await deps.store.listIntegrationOrgs(query);
  const page = cutPage(rows, limit, "integration-orgs", (r) => r.keys);
  const organizations: IntegrationOrgView[] = page.rows.map((r) => ({
    org: r.org,
    org_name: r.orgName,
    mapped: r.mapped,
    entity_id: r.entityId,
    entity_name: r.entityName,
    override_count: r.overrideCount,
    state: r.state,
    expires_at: r.expiresAt,
    last_refresh_at: r.lastRefreshAt,
    last_error: r.lastError,
  }));
  return { organizations, next_cursor: page.nextCursor, total };
}

/** Organizations per connection state; null when the integration has no OAuth provider. */
type StateCounts = Record<OAuthTokenState, number>;

/**
 * An integration's organizations counted in one grouped query (`scopeOrgId` as in listConnections):
 * all, with a mapping, without a mapping or entity id (the `unmapped=true` filter), and per
 * connection state (the `state` filter's counts; null without an OAuth provider).
 */
export async function integrationSummary(deps: Deps, integrationName: string, scopeOrgId: string | null = null) {
  const integration = await requireIntegration(deps.store, integrationName);
  const [counts, provider] = await Promise.all([
    deps.store.countIntegrationOrgs({ integrationId: integration.id, ...(scopeOrgId === null ? {} : { scopeOrgId }) }),
    deps.store.getOAuthProvider(integration.id),
  ]);
  const sum = (keep: (c: IntegrationOrgCount) => boolean) => counts.filter(keep).reduce((n, c) => n + c.count, 0);
  let states: StateCounts | null = null;
  if (provider !== null) {
    states = { not_connected: 0, connected: 0, refreshing: 0, needs_reauth: 0, error: 0 };
    for (const c of counts) if (c.state !== null) states[c.state] += c.count;
  }
  return {
    integration: integration.name,
    organizations: sum(() => true),
    mapped: sum((c) => c.mapped),
    unmapped: sum((c) => !c.mapped || !c.hasEntityId),
    states,
  };
}
