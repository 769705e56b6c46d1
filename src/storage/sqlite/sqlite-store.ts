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
/** better-sqlite3's entry module (resolved with the addon). */
let driverModule: string | null = null;

/**
 * better-sqlite3's compiled addon file, passed as `nativeBinding`: where its `bindings` helper looks first
 * (build/, build/Debug, build/Release of the installed package), which skips loading that helper and its
 * search, part of every command's start-up; when none of them exists, where that helper's full search
 * finds it from the driver's package folder (the CLI bundle carries the driver's code, so the driver's own
 * call would search from the bundle's folder). Null (the driver's own search) when that fails too.
 */
function sqliteAddon(): string | null {
  if (addon !== undefined) return addon;
  addon = null;
  try {
    const main = createRequire(import.meta.url).resolve("better-sqlite3");
    driverModule = main;
    const build = join(dirname(main), "..", "build");
    addon =
      [build, join(build, "Debug"), join(build, "Release")].map((d) => join(d, "better_sqlite3.node")).find((f) => existsSync(f)) ??
      (createRequire(main)("bindings") as (opts: object) => string)({ bindings: "better_sqlite3.node", module_root: join(dirname(main), ".."), path: true });
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
    const nativeBinding = sqliteAddon();
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
    const driver = driverModule === null ? undefined : { module: driverModule, nativeBinding };
    return new SqliteStore(root, new SqliteDialect(raw, root, policy, driver));
  }
}
