import { join } from "node:path";
import { ChangeFeed } from "../cache/change-feed.js";
import { translateDatabaseError, withDatabaseErrors } from "./db-errors.js";
import { StorageConfigError } from "./errors.js";
import { withChangeNotifications } from "./notifying.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

export interface StoreLocation {
  /** `DATABASE_URL` (postgres://…) or undefined for the embedded SQLite file. */
  databaseUrl?: string | undefined;
  /** Data directory (`BIFROST_HOME`, default ./.bifrost). */
  home: string;
}

export function describeStore(loc: StoreLocation): string {
  if (loc.databaseUrl) {
    const u = new URL(loc.databaseUrl);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  }
  return `SQLite ${join(loc.home, "bifrost.db")}`;
}

/**
 * Open the configured store. Its connection errors are BIFROST_DATABASE_UNAVAILABLE (db-errors.ts). `notice` receives one line when the SQLite files' permissions were
 * tightened (or could not be) at open.
 */
export function openStore(loc: StoreLocation, opts: { notice?: (message: string) => void } = {}): Store {
  if (loc.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(loc.databaseUrl)) {
      throw new StorageConfigError(`DATABASE_URL must start with postgres:// or postgresql://; leave it unset to use the embedded SQLite database.`, { variable: "DATABASE_URL" });
    }
    const url = loc.databaseUrl;
    return withDatabaseErrors(withChangeNotifications(PostgresStore.open(url), ChangeFeed.listen(url)), { kind: "postgres", url });
  }
  const file = join(loc.home, "bifrost.db");
  let store: Store;
  try {
    store = SqliteStore.open(file, opts);
  } catch (err) {
    throw translateDatabaseError(err, { kind: "sqlite", file });
  }
  return withDatabaseErrors(withChangeNotifications(store, ChangeFeed.local()), { kind: "sqlite", file });
}
