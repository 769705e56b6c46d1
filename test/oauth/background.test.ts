import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { integrations, oauth } from "../../src/index.js";
import { startRefresher } from "../../src/oauth/refresher.js";
import { completeAuthorization, getOAuthStatus, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "./helpers/auth-server.js";
import { getAs, oauthDeps, resolverFor, seed } from "./helpers/setup.js";

/** Deprecation warnings of oauth.get() seen by this process (the listener lives for the whole file). */
const deprecations: Error[] = [];
process.on("warning", (w) => {
  if ((w as Error & { code?: string }).code === "BIFROST_DEP_OAUTH_GET") deprecations.push(w);
});

const tick = () => new Promise((r) => setImmediate(r));

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

for (const backend of BACKENDS) {
  describe(`background refresher and oauth.get (${backend.name})`, () => {
    let as: AuthServer;
    let bf: Bifrost;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      as = await startAuthServer({ integrations: ["Halo", "Graph"] });
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      await seed(bf, ["Halo", "Graph"], ["acme"]);
      const base = { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] };
      await setOAuthProvider(bf, "Halo", base);
      await setOAuthProvider(bf, "Graph", base);
      for (const integration of ["Halo", "Graph"]) {
        const started = await startAuthorization(oauthDeps(bf), { integration, org: null, initiatorKeyId: null });
        const cb = await driveAuthorization(started.authorizationUrl);
        await completeAuthorization(oauthDeps(bf), { integration, query: cb.searchParams, initiatorKeyId: null });
      }
      as.reset();
    }, 30_000);
    afterAll(async () => {
      await cleanup?.();
      await as?.close();
    });

    async function tokenRow(name: string) {
      const integ = (await bf.store.getIntegrationByName(name))!;
      const rows = await bf.store.listOAuthTokens({ integrationId: integ.id });
      return rows.find((r) => r.state !== "not_connected")!;
    }
    async function expireSoon(name: string, seconds: number) {
      const row = await tokenRow(name);
      // As if obtained an hour ago with a lifetime ending in `seconds` (the skew is capped at half the lifetime).
      await bf.store.updateOAuthToken(row.id, { obtainedAt: new Date(Date.now() - 3600_000).toISOString(), expiresAt: new Date(Date.now() + seconds * 1000).toISOString(), updatedAt: new Date().toISOString() });
      return row;
    }

    it("renews a token ahead of expiry with no caller waiting; stop() stops it", async () => {
      const before = await expireSoon("Halo", 20);
      const seenByResolver = await getAs(resolverFor(bf), "Halo", null);
      expect(as.tokenRequests("refresh_token")).toBe(0); // 20 s left > skew: a get() does not refresh
      const errors: string[] = [];
      const r = startRefresher(oauthDeps(bf), { intervalMs: 80, aheadSeconds: 60, onError: (m) => errors.push(m) });
      try {
        expect(await waitFor(() => as.tokenRequests("refresh_token") === 1, 5_000)).toBe(true);
        expect(await waitFor(async () => (await tokenRow("Halo")).version > before.version, 2_000)).toBe(true);
      } finally {
        await r.stop();
      }
      const after = await tokenRow("Halo");
      expect(after.state).toBe("connected");
      expect(Date.parse(after.expiresAt!)).toBeGreaterThan(Date.now() + 3000_000);
      expect(errors).toEqual([]);
      const now = await getAs(resolverFor(bf), "Halo", null);
      expect(now?.oauth?.accessToken).not.toBe(seenByResolver?.oauth?.accessToken);
      expect(as.tokenRequests("refresh_token")).toBe(1);
      const status = (await getOAuthStatus(bf, { integration: "Halo" }))[0];
      expect(status?.lastRefreshAt).toBeTruthy();

      // Stopped: a token that becomes due afterwards is left alone (its expiry is unchanged).
      const graph = await expireSoon("Graph", 20);
      await new Promise((res) => setTimeout(res, 500));
      expect(as.tokenRequests("refresh_token")).toBe(1);
      const g = await tokenRow("Graph");
      expect(g.version).toBe(graph.version);
      expect(g.expiresAt).not.toBe(null);
      expect(Date.parse(g.expiresAt!)).toBeLessThan(Date.now() + 30_000);
    }, 20_000);

    it("a running refresher renews the due token of the second integration (control for the stop() check)", async () => {
      const graph = await tokenRow("Graph");
      const r = startRefresher(oauthDeps(bf), { intervalMs: 80, aheadSeconds: 60 });
      try {
        expect(await waitFor(async () => (await tokenRow("Graph")).version > graph.version, 5_000)).toBe(true);
      } finally {
        await r.stop();
      }
      expect(as.tokenRequests("refresh_token")).toBe(2);
    }, 20_000);

    it("a short-lived token is held until it is due under its own lifetime, then renewed ahead of expiry", async () => {
      const row = await tokenRow("Halo");
      const count = as.tokenRequests("refresh_token");
      // Lifetime 4 s, obtained just now: inside a 60 s horizon, but only due at half its lifetime.
      const obtained = Date.now();
      await bf.store.updateOAuthToken(row.id, { obtainedAt: new Date(obtained).toISOString(), expiresAt: new Date(obtained + 4_000).toISOString(), claimedUntil: null, updatedAt: new Date().toISOString() });
      const r = startRefresher(oauthDeps(bf), { intervalMs: 80, aheadSeconds: 60 });
      try {
        // first ticks: claimed but not due → the claim is held until the due time, no refresh yet
        expect(await waitFor(async () => (await tokenRow("Halo")).claimedUntil === new Date(obtained + 2_000).toISOString(), 1_500)).toBe(true);
        expect(as.tokenRequests("refresh_token")).toBe(count);
        // once due (2 s before expiry) the refresher renews it before it expires
        expect(await waitFor(() => as.tokenRequests("refresh_token") === count + 1, 5_000)).toBe(true);
      } finally {
        await r.stop();
      }
      const after = await tokenRow("Halo");
      expect(after.state).toBe("connected");
      expect(Date.parse(after.lastRefreshAt!)).toBeLessThan(obtained + 4_000);
    }, 20_000);

    it("oauth.get(name) returns the same credentials as integrations.get(name).oauth and warns once per process", async () => {
      const resolver = resolverFor(bf);
      const run = <T>(org: ExecutionOrg | null, fn: () => Promise<T>) => runInContext(createContext({ org, caller: { kind: "cli", platform: true }, resolver }), fn);
      const [viaOauth, viaIntegrations, again] = await run(null, async () => [await oauth.get("Halo"), (await integrations.get("Halo"))?.oauth, await oauth.get("Halo")]);
      expect(viaOauth).toBeTruthy();
      expect(viaOauth).toEqual(viaIntegrations);
      expect(again).toEqual(viaIntegrations);
      const acme = (await bf.resolver.findOrg("acme"))!;
      const other = await run(acme, async () => [await oauth.get("Halo"), (await integrations.get("Halo"))?.oauth]);
      expect(other[0]).toEqual(other[1]);
      expect(await run(null, () => oauth.get("NoSuchIntegration"))).toBeNull();
      await tick();
      await tick();
      // Exactly one warning in this process, however many calls, contexts and backends.
      expect(deprecations.length).toBe(1);
      expect(deprecations[0]?.name).toBe("DeprecationWarning");
      expect(deprecations[0]?.message).toMatch(/integrations\.get\(name\)\)?\.oauth/);
    });
  });
}
