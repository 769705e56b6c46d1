import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { ChangeFeed } from "../../src/cache/change-feed.js";
import { withChangeNotifications } from "../../src/storage/notifying.js";

/** PostgreSQL URL for tests: BIFROST_TEST_DATABASE_URL, else DATABASE_URL. Unset = PostgreSQL suites are skipped. */
export const PG_URL = process.env.BIFROST_TEST_DATABASE_URL || process.env.DATABASE_URL || "";

export interface Backend {
  name: "sqlite" | "postgres";
  /** A fresh store without data (own file or own database); SQLite: not yet migrated, PostgreSQL: already migrated (a clone of a migrated template). */
  open(): Promise<{ store: Store; url?: string; cleanup(): Promise<void> }>;
}

/** Every test database's name starts with this (the vitest global setup sweeps leftovers by it). */
export const TEST_DB_PREFIX = "bifrost_t_";

/**
 * Create a uniquely named database on the test server and return its URL plus a drop function.
 * `migrated`: a clone of the run's migrated template database (made by test/helpers/pg-global-setup.ts
 * under vitest; elsewhere an empty database migrated here). Without it the database is empty.
 * Under vitest the drop is left to the end of the run (the global setup drops the run's databases in
 * one batch); elsewhere `drop()` drops at once.
 */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const run = process.env.BIFROST_TEST_PG_RUN;
  const template = process.env.BIFROST_TEST_PG_TEMPLATE;
  const name = `${TEST_DB_PREFIX}${run ?? Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(opts.migrated && template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  if (opts.migrated && !template) {
    const store = PostgresStore.open(u.toString());
    await store.migrate().finally(() => store.close());
  }
  return {
    url: u.toString(),
    async drop() {
      if (run) return; // dropped with the rest of the run's databases at the end
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function tempDir(prefix = "bifrost-test-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sqliteBackend: Backend = {
  name: "sqlite",
  async open() {
    const t = tempDir();
    const store = SqliteStore.open(join(t.dir, "bifrost.db"));
    return {
      store,
      async cleanup() {
        await store.close();
        t.cleanup();
      },
    };
  },
};

export const postgresBackend: Backend = {
  name: "postgres",
  async open() {
    const db = await createTestDatabase({ migrated: true });
    const store = PostgresStore.open(db.url);
    return {
      store,
      url: db.url,
      async cleanup() {
        await store.close();
        await db.drop();
      },
    };
  },
};

const PG_MISSING = "set BIFROST_TEST_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test";

/** In CI the PostgreSQL suites are mandatory: without a database URL every test file using this helper fails to load. */
if (!PG_URL && process.env.VITEST && /^(1|true)$/i.test(process.env.CI ?? "")) {
  throw new Error(`CI=${process.env.CI} but no PostgreSQL test database is configured: the PostgreSQL suites are mandatory in CI; ${PG_MISSING}.`);
}

/**
 * The backends a suite runs on. Without a database URL (outside CI) the list holds only SQLite, and
 * iterating it registers one visible skipped test for the PostgreSQL copy that did not run.
 */
class BackendList extends Array<Backend> {
  override [Symbol.iterator](): ArrayIterator<Backend> {
    noteSkippedPostgresCopy(this);
    return super[Symbol.iterator]();
  }
  override forEach(fn: (value: Backend, index: number, array: Backend[]) => void, thisArg?: unknown): void {
    noteSkippedPostgresCopy(this);
    super.forEach(fn, thisArg);
  }
}

/** vitest's test API when running under vitest (benchmarks import this helper too). */
const vitest = process.env.VITEST ? await import("vitest") : null;

function noteSkippedPostgresCopy(list: Backend[]): void {
  if (list.some((b) => b.name === "postgres") || !vitest) return;
  // Registered where the suite is being collected, next to the SQLite copy it stands for.
  vitest.it.skip(`postgres copy SKIPPED: ${PG_MISSING}`, () => undefined);
}

/** SQLite always; PostgreSQL when a test database URL is set (otherwise each suite copy shows one skipped test). */
export const BACKENDS: Backend[] = BackendList.from(PG_URL ? [sqliteBackend, postgresBackend] : [sqliteBackend]) as BackendList;

/** A booted Bifrost (migrated store, fresh keyring, canary) on the given backend. */
export async function bootTest(backend: Backend = sqliteBackend): Promise<{ bf: Bifrost; keyringJson: string; url?: string; cleanup(): Promise<void> }> {
  const opened = await backend.open();
  const keyringJson = generateKeyringJson();
  const bf = await openBifrost({ store: opened.store, env: { BIFROST_KEYRING: keyringJson, BIFROST_HOME: "/nonexistent-bifrost-home" }, allowCreateDevKeyring: false, warn: () => undefined });
  return { bf, keyringJson, ...(opened.url ? { url: opened.url } : {}), cleanup: opened.cleanup };
}

/**
 * `backend` with the change feed a server has (src/storage/open.ts): in-process caches on, invalidated
 * by every write (and, on PostgreSQL, by other processes' notifications once `store.changes.ready()` ran).
 */
export function withFeed(backend: Backend): Backend {
  return {
    name: backend.name,
    async open() {
      const opened = await backend.open();
      const feed = opened.url ? ChangeFeed.listen(opened.url) : ChangeFeed.local();
      return { ...opened, store: withChangeNotifications(opened.store, feed) };
    },
  };
}
