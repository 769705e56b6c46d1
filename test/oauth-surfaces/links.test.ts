/**
 * Connect links over HTTP against a real oidc-provider: create (platform / org admin), the public page
 * (names only, no secrets), one use end to end with entity capture, reuse / expiry / revocation (410),
 * two concurrent clicks (one flow), and the token kept out of logs, events and list views.
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createApp } from "../../src/server/index.js";
import { createIntegration } from "../../src/services/integrations.js";
import { getMapping } from "../../src/services/mappings.js";
import { BACKENDS } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";
import { envelope, type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "../server/harness.js";

for (const backend of BACKENDS) {
  describe(`connect links (${backend.name})`, () => {
    let as: AuthServer;
    let h: Harness;
    let app: FastifyInstance;
    let offsetMs = 0;
    const logLines: string[] = [];
    const tokens: string[] = [];

    const call = (method: string, url: string, key: string | null, body?: unknown): Promise<LightMyRequestResponse> =>
      app.inject({
        method: method as "GET",
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    /** What a browser does with the page's form: POST, empty urlencoded body. */
    const click = (path: string) => app.inject({ method: "POST", url: path, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "" });
    const create = async (key: string, body: Record<string, unknown>) => {
      const res = await call("POST", "/api/integrations/HaloPSA/oauth/links", key, body);
      expect(res.statusCode, res.body).toBe(201);
      const link = res.json() as { id: string; url: string; expires_at: string; org: string; status: string };
      const path = new URL(link.url).pathname;
      tokens.push(path.slice("/connect/".length));
      return { ...link, path };
    };
    /** Page → button → provider consent → callback (with the provider's extra `realmId`). */
    const useLink = async (path: string, realmId: string) => {
      const started = await click(path);
      expect(started.statusCode, started.body).toBe(303);
      const cb = await driveAuthorization(started.headers.location as string);
      cb.searchParams.set("realmId", realmId);
      return app.inject({ method: "GET", url: `/api/oauth/callback/HaloPSA?${cb.searchParams.toString()}` });
    };

    beforeAll(async () => {
      as = await startAuthServer({ integrations: ["HaloPSA"] });
      h = await setup(backend, { oauth: TEST_OAUTH });
      const destination = new Writable({
        write(chunk: Buffer, _enc, cb) {
          logLines.push(chunk.toString());
          cb();
        },
      });
      const clock = { now: () => new Date(Date.now() + offsetMs).toISOString(), id: () => randomUUID() };
      app = await createApp({ bifrost: { ...h.bf, clock }, oauth: TEST_OAUTH, logger: createLogger({ level: "info", destination }) });
      const put = await call("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, {
        flow: "authorization_code",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        issuer: as.issuer,
        scopes: ["api:read", "offline_access"],
        entity_id_source: { type: "url_param", key: "realmId" },
      });
      expect(put.statusCode, put.body).toBe(201);
    });
    afterAll(async () => {
      await app?.close();
      await h?.close();
      await as?.close();
    });

    it("create: needs a key and an admin role; org admins only for their own org; bad expiry is a coded error", async () => {
      envelope(await call("POST", "/api/integrations/HaloPSA/oauth/links", null, { org: "globex" }), 401, "BIFROST_UNAUTHENTICATED");
      envelope(await call("POST", "/api/integrations/HaloPSA/oauth/links", h.keys.globexWorkflow, {}), 403, "BIFROST_FORBIDDEN");
      // The attack: acme's admin asks for a link that would connect globex.
      const attack = await call("POST", "/api/integrations/HaloPSA/oauth/links", h.keys.acmeAdmin, { org: "globex" });
      expect(attack.statusCode).toBe(404);
      const globexLinks = await call("GET", "/api/integrations/HaloPSA/oauth/links?org=globex", h.keys.platform);
      expect(globexLinks.json().links).toEqual([]);
      // Positive control: the same key for its own org.
      const own = await create(h.keys.acmeAdmin, {});
      expect(own).toMatchObject({ org: "acme", status: "active" });
      expect(own.url.startsWith(`${TEST_OAUTH.publicUrl}/connect/`)).toBe(true);
      const days = (Date.parse(own.expires_at) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);
      envelope(await call("POST", "/api/integrations/HaloPSA/oauth/links", h.keys.platform, {}), 422, "BIFROST_VALIDATION");
      for (const expires of ["7 days", "0d", "31d", "1w", "-1h"]) {
        envelope(await call("POST", "/api/integrations/HaloPSA/oauth/links", h.keys.platform, { org: "globex", expires }), 422, "BIFROST_CONNECT_LINK_EXPIRES_INVALID");
      }
      expect((await call("GET", "/api/integrations/HaloPSA/oauth/links?org=globex", h.keys.platform)).json().links).toEqual([]);
    });

    it("the page shows the integration and organization names and nothing else (no config, no secrets, no ids)", async () => {
      const link = await create(h.keys.platform, { org: "acme", expires: "1h" });
      const page = await app.inject({ method: "GET", url: link.path });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.headers["content-security-policy"]).toMatch(/default-src 'none'.*script-src 'none'/);
      expect(page.body).toContain("HaloPSA");
      expect(page.body).toContain("Acme");
      expect(page.body).toContain('<form method="post">');
      expect(page.body).not.toMatch(/<script|<img|<iframe/);
      const acme = (await h.bf.store.getOrgBySlug("acme"))!;
      for (const leak of [SECRET_DEFAULT, SECRET_ACME, CLIENT_SECRET, CLIENT_ID, "halo.example.com", "T-1", "Acme Ltd", acme.id, link.id, as.issuer, "api:read"]) {
        expect(page.body, leak).not.toContain(leak);
      }
      // A GET never consumes the link (mail scanners prefetch URLs).
      expect((await app.inject({ method: "GET", url: link.path })).statusCode).toBe(200);
    });

    it("an org admin's link connects once; url_param entity capture is not taken from it (as for the org admin's own flows)", async () => {
      const link = await create(h.keys.globexAdmin, { expires: "2h" });
      expect(link.org).toBe("globex");
      const done = await useLink(link.path, "REALM-ORGADMIN");
      expect(done.statusCode, done.body).toBe(200);
      expect(done.body).toContain("Connected");
      const status = await call("GET", "/api/integrations/HaloPSA/oauth/status?org=globex", h.keys.platform);
      expect(status.json().connections[0]).toMatchObject({ org: "globex", state: "connected" });
      expect((await getMapping(h.bf, "HaloPSA", "globex"))?.entityId ?? null).toBeNull();
    });

    it("a platform admin's link: used once end to end (token at the right org, entity captured), then 410 on reuse", async () => {
      await call("DELETE", "/api/integrations/HaloPSA/oauth/connection?org=globex", h.keys.platform);
      const link = await create(h.keys.platform, { org: "globex", expires: "30m" });
      const done = await useLink(link.path, "REALM-42");
      expect(done.statusCode, done.body).toBe(200);
      expect((await getMapping(h.bf, "HaloPSA", "globex"))?.entityId).toBe("REALM-42");
      const status = await call("GET", "/api/oauth/status", h.keys.platform);
      const rows = status.json().connections as Array<{ org: string | null; state: string }>;
      expect(rows.find((r) => r.org === "globex")?.state).toBe("connected");
      expect(rows.find((r) => r.org === "acme")?.state ?? "not connected").not.toBe("connected");

      const again = await app.inject({ method: "GET", url: link.path });
      expect(again.statusCode).toBe(410);
      expect(again.body).toContain("already used");
      expect(again.body).toContain("BIFROST_CONNECT_LINK_GONE");
      expect((await click(link.path)).statusCode).toBe(410);
      const listed = (await call("GET", "/api/integrations/HaloPSA/oauth/links?org=globex", h.keys.platform)).json().links as Array<{ id: string; status: string }>;
      expect(listed.find((l) => l.id === link.id)?.status).toBe("used");
    });

    it("a provider that cannot be reached does not burn the link (error page, the link stays active)", async () => {
      await createIntegration(h.bf, { name: "Down" });
      const put = await call("PUT", "/api/integrations/Down/oauth", h.keys.platform, { flow: "authorization_code", client_id: "c", client_secret: "down-secret-PLAIN", issuer: "http://127.0.0.1:9" });
      expect(put.statusCode, put.body).toBe(201);
      const res = await call("POST", "/api/integrations/Down/oauth/links", h.keys.platform, { org: "acme" });
      expect(res.statusCode, res.body).toBe(201);
      const { id, url } = res.json() as { id: string; url: string };
      const path = new URL(url).pathname;
      tokens.push(path.slice("/connect/".length));
      const failed = await click(path);
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(failed.headers["content-type"]).toMatch(/^text\/html/);
      expect(failed.body).not.toContain("down-secret-PLAIN");
      const listed = (await call("GET", "/api/integrations/Down/oauth/links", h.keys.platform)).json().links as Array<{ id: string; status: string }>;
      expect(listed.find((l) => l.id === id)?.status).toBe("active");
      expect((await app.inject({ method: "GET", url: path })).statusCode).toBe(200);
    });

    it("only the connect page accepts a form body: other routes still answer 415 to one", async () => {
      const form = await app.inject({ method: "POST", url: "/api/integrations/HaloPSA/oauth/links", headers: { authorization: `Bearer ${h.keys.platform}`, "content-type": "application/x-www-form-urlencoded" }, payload: "org=acme" });
      envelope(form, 415, "BIFROST_UNSUPPORTED_MEDIA_TYPE");
      const session = await app.inject({ method: "POST", url: "/api/session", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "key=x" });
      expect(session.statusCode).toBe(415);
    });

    it("two concurrent clicks start exactly one flow", async () => {
      const link = await create(h.keys.platform, { org: "acme", expires: "1h" });
      const results = await Promise.all([click(link.path), click(link.path), click(link.path)]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([303, 410, 410]);
    });

    it("expired (410, link.expired recorded once) with a controlled clock; revoked (410); unknown (404)", async () => {
      const link = await create(h.keys.platform, { org: "acme", expires: "1h" });
      offsetMs = 2 * 3600_000;
      try {
        const page = await app.inject({ method: "GET", url: link.path });
        expect(page.statusCode).toBe(410);
        expect(page.body).toContain("expired");
        expect((await click(link.path)).statusCode).toBe(410);
      } finally {
        offsetMs = 0;
      }
      const expired = (await call("GET", "/api/events?type=link.expired", h.keys.platform)).json().events as Array<{ payload: { link_id: string } }>;
      expect(expired.filter((e) => e.payload.link_id === link.id)).toHaveLength(1);

      const other = await create(h.keys.acmeAdmin, { expires: "1h" });
      // Another org's admin cannot revoke it (404, like a missing link); acme's can.
      envelope(await call("DELETE", `/api/oauth/links/${other.id}`, h.keys.globexAdmin), 404, "BIFROST_CONNECT_LINK_NOT_FOUND");
      expect((await app.inject({ method: "GET", url: other.path })).statusCode).toBe(200);
      const revoked = await call("DELETE", `/api/oauth/links/${other.id}`, h.keys.acmeAdmin);
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(revoked.json().link.status).toBe("revoked");
      const gone = await app.inject({ method: "GET", url: other.path });
      expect(gone.statusCode).toBe(410);
      expect(gone.body).toContain("withdrawn");
      expect((await click(other.path)).statusCode).toBe(410);
      envelope(await call("DELETE", `/api/oauth/links/${other.id}`, h.keys.acmeAdmin), 410, "BIFROST_CONNECT_LINK_GONE");

      const unknown = await app.inject({ method: "GET", url: `/connect/${"A".repeat(43)}` });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.body).toContain("does not exist");
      expect((await app.inject({ method: "GET", url: "/connect/%3Cscript%3E" })).statusCode).toBe(404);
    });

    it("events record link.created / used / expired / revoked by link id; the token appears in no event, list or log", async () => {
      const events = (await call("GET", "/api/events", h.keys.platform)).json().events as Array<{ type: string; payload: Record<string, unknown> }>;
      const types = new Set(events.map((e) => e.type));
      for (const t of ["link.created", "link.used", "link.expired", "link.revoked"]) expect(types.has(t), t).toBe(true);
      expect(events.filter((e) => e.type.startsWith("link.")).every((e) => typeof e.payload.link_id === "string")).toBe(true);
      const lists = (await call("GET", "/api/integrations/HaloPSA/oauth/links", h.keys.platform)).body;
      const logs = logLines.join("");
      // Positive control: the log did record the requests.
      expect(logs).toContain("/api/integrations/HaloPSA/oauth/links");
      expect(tokens.length).toBeGreaterThan(5);
      // The audit trail names who created and revoked links, by link id, and never holds a token.
      const audit = (await call("GET", "/api/audit?limit=200", h.keys.platform)).json().entries as Array<{ action: string; actor: { kind: string }; target: { integration: string | null; org: string | null; keys: string[] } }>;
      const created = audit.filter((e) => e.action === "link.create");
      expect(created.length).toBeGreaterThan(3);
      expect(created.every((e) => ["HaloPSA", "Down"].includes(e.target.integration ?? "") && e.target.keys.length === 1)).toBe(true);
      expect(created.some((e) => e.actor.kind === "api_key")).toBe(true);
      expect(audit.some((e) => e.action === "link.revoke")).toBe(true);
      for (const t of tokens) {
        expect(JSON.stringify(events)).not.toContain(t);
        expect(lists).not.toContain(t);
        expect(logs).not.toContain(t);
        expect(JSON.stringify(audit)).not.toContain(t);
      }
    });
  });
}
