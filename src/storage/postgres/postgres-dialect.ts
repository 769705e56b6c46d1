import { CompiledQuery, type Kysely, type RawBuilder, sql, type Transaction } from "kysely";
import type pg from "pg";
import { CHANGES_CHANNEL } from "../../cache/change-feed.js";
import type { DeliveryClaim, Dialect, Executor, ExecutorStore } from "../dialect.js";
import type { Database } from "../schema.js";
import { toOAuthToken } from "../rows.js";
import type { OAuthTokensTable } from "../schema.js";
import type { Selectable } from "kysely";
import type { LockBody, LockOrAwait, ResolveRows, StoredOAuthToken } from "../store.js";
import { KyselyStore } from "../kysely-store.js";
import { RESOLVE_PG, type ResolvePgRow, unpack } from "./postgres-resolve.js";
import type { RefreshLane } from "./refresh-lane.js";

const lockKey = (tokenId: string): string => `bifrost-oauth-refresh:${tokenId}`;

/** The token row of one statement's result (null when the row is gone). */
function tokenOf(res: pg.QueryResult | undefined): StoredOAuthToken | null {
  const r = res?.rows[0] as Selectable<OAuthTokensTable> | undefined;
  return r ? toOAuthToken(r) : null;
}

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
  /** Set on the dialect of a lane lock transaction: change notifications collected for its COMMIT. */
  readonly #deferred: string[] | null;

  constructor(pool: pg.Pool, root: Kysely<Database>, lane: RefreshLane | null, deferredNotify: string[] | null = null) {
    this.#pool = pool;
    this.#root = root;
    this.#lane = lane;
    this.#deferred = deferredNotify;
  }

  transaction<T>(root: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return root.transaction().execute(fn);
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  kidOf(column: string): RawBuilder<string> {
    return sql<string>`split_part(${sql.ref(column)}, '.', 2)`;
  }

  readonly claimRows = sql`FOR UPDATE SKIP LOCKED`;
  /** Byte (code point) order whatever the database's collation, so keyset pages agree with SQLite. */
  readonly byteOrder = sql`COLLATE "C"`;

  writeTransaction<T>(root: Kysely<Database>, fn: (db: Executor) => Promise<T>): Promise<T> {
    return root.transaction().execute(fn);
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

  /**
   * The in-flight marker, committed at once on the lane's spare connection (outside the holder's lock
   * transaction), so it survives a crash of the holder process. Its commit does not wait for the WAL
   * flush (`synchronous_commit` off for this one statement): it is visible and kept whatever happens
   * to the holder; only a crash of the PostgreSQL server itself within a fraction of a second could
   * lose it, and the marker only refines how a later failure is classified. Inside a caller's
   * transaction it is a plain update of that transaction.
   */
  async markOAuthRefreshStarted(store: ExecutorStore, id: string, owner: string, at: string): Promise<void> {
    const lane = this.#lane && !store.db.isTransaction ? this.#lane.store : null;
    if (!lane) {
      await sql`UPDATE oauth_tokens SET state = 'refreshing', refresh_started_at = ${at}, refresh_owner = ${owner}, updated_at = ${at} WHERE id = ${id}`.execute(store.db);
      return;
    }
    await sql`WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
      UPDATE oauth_tokens SET state = 'refreshing', refresh_started_at = ${at}, refresh_owner = ${owner}, updated_at = ${at} FROM async_commit WHERE id = ${id}`.execute(lane.db);
  }


  /**
   * A transaction holding `pg_advisory_xact_lock` on a namespaced 64-bit hash of the token id; `fn`
   * gets the row as read after the lock was taken. Released at commit or rollback, and by PostgreSQL
   * when the connection drops (crash-safe). `lock_timeout` bounds the wait; the refresh HTTP timeout
   * bounds the hold.
   */
  withOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<T> {
    return this.#locked(store, tokenId, "wait", fn).then((r) => (r as { locked: true; value: T }).value);
  }

  /**
   * `pg_try_advisory_xact_lock`: the holder runs `fn`. Anyone else waits on the *shared* advisory lock
   * (compatible with other waiters, blocked by the exclusive holder), so every waiter is released
   * together at the holder's commit, and reads the row in the next statement (READ COMMITTED: it sees
   * that commit). No polling, and no queueing one by one on the exclusive lock.
   */
  lockOrAwaitOAuthToken<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    return this.#locked(store, tokenId, "try", fn);
  }

  #locked<T>(store: ExecutorStore, tokenId: string, mode: "try" | "wait", fn: LockBody<T>): Promise<LockOrAwait<T>> {
    const lane = this.#lane;
    if (lane && !store.db.isTransaction) return lane.onConnection((client, tx) => this.#lockedOnLane(client, tx, tokenId, mode, fn));
    return store.transaction(async (t) => {
      const db = (t as ExecutorStore).db;
      const key = lockKey(tokenId);
      if (mode === "wait") await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(db);
      else {
        const got = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) AS got`.execute(db);
        if (got.rows[0]?.got !== true) {
          await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))`.execute(db);
          return { locked: false as const, row: await t.getOAuthToken(tokenId) };
        }
      }
      return { locked: true as const, value: await fn(t, await t.getOAuthToken(tokenId)) };
    });
  }

  /**
   * The lock transaction on a lane connection, in as few round trips as the protocol allows: BEGIN,
   * the lock and the re-read go as one simple query (the read is its own statement, so its snapshot
   * is taken after the lock is held); a waiter's shared-lock wait, re-read and COMMIT as a second;
   * the holder's change notifications ride with its COMMIT. The token id is sent as an escaped literal
   * (the simple protocol has no parameters).
   */
  async #lockedOnLane<T>(client: pg.PoolClient, txDb: Kysely<Database>, tokenId: string, mode: "try" | "wait", fn: LockBody<T>): Promise<LockOrAwait<T>> {
    const key = `hashtextextended(${client.escapeLiteral(lockKey(tokenId))}, 0)`;
    const read = `SELECT * FROM oauth_tokens WHERE id = ${client.escapeLiteral(tokenId)}`;
    const lock = mode === "wait" ? `SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(${key}), true AS got` : `SELECT pg_try_advisory_xact_lock(${key}) AS got`;
    const first = (await client.query(`BEGIN; ${lock}; ${read}`)) as unknown as pg.QueryResult[];
    if (first[1]?.rows[0]?.got !== true) {
      const waited = (await client.query(`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock_shared(${key}); ${read}; COMMIT`)) as unknown as pg.QueryResult[];
      return { locked: false, row: tokenOf(waited[1]) };
    }
    const notified: string[] = [];
    const tx = new KyselyStore(txDb, new PostgresDialect(this.#pool, this.#root, null, notified));
    const value = await fn(tx, tokenOf(first[2]));
    const notify = notified.map((id) => `SELECT pg_notify(${client.escapeLiteral(CHANGES_CHANNEL)}, ${client.escapeLiteral(id)}); `).join("");
    await client.query(`${notify}COMMIT`);
    return { locked: true, value };
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

  /**
   * `NOTIFY bifrost_changes, id` on `db` (inside a transaction: delivered at commit). In a lane lock
   * transaction the notification is sent with the COMMIT, in the same round trip.
   */
  async notify(db: Executor, id: string): Promise<void> {
    if (this.#deferred) return void this.#deferred.push(id);
    await sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${id})`.execute(db);
  }
}
