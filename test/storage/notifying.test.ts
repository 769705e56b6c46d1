import pg from "pg";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { ChangeFeed } from "../../src/cache/change-feed.js";
import { KyselyStore } from "../../src/storage/kysely-store.js";
import { STORE_METHODS, type StoreMethod, type WriteMethod, withChangeNotifications } from "../../src/storage/notifying.js";
import type { Store, StoredOAuthToken } from "../../src/storage/store.js";
import { BACKENDS } from "../helpers/backends.js";

const AT = "2026-01-01T00:00:00.000Z";
const LATER = "2026-01-02T00:00:00.000Z";
const ORG = "00000000-0000-4000-8000-0000000000a1";
const INTEGRATION = "00000000-0000-4000-8000-0000000000b1";
const MAPPING = "00000000-0000-4000-8000-0000000000c1";
const VALUE = "00000000-0000-4000-8000-0000000000d1";
const KEY = "00000000-0000-4000-8000-0000000000e1";
const PROVIDER = "00000000-0000-4000-8000-0000000000f1";
const TOKEN = "00000000-0000-4000-8000-000000000101";

const token: StoredOAuthToken = {
  id: TOKEN,
  integrationId: INTEGRATION,
  orgId: null,
  mappingId: null,
  ownerKey: "i",
  state: "connected",
  accessToken: "v1.k.iv.ct.tag",
  refreshToken: null,
  tokenType: "Bearer",
  expiresAt: LATER,
  obtainedAt: AT,
  scopes: [],
  extra: {},
  lastRefreshAt: null,
  lastError: null,
  failureCount: 0,
  nextAttemptAt: null,
  claimedUntil: null,
  refreshStartedAt: null,
  refreshOwner: null,
  version: 1,
  createdAt: AT,
  updatedAt: AT,
};

/**
 * One call of every cache-changing write, in an order the database accepts, with the id its
 * notification must name. A write method missing here is a type error.
 */
const WRITE_CALLS: { [K in WriteMethod]: { args: Parameters<Store[K]>; id: string } } = {
  insertOrg: { args: [{ id: ORG, slug: "acme", name: "Acme", createdAt: AT, updatedAt: AT }], id: ORG },
  updateOrg: { args: [ORG, { name: "Acme Ltd", updatedAt: LATER }], id: ORG },
  insertIntegration: {
    args: [{ id: INTEGRATION, name: "HaloPSA", description: null, configSchema: [], trustedOrigins: [], privateNetwork: false, createdAt: AT, updatedAt: AT }],
    id: INTEGRATION,
  },
  updateIntegration: { args: [INTEGRATION, { description: "PSA", updatedAt: LATER }], id: INTEGRATION },
  insertMapping: { args: [{ id: MAPPING, integrationId: INTEGRATION, orgId: ORG, entityId: "42", entityName: null, createdAt: AT, updatedAt: AT }], id: INTEGRATION },
  insertMappingIfAbsent: { args: [{ id: "m2", integrationId: INTEGRATION, orgId: ORG, entityId: "43", entityName: null, createdAt: AT, updatedAt: AT }], id: INTEGRATION },
  updateMapping: { args: [MAPPING, { entityName: "Acme", updatedAt: LATER }], id: MAPPING },
  upsertConfigValue: {
    args: [{ id: VALUE, integrationId: INTEGRATION, orgId: null, key: "api_key", value: "v1.k.iv.ct.tag", isSecret: true, fingerprint: null, updatedAt: AT }],
    id: INTEGRATION,
  },
  setSecretFingerprint: { args: [{ table: "config_values", id: VALUE, integrationId: INTEGRATION, ciphertext: "v1.k.iv.ct.tag" }, "abcdef012345"], id: INTEGRATION },
  deleteConfigValues: { args: [INTEGRATION, null, ["api_key"]], id: INTEGRATION },
  insertApiKey: {
    args: [{ id: KEY, name: "ops", prefix: "bfk_test", secretHash: "00", role: "platform_admin", orgId: null, createdAt: AT, lastUsedAt: null, revokedAt: null }],
    id: KEY,
  },
  revokeApiKey: { args: [KEY, LATER], id: KEY },
  putOAuthProvider: {
    args: [{ id: PROVIDER, integrationId: INTEGRATION, flow: "client_credentials", settings: "{}", clientSecret: "v1.k.iv.ct.tag", clientSecretFingerprint: "abcdef012345", createdAt: AT, updatedAt: AT }],
    id: INTEGRATION,
  },
  insertOAuthTokenIfAbsent: { args: [token], id: INTEGRATION },
  updateOAuthToken: { args: [TOKEN, { lastError: "x", updatedAt: LATER }], id: TOKEN },
  updateOAuthTokenReturning: { args: [TOKEN, { lastError: null, updatedAt: LATER }, { bumpVersion: true }], id: TOKEN },
  deleteOAuthToken: { args: [TOKEN], id: TOKEN },
  deleteOAuthProvider: { args: [INTEGRATION], id: INTEGRATION },
  deleteMapping: { args: [MAPPING], id: MAPPING },
  deleteIntegration: { args: [INTEGRATION], id: INTEGRATION },
  deleteOrg: { args: [ORG], id: ORG },
};

