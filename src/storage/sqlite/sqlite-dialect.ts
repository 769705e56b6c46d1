import { accessSync, constants, statSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type Kysely, type RawBuilder, sql, type Transaction } from "kysely";
import type { DeliveryClaim, Dialect, Executor, ExecutorStore } from "../dialect.js";
import type { AuditLogTable, Database } from "../schema.js";
import type { LockBody, LockOrAwait, RefreshClaim, ResolveRows, RowStamp, StoredOAuthToken } from "../store.js";
import { DatabaseUnavailableError } from "../errors.js";
import { type BusyPolicy, whenNotBusy } from "./busy.js";
import { compileNamed } from "./named-sql.js";
import { foldResolveRows, RESOLVE_SQL, type ResolveFlatRow } from "./sqlite-resolve.js";
import { AuditWriter } from "./audit-writer.js";

/** The columns of one audit entry, in the order of the cached insert. */
const AUDIT_COLUMNS: ReadonlyArray<keyof AuditLogTable> = [
  "id",
  "at",
  "action",
  "actor_kind",
  "actor_key_id",
  "actor_key_prefix",
  "actor_key_name",
  "actor_via",
  "org_id",
  "org_slug",
  "integration_id",
  "integration_name",
  "keys",
  "detail",
  "request_id",
  "execution_id",
];

