import { CompiledQuery, Kysely, PostgresDialect, type Selectable, sql, type Transaction } from "kysely";
import pg from "pg";
import { CHANGES_CHANNEL } from "../cache/change-feed.js";
import { KyselyStore, LIST_FOR_ORG_SQL, toOAuthToken, toProvider } from "./kysely-store.js";
import { compileNamed } from "./named-sql.js";
import type { Database, OAuthTokensTable } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store, StoredOAuthEvent, StoredOAuthToken } from "./store.js";

/**
 * PostgreSQL's resolve: one row per call, values aggregated into two JSON arrays (defaults, this
 * org's overrides), each from its own index. One row parses faster than one row per value.
 * $1 = org id, $2 = integration name.
 */
const RESOLVE_PG = `SELECT i.id AS i_id, i.name AS i_name, i.config_schema AS i_schema,
  i.trusted_origins AS i_trusted, i.private_network AS i_private,
  m.id AS m_id, m.entity_id AS m_entity_id, m.entity_name AS m_entity_name,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id IS NULL) AS defaults,
  (SELECT json_agg(json_build_array(v.id, v.key, v.value, v.is_secret, v.fingerprint, v.updated_at))
     FROM config_values v WHERE v.integration_id = i.id AND v.org_id = $1) AS overrides,
  p.id AS p_id, p.flow AS p_flow, p.settings AS p_settings, p.client_secret AS p_secret,
  p.client_secret_fingerprint AS p_fp, p.created_at AS p_created_at, p.updated_at AS p_updated_at,
  CASE WHEN p.id IS NULL THEN NULL ELSE
    (SELECT json_agg(row_to_json(t)) FROM oauth_tokens t
      WHERE t.integration_id = i.id AND t.owner_key IN ('i', 'o:' || $1, 'm:' || m.id)) END AS tokens
FROM integrations i
LEFT JOIN mappings m ON m.integration_id = i.id AND m.org_id = $1
LEFT JOIN oauth_providers p ON p.integration_id = i.id
WHERE i.name = $2`;

type PackedValue = [id: string, key: string, value: string, isSecret: number, fingerprint: string | null, updatedAt: string];

interface ResolvePgRow {
  i_id: string;
  i_name: string;
  i_schema: string;
  i_trusted: string;
  i_private: number;
  m_id: string | null;
  m_entity_id: string | null;
  m_entity_name: string | null;
  defaults: PackedValue[] | null;
  overrides: PackedValue[] | null;
  p_id: string | null;
  p_flow: string;
  p_settings: string;
  p_secret: string;
  p_fp: string;
  p_created_at: string;
  p_updated_at: string;
  tokens: Array<Selectable<OAuthTokensTable>> | null;
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
    integration: { id: row.i_id, name: row.i_name, configSchema: row.i_schema, trustedOrigins: JSON.parse(row.i_trusted) as string[], privateNetwork: Number(row.i_private) === 1 },
    mapping: row.m_id === null ? null : { id: row.m_id, entityId: row.m_entity_id, entityName: row.m_entity_name },
    values: [...values(row.defaults, null), ...values(row.overrides, orgId)],
    hasOAuth: row.p_id !== null,
    oauth:
      row.p_id === null
        ? null
        : {
            provider: toProvider({
              id: row.p_id,
              integration_id: row.i_id,
              flow: row.p_flow,
              settings: row.p_settings,
              client_secret: row.p_secret,
              client_secret_fingerprint: row.p_fp,
              created_at: row.p_created_at,
              updated_at: row.p_updated_at,
            }),
            tokens: (row.tokens ?? []).map(toOAuthToken),
          },
  };
}

const lockKey = (tokenId: string): string => `bifrost-oauth-refresh:${tokenId}`;

/** Lock transactions running at once per process; the lane's pool has one more connection for markers. */
const LANE_SLOTS = 4;

/**
 * The refresh lane: a small pool of its own for refresh-lock transactions and in-flight markers, so
 * a refresh never queues behind a storm of resolve queries on the main pool. At most LANE_SLOTS lock
 * transactions at once, on LANE_SLOTS + 1 connections: a lock holder always finds one for its marker.
 */
class RefreshLane {
  readonly pool: pg.Pool;
  readonly store: PostgresStore;
  #free = LANE_SLOTS;
  readonly #queue: Array<() => void> = [];

  constructor(connectionString: string, make: (db: Kysely<Database>, pool: pg.Pool) => PostgresStore) {
    this.pool = new pg.Pool({ connectionString, max: LANE_SLOTS + 1 });
    this.pool.on("error", () => undefined);
    this.store = make(new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.pool }) }), this.pool);
  }

  async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#queue.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** Scale-out storage: PostgreSQL through a pg pool; several processes may share one database. */
