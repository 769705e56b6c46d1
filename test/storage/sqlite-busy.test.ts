/**
 * Two connections on one SQLite file in one process (as the server and a CLI command are in two):
 * a write waits for the other connection's transaction without blocking the event loop, and only
 * when the lock outlasts the busy timeout does it fail, with BIFROST_DATABASE_BUSY naming the file
 * (never a bare "database is locked").
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { tempDir } from "../helpers/backends.js";

const AT = "2026-01-01T00:00:00.000Z";

describe("SQLite: writes from two connections on one file", () => {
  const dir = tempDir();
  const file = join(dir.dir, "bifrost.db");
  let holder: Store;

  beforeAll(async () => {
    holder = SqliteStore.open(file);
    await holder.migrate();
  });
  afterAll(async () => {
    await holder.close();
    dir.cleanup();
  });

  /** Run a transaction on `holder` that keeps the write lock until `release` is called. */
  function hold(): { held: Promise<void>; release: () => void; done: Promise<void> } {
    let release = (): void => undefined;
    let held = (): void => undefined;
    const isHeld = new Promise<void>((r) => (held = r));
    const done = holder.transaction(async (tx) => {
      await tx.insertOrg({ id: `o-${Math.random()}`, slug: `held-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, name: "held", createdAt: AT, updatedAt: AT });
      held();
      await new Promise<void>((r) => (release = r));
    });
    return { held: isHeld, release: () => release(), done };
  }

  it("a write waits for the other connection's transaction and then succeeds; the event loop keeps running meanwhile", async () => {
    const other = SqliteStore.open(file, { busyTimeoutMs: 10_000 });
    try {
      const h = hold();
      await h.held;
      const write = other.insertOrg({ id: "o-wait", slug: "waiter", name: "Waiter", createdAt: AT, updatedAt: AT });
      // While the write waits, timers still fire: the wait is not SQLite's blocking busy handler.
      let ticks = 0;
      await new Promise<void>((r) => {
        const t = setInterval(() => {
          if (++ticks === 5) {
            clearInterval(t);
            r();
          }
        }, 5);
      });
      h.release();
      await h.done;
      await write;
      expect((await other.getOrgBySlug("waiter"))?.name).toBe("Waiter");
    } finally {
      await other.close();
    }
  });

  it("a lock held past the busy timeout → BIFROST_DATABASE_BUSY naming the file, for plain writes and transactions; nothing written", async () => {
    const other = SqliteStore.open(file, { busyTimeoutMs: 150 });
    const h = hold();
    try {
      await h.held;
      const plain = (await other.insertOrg({ id: "o-late", slug: "late", name: "Late", createdAt: AT, updatedAt: AT }).catch((e: unknown) => e)) as { code?: string; message?: string };
      expect(plain.code).toBe("BIFROST_DATABASE_BUSY");
      expect(plain.message).toContain(file);
      expect(plain.message).not.toMatch(/^database is locked/);
      const tx = (await other.transaction(async (t) => t.insertOrg({ id: "o-late2", slug: "late2", name: "Late", createdAt: AT, updatedAt: AT })).catch((e: unknown) => e)) as { code?: string };
      expect(tx.code).toBe("BIFROST_DATABASE_BUSY");
    } finally {
      h.release();
      await h.done;
    }
    expect(await other.getOrgBySlug("late")).toBeNull();
    expect(await other.getOrgBySlug("late2")).toBeNull();
    await other.close();
  });
});
