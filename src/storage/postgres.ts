import { CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import { KyselyStore, LIST_FOR_ORG_SQL } from "./kysely-store.js";
import { compileNamed } from "./named-sql.js";
import type { Database } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store } from "./store.js";

/**
 * PostgreSQL's resolve: one row per call, values aggregated into two JSON arrays (defaults, this
 * org's overrides), each from its own index. One row parses faster than one row per value.
 * $1 = org id, $2 = integration name.
 */
const RESOLVE_PG = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id IS NULL) AS defaults,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id = $1) AS overrides,
  EXISTS (SELECT 1 FROM oauth_providers p WHERE p.integration_id = i.id) AS has_oauth
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = $1
WHERE i.name = $2`;

type PackedValue = [id: string, key: string, value: string, isSecret: number, fingerprint: string | null, updatedAt: string];

interface ResolvePgRow {
  i_id: string;
  i_name: string;
  i_schema: string;
  m_id: string | null;
  m_entity_id: string | null;
  m_entity_name: string | null;
  defaults: PackedValue[] | null;
  overrides: PackedValue[] | null;
  has_oauth: boolean;
}

function unpack(row: ResolvePgRow | undefined, orgId: string | null): ResolveRows | null {
  if (!row) return null;
  const values = (list: PackedValue[] | null, owner: string | null) =>
    (list ?? []).map(([id, key, value, isSecret, fingerprint, updatedAt]) => ({
      id,
      integrationId: row.i_id,
      orgId: owner,
      key,
      value,
      isSecret: Number(isSecret) === 1,
      fingerprint,
      updatedAt,
    }));
  return {
    integration: { id: row.i_id, name: row.i_name, configSchema: row.i_schema },
    mapping: row.m_id === null ? null : { id: row.m_id, entityId: row.m_entity_id, entityName: row.m_entity_name },
    values: [...values(row.defaults, null), ...values(row.overrides, orgId)],
    hasOAuth: row.has_oauth === true,
  };
}

/** Scale-out storage: PostgreSQL through a pg pool; several processes may share one database. */
export class PostgresStore extends KyselyStore {
  readonly dialect = "postgres" as const;
  readonly #pool: pg.Pool;

  private constructor(db: Kysely<Database> | Transaction<Database>, pool: pg.Pool) {
    super(db);
    this.#pool = pool;
  }

  static open(connectionString: string, opts: { max?: number } = {}): PostgresStore {
    const pool = new pg.Pool({ connectionString, max: opts.max ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return new PostgresStore(db, pool);
  }

  protected withExecutor(trx: Transaction<Database>): Store {
    return new PostgresStore(trx, this.#pool);
  }

  async resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    if (!this.db.isTransaction) {
      // A named statement is parsed and planned once per connection.
      const res = await this.#pool.query<ResolvePgRow>({ name: "bifrost_resolve_v4", text: RESOLVE_PG, values: [orgId, integrationName] });
      return unpack(res.rows[0], orgId);
    }
    const res = await this.db.executeQuery<ResolvePgRow>(CompiledQuery.raw(RESOLVE_PG, [orgId, integrationName]));
    return unpack(res.rows[0], orgId);
  }

  async listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]> {
    const { sql, parameters } = compileNamed(LIST_FOR_ORG_SQL, { org: orgId }, "postgres");
    const res = await this.db.executeQuery<{ name: string; m_id: string | null; entity_id: string | null; entity_name: string | null }>(CompiledQuery.raw(sql, parameters));
    return res.rows.map((r) => ({ name: r.name, mapped: r.m_id !== null, entityId: r.entity_id, entityName: r.entity_name }));
  }

  /**
   * A transaction holding `pg_advisory_xact_lock` on a namespaced 64-bit hash of the token id.
   * Released at commit or rollback, and by PostgreSQL when the connection drops (crash-safe).
   * `lock_timeout` bounds the wait; the refresh HTTP timeout bounds the hold.
   */
  async withOAuthTokenLock<T>(tokenId: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.transaction(async (tx) => {
      const db = (tx as PostgresStore).db;
      await sql`SET LOCAL lock_timeout = '60s'`.execute(db);
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`bifrost-oauth-refresh:${tokenId}`}, 0))`.execute(db);
      return fn(tx);
    });
  }

  /** Claim due tokens with FOR UPDATE SKIP LOCKED so concurrent refreshers never pick the same rows. */
  async claimOAuthRefreshWork(opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]> {
    const res = await this.db.executeQuery<{ id: string }>(
      CompiledQuery.raw(
        `UPDATE oauth_tokens SET claimed_until = $3 WHERE id IN (
           SELECT id FROM oauth_tokens
           WHERE state IN ('connected', 'error', 'refreshing') AND expires_at IS NOT NULL AND expires_at < $2
             AND (claimed_until IS NULL OR claimed_until < $1) AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
           ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [opts.now, opts.horizon, opts.claimUntil, opts.limit],
      ),
    );
    return res.rows.map((r) => r.id);
  }

  async close(): Promise<void> {
    await (this.db as Kysely<Database>).destroy();
  }
}
