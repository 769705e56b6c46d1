/**
 * The connections lists (`Store.listConnections`, `Store.listIntegrationOrgs`): filtering, sorting and
 * keyset pagination in one SQL statement per page (plus one COUNT), the same on SQLite and PostgreSQL;
 * and one integration's organizations counted by mapping and state in one grouped query
 * (`Store.countIntegrationOrgs`). An org row's connection is its mapping's token, else its org-level
 * token (as `getOAuthStatus`); token columns are never selected, only whether a refresh token exists.
 */
import { type RawBuilder, sql } from "kysely";
import type { Executor } from "./dialect.js";
import type {
  ConnectionQuery,
  ConnectionSort,
  IntegrationOrgCount,
  IntegrationOrgQuery,
  OAuthTokenState,
  StoredConnectionRow,
  StoredIntegrationOrgRow,
} from "./store.js";

type Dir = "asc" | "desc";
interface SortKey {
  column: string;
  dir: Dir;
  kind: "s" | "n";
}

/** The key columns of each sort: null flags first (nulls last either way), the unique (integration, org) pair last. */
const SORT_COLUMNS: Record<ConnectionSort, ReadonlyArray<{ column: string; kind: "s" | "n"; fixed?: Dir }>> = {
  integration: [
    { column: "k_int", kind: "s" },
    { column: "k_org", kind: "s" },
  ],
  org: [
    { column: "k_org", kind: "s" },
    { column: "k_int", kind: "s" },
  ],
  state: [
    { column: "state", kind: "s" },
    { column: "k_int", kind: "s" },
    { column: "k_org", kind: "s" },
  ],
  expires_at: [
    { column: "k_exp_null", kind: "n", fixed: "asc" },
    { column: "k_exp", kind: "s" },
    { column: "k_int", kind: "s" },
    { column: "k_org", kind: "s" },
  ],
  last_refresh_at: [
    { column: "k_ref_null", kind: "n", fixed: "asc" },
    { column: "k_ref", kind: "s" },
    { column: "k_int", kind: "s" },
    { column: "k_org", kind: "s" },
  ],
};

/** What a cursor of this sort holds (string / integer per key), for the service to check it. */
export function connectionSortShape(sort: ConnectionSort): Array<"s" | "n"> {
  return SORT_COLUMNS[sort].map((k) => k.kind);
}

function sortKeys(sort: ConnectionSort, order: Dir): SortKey[] {
  return SORT_COLUMNS[sort].map((k) => ({ column: k.column, kind: k.kind, dir: k.fixed ?? order }));
}

/** Rows strictly after `after` in the order of `keys`: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR … */
function keysetAfter(keys: readonly SortKey[], after: ReadonlyArray<string | number>): RawBuilder<unknown> {
  const ors = keys.map((k, i) => {
    const eqs = keys.slice(0, i).map((p, j) => sql`${sql.ref(`c.${p.column}`)} = ${after[j]}`);
    const cmp = sql`${sql.ref(`c.${k.column}`)} ${sql.raw(k.dir === "asc" ? ">" : "<")} ${after[i]}`;
    return sql`(${sql.join([...eqs, cmp], sql` AND `)})`;
  });
  return sql`(${sql.join(ors, sql` OR `)})`;
}

function orderBy(keys: readonly SortKey[]): RawBuilder<unknown> {
  return sql.join(keys.map((k) => sql`${sql.ref(`c.${k.column}`)} ${sql.raw(k.dir === "asc" ? "ASC" : "DESC")}`));
}

/** The token column of an org row: the mapping's token when there is one, else the org-level token. */
const tok = (column: string) => sql`CASE WHEN tm.id IS NOT NULL THEN ${sql.ref(`tm.${column}`)} ELSE ${sql.ref(`tor.${column}`)} END`;

