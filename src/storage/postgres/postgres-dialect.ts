import { CompiledQuery, type Kysely, type RawBuilder, sql, type Transaction } from "kysely";
import type pg from "pg";
import { CHANGES_CHANNEL } from "../../cache/change-feed.js";
import type { DeliveryClaim, Dialect, Executor, ExecutorStore } from "../dialect.js";
import type { Database } from "../schema.js";
import { toOAuthToken } from "../rows.js";
import type { OAuthTokensTable } from "../schema.js";
import type { Selectable } from "kysely";
import type { LockBody, LockOrAwait, RefreshClaim, ResolveRows, StoredOAuthToken } from "../store.js";
import { KyselyStore } from "../kysely-store.js";
import { RESOLVE_PG, type ResolvePgRow, unpack } from "./postgres-resolve.js";
import type { LaneConnection, RefreshLane } from "./refresh-lane.js";

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
      const rows = unpack(res.rows[0], orgId);
      if (rows?.hasOAuth) this.#lane?.warm();
      return rows;
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
    const lane = this.#lane;
    if (lane && !store.db.isTransaction) return lane.onConnection((c) => this.#waitOnLane(c, tokenId, fn));
    return store.transaction(async (t) => {
      await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(hashtextextended(${lockKey(tokenId)}, 0))`.execute((t as ExecutorStore).db);
      return fn(t, await t.getOAuthToken(tokenId));
    });
  }

  /**
   * `pg_try_advisory_lock`: the holder runs `fn`. Anyone else waits on the *shared* advisory lock
   * (compatible with other waiters, blocked by the exclusive holder), so every waiter is released
   * together when the holder lets go, after its commit, and reads the row in the next statement (READ
   * COMMITTED: it sees that commit). No polling, and no queueing one by one on the exclusive lock.
   */
  lockOrAwaitOAuthToken<T>(store: ExecutorStore, tokenId: string, claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    const lane = this.#lane;
    if (lane && !store.db.isTransaction) return lane.onConnection((c) => this.#tryOnLane(c, tokenId, claim, fn));
    return store.transaction(async (t) => {
      const db = (t as ExecutorStore).db;
      const key = lockKey(tokenId);
      const got = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) AS got`.execute(db);
      if (got.rows[0]?.got !== true) {
        await sql`SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))`.execute(db);
        return { locked: false as const, row: await t.getOAuthToken(tokenId) };
      }
      return { locked: true as const, value: await fn(t, await t.getOAuthToken(tokenId)) };
    });
  }

  /** The body on the lane: its store, with change notifications collected for the COMMIT. */
  #laneBody<T>(txDb: Kysely<Database>, fn: (tx: KyselyStore) => Promise<T>): Promise<{ value: T; notify: (client: pg.PoolClient) => string }> {
    const notified: string[] = [];
    const tx = new KyselyStore(txDb, new PostgresDialect(this.#pool, this.#root, null, notified));
    return fn(tx).then((value) => ({ value, notify: (client) => notified.map((id) => `SELECT pg_notify(${client.escapeLiteral(CHANGES_CHANNEL)}, ${client.escapeLiteral(id)}); `).join("") }));
  }

  /**
   * The refresh lock in one round trip. One simple query (an implicit transaction, committed at its
   * end) either takes the *session* lock or, when someone holds it, waits on the shared lock until the
   * holder lets go (a CASE evaluates only the branch it needs); with a `claim`, the same statement sets
   * the in-flight marker when the lock was taken and the row is still the one the caller decided on
   * (an UPDATE re-checks its condition on the newest row version), committed with the query
   * (`synchronous_commit` off: see `markOAuthRefreshStarted`); the row is read by the next statement,
   * so its snapshot is taken after the lock (a waiter sees the holder's commit). The holder's body then
   * runs in a transaction whose BEGIN rides with its first statement; its appends and change
   * notifications ride with the COMMIT, and the lock is released in the same query, after the COMMIT.
   * Session locks outlive a transaction but not the connection: a body that fails destroys it. Values
   * are escaped literals (the simple protocol has no parameters).
   */
  async #tryOnLane<T>({ client, tx: txDb, held }: LaneConnection, tokenId: string, claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    const lit = (v: string | number): string => client.escapeLiteral(String(v));
    const key = `hashtextextended(${lit(lockKey(tokenId))}, 0)`;
    const take = `CASE WHEN pg_try_advisory_lock(${key}) THEN true ELSE pg_advisory_xact_lock_shared(${key})::text IS NULL END`;
    const gate = claim
      ? `WITH l AS MATERIALIZED (SELECT ${take} AS got),
           m AS (UPDATE oauth_tokens SET state = 'refreshing', refresh_started_at = ${lit(claim.at)}, refresh_owner = ${lit(claim.owner)}, updated_at = ${lit(claim.at)}
                 FROM l WHERE l.got AND id = ${lit(tokenId)} AND version = ${lit(claim.seen.version)} AND updated_at = ${lit(claim.seen.updatedAt)} RETURNING oauth_tokens.id)
         SELECT l.got, EXISTS (SELECT 1 FROM m) AS claimed FROM l`
      : `SELECT ${take} AS got, false AS claimed`;
    const first = (await client.query(
      `SELECT set_config('lock_timeout', '60s', true), set_config('synchronous_commit', 'off', true); ${gate}; SELECT * FROM oauth_tokens WHERE id = ${lit(tokenId)}`,
    )) as unknown as pg.QueryResult[];
    const gateRow = first[1]?.rows[0] as { got?: boolean; claimed?: boolean } | undefined;
    const row = tokenOf(first[2]);
    if (gateRow?.got !== true) return { locked: false, row };
    held.hold("BEGIN; SET LOCAL lock_timeout = '60s'");
    const { value, notify } = await this.#laneBody(txDb, (tx) => fn(tx, row, gateRow.claimed === true));
    await client.query(`${held.take()}${notify(client)}COMMIT; SELECT pg_advisory_unlock(${key})`);
    return { locked: true, value };
  }

  /**
   * `withOAuthTokenLock` on the lane: BEGIN, the blocking lock and the re-read as one simple query (the
   * read is its own statement, so its snapshot is taken after the lock is held); appends and change
   * notifications ride with the COMMIT.
   */
  async #waitOnLane<T>({ client, tx: txDb, held }: LaneConnection, tokenId: string, fn: LockBody<T>): Promise<T> {
    const key = `hashtextextended(${client.escapeLiteral(lockKey(tokenId))}, 0)`;
    const first = (await client.query(
      `BEGIN; SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(${key}); SELECT * FROM oauth_tokens WHERE id = ${client.escapeLiteral(tokenId)}`,
    )) as unknown as pg.QueryResult[];
    const { value, notify } = await this.#laneBody(txDb, (tx) => fn(tx, tokenOf(first[2])));
    await client.query(`${held.take()}${notify(client)}COMMIT`);
    return value;
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