export class PostgresStore extends KyselyStore {
  readonly dialect = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #lane: RefreshLane | null;

  private constructor(db: Kysely<Database> | Transaction<Database>, pool: pg.Pool, lane: RefreshLane | null) {
    super(db);
    this.#pool = pool;
    this.#lane = lane;
  }

  static open(connectionString: string, opts: { max?: number } = {}): PostgresStore {
    const pool = new pg.Pool({ connectionString, max: opts.max ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const lane = new RefreshLane(connectionString, (ldb, lpool) => new PostgresStore(ldb, lpool, null));
    return new PostgresStore(db, pool, lane);
  }

  protected withExecutor(trx: Transaction<Database>): Store {
    return new PostgresStore(trx, this.#pool, null);
  }

  /** Lock work runs on the refresh lane when this is the root store (not inside a caller's transaction). */
  #onLane<T>(fn: (s: PostgresStore) => Promise<T>): Promise<T> {
    const lane = this.#lane;
    return lane ? lane.slot(() => fn(lane.store)) : fn(this);
  }

  /** The in-flight marker: committed at once on the lane's spare connection (survives a crash of the holder). */
  override async markOAuthRefreshStarted(id: string, owner: string, at: string): Promise<void> {
    if (this.#lane) return this.#lane.store.markOAuthRefreshStarted(id, owner, at);
    return super.markOAuthRefreshStarted(id, owner, at);
  }

  async resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    if (!this.db.isTransaction) {
      // A named statement is parsed and planned once per connection.
      const res = await this.#pool.query<ResolvePgRow>({ name: "bifrost_resolve_v5", text: RESOLVE_PG, values: [orgId, integrationName] });
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
    return this.#onLane((s) => s.#lockTx(tokenId, fn));
  }

  #lockTx<T>(tokenId: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.transaction(async (tx) => {
      const db = (tx as PostgresStore).db;
      await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(hashtextextended(${lockKey(tokenId)}, 0))`.execute(db);
      return fn(tx);
    });
  }

  /** One statement after BEGIN: `pg_try_advisory_xact_lock`; on success `fn` runs holding it. */
  async tryOAuthTokenLock<T>(tokenId: string, fn: (tx: Store) => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
    return this.#onLane((s) => s.#tryTx(tokenId, fn));
  }

  #tryTx<T>(tokenId: string, fn: (tx: Store) => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
    return this.transaction(async (tx) => {
      const db = (tx as PostgresStore).db;
      const got = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(hashtextextended(${lockKey(tokenId)}, 0)) AS got`.execute(db);
      if (got.rows[0]?.got !== true) return { locked: false as const };
      return { locked: true as const, value: await fn(tx) };
    });
  }

  /**
   * Wait with a shared advisory lock (compatible with other waiters, blocked by the exclusive holder),
   * then re-read the row in a new statement, so READ COMMITTED sees the holder's commit.
   */
  async awaitOAuthTokenLock(tokenId: string): Promise<StoredOAuthToken | null> {
    return this.#onLane((s) => s.#awaitTx(tokenId));
  }

  #awaitTx(tokenId: string): Promise<StoredOAuthToken | null> {
    return this.transaction(async (tx) => {
      const db = (tx as PostgresStore).db;
      await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock_shared(hashtextextended(${lockKey(tokenId)}, 0))`.execute(db);
      return tx.getOAuthToken(tokenId);
    });
  }

  async claimWebhookDeliveries(opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<Array<{ event: StoredOAuthEvent; attempts: number }>> {
    const res = await this.db.executeQuery<{ event_id: string; attempts: number }>(
      CompiledQuery.raw(
        `UPDATE oauth_webhook_deliveries SET lease_until = $2, lease_owner = $3 WHERE event_id IN (
           SELECT event_id FROM oauth_webhook_deliveries
           WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
           ORDER BY created_at, event_id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING event_id, attempts`,
        [opts.now, opts.leaseUntil, opts.owner, opts.limit],
      ),
    );
    return this.eventsForClaims(res.rows);
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

  /** `NOTIFY bifrost_changes, id` on this executor (inside a transaction: delivered at commit). */
  async notifyChange(id: string): Promise<void> {
    await sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${id})`.execute(this.db);
  }

  async close(): Promise<void> {
    if (this.#lane) await (this.#lane.store.db as Kysely<Database>).destroy();
    await (this.db as Kysely<Database>).destroy();
  }
}
