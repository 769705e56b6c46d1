import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import type { DeliveryClaim, Dialect, ExecutorStore } from "../dialect.js";
import type { Database } from "../schema.js";
import type { LockBody, LockOrAwait, ResolveRows } from "../store.js";
import { compileNamed } from "./named-sql.js";
import { foldResolveRows, RESOLVE_SQL, type ResolveFlatRow } from "./sqlite-resolve.js";

/**
 * SQLite (better-sqlite3, one process per file). Resolve runs as a cached statement outside
 * transactions; the refresh lock is the in-process single-flight; claims are a select and an update
 * in one transaction; there is no cross-process notification.
 */
export class SqliteDialect implements Dialect {
  readonly name = "sqlite" as const;
  readonly #raw: BetterSqlite3.Database;
  readonly #root: Kysely<Database>;
  /** Transactions in flight; while > 0 reads go through Kysely's connection mutex. */
  #openTransactions = 0;
  #resolveStmt: BetterSqlite3.Statement<unknown[], ResolveFlatRow> | undefined;

  constructor(raw: BetterSqlite3.Database, root: Kysely<Database>) {
    this.#raw = raw;
    this.#root = root;
  }

  async transaction<T>(root: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    this.#openTransactions++;
    try {
      return await root.transaction().execute(fn);
    } finally {
      this.#openTransactions--;
    }
  }

  migrated(): void {
    this.#resolveStmt = this.#raw.prepare<unknown[], ResolveFlatRow>(compileNamed(RESOLVE_SQL, { org: null, name: null }, "sqlite").sql);
  }

  async close(): Promise<void> {
    await this.#root.destroy();
  }

  async resolve(store: ExecutorStore, integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    const { sql, parameters } = compileNamed(RESOLVE_SQL, { org: orgId, name: integrationName }, "sqlite");
    let rows: ResolveRows | null;
    if (!store.db.isTransaction && this.#openTransactions === 0 && this.#resolveStmt) {
      rows = foldResolveRows(this.#resolveStmt.all(parameters));
    } else {
      const res = await store.db.executeQuery<ResolveFlatRow>(CompiledQuery.raw(sql, parameters));
      rows = foldResolveRows(res.rows);
    }
    // Same store call: the provider and token rows (embedded, no network; only when a provider is attached).
    return rows ? store.resolveOAuthRows(rows, orgId) : null;
  }

  /**
   * One process serves a SQLite file: the in-process single-flight is the lock, and no transaction
   * (no file lock) is held during the provider call. The row is re-read before `fn` decides.
   */
  async withOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<T> {
    return fn(store, await store.getOAuthToken(tokenId));
  }

  async lockOrAwaitOAuthToken<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    return { locked: true, value: await fn(store, await store.getOAuthToken(tokenId)) };
  }

  async claimWebhookDeliveries(store: ExecutorStore, opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<DeliveryClaim[]> {
    return store.transaction(async (tx) => {
      const db = (tx as ExecutorStore).db;
      const rows = await db
        .selectFrom("oauth_webhook_deliveries")
        .select(["event_id", "attempts"])
        .where("delivered_at", "is", null)
        .where("next_attempt_at", "<=", opts.now)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", opts.now)]))
        .orderBy("created_at")
        .orderBy("event_id")
        .limit(opts.limit)
        .execute();
      if (rows.length > 0) await db.updateTable("oauth_webhook_deliveries").set({ lease_until: opts.leaseUntil, lease_owner: opts.owner }).where("event_id", "in", rows.map((r) => r.event_id)).execute();
      return rows;
    });
  }

  async claimOAuthRefreshWork(store: ExecutorStore, opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]> {
    return store.transaction(async (tx) => {
      const db = (tx as ExecutorStore).db;
      const rows = await db
        .selectFrom("oauth_tokens")
        .select("id")
        .where("state", "in", ["connected", "error", "refreshing"])
        .where("expires_at", "is not", null)
        .where("expires_at", "<", opts.horizon)
        .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", opts.now)]))
        .where((eb) => eb.or([eb("next_attempt_at", "is", null), eb("next_attempt_at", "<=", opts.now)]))
        .orderBy("expires_at")
        .limit(opts.limit)
        .execute();
      const ids = rows.map((r) => r.id);
      if (ids.length > 0) await db.updateTable("oauth_tokens").set({ claimed_until: opts.claimUntil }).where("id", "in", ids).execute();
      return ids;
    });
  }
}
