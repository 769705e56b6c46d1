import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, Kysely, SqliteDialect, type Transaction } from "kysely";
import { foldResolveRows, KyselyStore, LIST_FOR_ORG_SQL, RESOLVE_SQL, type ResolveFlatRow } from "./kysely-store.js";
import { describeFileModes, ensureDataDirectory, precreatePrivate, tightenFiles } from "./file-modes.js";
import { compileNamed } from "./named-sql.js";
import type { Database } from "./schema.js";
import type { IntegrationSummaryRow, ResolveRows, Store, StoredOAuthEvent, StoredOAuthToken } from "./store.js";

interface SqliteShared {
  raw: BetterSqlite3.Database;
  root: Kysely<Database>;
  /** Transactions in flight; while > 0 reads go through Kysely's connection mutex. */
  openTransactions: number;
  resolveStmt: BetterSqlite3.Statement<unknown[], ResolveFlatRow>;
}

/** The embedded default: one SQLite file in WAL mode (better-sqlite3 12). */
export class SqliteStore extends KyselyStore {
  readonly dialect = "sqlite" as const;
  readonly #shared: SqliteShared;

  private constructor(db: Kysely<Database> | Transaction<Database>, shared: SqliteShared) {
    super(db);
    this.#shared = shared;
  }

  /**
   * Open (creating if needed) the database file. The directory is created 0700 and the file, its -wal
   * and -shm 0600; looser existing files are tightened (see file-modes.ts), reported through `notice`.
   */
  static open(file: string, opts: { notice?: (message: string) => void } = {}): SqliteStore {
    let looseDirectory = false;
    if (file !== ":memory:") {
      looseDirectory = ensureDataDirectory(dirname(file));
      precreatePrivate(file);
    }
    const raw = new BetterSqlite3(file);
    raw.pragma("journal_mode = WAL");
    if (file !== ":memory:") {
      const modes = { ...tightenFiles([file, `${file}-wal`, `${file}-shm`]), looseDirectory };
      const line = describeFileModes(dirname(file), modes);
      if (line) opts.notice?.(line);
    }
    raw.pragma("synchronous = NORMAL");
    raw.pragma("foreign_keys = ON");
    raw.pragma("busy_timeout = 5000");
    const root = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    const shared = { raw, root, openTransactions: 0 } as SqliteShared;
    return new SqliteStore(root, shared);
  }

  protected withExecutor(trx: Transaction<Database>): Store {
    return new SqliteStore(trx, this.#shared);
  }

  override async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    this.#shared.openTransactions++;
    try {
      return await super.transaction(fn);
    } finally {
      this.#shared.openTransactions--;
    }
  }

  override async migrate(): Promise<{ applied: string[] }> {
    const result = await super.migrate();
    const { raw } = this.#shared;
    this.#shared.resolveStmt = raw.prepare<unknown[], ResolveFlatRow>(compileNamed(RESOLVE_SQL, { org: null, name: null }, "sqlite").sql);
    return result;
  }

  async resolve(integrationName: string, orgId: string | null): Promise<ResolveRows | null> {
    const { sql, parameters } = compileNamed(RESOLVE_SQL, { org: orgId, name: integrationName }, "sqlite");
    const shared = this.#shared;
    let rows: ResolveRows | null;
    if (!this.db.isTransaction && shared.openTransactions === 0 && shared.resolveStmt) {
      rows = foldResolveRows(shared.resolveStmt.all(parameters));
    } else {
      const res = await this.db.executeQuery<ResolveFlatRow>(CompiledQuery.raw(sql, parameters));
      rows = foldResolveRows(res.rows);
    }
    // Same store call: the provider and token rows (embedded, no network; only when a provider is attached).
    return rows ? this.resolveOAuthRows(rows, orgId) : null;
  }

  async listForOrg(orgId: string | null): Promise<IntegrationSummaryRow[]> {
    const { sql, parameters } = compileNamed(LIST_FOR_ORG_SQL, { org: orgId }, "sqlite");
    const res = await this.db.executeQuery<{ name: string; m_id: string | null; entity_id: string | null; entity_name: string | null }>(CompiledQuery.raw(sql, parameters));
    return res.rows.map((r) => ({ name: r.name, mapped: r.m_id !== null, entityId: r.entity_id, entityName: r.entity_name }));
  }

  /** One process per SQLite file: the in-process single-flight is the lock; no transaction is held during HTTP. */
  async withOAuthTokenLock<T>(_tokenId: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async tryOAuthTokenLock<T>(_tokenId: string, fn: (tx: Store) => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
    return { locked: true, value: await fn(this) };
  }

  async awaitOAuthTokenLock(tokenId: string): Promise<StoredOAuthToken | null> {
    return this.getOAuthToken(tokenId);
  }

  async claimWebhookDeliveries(opts: { now: string; leaseUntil: string; owner: string; limit: number }): Promise<Array<{ event: StoredOAuthEvent; attempts: number }>> {
    const claims = await this.transaction(async (tx) => {
      const db = (tx as SqliteStore).db;
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
    return this.eventsForClaims(claims);
  }

  async claimOAuthRefreshWork(opts: { now: string; horizon: string; claimUntil: string; limit: number }): Promise<string[]> {
    return this.transaction(async (tx) => {
      const db = (tx as SqliteStore).db;
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

  async close(): Promise<void> {
    await this.#shared.root.destroy();
  }
}