/** One org's mapping and candidate tokens for the integration `i` (aliases m, tm, tor). */
const orgJoins = (integrationId: RawBuilder<unknown>) => sql`
  LEFT JOIN mappings m ON m.integration_id = ${integrationId} AND m.org_id = o.id
  LEFT JOIN oauth_tokens tm ON tm.integration_id = ${integrationId} AND tm.owner_key = ${sql.lit("m:")} || m.id
  LEFT JOIN oauth_tokens tor ON tor.integration_id = ${integrationId} AND tor.owner_key = ${sql.lit("o:")} || o.id`;

/**
 * When the filters can only keep org rows that have a token in a given state (a state list without
 * `not_connected`, or `expiring_within_days`), the (integration, org) pairs holding such a token, as a
 * derived table `cand` (read through the token table's (state, integration_id, owner_key) index, so a
 * filter on a rare state reads those tokens, not every organization). It only narrows the walk: the
 * row's own state (mapping token first) is still computed and filtered as without it, so the rows
 * are the same. Null when every organization must be walked, or only one is.
 */
function candidates(q: ConnectionQuery | IntegrationOrgQuery, expiringBefore: string | undefined): RawBuilder<unknown> | null {
  // One organization (a filter or an org admin's scope): walking it is cheaper than any token scan.
  if (q.scopeOrgId !== undefined || ("orgId" in q && q.orgId !== undefined)) return null;
  const conditions: RawBuilder<unknown>[] = [];
  if (q.states !== undefined && q.states.length > 0 && !q.states.includes("not_connected")) conditions.push(sql`t.state IN (${sql.join([...q.states])})`);
  if (expiringBefore !== undefined) conditions.push(sql`t.state = 'connected' AND t.expires_at IS NOT NULL AND t.expires_at <= ${expiringBefore}`);
  if (conditions.length === 0) return null;
  if (q.integrationId !== undefined) conditions.push(sql`t.integration_id = ${q.integrationId}`);
  // A mapping token ("m:<mapping id>") belongs to its mapping's org, an org token ("o:<org id>") to that org.
  return sql`(SELECT DISTINCT t.integration_id AS integration_id,
      CASE WHEN SUBSTR(t.owner_key, 1, 2) = 'm:' THEN tmap.org_id ELSE SUBSTR(t.owner_key, 3) END AS org_id
    FROM oauth_tokens t
    LEFT JOIN mappings tmap ON SUBSTR(t.owner_key, 1, 2) = 'm:' AND tmap.id = SUBSTR(t.owner_key, 3) AND tmap.integration_id = t.integration_id
    WHERE ${sql.join(conditions, sql` AND `)} AND (SUBSTR(t.owner_key, 1, 2) = 'o:' OR tmap.id IS NOT NULL)) cand`;
}

function filters(q: ConnectionQuery | IntegrationOrgQuery, searched: readonly string[]): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (q.scopeOrgId !== undefined) where.push(sql`c.org_id = ${q.scopeOrgId}`);
  if (q.states !== undefined) where.push(q.states.length === 0 ? sql`1 = 0` : sql`c.state IN (${sql.join([...q.states])})`);
  if (q.unmapped) where.push(sql`c.org_id IS NOT NULL AND (c.mapping_id IS NULL OR c.entity_id IS NULL)`);
  if (q.like !== undefined) {
    const pattern = q.like;
    where.push(sql`(${sql.join(searched.map((col) => sql`LOWER(${sql.ref(`c.${col}`)}) LIKE ${pattern} ESCAPE ${sql.lit("\\")}`), sql` OR `)})`);
  }
  return where;
}

const whereOf = (parts: readonly RawBuilder<unknown>[]) => (parts.length === 0 ? sql`` : sql`WHERE ${sql.join(parts, sql` AND `)}`);

interface ConnectionSqlRow {
  integration: string;
  org_id: string | null;
  org: string | null;
  org_name: string | null;
  mapping_id: string | null;
  entity_id: string | null;
  entity_name: string | null;
  flow: string;
  state: string;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
  has_refresh_token: number | string;
  k_int: string;
  k_org: string;
  k_exp_null: number | string;
  k_exp: string;
  k_ref_null: number | string;
  k_ref: string;
}