/** The insert of one audit row (named parameters), cached on the connection that writes the batches. */
const AUDIT_INSERT_SQL = `INSERT INTO audit_log (${AUDIT_COLUMNS.join(", ")}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c}`).join(", ")})`;

/** Batches at least this large go to the audit writer thread (a server under load); smaller ones are written inline. */
const THREAD_BATCH = 32;

/** How long a refresh claim of another process counts as live at most (the refresh HTTP timeout is far below). */
const CLAIM_LEASE_MS = 60_000;
/** How often a process waiting for another process's refresh re-reads the row. */
const CLAIM_POLL_MS = 25;

/** Another process's refresh of the row is in flight (thrown by the claim, caught by the lock). */
class ClaimedElsewhere extends Error {
  /** `owner` / `startedAt`: the live claim to wait for; null = the row changed, re-read it at once. */
  constructor(
    readonly owner: string | null,
    readonly startedAt: string | null,
  ) {
    super("another process is refreshing this token, or already did");
  }
}

/** Whether the pid in an owner id (`<pid>:<random>`, src/oauth/refresh.ts) is a running process on this host. */
function ownerAlive(owner: string): boolean {
  const pid = Number(owner.split(":")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The claim `owner` took at `startedAt` is still on the row, its process runs and its lease has not run out. */
function claimHeld(row: StoredOAuthToken, owner: string, startedAt: string, nowMs: number): boolean {
  return row.state === "refreshing" && row.refreshOwner === owner && row.refreshStartedAt === startedAt && Date.parse(startedAt) > nowMs - CLAIM_LEASE_MS && ownerAlive(owner);
}

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
  readonly #policy: BusyPolicy;
  /** The file's identity when it was opened (null for :memory:), so a removed or replaced file is noticed. */
  readonly #identity: { dev: number; ino: number } | null;

  /** Writes large audit batches on its own thread and connection (file databases only; see audit-writer.ts). */
  readonly #writer: AuditWriter | null;

  /** `driver`: better-sqlite3's entry module and addon, for the audit writer thread's own connection. */
  constructor(raw: BetterSqlite3.Database, root: Kysely<Database>, policy: BusyPolicy, driver?: { module: string; nativeBinding: string | null }) {
    this.#raw = raw;
    this.#root = root;
    this.#policy = policy;
    this.#identity = policy.file === ":memory:" ? null : fileIdentity(policy.file);
    this.#writer =
      driver && policy.file !== ":memory:"
        ? new AuditWriter({ file: policy.file, driver: driver.module, nativeBinding: driver.nativeBinding, sql: AUDIT_INSERT_SQL, busyTimeoutMs: policy.timeoutMs })
        : null;
  }

  /**
   * The file this store opened is still the file at its path and readable and writable, and answers a
   * query. An open connection keeps working on a removed file (its writes would be lost) or after a
   * chmod, so the path is checked, not only the connection.
   */
  async ping(): Promise<void> {
    const file = this.#policy.file;
    if (this.#identity) {
      let now: { dev: number; ino: number } | null;
      try {
        accessSync(file, constants.R_OK | constants.W_OK);
        now = fileIdentity(file);
      } catch {
        now = null;
      }
      if (!now || now.dev !== this.#identity.dev || now.ino !== this.#identity.ino) {
        throw new DatabaseUnavailableError(
          `The SQLite database file ${file} is no longer the file this process opened, or it is not readable and writable (removed, replaced or its permissions changed). Restore it, then restart the process.`,
          { file },
        );
      }
    }
    await whenNotBusy(this.#policy, () => this.#raw.prepare("SELECT 1").get());
  }

  async transaction<T>(root: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    this.#openTransactions++;
    try {
      return await root.transaction().execute(fn);
    } finally {
      this.#openTransactions--;
    }
  }

  kidOf(column: string): RawBuilder<string> {
    return sql<string>`substr(${sql.ref(column)}, 4, instr(substr(${sql.ref(column)}, 4), '.') - 1)`;
  }

  readonly claimRows = sql``;
  /** SQLite compares text by bytes (BINARY) already. */
  readonly byteOrder = sql``;

  /** Every SQLite transaction here begins immediately (busy.ts), so a batch holds the write lock from its first read. */
  writeTransaction<T>(root: Kysely<Database>, fn: (db: Executor) => Promise<T>): Promise<T> {
    return root.transaction().execute(fn);
  }

  migrated(): void {
    this.#resolveStmt = this.#raw.prepare<unknown[], ResolveFlatRow>(compileNamed(RESOLVE_SQL, { org: null, name: null }, "sqlite").sql);
    const insert = this.#raw.prepare<AuditLogTable>(AUDIT_INSERT_SQL);
    this.#insertAudit = this.#raw.transaction((rows: readonly AuditLogTable[]) => {
      for (const r of rows) insert.run(r);
    });
  }

  #insertAudit: BetterSqlite3.Transaction<(rows: readonly AuditLogTable[]) => void> | undefined;

  /**
   * The audit buffer's batches: one cached statement per row inside one `BEGIN IMMEDIATE` transaction
   * (no SQL text to build and parse per batch); large batches on the audit writer thread, the others on
   * this connection. Only when no transaction is open on this connection: inside one, the rows would
   * commit or roll back with it.
   */
  async insertAuditRows(store: ExecutorStore, rows: readonly AuditLogTable[]): Promise<boolean> {
    const insert = this.#insertAudit;
    if (!insert || store.db.isTransaction || this.#openTransactions > 0 || this.#raw.inTransaction) return false;
    if (rows.length >= THREAD_BATCH && this.#writer && (await this.#writer.write(rows))) return true;
    // A statement that found the file locked changed nothing (the transaction rolled back): retried.
    await whenNotBusy(this.#policy, () => insert.immediate(rows));
    return true;
  }

  async close(): Promise<void> {
    await this.#writer?.close();
    await this.#root.destroy();
  }

  async resolve(store: ExecutorStore, integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    const { sql, parameters } = compileNamed(RESOLVE_SQL, { org: orgId, name: integrationName }, "sqlite");
    let rows: ResolveRows | null;
    if (!store.db.isTransaction && this.#openTransactions === 0 && this.#resolveStmt) {
      const stmt = this.#resolveStmt;
      rows = foldResolveRows(await whenNotBusy(this.#policy, () => stmt.all(parameters)));
    } else {
      const res = await store.db.executeQuery<ResolveFlatRow>(CompiledQuery.raw(sql, parameters));
      rows = foldResolveRows(res.rows);
    }
    // Same store call: the provider and token rows (embedded, no network; only when a provider is attached).
    return rows ? store.resolveOAuthRows(rows, orgId) : null;
  }

  /**
   * SQLite has no lock that can be held across the provider call without blocking every writer (and,
   * through the driver's connection mutex, every query of this process), so no transaction is held.
   * Within a process the single-flight is the lock. Across processes on one file, the in-flight marker
   * is the claim: `markOAuthRefreshStarted` sets it with one conditional UPDATE (atomic under SQLite's
   * write lock) and refuses while another live process's refresh is in flight; the refusal ends the
   * body before anything is sent, and this process waits for that refresh (re-reading the row every
   * CLAIM_POLL_MS: SQLite cannot notify) and returns the row it left.
   */
  async withOAuthTokenLock<T>(store: ExecutorStore, tokenId: string, fn: LockBody<T>): Promise<T> {
    for (;;) {
      const r = await this.lockOrAwaitOAuthToken(store, tokenId, null, fn);
      if (r.locked) return r.value;
    }
  }

  async lockOrAwaitOAuthToken<T>(store: ExecutorStore, tokenId: string, _claim: RefreshClaim | null, fn: LockBody<T>): Promise<LockOrAwait<T>> {
    try {
      return { locked: true, value: await fn(store, await store.getOAuthToken(tokenId)) };
    } catch (err) {
      if (!(err instanceof ClaimedElsewhere)) throw err;
      const { owner, startedAt } = err;
      for (;;) {
        if (owner !== null && startedAt !== null) await new Promise((r) => setTimeout(r, CLAIM_POLL_MS));
        const row = await store.getOAuthToken(tokenId);
        if (!row || owner === null || startedAt === null || !claimHeld(row, owner, startedAt, Date.now())) return { locked: false, row };
      }
    }
  }

  /**
   * The in-flight marker as a cross-process claim (see withOAuthTokenLock). Inside a caller's
   * transaction it is a plain update of that transaction.
   */
  async markOAuthRefreshStarted(store: ExecutorStore, id: string, owner: string, at: string, seen?: RowStamp): Promise<void> {
    const set = { state: "refreshing" as const, refresh_started_at: at, refresh_owner: owner, updated_at: at };
    if (store.db.isTransaction) {
      await store.db.updateTable("oauth_tokens").set(set).where("id", "=", id).execute();
      return;
    }
    let claim = store.db.updateTable("oauth_tokens").set(set).where("id", "=", id);
    // Decided on an older row: another process wrote it since (refreshed, failed, backed off); re-read instead.
    if (seen) claim = claim.where("version", "=", seen.version).where("updated_at", "=", seen.updatedAt);
    const res = await claim
      .where((eb) => eb.or([eb("state", "!=", "refreshing"), eb("refresh_owner", "is", null), eb("refresh_owner", "=", owner), eb("refresh_started_at", "is", null), eb("refresh_started_at", "<=", new Date(Date.now() - CLAIM_LEASE_MS).toISOString())]))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) > 0) return;
    const row = await store.getOAuthToken(id);
    if (!row) return;
    if (seen && (row.version !== seen.version || row.updatedAt !== seen.updatedAt)) throw new ClaimedElsewhere(null, null);
    if (row.refreshOwner === null || row.refreshStartedAt === null) throw new ClaimedElsewhere(null, null);
    if (claimHeld(row, row.refreshOwner, row.refreshStartedAt, Date.now())) throw new ClaimedElsewhere(row.refreshOwner, row.refreshStartedAt);
    // The claimant is gone (its process no longer runs): take its claim over, unless someone else just did.
    const taken = await store.db
      .updateTable("oauth_tokens")
      .set(set)
      .where("id", "=", id)
      .where("refresh_owner", "=", row.refreshOwner)
      .where("refresh_started_at", "=", row.refreshStartedAt)
      .where("version", "=", row.version)
      .where("updated_at", "=", row.updatedAt)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) throw new ClaimedElsewhere(row.refreshOwner, row.refreshStartedAt);
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

function fileIdentity(file: string): { dev: number; ino: number } {
  const st = statSync(file);
  return { dev: st.dev, ino: st.ino };
}
