import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/services/bootstrap.js";
import { PostgresStore } from "../../src/storage/postgres.js";
import { SqliteStore } from "../../src/storage/sqlite.js";
import type { Store } from "../../src/storage/store.js";

/** PostgreSQL URL for tests: BIFROST_TEST_DATABASE_URL, else DATABASE_URL. Unset = PostgreSQL suites are skipped. */
export const PG_URL = process.env.BIFROST_TEST_DATABASE_URL || process.env.DATABASE_URL || "";

export interface Backend {
  name: "sqlite" | "postgres";
  /** A fresh, empty store (own file or own database), not yet migrated. */
  open(): Promise<{ store: Store; url?: string; cleanup(): Promise<void> }>;
}

/** Create a uniquely named database on the test server and return its URL plus a drop function. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bifrost_t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
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
    const db = await createTestDatabase();
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

/** SQLite always; PostgreSQL when a test database URL is set (otherwise the suite prints that it is skipped). */
export const BACKENDS: Backend[] = PG_URL ? [sqliteBackend, postgresBackend] : [sqliteBackend];

if (!PG_URL && process.env.VITEST) {
  // Shows up in every suite that runs per backend, as a skipped test with the reason in its name.
  const { it } = await import("vitest");
  it.skip("PostgreSQL suite SKIPPED: set BIFROST_TEST_DATABASE_URL or DATABASE_URL to run it", () => undefined);
  if (!process.env.BIFROST_PG_SKIP_NOTED) {
    process.env.BIFROST_PG_SKIP_NOTED = "1";
    console.warn("PostgreSQL tests SKIPPED: set BIFROST_TEST_DATABASE_URL or DATABASE_URL to run them.");
  }
}

/** A booted Bifrost (migrated store, fresh keyring, canary) on the given backend. */
export async function bootTest(backend: Backend = sqliteBackend): Promise<{ bf: Bifrost; keyringJson: string; url?: string; cleanup(): Promise<void> }> {
  const opened = await backend.open();
  const keyringJson = generateKeyringJson();
  const bf = await openBifrost({ store: opened.store, env: { BIFROST_KEYRING: keyringJson, BIFROST_HOME: "/nonexistent-bifrost-home" }, allowCreateDevKeyring: false, warn: () => undefined });
  return { bf, keyringJson, ...(opened.url ? { url: opened.url } : {}), cleanup: opened.cleanup };
}