/**
 * The connection rows before paging, as a derived table `c`. `light`: only what the integration and
 * org sorts and the name filters need (no mapping or token joins) — the common unfiltered page and
 * its count read no token table at all.
 */
function connectionSet(byteOrder: RawBuilder<unknown>, q: ConnectionQuery, light: boolean): RawBuilder<unknown> {
  const onlyIntegration = q.integrationId === undefined ? sql`` : sql`AND i.id = ${q.integrationId}`;
  const onlyOrg = q.orgId === undefined ? sql`` : sql`AND o.id = ${q.orgId}`;
  const scope = q.scopeOrgId === undefined ? sql`` : sql`AND o.id = ${q.scopeOrgId}`;
  const keys = sql`i.name ${byteOrder} AS k_int, o.slug ${byteOrder} AS k_org`;
  const levelKeys = sql`i.name ${byteOrder} AS k_int, '' ${byteOrder} AS k_org`;
  const providers = sql`FROM integrations i JOIN oauth_providers p ON p.integration_id = i.id`;
  // The integration-level rows: none when one organization is asked for (by filter or scope).
  const withLevel = q.orgId === undefined && q.scopeOrgId === undefined;
  if (light) {
    const orgRows = sql`SELECT i.id AS integration_id, o.id AS org_id, ${keys} ${providers} CROSS JOIN organizations o WHERE 1 = 1 ${onlyIntegration} ${onlyOrg} ${scope}`;
    const levelRows = sql`SELECT i.id, NULL, ${levelKeys} ${providers} WHERE 1 = 1 ${onlyIntegration}`;
    return withLevel ? sql`(${orgRows} UNION ALL ${levelRows})` : sql`(${orgRows})`;
  }
  const stamps = (t: (c: string) => RawBuilder<unknown>) => sql`
    CASE WHEN ${t("expires_at")} IS NULL THEN 1 ELSE 0 END AS k_exp_null, COALESCE(${t("expires_at")}, '') AS k_exp,
    CASE WHEN ${t("last_refresh_at")} IS NULL THEN 1 ELSE 0 END AS k_ref_null, COALESCE(${t("last_refresh_at")}, '') AS k_ref`;
  const cand = candidates(q, q.expiringBefore);
  const pairs =
    cand === null
      ? sql`${providers} CROSS JOIN organizations o`
      : sql`FROM ${cand} JOIN integrations i ON i.id = cand.integration_id JOIN oauth_providers p ON p.integration_id = i.id JOIN organizations o ON o.id = cand.org_id`;
  const orgRows = sql`
    SELECT i.id AS integration_id, o.id AS org_id, i.name AS integration, o.slug AS org, o.name AS org_name, m.id AS mapping_id,
      m.entity_id AS entity_id, m.entity_name AS entity_name, COALESCE(${tok("state")}, 'not_connected') AS state,
      ${tok("expires_at")} AS expires_at, ${keys}, ${stamps(tok)}
    ${pairs} ${orgJoins(sql`i.id`)}
    WHERE 1 = 1 ${onlyIntegration} ${onlyOrg} ${scope}`;
  const t = (column: string) => sql.ref(`t.${column}`);
  const levelRows = sql`
    SELECT i.id, NULL, i.name, NULL, NULL, NULL, NULL, NULL, COALESCE(t.state, 'not_connected'), t.expires_at, ${levelKeys}, ${stamps(t)}
    ${providers} LEFT JOIN oauth_tokens t ON t.integration_id = i.id AND t.owner_key = 'i'
    WHERE 1 = 1 ${onlyIntegration}`;
  return withLevel ? sql`(${orgRows} UNION ALL ${levelRows})` : sql`(${orgRows})`;
}

