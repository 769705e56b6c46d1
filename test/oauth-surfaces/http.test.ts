/**
 * OAuth HTTP surfaces against a real oidc-provider: provider PUT/GET (masked), authorize → headless
 * consent → our callback route → status / resolved; forged state and error= pages; org scoping;
 * events; and a leak check over every response body.
 */
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_CSP } from "../../src/server/callback-page.js";
import { BACKENDS } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { getAs, resolverFor, TEST_OAUTH } from "../oauth/helpers/setup.js";
import { envelope, type Harness, setup } from "../server/harness.js";

for (const backend of BACKENDS) {
  describe(`OAuth HTTP routes (${backend.name})`, () => {
    let as: AuthServer;
    let h: Harness;
    /** Every response body except GET …/resolved (the one route that carries the access token). */
    const bodies: string[] = [];
    const tokens = new Set<string>();

    const call = async (method: string, url: string, key: string | null, body?: unknown): Promise<LightMyRequestResponse> => {
      const res = await h.call(method, url, key, body);
      if (!url.includes("/resolved")) bodies.push(res.body);
      return res;
    };
    const callback = async (integration: string, query: URLSearchParams | string): Promise<LightMyRequestResponse> => {
      const res = await h.app.inject({ method: "GET", url: `/api/oauth/callback/${integration}?${query.toString()}` });
      bodies.push(res.body);
      return res;
    };
    const rememberTokens = async (org: string) => {
      const o = (await h.bf.resolver.findOrg(org))!;
      const r = await getAs(resolverFor(h.bf), "HaloPSA", o);
      if (r?.oauth?.accessToken) tokens.add(r.oauth.accessToken);
      if (r?.oauth?.refreshToken) tokens.add(r.oauth.refreshToken);
    };

    const provider = () => ({ flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] });

    beforeAll(async () => {
      as = await startAuthServer({ integrations: ["HaloPSA"] });
      h = await setup(backend, { oauth: TEST_OAUTH });
    });
    afterAll(async () => {
      await h?.close();
      await as?.close();
    });

    it("PUT/GET the provider: platform only, the secret never shown, a masked echo keeps it", async () => {
      envelope(await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.acmeAdmin, provider()), 403, "BIFROST_FORBIDDEN");
      envelope(await call("GET", "/api/integrations/HaloPSA/oauth", h.keys.platform), 404, "BIFROST_OAUTH_NO_PROVIDER");
      const put = await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, provider());
      expect(put.statusCode).toBe(201);
      const view = put.json().oauth;
      expect(view.client_secret).toEqual({ set: true, fingerprint: expect.any(String) });
      const got = await call("GET", "/api/integrations/HaloPSA/oauth", h.keys.acmeAdmin);
      expect(got.json().oauth).toEqual(view);
      const echo = await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, { ...view, client_secret: view.client_secret });
      expect(echo.statusCode).toBe(200);
      expect(echo.json()).toMatchObject({ created: false, oauth: { client_secret: view.client_secret } });
      envelope(await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, { ...provider(), flow: "implicit" }), 422, "BIFROST_VALIDATION");
      envelope(await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, { ...provider(), token_url: "https://a@127.0.0.1/token" }), 422, "BIFROST_OAUTH_CONFIG_INVALID");
    });

    it("authorize → consent → callback page → status connected → /resolved carries oauth.access_token", async () => {
      envelope(await call("POST", "/api/integrations/HaloPSA/oauth/authorize", h.keys.acmeWorkflow, {}), 403, "BIFROST_FORBIDDEN");
      const res = await call("POST", "/api/integrations/HaloPSA/oauth/authorize", h.keys.acmeAdmin, {});
      expect(res.statusCode).toBe(200);
      const started = res.json() as { authorization_url: string; state_expires_at: string; redirect_uri: string };
      expect(started.redirect_uri).toBe(`${TEST_OAUTH.publicUrl}/api/oauth/callback/HaloPSA`);
      const u = new URL(started.authorization_url);
      expect(u.searchParams.get("code_challenge_method")).toBe("S256");
      expect(Date.parse(started.state_expires_at)).toBeGreaterThan(Date.now());

      const cb = await driveAuthorization(started.authorization_url);
      const code = cb.searchParams.get("code")!;
      const page = await callback("HaloPSA", cb.searchParams);
      expect(page.statusCode, page.body).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.headers["content-security-policy"]).toBe(CALLBACK_CSP);
      expect(page.body).toContain("Connected");
      expect(page.body).not.toContain(code);
      expect(page.body).not.toMatch(/<script|https?:\/\/(?!127)/);

      const replay = await callback("HaloPSA", cb.searchParams);
      expect(replay.statusCode).toBe(400);
      expect(replay.body).not.toContain(code);

      const status = await call("GET", "/api/integrations/HaloPSA/oauth/status", h.keys.acmeAdmin);
      expect(status.statusCode).toBe(200);
      const conn = status.json().connections;
      expect(conn).toHaveLength(1);
      expect(conn[0]).toMatchObject({ integration: "HaloPSA", org: "acme", state: "connected", has_refresh_token: true, last_error: null });
      expect(Object.keys(conn[0])).toEqual(expect.arrayContaining(["expires_at", "last_refresh_at", "last_error", "has_refresh_token"]));

      const resolved = await call("GET", "/api/integrations/HaloPSA/resolved", h.keys.acmeWorkflow);
      expect(resolved.statusCode).toBe(200);
      const oauth = resolved.json().oauth;
      expect(oauth).toMatchObject({ access_token: expect.any(String), token_type: expect.any(String), scopes: expect.any(Array) });
      expect(oauth).not.toHaveProperty("refresh_token");
      expect(oauth).not.toHaveProperty("accessToken");
      tokens.add(oauth.access_token);
      await rememberTokens("acme");
      expect(tokens.size).toBe(2);
    });

    it("forged state → 400 page, escaped, nothing reflected, no-referrer", async () => {
      const forged = new URLSearchParams({ code: "forged-code-value-123", state: "A".repeat(43), error_description: "<script>alert(1)</script>" });
      const page = await callback("HaloPSA", forged);
      expect(page.statusCode).toBe(400);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.body).toContain("Connection failed");
      expect(page.body).toContain("BIFROST_OAUTH_STATE_INVALID");
      expect(page.body).not.toContain("forged-code-value-123");
      expect(page.body).not.toContain("A".repeat(43));
      expect(page.body).not.toContain("<script>");
      const noState = await callback("HaloPSA", "code=abc");
      expect(noState.statusCode).toBe(400);
      const evilName = await callback(encodeURIComponent("<img src=x>"), "state=x");
      expect(evilName.statusCode).toBeGreaterThanOrEqual(400);
      expect(evilName.body).not.toContain("<img");
    });

    it("error=access_denied with a <script> description → 400 page with the text escaped", async () => {
      const res = await call("POST", "/api/integrations/HaloPSA/oauth/authorize", h.keys.platform, { org: "globex" });
      const state = new URL(res.json().authorization_url).searchParams.get("state")!;
      const q = new URLSearchParams({ error: "access_denied", error_description: "<script>alert(1)</script>", state, iss: as.issuer });
      const page = await callback("HaloPSA", q);
      expect(page.statusCode).toBe(400);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.body).toContain("BIFROST_OAUTH_AUTHORIZATION_DENIED");
      expect(page.body).toContain("access_denied");
      expect(page.body).not.toContain("<script>");
      expect(page.body).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
      expect(page.body).not.toContain(state);
    });

    it("org-scoped keys: another org's connection answers 404 like a missing org", async () => {
      const missing = envelope(await call("POST", "/api/integrations/HaloPSA/oauth/authorize", h.keys.globexAdmin, { org: "no-such-org" }), 404, "BIFROST_NOT_FOUND");
      const other = envelope(await call("POST", "/api/integrations/HaloPSA/oauth/authorize", h.keys.globexAdmin, { org: "acme" }), 404, "BIFROST_NOT_FOUND");
      expect(other.message.replace("acme", "X")).toBe(missing.message.replace("no-such-org", "X"));
      envelope(await call("POST", "/api/integrations/HaloPSA/oauth/refresh", h.keys.globexAdmin, { org: "acme" }), 404, "BIFROST_NOT_FOUND");
      envelope(await call("GET", "/api/integrations/HaloPSA/oauth/status?org=acme", h.keys.globexAdmin), 404, "BIFROST_NOT_FOUND");
      envelope(await call("DELETE", "/api/integrations/HaloPSA/oauth/connection?org=acme", h.keys.globexAdmin), 404, "BIFROST_NOT_FOUND");
      envelope(await call("GET", "/api/events?org=acme", h.keys.globexAdmin), 404, "BIFROST_NOT_FOUND");
      envelope(await call("GET", "/api/oauth/status?org=acme", h.keys.globexAdmin), 404, "BIFROST_NOT_FOUND");

      const mine = (await call("GET", "/api/oauth/status", h.keys.globexAdmin)).json().connections as Array<{ org: string | null }>;
      expect(mine.every((c) => c.org === "globex")).toBe(true);
      const all = (await call("GET", "/api/oauth/status", h.keys.platform)).json().connections as Array<{ org: string | null; state: string }>;
      expect(all.map((c) => c.org)).toEqual([null, "acme"]);
      const ev = (await call("GET", "/api/events", h.keys.globexAdmin)).json().events as Array<{ org: string | null }>;
      expect(ev.every((e) => e.org === "globex")).toBe(true);
      envelope(await call("GET", "/api/events", h.keys.acmeWorkflow), 403, "BIFROST_FORBIDDEN");
      // the acme connection is untouched
      expect((await call("GET", "/api/integrations/HaloPSA/oauth/status", h.keys.acmeAdmin)).json().connections[0].state).toBe("connected");
    });

    it("refresh, events, disconnect (own org)", async () => {
      const r = await call("POST", "/api/integrations/HaloPSA/oauth/refresh", h.keys.acmeAdmin, {});
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().connection).toMatchObject({ org: "acme", state: "connected", has_refresh_token: true });
      expect(as.tokenRequests("refresh_token")).toBe(1);
      await rememberTokens("acme");

      const d = await call("DELETE", "/api/integrations/HaloPSA/oauth/connection", h.keys.acmeAdmin);
      expect(d.statusCode, d.body).toBe(200);
      expect(d.json()).toMatchObject({ integration: "HaloPSA", org: "acme", disconnected: true });
      const after = (await call("GET", "/api/integrations/HaloPSA/oauth/status", h.keys.acmeAdmin)).json().connections;
      expect(after[0]).toMatchObject({ state: "not_connected", has_refresh_token: false });

      const ev = (await call("GET", "/api/events?integration=HaloPSA", h.keys.acmeAdmin)).json().events as Array<{ type: string; org: string | null; created_at: string }>;
      expect(ev.every((e) => e.org === "acme")).toBe(true);
      expect(ev.map((e) => e.type)).toEqual(expect.arrayContaining(["connected", "disconnected"]));
      const onlyConnected = (await call("GET", "/api/events?type=connected&limit=1", h.keys.platform)).json().events;
      expect(onlyConnected).toHaveLength(1);
      expect(onlyConnected[0].type).toBe("connected");
      envelope(await call("GET", "/api/events?limit=abc", h.keys.platform), 422, "BIFROST_VALIDATION");
      // Events page up to 1,000 (other lists up to 500).
      expect((await call("GET", "/api/events?limit=1000", h.keys.platform)).statusCode).toBe(200);
      expect(envelope(await call("GET", "/api/events?limit=1001", h.keys.platform), 422, "BIFROST_VALIDATION").message).toContain("1 to 1000");
    });

    it("DELETE the provider (platform only)", async () => {
      envelope(await call("DELETE", "/api/integrations/HaloPSA/oauth", h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
      expect((await call("DELETE", "/api/integrations/HaloPSA/oauth", h.keys.platform)).json()).toEqual({ deleted: true, integration: "HaloPSA" });
      envelope(await call("DELETE", "/api/integrations/HaloPSA/oauth", h.keys.platform), 404, "BIFROST_OAUTH_NO_PROVIDER");
    });

    it("leak check: no response body holds the client secret or a token", () => {
      expect(tokens.size).toBeGreaterThanOrEqual(3);
      expect(bodies.length).toBeGreaterThan(30);
      for (const body of bodies) {
        expect(body).not.toContain(CLIENT_SECRET);
        for (const t of tokens) expect(body).not.toContain(t);
      }
    });
  });
}
