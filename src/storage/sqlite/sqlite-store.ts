import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely } from "kysely";
import { type BusyPolicy, ImmediateSqliteDialect } from "./busy.js";
import { describeFileModes, ensureDataDirectory, precreatePrivate, tightenFiles } from "./file-modes.js";
import { KyselyStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import { SqliteDialect } from "./sqlite-dialect.js";

/** How long a write waits for another connection's lock on the file before BIFROST_DATABASE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

let addon: string | null | undefined;

/**
 * better-sqlite3's compiled addon, looked up where its `bindings` helper looks first (build/, build/Debug,
 * build/Release of the installed package): passing it as `nativeBinding` skips loading that helper and its
 * search, part of every command's start-up. Null (the driver's own search) when none of them exists.
 */
function addonFile(): string | null {
  if (addon !== undefined) return addon;
  addon = null;
  try {
    const build = join(dirname(createRequire(import.meta.url).resolve("better-sqlite3")), "..", "build");
    addon = [build, join(build, "Debug"), join(build, "Release")].map((d) => join(d, "better_sqlite3.node")).find((f) => existsSync(f)) ?? null;
  } catch {
    // the driver finds its addon itself
  }
  return addon;
}

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
    const nativeBinding = addonFile();
    const raw = new BetterSqlite3(file, nativeBinding ? { nativeBinding } : {});
    raw.exec("PRAGMA journal_mode = WAL");
    if (file !== ":memory:") {
      const modes = { ...tightenFiles([file, `${file}-wal`, `${file}-shm`]), looseDirectory };
      const line = describeFileModes(dirname(file), modes);
      if (line) opts.notice?.(line);
    }
    // Lock waits are asynchronous (busy.ts): SQLite's own busy handler would block the event loop (busy_timeout 0).
    raw.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 0");
    const policy: BusyPolicy = { timeoutMs: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, file };
    const root = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }, policy) });
    return new SqliteStore(root, new SqliteDialect(raw, root, policy));
  }
}