/**
 * One page in two steps: the page's (integration, org) pairs with their sort keys, filtered, sorted
 * and cut on the derived set; then names, mapping and connection columns for those rows only.
 */
export async function listConnectionRows(db: Executor, byteOrder: RawBuilder<unknown>, q: ConnectionQuery): Promise<{ rows: StoredConnectionRow[]; total: number }> {
  const light = (q.sort === "integration" || q.sort === "org") && q.states === undefined && q.expiringBefore === undefined && !q.unmapped && q.like === undefined;
  const set = connectionSet(byteOrder, q, light);
  const where = filters(q, ["integration", "org", "org_name", "entity_id", "entity_name"]);
  if (q.expiringBefore !== undefined) where.push(sql`c.state = 'connected' AND c.expires_at IS NOT NULL AND c.expires_at <= ${q.expiringBefore}`);
  const keys = sortKeys(q.sort, q.order);
  const paged = q.after === undefined ? where : [...where, keysetAfter(keys, q.after)];
  const keyColumns = sql.join(keys.map((k) => sql.ref(`c.${k.column}`)));

  const page = await sql<ConnectionSqlRow>`
    WITH page AS (SELECT c.integration_id, c.org_id, ${keyColumns} FROM ${set} c ${whereOf(paged)} ORDER BY ${orderBy(keys)} LIMIT ${q.limit})
    SELECT i.name AS integration, o.id AS org_id, o.slug AS org, o.name AS org_name, m.id AS mapping_id, m.entity_id AS entity_id,
      m.entity_name AS entity_name, p.flow AS flow, COALESCE(${tok("state")}, 'not_connected') AS state,
      ${tok("expires_at")} AS expires_at, ${tok("last_refresh_at")} AS last_refresh_at, ${tok("last_error")} AS last_error,
      CASE WHEN ${tok("refresh_token")} IS NULL THEN 0 ELSE 1 END AS has_refresh_token, ${sql.join(keys.map((k) => sql.ref(`c.${k.column}`)))}
    FROM page c JOIN integrations i ON i.id = c.integration_id JOIN oauth_providers p ON p.integration_id = i.id
    LEFT JOIN organizations o ON o.id = c.org_id
    LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = o.id
    LEFT JOIN oauth_tokens tm ON tm.integration_id = i.id AND tm.owner_key = ${sql.lit("m:")} || m.id
    LEFT JOIN oauth_tokens tor ON tor.integration_id = i.id AND tor.owner_key = COALESCE(${sql.lit("o:")} || o.id, ${sql.lit("i")})
    ORDER BY ${orderBy(keys)}`.execute(db);
  const count = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${set} c ${whereOf(where)}`.execute(db);
  return {
    total: Number(count.rows[0]?.n ?? 0),
    rows: page.rows.map((r) => ({
      integration: r.integration,
      orgId: r.org_id,
      org: r.org,
      orgName: r.org_name,
      mapped: r.mapping_id !== null,
      entityId: r.entity_id,
      entityName: r.entity_name,
      flow: r.flow,
      state: r.state as OAuthTokenState,
      expiresAt: r.expires_at,
      lastRefreshAt: r.last_refresh_at,
      lastError: r.last_error,
      hasRefreshToken: Number(r.has_refresh_token) === 1,
      keys: keys.map((k) => (k.kind === "n" ? Number(r[k.column as keyof ConnectionSqlRow]) : String(r[k.column as keyof ConnectionSqlRow]))),
    })),
  };
}

interface IntegrationOrgSqlRow {
  org: string;
  org_name: string;
  mapping_id: string | null;
  entity_id: string | null;
  entity_name: string | null;
  override_count: number | string;
  state: string | null;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
  k_org: string;
}

export async function listIntegrationOrgRows(db: Executor, byteOrder: RawBuilder<unknown>, q: IntegrationOrgQuery): Promise<{ rows: StoredIntegrationOrgRow[]; total: number }> {
  const id = q.integrationId;
  const cand = candidates(q, undefined);
  const orgs = cand === null ? sql`organizations o` : sql`${cand} JOIN organizations o ON o.id = cand.org_id AND cand.integration_id = ${id}`;
  const all = sql`
    SELECT o.id AS org_id, o.slug AS org, o.name AS org_name, m.id AS mapping_id, m.entity_id AS entity_id, m.entity_name AS entity_name,
      (SELECT COUNT(*) FROM config_values v WHERE v.integration_id = ${id} AND v.org_id = o.id) AS override_count,
      CASE WHEN p.id IS NULL THEN NULL ELSE COALESCE(${tok("state")}, 'not_connected') END AS state,
      ${tok("expires_at")} AS expires_at, ${tok("last_refresh_at")} AS last_refresh_at, ${tok("last_error")} AS last_error,
      o.slug ${byteOrder} AS k_org
    FROM ${orgs} ${orgJoins(sql`${id}`)}
    LEFT JOIN oauth_providers p ON p.integration_id = ${id}`;
  const where = filters(q, ["org", "org_name", "entity_id", "entity_name"]);
  const keys: SortKey[] = [{ column: "k_org", kind: "s", dir: "asc" }];
  const paged = q.after === undefined ? where : [...where, keysetAfter(keys, q.after)];
  const page = await sql<IntegrationOrgSqlRow>`SELECT * FROM (${all}) c ${whereOf(paged)} ORDER BY ${orderBy(keys)} LIMIT ${q.limit}`.execute(db);
  // Unfiltered, the set has one row per organization (its joins are on unique keys): count those alone.
  const counted = where.length === 0 ? sql`SELECT COUNT(*) AS n FROM organizations` : sql`SELECT COUNT(*) AS n FROM (${all}) c ${whereOf(where)}`;
  const count = await sql<{ n: number | string }>`${counted}`.execute(db);
  return {
    total: Number(count.rows[0]?.n ?? 0),
    rows: page.rows.map((r) => ({
      org: r.org,
      orgName: r.org_name,
      mapped: r.mapping_id !== null,
      entityId: r.entity_id,
      entityName: r.entity_name,
      overrideCount: Number(r.override_count),
      state: r.state as OAuthTokenState | null,
      expiresAt: r.expires_at,
      lastRefreshAt: r.last_refresh_at,
      lastError: r.last_error,
      keys: [r.k_org],
    })),
  };
}

/**
 * One integration's organizations counted by (mapped, has an entity id, connection state) in one
 * grouped query: each organization once, its state as in the lists (null without an OAuth provider).
 */
export async function countIntegrationOrgRows(db: Executor, q: { integrationId: string; scopeOrgId?: string }): Promise<IntegrationOrgCount[]> {
  const id = q.integrationId;
  const scope = q.scopeOrgId === undefined ? sql`` : sql`WHERE o.id = ${q.scopeOrgId}`;
  const res = await sql<{ mapped: number | string; has_entity: number | string; state: string | null; n: number | string }>`
    SELECT g.mapped, g.has_entity, g.state, COUNT(*) AS n FROM (
      SELECT CASE WHEN m.id IS NULL THEN 0 ELSE 1 END AS mapped, CASE WHEN m.entity_id IS NULL THEN 0 ELSE 1 END AS has_entity,
        CASE WHEN p.id IS NULL THEN NULL ELSE COALESCE(${tok("state")}, 'not_connected') END AS state
      FROM organizations o ${orgJoins(sql`${id}`)}
      LEFT JOIN oauth_providers p ON p.integration_id = ${id}
      ${scope}) g
    GROUP BY g.mapped, g.has_entity, g.state`.execute(db);
  return res.rows.map((r) => ({ mapped: Number(r.mapped) === 1, hasEntityId: Number(r.has_entity) === 1, state: r.state as OAuthTokenState | null, count: Number(r.n) }));
}