/** Methods of the store implementation that are not part of the Store interface. */
const IMPLEMENTATION_ONLY = ["constructor", "withTransaction", "resolveOAuthRows"];

describe("change notifications: classification", () => {
  it("classifies every Store method (and nothing else) as read, write, bookkeeping, transaction or lifecycle", () => {
    expectTypeOf<keyof typeof STORE_METHODS>().toEqualTypeOf<StoreMethod>();
    const implemented = Object.getOwnPropertyNames(KyselyStore.prototype).filter((name) => !IMPLEMENTATION_ONLY.includes(name));
    expect(implemented.sort()).toEqual(Object.keys(STORE_METHODS).sort());
    for (const access of Object.values(STORE_METHODS)) expect(["read", "write", "bookkeeping", "transaction", "lifecycle"]).toContain(access.kind);
  });

  it("has a test call for every write", () => {
    const writes = Object.entries(STORE_METHODS)
      .filter(([, access]) => access.kind === "write")
      .map(([name]) => name);
    expect(Object.keys(WRITE_CALLS).sort()).toEqual(writes.sort());
  });
});

for (const backend of BACKENDS) {
  describe(`${backend.name}: every write invalidates`, () => {
    let store: Store;
    let feed: ChangeFeed;
    let listener: pg.Client | null = null;
    const heard: string[] = [];
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await backend.open();
      await opened.store.migrate();
      feed = ChangeFeed.local();
      store = withChangeNotifications(opened.store, feed);
      cleanup = opened.cleanup;
      if (opened.url) {
        listener = new pg.Client({ connectionString: opened.url });
        await listener.connect();
        listener.on("notification", (n) => heard.push(n.payload ?? ""));
        await listener.query("LISTEN bifrost_changes");
      }
    });
    afterAll(async () => {
      await listener?.end();
      await feed.close();
      await cleanup();
    });

    it("each cache-changing write bumps this process's feed and (PostgreSQL) notifies other processes with its id", async () => {
      for (const [name, call] of Object.entries(WRITE_CALLS) as Array<[WriteMethod, { args: unknown[]; id: string }]>) {
        const epoch = feed.epoch;
        await (store[name] as (...args: unknown[]) => Promise<unknown>)(...call.args);
        expect(feed.epoch, name).toBeGreaterThan(epoch);
        if (listener) await expect.poll(() => heard.includes(call.id), { timeout: 5000 }).toBe(true);
        heard.length = 0;
      }
    });

    it("writes inside a transaction invalidate once, after the commit", async () => {
      const epoch = feed.epoch;
      const seenInside: number[] = [];
      await store.transaction(async (tx) => {
        await tx.insertOrg({ id: ORG, slug: "tx", name: "Tx", createdAt: AT, updatedAt: AT });
        await tx.updateOrg(ORG, { name: "Tx 2", updatedAt: LATER });
        seenInside.push(feed.epoch);
      });
      expect(seenInside).toEqual([epoch]);
      expect(feed.epoch).toBe(epoch + 1);
      if (listener) await expect.poll(() => heard.includes(ORG), { timeout: 5000 }).toBe(true);
      await store.deleteOrg(ORG);
    });

    it("reads and bookkeeping writes leave the feed alone", async () => {
      const epoch = feed.epoch;
      await store.listOrgs();
      await store.resolve("HaloPSA", null);
      await store.putCanary("k1", "v1.k1.iv.ct.tag", AT);
      expect(feed.epoch).toBe(epoch);
    });
  });
}

