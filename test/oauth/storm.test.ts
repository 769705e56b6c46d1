/**
 * Refresh storms: identical concurrent resolves coalesce in a process (one resolve query, one
 * provider call, every caller gets the new token), a write of the process is never hidden by that,
 * and on PostgreSQL a waiter in another process gets the holder's token through the lock holder's
 * commit (shared-lock wait, then one read), with no provider call of its own.
 */
import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { BACKENDS, bootTest, PG_URL, postgresBackend, tempDir } from "../helpers/backends.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { StoreResolver } from "../../src/host/store-resolver.js";
import { ChangeFeed } from "../../src/cache/change-feed.js";
import { withChangeNotifications } from "../../src/storage/notifying.js";
import type { Store } from "../../src/storage/store.js";
import { PLATFORM_ACTOR } from "../../src/services/actor.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { CHANGES_CHANNEL } from "../../src/cache/change-feed.js";
import { emptyToken } from "../../src/oauth/tokens.js";
import { loadPg } from "../../src/storage/postgres/pg-driver.js";
import { setMapping } from "../../src/services/mappings.js";
import { completeAuthorization, getOAuthStatus, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "./helpers/auth-server.js";
import { startFleet } from "./helpers/fleet.js";
import { getAs, oauthDeps, seed, TEST_OAUTH } from "./helpers/setup.js";

async function connect(bf: Bifrost, as: AuthServer): Promise<void> {
  await seed(bf, ["Halo"], ["acme"]);
  await setOAuthProvider(bf, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read"] });
  const started = await startAuthorization(oauthDeps(bf), { integration: "Halo", org: "acme", initiatorKeyId: null });
  await completeAuthorization(oauthDeps(bf), { integration: "Halo", query: (await driveAuthorization(started.authorizationUrl)).searchParams });
}

async function expire(bf: Bifrost): Promise<void> {
  for (const t of await bf.store.listOAuthTokens({})) {
    await bf.store.updateOAuthToken(t.id, { expiresAt: new Date(Date.now() - 5000).toISOString(), updatedAt: new Date().toISOString() });
  }
}

/**
 * The booted store with this process's change feed (as `openStore` opens it), counting `resolve`
 * calls; `hold()` makes the next resolve wait until the returned release function is called.
 */
function countingStore(bf: Bifrost): { store: Store; resolves: () => number; hold(): () => void } {
  const base = bf.store.changes ? bf.store : withChangeNotifications(bf.store, ChangeFeed.local());
  let count = 0;
  let gate: Promise<void> | null = null;
  const store = new Proxy(base, {
    get(target, prop) {
      if (prop === "resolve") {
        return async (name: string, orgId: string | null) => {
          count++;
          const g = gate;
          gate = null;
          if (g) await g;
          return target.resolve(name, orgId);
        };
      }
      const v: unknown = Reflect.get(target, prop);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store,
    resolves: () => count,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return release;
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

for (const backend of BACKENDS) {
  describe(`refresh storm in one process (${backend.name})`, () => {
    it("50 concurrent gets on an expired token → 1 resolve query, 1 provider call, all 50 get the new token", async () => {
      const as = await startAuthServer({ integrations: ["Halo"] });
      cleanups.push(() => as.close());
      const t = await bootTest(backend);
      cleanups.push(() => t.cleanup());
      await connect(t.bf, as);
      const c = countingStore(t.bf);
      const resolver = new StoreResolver(c.store, t.bf.box, { clock: t.bf.clock, oauth: { ...TEST_OAUTH, skewSeconds: 60 } });
      const acme = (await resolver.findOrg("acme"))!;
      const before = (await getAs(resolver, "Halo", acme))?.oauth?.accessToken;
      expect(before).toBeTruthy();

      for (let round = 0; round < 3; round++) {
        await expire(t.bf);
        as.reset();
        const resolvesBefore = c.resolves();
        const all = await Promise.all(Array.from({ length: 50 }, () => getAs(resolver, "Halo", acme)));
        expect(c.resolves() - resolvesBefore).toBe(1);
        expect(as.tokenRequests("refresh_token")).toBe(1);
        const tokens = new Set(all.map((r) => r?.oauth?.accessToken));
        expect(tokens.size).toBe(1);
        expect([...tokens][0]).toBeTruthy();
        expect([...tokens][0]).not.toBe(before);
      }
      // The grant survived every storm (no refresh token was reused).
      expect((await getOAuthStatus(t.bf, { integration: "Halo", org: "acme" }))[0]?.state).toBe("connected");
    });

    it("a write of this process between two gets is never hidden: the later get starts its own resolve", async () => {
      const as = await startAuthServer({ integrations: ["Halo"] });
      cleanups.push(() => as.close());
      const t = await bootTest(backend);
      cleanups.push(() => t.cleanup());
      await connect(t.bf, as);
      const c = countingStore(t.bf);
      const resolver = new StoreResolver(c.store, t.bf.box, { clock: t.bf.clock, oauth: { ...TEST_OAUTH, skewSeconds: 60 } });
      const acme = (await resolver.findOrg("acme"))!;

      const release = c.hold();
      const first = getAs(resolver, "Halo", acme); // in flight, held before its query
      const joined = getAs(resolver, "Halo", acme); // same org and name, no write since: shares it
      await new Promise((r) => setImmediate(r)); // both calls have reached the resolver
      expect(c.resolves()).toBe(1);
      await setMapping({ store: c.store, box: t.bf.box, clock: t.bf.clock }, "Halo", "acme", { entityName: "Acme Ltd" }, PLATFORM_ACTOR);
      const later = getAs(resolver, "Halo", acme); // after the write: must not join the held resolve
      release();
      const [a, b, l] = await Promise.all([first, joined, later]);
      expect(c.resolves()).toBe(2);
      expect(b).toBe(a);
      expect(l?.entityName).toBe("Acme Ltd");
      expect(l?.oauth?.accessToken).toBe(a?.oauth?.accessToken);
    });
  });
}

describe.skipIf(!PG_URL)("refresh storm across processes (postgres)", () => {
  it("a waiter in another process gets the holder's new token at the holder's commit, with no provider call of its own", async () => {
    const as = await startAuthServer({ integrations: ["Halo"] });
    cleanups.push(() => as.close());
    const t = await bootTest(postgresBackend);
    cleanups.push(() => t.cleanup());
    await connect(t.bf, as);
    await expire(t.bf);
    const fleet = await startFleet(1, { DATABASE_URL: t.url, BIFROST_KEYRING: t.keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1" }, ["Halo", "acme", "5"]);
    cleanups.push(() => fleet.stop());
    as.reset();

    // This process holds the refresh lock: the provider answered, the commit waits for `commit()`.
    let answered!: () => void;
    const providerAnswered = new Promise<void>((r) => (answered = r));
    let commit!: () => void;
    const commitGate = new Promise<void>((r) => (commit = r));
    const holder = new StoreResolver(t.bf.store, t.bf.box, {
      clock: t.bf.clock,
      oauth: { ...TEST_OAUTH, skewSeconds: 60, hooks: { afterTokenResponse: () => (answered(), commitGate) } },
    });
    const acme = (await holder.findOrg("acme"))!;
    const held = getAs(holder, "Halo", acme);
    await providerAnswered;
    expect(as.tokenRequests("refresh_token")).toBe(1);

    // The other process's callers: their resolve sees the expired token, the lock is taken, so they wait.
    const waiting = fleet.round(0);
    const db = (t.bf.store as unknown as { db: Kysely<unknown> }).db;
    const waiters = async (): Promise<number> =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(db)).rows[0]!.n;
    while ((await waiters()) === 0) await new Promise((r) => setTimeout(r, 20));

    commit();
    const token = (await held)?.oauth?.accessToken;
    expect(token).toBeTruthy();
    const results = await waiting;
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results.map((r) => r.token)).toEqual(Array(5).fill(createHash("sha256").update(token!).digest("hex")));
    // The waiter learned the token from the holder's commit: still the one provider call.
    expect(as.tokenRequests("refresh_token")).toBe(1);
    expect((await getOAuthStatus(t.bf, { integration: "Halo", org: "acme" }))[0]?.state).toBe("connected");
  }, 30_000);
});

/** Advisory-lock requests of this database still waiting (a blocked waiter shows up here). */
async function blockedLockRequests(store: Store): Promise<number> {
  const db = (store as unknown as { db: Kysely<unknown> }).db;
  const res = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(db);
  return res.rows[0]!.n;
}

async function untilBlocked(store: Store): Promise<void> {
  while ((await blockedLockRequests(store)) === 0) await new Promise((r) => setTimeout(r, 10));
}

describe.skipIf(!PG_URL)("refresh lock on the lane (postgres store)", () => {
  async function twoStores(): Promise<{ bf: Bifrost; other: Store; id: string; url: string }> {
    const t = await bootTest(postgresBackend);
    cleanups.push(() => t.cleanup());
    const other = PostgresStore.open(t.url!);
    cleanups.push(() => other.close());
    await seed(t.bf, ["Halo"], []);
    const integration = (await t.bf.store.getIntegrationByName("Halo"))!;
    const row = await t.bf.store.insertOAuthTokenIfAbsent(emptyToken(t.bf.clock, integration.id, { orgId: null, mappingId: null }));
    return { bf: t.bf, other, id: row.id, url: t.url! };
  }

  it("the holder's body gets the row read under the lock; a waiter in another store gets the row as the holder committed it, and its NOTIFY arrives with the commit", async () => {
    const { bf, other, id, url } = await twoStores();
    const store = withChangeNotifications(bf.store, ChangeFeed.local());
    const listener = new (loadPg().Client)({ connectionString: url });
    await listener.connect();
    cleanups.push(() => listener.end());
    const heard: string[] = [];
    listener.on("notification", (n) => void (n.channel === CHANGES_CHANNEL && heard.push(n.payload ?? "")));
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    let entered!: () => void;
    const inBody = new Promise<void>((r) => (entered = r));
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const holder = store.lockOrAwaitOAuthToken(id, null, async (tx, row) => {
      expect(row?.id).toBe(id);
      expect(row?.version).toBe(0);
      entered();
      await gate;
      return tx.updateOAuthTokenReturning(id, { lastError: "written by the holder", updatedAt: new Date().toISOString() }, { bumpVersion: true });
    });
    await inBody;
    let waiterRan = false;
    const waiter = other.lockOrAwaitOAuthToken(id, null, async () => void (waiterRan = true));
    await untilBlocked(other);
    finish();
    expect(await holder).toMatchObject({ locked: true, value: { version: 1 } });
    expect(await waiter).toMatchObject({ locked: false, row: { id, version: 1, lastError: "written by the holder" } });
    expect(waiterRan).toBe(false);
    // The holder's write was announced to other processes, delivered with its commit.
    while (!heard.includes(id)) await new Promise((r) => setTimeout(r, 10));
    expect(heard.filter((h) => h === id)).toEqual([id]);
  });

  it("a body that throws rolls back and frees the lock; withOAuthTokenLock waits for a holder and sees its commit", async () => {
    const { bf, other, id } = await twoStores();
    await expect(bf.store.lockOrAwaitOAuthToken(id, null, async (tx) => {
      await tx.updateOAuthTokenReturning(id, { lastError: "rolled back", updatedAt: new Date().toISOString() }, { bumpVersion: true });
      throw new Error("body failed");
    })).rejects.toThrow("body failed");
    expect(await bf.store.getOAuthToken(id)).toMatchObject({ version: 0, lastError: null });

    let entered!: () => void;
    const inBody = new Promise<void>((r) => (entered = r));
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const holder = bf.store.lockOrAwaitOAuthToken(id, null, async (tx) => {
      entered();
      await gate;
      return tx.updateOAuthTokenReturning(id, { lastError: "first holder", updatedAt: new Date().toISOString() }, { bumpVersion: true });
    });
    await inBody;
    const second = other.withOAuthTokenLock(id, async (_tx, row) => row);
    await untilBlocked(other);
    finish();
    expect(await holder).toMatchObject({ locked: true });
    expect(await second).toMatchObject({ version: 1, lastError: "first holder" });
  });

  it("a claim commits the in-flight marker with the lock, only on the row it was decided on; the holder's session lock ends with its COMMIT", async () => {
    const { bf, other, id } = await twoStores();
    const seen = (await bf.store.getOAuthToken(id))!;
    const at = new Date().toISOString();
    let entered!: () => void;
    const inBody = new Promise<void>((r) => (entered = r));
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    let body: { claimed: boolean | undefined; state: string | undefined } | null = null;
    const holder = bf.store.lockOrAwaitOAuthToken(id, { owner: "claim-test", at, seen: { version: seen.version, updatedAt: seen.updatedAt } }, async (tx, row, claimed) => {
      body = { claimed, state: row?.state };
      entered();
      await gate;
      return tx.updateOAuthTokenReturning(id, { state: "connected", refreshStartedAt: null, refreshOwner: null, updatedAt: new Date().toISOString() }, { bumpVersion: true });
    });
    await inBody;
    expect(body).toEqual({ claimed: true, state: "refreshing" });
    // Committed while the lock is still held: another process sees the marker (it outlives the holder).
    expect(await other.getOAuthToken(id)).toMatchObject({ state: "refreshing", refreshOwner: "claim-test", refreshStartedAt: at, version: seen.version });
    finish();
    expect(await holder).toMatchObject({ locked: true, value: { version: seen.version + 1, state: "connected", refreshOwner: null } });
    // The lock is free again: the next caller takes it without waiting.
    expect(await other.lockOrAwaitOAuthToken(id, null, async () => "free")).toEqual({ locked: true, value: "free" });

    // A claim made on a row that changed since: no marker, the body decides on the row as it is now.
    const stale = (await bf.store.getOAuthToken(id))!;
    await other.updateOAuthToken(id, { lastError: "written in between", updatedAt: new Date(Date.now() + 1000).toISOString() });
    const r = await bf.store.lockOrAwaitOAuthToken(id, { owner: "claim-test", at: new Date().toISOString(), seen: { version: stale.version, updatedAt: stale.updatedAt } }, async (_tx, row, claimed) => ({ claimed, row }));
    expect(r).toMatchObject({ locked: true, value: { claimed: false, row: { lastError: "written in between", refreshOwner: null, state: "connected" } } });
  });

  it("an audit append held for the COMMIT lands with it; one that fails rolls the whole lock transaction back and frees the lock", async () => {
    const { bf, other, id } = await twoStores();
    const entry = (n: string) => ({
      id: n,
      at: new Date().toISOString(),
      action: "oauth.refresh" as const,
      actor: { kind: "system" as const, keyId: null, keyPrefix: null, keyName: null, via: null },
      orgId: null,
      orgSlug: null,
      integrationId: null,
      integrationName: "Halo's \\ 'quoted' ; name",
      keys: [],
      detail: { note: "it's; $1 held" },
      requestId: null,
      executionId: null,
    });
    const write = (auditId: string) =>
      bf.store.lockOrAwaitOAuthToken(id, null, async (tx) => {
        const saved = await tx.updateOAuthTokenReturning(id, { lastError: `with ${auditId}`, updatedAt: new Date().toISOString() }, { bumpVersion: true });
        await tx.insertAuditEntries([entry(auditId)]);
        return saved;
      });
    // Positive control: the append arrives with the commit, values intact.
    await write("11111111-1111-4111-8111-111111111111");
    const trail = await other.listAuditEntries({ action: "oauth.refresh", limit: 10 });
    expect(trail.map((e) => [e.id, e.integrationName, e.detail])).toEqual([["11111111-1111-4111-8111-111111111111", "Halo's \\ 'quoted' ; name", { note: "it's; $1 held" }]]);
    expect(await other.getOAuthToken(id)).toMatchObject({ version: 1, lastError: "with 11111111-1111-4111-8111-111111111111" });
    // The same id again: the held insert fails at COMMIT time, and the token write goes with it.
    await expect(write("11111111-1111-4111-8111-111111111111")).rejects.toThrow();
    expect(await other.getOAuthToken(id)).toMatchObject({ version: 1, lastError: "with 11111111-1111-4111-8111-111111111111" });
    expect(await other.listAuditEntries({ action: "oauth.refresh", limit: 10 })).toHaveLength(1);
    expect(await other.lockOrAwaitOAuthToken(id, null, async () => "free")).toEqual({ locked: true, value: "free" });
  });
});

describe("refresh storm across processes on one SQLite file", () => {
  it("2 processes × 20 callers, 3 storms: the marker claim lets exactly 1 refresh through per storm; every caller gets its token; grant alive", async () => {
    const as = await startAuthServer({ integrations: ["Halo"] });
    cleanups.push(() => as.close());
    const dir = tempDir();
    cleanups.push(async () => dir.cleanup());
    const keyringJson = generateKeyringJson();
    const store = SqliteStore.open(join(dir.dir, "bifrost.db"));
    const bf = await openBifrost({ store, env: { BIFROST_KEYRING: keyringJson, BIFROST_HOME: dir.dir }, allowCreateDevKeyring: false, warn: () => undefined });
    cleanups.push(() => store.close());
    await connect(bf, as);
    const fleet = await startFleet(2, { DATABASE_URL: "", BIFROST_HOME: dir.dir, BIFROST_KEYRING: keyringJson, BIFROST_ALLOW_HTTP_LOOPBACK: "1" }, ["Halo", "acme", "20"]);
    cleanups.push(() => fleet.stop());
    for (let round = 0; round < 3; round++) {
      await expire(bf);
      as.reset();
      const results = await fleet.round(round);
      expect(results.filter((r) => r.error)).toEqual([]);
      expect(results).toHaveLength(40);
      expect(new Set(results.map((r) => r.token)).size).toBe(1);
      expect(as.tokenRequests("refresh_token")).toBe(1);
    }
    const [row] = await bf.store.listOAuthTokens({});
    expect(row).toMatchObject({ state: "connected", refreshOwner: null, refreshStartedAt: null });
  }, 60_000);
});
