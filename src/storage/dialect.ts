/**
 * What differs between the databases behind the Store. `KyselyStore` (kysely-store.ts) holds every
 * query that is the same everywhere and asks its dialect for the rest; each database has its own
 * folder (`sqlite/`, `postgres/`) with one class implementing this interface. Nothing outside those
 * folders compares dialect names.
 */
import type { Kysely, RawBuilder, Transaction } from "kysely";
import type { AuditLogTable, Database } from "./schema.js";
import type { LockBody, LockOrAwait, RefreshClaim, ResolveRows, RowStamp, Store } from "./store.js";

/** Where a store's queries run: the root database or one transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** The store a dialect works on: a Store bound to one executor (KyselyStore implements it). */
export interface ExecutorStore extends Store {
  readonly db: Executor;
  /** Add the provider and candidate token rows to resolve rows (where the resolve query does not carry them). */
  resolveOAuthRows(rows: ResolveRows, orgId: string | null): Promise<ResolveRows>;
}

/** One leased webhook delivery, as the dialect's claim query returns it. */
export interface DeliveryClaim {
  event_id: string;
  attempts: number;
}

export interface Dialect {
  readonly name: "sqlite" | "postgres";

  /** Run `fn` in a transaction on the root database (the transaction executor). */
  transaction<T>(root: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Called once migrations have run (prepare statements that need the tables). */
  migrated?(): void;
  /** Readiness: the database answers a query (SQLite: the opened file is still the one at its path); throws DatabaseUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Release every connection and file handle. */
  close(): Promise<void>;

  /** The hot path of `integrations.get()` (`Store.resolve`), on `store`'s executor. */
  resolve(store: ExecutorStore, integrationName: string, orgId: string | null): Promise<ResolveRows | null>;

  /**
   * `Store.insertAuditEntries` outside a transaction, where the database has a faster way than one
   * multi-row INSERT (SQLite: one cached statement per row in one transaction). False = not taken here
   * (the store is inside a transaction): the caller inserts on the store's executor.
   */
  insertAuditRows?(store: ExecutorStore, rows: readonly AuditLogTable[]): Promise<boolean>;

  /** `Store.withOAuthTokenLock`: run `fn` holding the cross-process refresh lock of one token row. */
  withOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<T>;
  /** `Store.lockOrAwaitOAuthToken`: take the lock and run `fn`, or wait for its holder and re-read the row. */
  lockOrAwaitOAuthToken<T>(store: ExecutorStore, tokenId: string, claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>>;
  /**
   * `Store.markOAuthRefreshStarted` where the database commits it apart from the lock transaction
   * (PostgreSQL: on the refresh lane); absent = a plain update on `store`.
   */
  markOAuthRefreshStarted?(store: ExecutorStore, id: string, owner: string, at: string, seen?: RowStamp): Promise<void>;

  /** Claim due refresh work (`Store.claimOAuthRefreshWork`): ids of the claimed tokens. */
  claimOAuthRefreshWork(store: ExecutorStore, opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]>;
  /** Lease due webhook deliveries (`Store.claimWebhookDeliveries`); the base store reads their events. */
  claimWebhookDeliveries(store: ExecutorStore, opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<DeliveryClaim[]>;

  /** The key id of the `v1.<kid>.…` value in `column` (an identifier from storage/ciphertexts.ts). */
  kidOf(column: string): RawBuilder<string>;
  /**
   * Run one rewrap batch in a transaction that may write (SQLite: `BEGIN IMMEDIATE`, so the write lock
   * is taken up front instead of failing to upgrade later; PostgreSQL: an ordinary transaction).
   */
  writeTransaction<T>(root: Kysely<Database>, fn: (db: Executor) => Promise<T>): Promise<T>;
  /** Appended to a batch's select: PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite nothing (the transaction holds the write lock). */
  readonly claimRows: RawBuilder<unknown>;
  /** Appended to a text sort key so it orders by bytes (PostgreSQL `COLLATE "C"`; SQLite's BINARY already does). */
  readonly byteOrder: RawBuilder<unknown>;

  /** Tell other processes that `id` changed, on `db` (inside a transaction: delivered at commit). Absent = one process. */
  notify?(db: Executor, id: string): Promise<void>;
}
