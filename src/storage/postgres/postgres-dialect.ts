import { CompiledQuery, type Kysely, sql, type Transaction } from "kysely";
import type pg from "pg";
import { CHANGES_CHANNEL } from "../../cache/change-feed.js";
import type { DeliveryClaim, Dialect, Executor, ExecutorStore } from "../dialect.js";
import type { Database } from "../schema.js";
import type { ResolveRows, Store, StoredOAuthToken } from "../store.js";
import { RESOLVE_PG, type ResolvePgRow, unpack } from "./postgres-resolve.js";
import type { RefreshLane } from "./refresh-lane.js";

const lockKey = (tokenId: string): string => `bifrost-oauth-refresh:${tokenId}`;

/**
 * PostgreSQL (pg pool; several processes may share one database). Resolve is a named statement;
 * refresh locks are transaction-scoped advisory locks on the refresh lane; claims use
 * FOR UPDATE SKIP LOCKED; changes are announced with NOTIFY.
 */
export class PostgresDialect implements Dialect {
  readonly name = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #root: Kysely<Database>;
  /** Null on the lane's own dialect. */
  readonly #lane: RefreshLane | null;

  constructor(pool: pg.Pool, root: Kysely<Database>, lane: RefreshLane | null) {
    this.#pool = pool;
    this.#root = root;
    this.#lane = lane;
  }

  transaction<T>(root: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return root.transaction().execute(fn);
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (this.#lane) await this.#lane.db.destroy();
    await this.#root.destroy();
  }

  async resolve(store: ExecutorStore, integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    if (!store.db.isTransaction) {
      // A named statement is parsed and planned once per connection.
      const res = await this.#pool.query<ResolvePgRow>({ name: "bifrost_resolve_v5", text: RESOLVE_PG, values: [orgId, integrationName] });
      return unpack(res.rows[0], orgId);
    }
    const res = await store.db.executeQuery<ResolvePgRow>(CompiledQuery.raw(RESOLVE_PG, [orgId, integrationName]));
    return unpack(res.rows[0], orgId);
  }

  /** Lock work runs on the refresh lane when `store` is the root store (not inside a caller's transaction). */
  #onLane<T>(store: ExecutorStore, fn: (s: ExecutorStore) => Promise<T>): Promise<T> {
    const lane = this.#lane;
    return lane && !store.db.isTransaction ? lane.slot(() => fn(lane.store)) : fn(store);
  }

  /** The in-flight marker: committed at once on the lane's spare connection (survives a crash of the holder). */
  markerStore(store: ExecutorStore): Store | undefined {
    return this.#lane && !store.db.isTransaction ? this.#lane.store : undefined;
  }

  /**
   * A transaction holding `pg_advisory_xact_lock` on a namespaced 64-bit hash of the token id.
   * Released at commit or rollback, and by PostgreSQL when the connection drops (crash-safe).
   * `lock_timeout` bounds the wait; the refresh HTTP timeout bounds the hold.
   */
  withOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.#onLane(store, (s) =>
      s.transaction(async (tx) => {
        await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(hashtextextended(${lockKey(tokenId)}, 0))`.execute((tx as ExecutorStore).db);
        return fn(tx);
      }),
    );
  }

  /** One statement after BEGIN: `pg_try_advisory_xact_lock`; on success `fn` runs holding it. */
  tryOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: (tx: Store) => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
    return this.#onLane(store, (s) =>
      s.transaction(async (tx) => {
        const got = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(hashtextextended(${lockKey(tokenId)}, 0)) AS got`.execute((tx as ExecutorStore).db);
        if (got.rows[0]?.got !== true) return { locked: false as const };
        return { locked: true as const, value: await fn(tx) };
      }),
    );
  }

  /**
   * Wait with a shared advisory lock (compatible with other waiters, blocked by the exclusive holder),
   * then re-read the row in a new statement, so READ COMMITTED sees the holder's commit.
   */
  awaitOAuthTokenLock(store: ExecutorStore, tokenId: string): Promise<StoredOAuthToken | null> {
    return this.#onLane(store, (s) =>
      s.transaction(async (tx) => {
        await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock_shared(hashtextextended(${lockKey(tokenId)}, 0))`.execute((tx as ExecutorStore).db);
        return tx.getOAuthToken(tokenId);
      }),
    );
  }

  async claimWebhookDeliveries(store: ExecutorStore, opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<DeliveryClaim[]> {
    const res = await store.db.executeQuery<DeliveryClaim>(
      CompiledQuery.raw(
        `UPDATE oauth_webhook_deliveries SET lease_until = $2, lease_owner = $3 WHERE event_id IN (
           SELECT event_id FROM oauth_webhook_deliveries
           WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
           ORDER BY created_at, event_id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING event_id, attempts`,
        [opts.now, opts.leaseUntil, opts.owner, opts.limit],
      ),
    );
    return res.rows;
  }

  /** Claim due tokens with FOR UPDATE SKIP LOCKED so concurrent refreshers never pick the same rows. */
  async claimOAuthRefreshWork(store: ExecutorStore, opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]> {
    const res = await store.db.executeQuery<{ id: string }>(
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

  /** `NOTIFY bifrost_changes, id` on `db` (inside a transaction: delivered at commit). */
  async notify(db: Executor, id: string): Promise<void> {
    await sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${id})`.execute(db);
  }
}
