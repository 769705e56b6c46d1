import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect as KyselySqliteDialect,
  type QueryCompiler,
  type QueryResult,
  type SqliteDialectConfig,
} from "kysely";
import { DatabaseBusyError } from "../errors.js";

/**
 * Several connections on one SQLite file (the server and a `bifrost` command, or two stores in one
 * process): every transaction begins with `BEGIN IMMEDIATE`, so it takes the write lock before it reads
 * and never fails half-way with "database is locked" when it upgrades from reading to writing. Waiting
 * for the lock is asynchronous: SQLite's own busy timeout sleeps inside the call and would block the
 * event loop (and, with two connections in one process, block the very transaction it waits for), so
 * the connection's `busy_timeout` is 0 and a statement that finds the file locked is retried here
 * with a short backoff until `timeoutMs` has passed; then it fails with BIFROST_DATABASE_BUSY.
 * A statement that returned SQLITE_BUSY changed nothing, so retrying it is safe.
 */
export interface BusyPolicy {
  /** How long a statement may wait for the lock in total. */
  readonly timeoutMs: number;
  /** The database file, for the error message. */
  readonly file: string;
}

/** better-sqlite3's codes for "another connection holds the lock" (SQLITE_BUSY and its extended codes, SQLITE_LOCKED). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Run `fn`, retrying while the database is locked by another connection, up to the policy's timeout. */
export async function whenNotBusy<T>(policy: BusyPolicy, fn: () => T | Promise<T>): Promise<T> {
  let deadline = 0;
  let delay = 1;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const now = Date.now();
      if (deadline === 0) deadline = now + policy.timeoutMs;
      else if (now >= deadline) {
        throw new DatabaseBusyError(
          `The SQLite database ${policy.file} stayed locked by another connection (another bifrost command or server) for ${policy.timeoutMs} ms; nothing was changed. Try again; if it persists, stop the process holding a long transaction on the file.`,
          { file: policy.file, waitedMs: policy.timeoutMs },
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 20);
    }
  }
}

class BusyRetryingConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #policy: BusyPolicy;

  constructor(inner: DatabaseConnection, policy: BusyPolicy) {
    this.#inner = inner;
    this.#policy = policy;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return whenNotBusy(this.#policy, () => this.#inner.executeQuery<R>(query));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

/** Kysely's SQLite driver with `BEGIN IMMEDIATE` transactions and asynchronous busy waiting. */
class ImmediateDriver implements Driver {
  readonly #inner: Driver;
  readonly #policy: BusyPolicy;
  readonly #wrapped = new WeakMap<DatabaseConnection, BusyRetryingConnection>();

  constructor(inner: Driver, policy: BusyPolicy) {
    this.#inner = inner;
    this.#policy = policy;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await this.#inner.acquireConnection();
    let wrapped = this.#wrapped.get(conn);
    if (!wrapped) {
      wrapped = new BusyRetryingConnection(conn, this.#policy);
      this.#wrapped.set(conn, wrapped);
    }
    return wrapped;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** Kysely's SqliteDialect whose driver begins transactions immediately and waits for locks asynchronously. */
export class ImmediateSqliteDialect extends KyselySqliteDialect {
  readonly #policy: BusyPolicy;

  constructor(config: SqliteDialectConfig, policy: BusyPolicy) {
    super(config);
    this.#policy = policy;
  }

  override createDriver(): Driver {
    return new ImmediateDriver(super.createDriver(), this.#policy);
  }
}
