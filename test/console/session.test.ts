/**
 * Console sessions and CSRF over HTTP (no browser): sign-in sets an HttpOnly SameSite=Lax cookie with an
 * opaque id, cookie-authenticated state changes need X-CSRF-Token, bearer calls do not, sign-out and key
 * revocation end the session, org scoping is the API's, and the console is served with a strict CSP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { revokeApiKey } from "../../src/services/api-keys.js";
import { sqliteBackend } from "../helpers/backends.js";
import { envelope, type Harness, setup } from "../server/harness.js";

describe("console session + CSRF", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(sqliteBackend, { oauth: { publicUrl: "https://bifrost.example.com" } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const login = async (key: string) => {
    const res = await h.app.inject({ method: "POST", url: "/api/session", payload: { api_key: key } });
    const cookie = String(res.headers["set-cookie"] ?? "");
    return { res, cookie, id: /bifrost_session=([^;]*)/.exec(cookie)?.[1] ?? "", csrf: (res.json() as { csrf_token?: string }).csrf_token ?? "" };
  };
  const withCookie = (method: string, url: string, id: string, opts: { csrf?: string; body?: unknown } = {}): Promise<LightMyRequestResponse> =>
    h.app.inject({
      method: method as "GET",
      url,
      headers: { cookie: `bifrost_session=${id}`, ...(opts.csrf ? { "x-csrf-token": opts.csrf } : {}) },
      ...(opts.body === undefined ? {} : { payload: opts.body as Record<string, unknown> }),
    });

  it("sign-in sets an HttpOnly, SameSite=Lax, Secure (https public URL) cookie with an opaque id, never the key", async () => {
    const { res, cookie, id, csrf } = await login(h.keys.platform);
    expect(res.statusCode).toBe(201);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\//);
    expect(id).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(cookie).not.toContain(h.keys.platform);
    expect(res.body).not.toContain(h.keys.platform);
    expect(csrf.length).toBeGreaterThan(20);
    const s = await withCookie("GET", "/api/session", id);
    expect(s.json()).toMatchObject({ csrf_token: csrf, role: "platform_admin", org: null, via: "session" });
  });

  it("a bad key, a workflow key and a malformed body are refused with the envelope", async () => {
    envelope(await h.app.inject({ method: "POST", url: "/api/session", payload: { api_key: "bf_nope" } }), 401, "BIFROST_UNAUTHENTICATED");
    envelope(await h.app.inject({ method: "POST", url: "/api/session", payload: { api_key: h.keys.acmeWorkflow } }), 403, "BIFROST_FORBIDDEN");
    const bad = await h.app.inject({ method: "POST", url: "/api/session", payload: { key: "x" } });
    envelope(bad, 422, "BIFROST_VALIDATION");
  });

  it("cookie-authenticated state changes need the session's CSRF token; bearer requests do not", async () => {
    const { id, csrf } = await login(h.keys.platform);
    const none = await withCookie("POST", "/api/organizations", id, { body: { slug: "csrf-a" } });
    envelope(none, 403, "BIFROST_FORBIDDEN");
    expect(none.json().message).toMatch(/CSRF/);
    envelope(await withCookie("POST", "/api/organizations", id, { body: { slug: "csrf-a" }, csrf: "wrong" }), 403, "BIFROST_FORBIDDEN");
    const other = await login(h.keys.platform);
    envelope(await withCookie("POST", "/api/organizations", id, { body: { slug: "csrf-a" }, csrf: other.csrf }), 403, "BIFROST_FORBIDDEN");
    expect(await h.bf.store.getOrgBySlug("csrf-a")).toBeNull();
    expect((await withCookie("POST", "/api/organizations", id, { body: { slug: "csrf-a" }, csrf })).statusCode).toBe(201);
    expect((await withCookie("GET", "/api/organizations", id)).statusCode).toBe(200);
    expect((await h.call("POST", "/api/organizations", h.keys.platform, { slug: "csrf-b" })).statusCode).toBe(201);
  });

  it("org-scoped sessions see only their org, exactly like their key", async () => {
    const { id, csrf } = await login(h.keys.acmeAdmin);
    const orgs = await withCookie("GET", "/api/organizations", id);
    expect(orgs.json().organizations.map((o: { slug: string }) => o.slug)).toEqual(["acme"]);
    envelope(await withCookie("GET", "/api/integrations/HaloPSA/mappings/globex", id), 404, "BIFROST_NOT_FOUND");
    envelope(await withCookie("POST", "/api/organizations", id, { body: { slug: "nope" }, csrf }), 403, "BIFROST_FORBIDDEN");
    const overview = await withCookie("GET", "/api/console/integrations", id);
    expect(overview.json().integrations).toEqual([expect.objectContaining({ name: "HaloPSA", mapped_orgs: 1 })]);
    envelope(await withCookie("GET", "/api/console/organizations/globex", id), 404, "BIFROST_NOT_FOUND");
    expect((await withCookie("GET", "/api/console/organizations/acme", id)).json()).toMatchObject({ org: { slug: "acme" }, integrations: [{ integration: "HaloPSA", mapped: true, entity_id: "T-1", override_count: 2 }] });
  });

  it("sign-out deletes the session; a revoked key ends its sessions", async () => {
    const a = await login(h.keys.platform);
    envelope(await withCookie("DELETE", "/api/session", a.id), 403, "BIFROST_FORBIDDEN");
    const out = await withCookie("DELETE", "/api/session", a.id, { csrf: a.csrf });
    expect(out.json()).toEqual({ deleted: true });
    expect(String(out.headers["set-cookie"])).toMatch(/Max-Age=0/);
    envelope(await withCookie("GET", "/api/session", a.id), 401, "BIFROST_UNAUTHENTICATED");
    const b = await login(h.keys.globexAdmin);
    expect((await withCookie("GET", "/api/session", b.id)).statusCode).toBe(200);
    const stored = (await h.bf.store.listApiKeys()).find((k) => h.keys.globexAdmin.includes(k.prefix))!;
    await revokeApiKey(h.bf, stored.id);
    envelope(await withCookie("GET", "/api/session", b.id), 401, "BIFROST_UNAUTHENTICATED");
    envelope(await withCookie("GET", "/api/session", "forged-session-id-forged-session-id-forged"), 401, "BIFROST_UNAUTHENTICATED");
  });

  it("bulk mapping is all-or-nothing and names the failing row", async () => {
    const bad = await h.call("POST", "/api/integrations/HaloPSA/mappings/bulk", h.keys.platform, { rows: [{ org: "globex", entity_id: "G-1" }, { org: "nope", entity_id: "N-1" }] });
    envelope(bad, 404, "BIFROST_NOT_FOUND");
    expect(bad.json().details).toMatchObject({ path: "rows[1].org", row: 1 });
    expect((await h.call("GET", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform)).statusCode).toBe(404);
    const dup = await h.call("POST", "/api/integrations/HaloPSA/mappings/bulk", h.keys.platform, { rows: [{ org: "globex" }, { org: "globex" }] });
    envelope(dup, 422, "BIFROST_VALIDATION");
    const ok = await h.call("POST", "/api/integrations/HaloPSA/mappings/bulk", h.keys.platform, { rows: [{ org: "globex", entity_id: "G-1", entity_name: "Globex" }] });
    expect(ok.json()).toMatchObject({ created: 1 });
    envelope(await h.call("POST", "/api/integrations/HaloPSA/mappings/bulk", h.keys.acmeAdmin, { rows: [{ org: "globex", entity_id: "G-2" }] }), 404, "BIFROST_NOT_FOUND");
  });

  it("serves the console at / with a strict CSP (no inline script), and /api 404s stay JSON", async () => {
    const res = await h.app.inject({ method: "GET", url: "/" });
    if (res.statusCode === 503) {
      expect(res.body).toMatch(/npm run build/);
      return;
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(String(res.headers["content-security-policy"])).toMatch(/script-src 'self'/);
    expect(res.body).not.toMatch(/<script>(?!<\/script>)/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(res.body)?.[1];
    expect(asset).toBeDefined();
    const js = await h.app.inject({ method: "GET", url: asset! });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    envelope(await h.app.inject({ method: "GET", url: "/assets/../../package.json" }), 404, "BIFROST_NOT_FOUND");
    envelope(await h.app.inject({ method: "GET", url: "/api/nope" }), 404, "BIFROST_NOT_FOUND");
  });
});
