import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import {
  completeAuthorization,
  disconnect,
  getOAuthProvider,
  getOAuthStatus,
  listOAuthEvents,
  refreshConnection,
  setOAuthProvider,
  startAuthorization,
} from "../../src/oauth/service.js";
import { PLATFORM_ACTOR } from "../../src/services/actor.js";
import { setMapping } from "../../src/services/mappings.js";
import { BifrostError } from "../../src/core/errors.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "./helpers/auth-server.js";
import { getAs, oauthDeps, resolverFor, seed } from "./helpers/setup.js";

for (const backend of BACKENDS) {
  describe(`OAuth flows (${backend.name})`, () => {
    let as: AuthServer;
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    const seen: string[] = [];
    const errors: string[] = [];

    beforeAll(async () => {
      as = await startAuthServer({ integrations: ["Halo", "Graph", "Other"] });
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      await seed(bf, ["Halo", "Graph", "Other", "Cc", "CcTenant"], ["acme", "globex"]);
      const base = { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] };
      await setOAuthProvider(bf, "Halo", base);
      await setOAuthProvider(bf, "Graph", { ...base, scopes: ["openid", "api:read"], entity_id_source: { type: "id_token_claim", key: "sub" } });
      await setOAuthProvider(bf, "Other", base);
      await setOAuthProvider(bf, "Cc", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${as.issuer}/token`, scopes: ["api:read"] });
    });
    afterAll(async () => {
      await cleanup?.();
      await as?.close();
    });
    beforeEach(() => as.reset());

    const deps = () => oauthDeps(bf);
    const track = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } catch (err) {
        errors.push(JSON.stringify(err instanceof BifrostError ? err.toJSON() : String(err)));
        throw err;
      }
    };

    async function connect(integration: string, org: string | null, initiatorKeyId: string | null = "key-1") {
      const started = await startAuthorization(deps(), { integration, org, initiatorKeyId });
      const cb = await driveAuthorization(started.authorizationUrl);
      return { started, cb, done: await completeAuthorization(deps(), { integration, query: cb.searchParams, initiatorKeyId }) };
    }

    it("provider view masks the secret; a masked echo keeps it", async () => {
      const v = await getOAuthProvider(bf, "Halo");
      expect(JSON.stringify(v)).not.toContain(CLIENT_SECRET);
      expect(v?.client_secret.set).toBe(true);
      await setOAuthProvider(bf, "Halo", { ...v, client_secret: v?.client_secret });
      await setOAuthProvider(bf, "Halo", { ...v, client_secret: v?.client_secret.fingerprint });
      const again = await getOAuthProvider(bf, "Halo");
      expect(again?.client_secret.fingerprint).toBe(v?.client_secret.fingerprint);
    });

    it("full authorization-code flow: PKCE S256 + state, token at the mapping, get() returns it", async () => {
      const started = await startAuthorization(deps(), { integration: "Halo", org: "acme", initiatorKeyId: "key-1" });
      const u = new URL(started.authorizationUrl);
      expect(u.searchParams.get("code_challenge_method")).toBe("S256");
      expect(u.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(u.searchParams.get("redirect_uri")).toBe("http://127.0.0.1:9/api/oauth/callback/Halo");
      const cb = await driveAuthorization(started.authorizationUrl);
      expect(cb.searchParams.get("iss")).toBe(as.issuer);
      const done = await completeAuthorization(deps(), { integration: "Halo", query: cb.searchParams, initiatorKeyId: "key-1" });
      expect(done).toMatchObject({ org: "acme", level: "mapping", hasRefreshToken: true });
      const acme = (await bf.resolver.findOrg("acme"))!;
      const r = await getAs(resolverFor(bf), "Halo", acme);
      expect(r?.oauth?.accessToken).toBeTruthy();
      expect(r?.oauth?.refreshToken).toBeTruthy();
      seen.push(r!.oauth!.accessToken, r!.oauth!.refreshToken!);
      const status = await getOAuthStatus(bf, { integration: "Halo", org: "acme" });
      expect(status[0]).toMatchObject({ state: "connected", hasRefreshToken: true, level: "mapping" });
      expect((await listOAuthEvents(bf, { integration: "Halo", type: "connected" })).length).toBe(1);
      // replayed callback
      await expect(track(completeAuthorization(deps(), { integration: "Halo", query: cb.searchParams, initiatorKeyId: "key-1" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_STATE_INVALID" });
      expect(as.tokenRequests("authorization_code")).toBe(1);
    });

    it("forged state, state from another initiator, callback on another integration's path → rejected, no token request", async () => {
      const started = await startAuthorization(deps(), { integration: "Other", org: null, initiatorKeyId: "key-A" });
      const cb = await driveAuthorization(started.authorizationUrl);
      const forged = new URLSearchParams(cb.searchParams);
      forged.set("state", "A".repeat(43));
      await expect(track(completeAuthorization(deps(), { integration: "Other", query: forged, initiatorKeyId: "key-A" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_STATE_INVALID" });
      await expect(track(completeAuthorization(deps(), { integration: "Other", query: cb.searchParams, initiatorKeyId: "key-B" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_STATE_INVALID" });
      await expect(track(completeAuthorization(deps(), { integration: "Halo", query: cb.searchParams, initiatorKeyId: "key-A" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_STATE_INVALID" });
      expect(as.tokenRequests("authorization_code")).toBe(0);
      // the rightful initiator can still finish it
      await completeAuthorization(deps(), { integration: "Other", query: cb.searchParams, initiatorKeyId: "key-A" });
      expect(as.tokenRequests("authorization_code")).toBe(1);
    });

    it("code swapped between two flows (PKCE mismatch) → nothing stored", async () => {
      const a = await startAuthorization(deps(), { integration: "Other", org: "globex", initiatorKeyId: null });
      const b = await startAuthorization(deps(), { integration: "Other", org: "globex", initiatorKeyId: null });
      const cbA = await driveAuthorization(a.authorizationUrl);
      const cbB = await driveAuthorization(b.authorizationUrl);
      const swapped = new URLSearchParams(cbA.searchParams);
      swapped.set("code", cbB.searchParams.get("code")!);
      await expect(track(completeAuthorization(deps(), { integration: "Other", query: swapped, initiatorKeyId: null }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_PROTOCOL" });
      const status = await getOAuthStatus(bf, { integration: "Other", org: "globex" });
      expect(status.every((s) => s.state === "not_connected")).toBe(true);
    });

    it("wrong iss → rejected before the token request", async () => {
      const started = await startAuthorization(deps(), { integration: "Other", org: null, initiatorKeyId: null });
      const cb = await driveAuthorization(started.authorizationUrl);
      const p = new URLSearchParams(cb.searchParams);
      p.set("iss", "https://evil.example");
      await expect(track(completeAuthorization(deps(), { integration: "Other", query: p, initiatorKeyId: null }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_ISSUER_MISMATCH" });
      p.delete("iss");
      expect(as.tokenRequests("authorization_code")).toBe(0);
    });

    it("error=access_denied with a <script> description → escaped, truncated, flow cancelled", async () => {
      const started = await startAuthorization(deps(), { integration: "Other", org: null, initiatorKeyId: null });
      as.deny = `<script>alert(1)</script>${"x".repeat(500)}`;
      const cb = await driveAuthorization(started.authorizationUrl);
      const err = await completeAuthorization(deps(), { integration: "Other", query: cb.searchParams, initiatorKeyId: null }).catch((e: unknown) => e as BifrostError);
      expect(err).toMatchObject({ code: "BIFROST_OAUTH_AUTHORIZATION_DENIED" });
      expect((err as Error).message).not.toContain("<script>");
      expect((err as Error).message).toContain("&#60;script&#62;");
      expect((err as Error).message.length).toBeLessThan(400);
      expect((await bf.store.getOAuthState(started.state))?.outcome).toBe("cancelled");
    });

    it("entity capture from an id_token claim fills an empty mapping entity id only", async () => {
      await connect("Graph", "acme");
      const m = await bf.store.getMapping((await bf.store.getIntegrationByName("Graph"))!.id, (await bf.store.getOrgBySlug("acme"))!.id);
      expect(m?.entityId).toBe("user-1");
      await setMapping(bf, "Graph", "globex", { entityId: "preset" });
      await connect("Graph", "globex");
      const g = await bf.store.getMapping((await bf.store.getIntegrationByName("Graph"))!.id, (await bf.store.getOrgBySlug("globex"))!.id);
      expect(g?.entityId).toBe("preset");
    });

    it("refresh rotates the refresh token; a response without one keeps the old", async () => {
      const before = await getOAuthStatus(bf, { integration: "Halo", org: "acme" });
      expect(before[0]?.state).toBe("connected");
      const acme = (await bf.resolver.findOrg("acme"))!;
      const r1 = await getAs(resolverFor(bf), "Halo", acme);
      await refreshConnection(deps(), { integration: "Halo", org: "acme" });
      const r2 = await getAs(resolverFor(bf), "Halo", acme);
      expect(r2?.oauth?.refreshToken).not.toBe(r1?.oauth?.refreshToken);
      expect(r2?.oauth?.accessToken).not.toBe(r1?.oauth?.accessToken);
      seen.push(r2!.oauth!.accessToken, r2!.oauth!.refreshToken!);
      expect(as.tokenRequests("refresh_token")).toBe(1);
    });

    it("a refresh response without refresh_token keeps the old one", async () => {
      const acme = (await bf.resolver.findOrg("acme"))!;
      const r1 = await getAs(resolverFor(bf), "Graph", acme);
      as.dropRefreshToken = true;
      await refreshConnection(deps(), { integration: "Graph", org: "acme" });
      const r2 = await getAs(resolverFor(bf), "Graph", acme);
      expect(r2?.oauth?.refreshToken).toBe(r1?.oauth?.refreshToken);
      expect(r2?.oauth?.accessToken).not.toBe(r1?.oauth?.accessToken);
      expect(as.tokenRequests("refresh_token")).toBe(1);
    });

    for (const fault of ["html500", "html200", "json503", "hang"] as const) {
      it(`token endpoint ${fault} → transient error, refresh token kept, then recovers`, async () => {
        const acme = (await bf.resolver.findOrg("acme"))!;
        const tokenBefore = await getAs(resolverFor(bf), "Halo", acme);
        as.fault = fault;
        await expect(track(refreshConnection(deps(), { integration: "Halo", org: "acme" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_TRANSIENT" });
        const st = (await getOAuthStatus(bf, { integration: "Halo", org: "acme" }))[0]!;
        expect(st).toMatchObject({ state: "error", hasRefreshToken: true });
        expect(st.lastError).toMatch(/^transient: /);
        as.fault = null;
        await new Promise((r) => setTimeout(r, 30));
        await refreshConnection(deps(), { integration: "Halo", org: "acme" });
        const after = await getAs(resolverFor(bf), "Halo", acme);
        expect(after?.oauth?.accessToken).not.toBe(tokenBefore?.oauth?.accessToken);
        const ev = await listOAuthEvents(bf, { integration: "Halo", type: "refreshed_after_failure" });
        expect(ev.length).toBeGreaterThan(0);
      }, 15_000);
    }

    it("invalid_grant → needs_reauth, exactly one event, no further token calls", async () => {
      const acme = (await bf.resolver.findOrg("acme"))!;
      const r = await getAs(resolverFor(bf), "Halo", acme);
      // Revoke the grant at the provider (as a user would).
      await fetch(`${as.issuer}/token/revocation`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: r!.oauth!.refreshToken!, token_type_hint: "refresh_token" }),
      });
      as.reset();
      await expect(track(refreshConnection(deps(), { integration: "Halo", org: "acme" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_NEEDS_REAUTH" });
      for (let i = 0; i < 3; i++) {
        await expect(track(refreshConnection(deps(), { integration: "Halo", org: "acme" }))).rejects.toMatchObject({ code: "BIFROST_OAUTH_NEEDS_REAUTH" });
        await expect(track(getAs(resolverFor(bf), "Halo", acme))).resolves.toMatchObject({ oauth: null, connection: { state: "needs_reauth", reason: "invalid_grant" } });
      }
      expect(as.tokenRequests("refresh_token")).toBe(1);
      const ev = await listOAuthEvents(bf, { integration: "Halo", type: "needs_reauth" });
      expect(ev.length).toBe(1);
      expect(ev[0]?.payload).toEqual({ reason: "invalid_grant" });
      const st = (await getOAuthStatus(bf, { integration: "Halo", org: "acme" }))[0]!;
      expect(st.state).toBe("needs_reauth");
    });

    it("client credentials: minted on first use, cached encrypted and reused", async () => {
      const acme = (await bf.resolver.findOrg("acme"))!;
      const globex = (await bf.resolver.findOrg("globex"))!;
      const res = resolverFor(bf);
      const a = await getAs(res, "Cc", acme);
      const b = await getAs(res, "Cc", globex);
      const c = await Promise.all(Array.from({ length: 20 }, () => getAs(res, "Cc", null)));
      expect(as.tokenRequests("client_credentials")).toBe(1);
      expect(a?.oauth?.refreshToken).toBeUndefined();
      expect(new Set([a, b, ...c].map((x) => x?.oauth?.accessToken)).size).toBe(1);
      seen.push(a!.oauth!.accessToken);
      const tokens = await bf.store.listOAuthTokens({});
      for (const t of tokens) expect(t.accessToken === null || t.accessToken.startsWith("v1.")).toBe(true);
    });

    it("per-entity templated token URL gives each org its own token; unsafe values are refused", async () => {
      await setOAuthProvider(bf, "CcTenant", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${as.issuer}/token`, revocation_url: `${as.issuer}/token/revocation?t={entity_id}`, url_defaults: { entity_id: "common" } });
      await setMapping(bf, "CcTenant", "acme", { entityId: "tenant-a" }, PLATFORM_ACTOR);
      await setMapping(bf, "CcTenant", "globex", { entityId: "tenant-b" }, PLATFORM_ACTOR);
      const res = resolverFor(bf);
      const acme = (await bf.resolver.findOrg("acme"))!;
      const globex = (await bf.resolver.findOrg("globex"))!;
      const a1 = await getAs(res, "CcTenant", acme);
      const b1 = await getAs(res, "CcTenant", globex);
      const a2 = await getAs(res, "CcTenant", acme);
      expect(a1?.oauth?.accessToken).not.toBe(b1?.oauth?.accessToken);
      expect(a2?.oauth?.accessToken).toBe(a1?.oauth?.accessToken);
      expect(as.tokenRequests("client_credentials")).toBe(2);
      // A mapping entity id that is not a DNS label can never reach the network.
      await setMapping(bf, "CcTenant", "acme", { entityId: "evil.com#" }).catch(() => undefined);
      const integ = (await bf.store.getIntegrationByName("CcTenant"))!;
      const m = (await bf.store.getMapping(integ.id, acme.id))!;
      await bf.store.updateMapping(m.id, { entityId: "a@127.0.0.1", updatedAt: new Date().toISOString() });
      const tok = (await bf.store.listOAuthTokens({ integrationId: integ.id, orgId: acme.id }))[0]!;
      await bf.store.updateOAuthToken(tok.id, { expiresAt: new Date(Date.now() - 1000).toISOString(), updatedAt: new Date().toISOString() });
      await expect(track(getAs(res, "CcTenant", acme))).rejects.toMatchObject({ code: "BIFROST_OAUTH_URL_REFUSED" });
      expect(as.tokenRequests("client_credentials")).toBe(2);
    });

    it("disconnect revokes at the provider and removes the token", async () => {
      await connect("Other", "acme");
      as.reset();
      const out = await disconnect(deps(), { integration: "Other", org: "acme" });
      expect(out).toMatchObject({ disconnected: true, revoked: true });
      const st = await getOAuthStatus(bf, { integration: "Other", org: "acme" });
      expect(st[0]?.state).toBe("not_connected");
      expect((await listOAuthEvents(bf, { integration: "Other", type: "disconnected" })).length).toBe(1);
    });

    it("no token, code, verifier or client secret appears in any thrown error or event", async () => {
      const events = JSON.stringify(await listOAuthEvents(bf, {}));
      const status = JSON.stringify(await getOAuthStatus(bf, {}));
      const haystack = [...errors, events, status].join("\n");
      expect(seen.length).toBeGreaterThan(3);
      for (const s of [...seen, CLIENT_SECRET]) expect(haystack).not.toContain(s);
    });
  });
}
