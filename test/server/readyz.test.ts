/**
 * GET /readyz: 200 while the database answers, its migrations are current and the keyring matches;
 * 503 with a reason (no connection details, no secret) when any of them stops holding, and 200 again
 * once it is restored. GET /healthz stays 200 throughout (liveness only).
 */
import { renameSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createApp } from "../../src/server/index.js";
import { createTestDatabase, PG_URL, tempDir } from "../helpers/backends.js";

interface Probe {
  status: number;
  body: { status: string; reason?: string; checks: Record<string, string> };
  raw: string;
}

async function readyz(app: FastifyInstance): Promise<Probe> {
  const res = await app.inject({ method: "GET", url: "/readyz" });
  return { status: res.statusCode, body: res.json() as Probe["body"], raw: res.body };
}

/** The pool reconnects on the next query after an outage: poll a bounded number of times for the outcome. */
async function eventually(app: FastifyInstance, status: number): Promise<Probe> {
  let last = await readyz(app);
  for (let i = 0; i < 40 && last.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await readyz(app);
  }
  return last;
}

async function healthz(app: FastifyInstance): Promise<number> {
  return (await app.inject({ method: "GET", url: "/healthz" })).statusCode;
}

describe("GET /readyz on SQLite", () => {
  const dir = tempDir();
  const file = join(dir.dir, "bifrost.db");
  let bf: Bifrost;
  let app: FastifyInstance;

  beforeAll(async () => {
    bf = await openBifrost({ env: { BIFROST_HOME: dir.dir, BIFROST_KEYRING: generateKeyringJson() }, warn: () => undefined });
    app = await createApp({ bifrost: bf });
  });
  afterAll(async () => {
    await app?.close();
    await bf?.close();
    dir.cleanup();
  });

  it("ready: 200 with every check ok, not cached", async () => {
    const res = await app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", keyring: "ok" } });
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("the database file moved away → 503 naming the database check; back in place → 200", async () => {
    renameSync(file, `${file}.moved`);
    try {
      const down = await readyz(app);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe("not_ready");
      expect(down.body.checks).toEqual({ database: "failed", migrations: "skipped", keyring: "skipped" });
      expect(down.body.reason).toContain("BIFROST_DATABASE_UNAVAILABLE");
      expect(down.raw).not.toContain(dir.dir);
      expect(await healthz(app)).toBe(200);
    } finally {
      renameSync(`${file}.moved`, file);
    }
    expect((await readyz(app)).status).toBe(200);
  });

  it("a migration of this version missing from the database → 503 naming it; re-applied → 200", async () => {
    const raw = new BetterSqlite3(file);
    try {
      const row = raw.prepare("SELECT name, timestamp FROM kysely_migration ORDER BY name DESC LIMIT 1").get() as { name: string; timestamp: string };
      raw.prepare("DELETE FROM kysely_migration WHERE name = ?").run(row.name);
      const down = await readyz(app);
      expect(down.status).toBe(503);
      expect(down.body.checks).toEqual({ database: "ok", migrations: "failed", keyring: "skipped" });
      expect(down.body.reason).toContain(row.name);
      expect(down.body.reason).toContain("bifrost migrate");
      raw.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)").run(row.name, row.timestamp);
    } finally {
      raw.close();
    }
    expect((await readyz(app)).status).toBe(200);
  });

  it("a canary the keyring cannot open (another process's key) → 503 keyring, without the canary", async () => {
    const foreign = "v1.k9.AAAAAAAAAAAAAAAA.c2VjcmV0LWNhbmFyeQ.AAAAAAAAAAAAAAAAAAAAAA";
    await bf.store.putCanary("k9", foreign, new Date().toISOString());
    const down = await readyz(app);
    expect(down.status).toBe(503);
    expect(down.body.checks).toEqual({ database: "ok", migrations: "ok", keyring: "failed" });
    expect(down.body.reason).toContain("BIFROST_KEYRING_INVALID");
    expect(down.raw).not.toContain(foreign);
    expect(await healthz(app)).toBe(200);
  });
});

describe.skipIf(!PG_URL)("GET /readyz on PostgreSQL", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let name = "";
  let bf: Bifrost;
  let app: FastifyInstance;
  const admin = async (text: string): Promise<void> => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    name = new URL(db.url).pathname.slice(1);
    bf = await openBifrost({ env: { DATABASE_URL: db.url, BIFROST_KEYRING: generateKeyringJson(), BIFROST_HOME: "/nonexistent-bifrost-home" }, warn: () => undefined });
    app = await createApp({ bifrost: bf });
  });
  afterAll(async () => {
    await app?.close();
    await bf?.close();
    if (name) await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await db?.drop();
  });

  it("connections refused and terminated → 503 (no host, port or database name); allowed again → 200", async () => {
    expect((await readyz(app)).status).toBe(200);
    await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
    try {
      const down = await eventually(app, 503);
      expect(down.status).toBe(503);
      expect(down.body.checks.database).toBe("failed");
      expect(down.body.reason).toContain("BIFROST_DATABASE_UNAVAILABLE");
      const u = new URL(PG_URL);
      for (const leak of [name, u.hostname, "postgres://"]) expect(down.raw).not.toContain(leak);
      expect(await healthz(app)).toBe(200);
    } finally {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    const up = await eventually(app, 200);
    expect(up.body).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", keyring: "ok" } });
  });
});
