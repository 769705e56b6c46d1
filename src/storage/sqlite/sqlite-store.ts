import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely } from "kysely";
import { type BusyPolicy, ImmediateSqliteDialect } from "./busy.js";
import { describeFileModes, ensureDataDirectory, precreatePrivate, tightenFiles } from "./file-modes.js";
import { KyselyStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import { SqliteDialect } from "./sqlite-dialect.js";

/** How long a write waits for another connection's lock on the file before BIFROST_DATABASE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** The embedded default: one SQLite file in WAL mode (better-sqlite3 12). */
export class SqliteStore extends KyselyStore {
  /**
   * Open (creating if needed) the database file. The directory is created 0700 and the file, its -wal
   * and -shm 0600; looser existing files are tightened (see file-modes.ts), reported through `notice`.
   */
  static open(file: string, opts: { notice?: (message: string) => void; busyTimeoutMs?: number } = {}): SqliteStore {
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
    // Lock waits are asynchronous (busy.ts): SQLite's own busy handler would block the event loop.
    raw.pragma("busy_timeout = 0");
    const policy: BusyPolicy = { timeoutMs: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, file };
    const root = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }, policy) });
    return new SqliteStore(root, new SqliteDialect(raw, root, policy));
  }
}
