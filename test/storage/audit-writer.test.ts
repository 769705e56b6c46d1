/**
 * SQLite's audit writer thread (src/storage/sqlite/audit-writer.ts): large audit batches are written on
 * a second connection in a thread of their own. Pinned: every row of such a batch lands and reads back
 * through the store; a batch that meets another connection's write lock waits for it and lands; a
 * writer that cannot start fails its batch (the audit buffer keeps it) and then hands batches back to
 * the inline path, so nothing is lost; small batches never start the thread; closing the store ends it.
 */
import { readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { AuditWriter } from "../../src/storage/sqlite/audit-writer.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { StoredAuditEntry } from "../../src/storage/store.js";
import { tempDir } from "../helpers/backends.js";

const INSERT = "INSERT INTO audit_log (id, at, action, actor_kind, keys, detail) VALUES (@id, @at, @action, @actor_kind, @keys, @detail)";

function entries(n: number, tag: string): StoredAuditEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${String(i).padStart(4, "0")}`,
    at: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    action: "secret.read",
    actor: { kind: "api_key", keyId: "k1", keyPrefix: "abc123", keyName: "workflow:acme", via: "api" },
    orgId: null,
    orgSlug: "acme",
    integrationId: "i1",
    integrationName: "HaloPSA",
    keys: ["api_secret"],
    detail: { oauth_token: false, n: i },
    requestId: `req-${i}`,
    executionId: `exec-${i}`,
  }));
}

describe("SQLite audit writer thread", () => {
  const dirs: Array<{ cleanup(): void }> = [];
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) d.cleanup();
  });
  async function open(): Promise<{ store: SqliteStore; file: string }> {
    const dir = tempDir("bifrost-audit-writer-");
    dirs.push(dir);
    const file = join(dir.dir, "bifrost.db");
    const store = SqliteStore.open(file);
    stores.push(store);
    await store.migrate();
    return { store, file };
  }
  const threads = (): number => readdirSync("/proc/self/task").length;

  it("a large batch lands whole, field for field, and reads back through the store", async () => {
    const { store } = await open();
    const batch = entries(250, "big");
    await store.insertAuditEntries(batch);
    const back = await store.listAuditEntries({ limit: 500 });
    expect(back).toHaveLength(250);
    const byId = new Map(back.map((e) => [e.id, e]));
    for (const e of batch) expect(byId.get(e.id)).toEqual(e);
  });

  it.skipIf(process.platform !== "linux")("small batches are written inline; a large one starts one thread, which the store's close ends (Linux: counts the process's threads)", async () => {
    // OS threads of this process (Linux): libuv's pool is started first so that only the writer can add one.
    await stat(import.meta.filename);
    const before = threads();
    const { store } = await open();
    await store.insertAuditEntries(entries(5, "small"));
    expect(await store.listAuditEntries({ limit: 50 })).toHaveLength(5);
    expect(threads()).toBe(before);
    await store.insertAuditEntries(entries(40, "large"));
    expect(await store.listAuditEntries({ limit: 50 })).toHaveLength(45);
    expect(threads()).toBe(before + 1);
    await stores.pop()!.close();
    expect(threads()).toBe(before);
  });

  it("a batch that meets another connection's write lock waits for it, then lands", async () => {
    const { store, file } = await open();
    const other = new BetterSqlite3(file);
    try {
      other.exec("BEGIN IMMEDIATE");
      const writing = store.insertAuditEntries(entries(64, "locked"));
      // The lock holder is still answered by this thread meanwhile (the writer waits on its own).
      await new Promise((r) => setTimeout(r, 150));
      expect(await store.listAuditEntries({ limit: 10 })).toHaveLength(0);
      other.exec("COMMIT");
      await writing;
      expect(await store.listAuditEntries({ limit: 100 })).toHaveLength(64);
    } finally {
      other.close();
    }
  });

  it("a writer that cannot start fails its batch, then hands batches back (nothing written twice, nothing lost)", async () => {
    const { store, file } = await open();
    const writer = new AuditWriter({ file, driver: join(file, "no-such-driver.js"), nativeBinding: null, sql: INSERT, busyTimeoutMs: 1000 });
    try {
      const row = { id: "w-1", at: "2026-12-01T00:00:00.000Z", action: "secret.read", actor_kind: "system", keys: "[]", detail: "{}" };
      await expect(writer.write([row as never])).rejects.toThrow(/audit writer thread/);
      expect(await writer.write([row as never])).toBe(false);
      expect(await store.listAuditEntries({ limit: 10 })).toHaveLength(0);
    } finally {
      await writer.close();
    }
  });

  it("positive control for the failure case: the same writer with the real driver writes", async () => {
    const { store, file } = await open();
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const writer = new AuditWriter({ file, driver, nativeBinding: null, sql: INSERT, busyTimeoutMs: 1000 });
    try {
      const row = { id: "w-1", at: "2026-12-01T00:00:00.000Z", action: "secret.read", actor_kind: "system", keys: "[]", detail: "{}" };
      expect(await writer.write([row as never])).toBe(true);
      expect((await store.listAuditEntries({ limit: 10 })).map((e) => e.id)).toEqual(["w-1"]);
    } finally {
      await writer.close();
    }
  });
});
