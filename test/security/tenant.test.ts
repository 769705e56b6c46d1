/**
 * Tenant selection and fingerprints (DESIGN.md §9.3, §9.4), as attacks through the HTTP API with real
 * keys, on SQLite and PostgreSQL. A loopback token endpoint records every URL it is asked for, so
 * "no token was minted for that tenant" is checked on the wire, after a positive control proved the
 * legitimate path does reach it.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { applyText } from "../../src/services/apply.js";
import { exportDocument, formatExport } from "../../src/services/export.js";
import { envelope, type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "../server/harness.js";
import { BACKENDS } from "../helpers/backends.js";

// Token endpoints on 127.0.0.1 over plain http (the documented test/dev switch).
process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";

interface Recorder {
  base: string;
  /** Request paths (with query) in order. */
  urls: string[];
  /** Extra fields of the next token responses (e.g. a tenant id the provider reports). */
  extra: Record<string, unknown>;
  close(): Promise<void>;
}

let tokenSeq = 0;

/** A token endpoint that records the URL (and so the tenant) of every request and answers a token. */
async function startRecorder(): Promise<Recorder> {
  const server = http.createServer();
  const rec: Recorder = {
    base: "",
    urls: [],
    extra: {},
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("request", (req, res) => {
    rec.urls.push(req.url ?? "/");
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ access_token: `AT-${++tokenSeq}-${req.url}`, token_type: "Bearer", expires_in: 3600, ...rec.extra }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  rec.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return rec;
}

for (const backend of BACKENDS) {
  describe(`tenant selection (${backend.name})`, () => {
    let h: Harness;
    let rec: Recorder;
    let victimAdmin = "";
    const api = (method: string, url: string, key: string | null, body?: unknown) => h.call(method, url, key, body);
    const mappingOf = async (integration: string, org: string) => (await api("GET", `/api/integrations/${integration}/mappings/${org}`, h.keys.platform)).json() as { entity_id: string | null; config: Record<string, unknown> };
    const resolved = async (integration: string, key: string) => {
      const res = await api("GET", `/api/integrations/${integration}/resolved`, key);
      expect(res.statusCode).toBe(200);
      return res.json() as { entity_id: string | null; config: Record<string, unknown>; oauth: { access_token: string } | null };
    };

    beforeAll(async () => {
      rec = await startRecorder();
      h = await setup(backend, { oauth: { allowHttpLoopback: true, publicUrl: "http://127.0.0.1:3999" } });
      // A third customer, mapped by the platform to its own tenant; the attacker is acme's org admin.
      expect((await api("POST", "/api/organizations", h.keys.platform, { slug: "victim" })).statusCode).toBe(201);
      const vk = await api("POST", "/api/keys", h.keys.platform, { role: "org_admin", org: "victim" });
      victimAdmin = (vk.json() as { key: string }).key;
      // Crm: no OAuth, org admins pick their entity id. Graph: client credentials with {entity_id} in the token URL.
      expect((await api("POST", "/api/integrations", h.keys.platform, { name: "Crm", config_schema: [{ key: "note", type: "string" }] })).statusCode).toBe(201);
      const graph = await api("POST", "/api/integrations", h.keys.platform, {
        name: "Graph",
        config_schema: [
          { key: "region", type: "string", org_override: false },
          { key: "tenant_secret", type: "secret", org_override: false },
          { key: "note", type: "string" },
        ],
        defaults: { region: "us" },
      });
      expect(graph.statusCode).toBe(201);
      await setOAuthProvider(h.bf, "Graph", { flow: "client_credentials", client_id: "graph-client", client_secret: "graph-client-secret-1", token_url: `${rec.base}/{entity_id}/oauth2/token` });
      for (const [org, tenant] of [["victim", "victim-tenant"], ["acme", "acme-tenant"]] as const) {
        expect((await api("PUT", `/api/integrations/Graph/mappings/${org}`, h.keys.platform, { entity_id: tenant })).statusCode).toBe(201);
      }
    });
    afterAll(async () => {
      await h?.close();
      await rec?.close();
    });

    // ---------------------------------------------------------------------------------------------
    // Normalized uniqueness

    describe("entity ids are unique on a normalized form", () => {
      beforeAll(async () => {
        expect((await api("PUT", "/api/integrations/Crm/mappings/acme", h.keys.acmeAdmin, { entity_id: "Tenant-Café" })).statusCode).toBe(201);
      });

      const variants: Array<[string, string]> = [
        ["upper case", "TENANT-CAFÉ"],
        ["lower case", "tenant-café"],
        ["trailing dot", "tenant-café."],
        ["NFD spelling", "Tenant-Cafe\u0301"],
        ["NFD, upper case and trailing dot", "TENANT-CAFE\u0301."],
      ];
      for (const role of ["org_admin", "platform_admin"] as const) {
        it.each(variants)(`${role}: the %s variant of another org's entity id → 409 without naming that org`, async (_what, value) => {
          const key = role === "org_admin" ? h.keys.globexAdmin : h.keys.platform;
          const res = await api("PUT", "/api/integrations/Crm/mappings/globex", key, { entity_id: value });
          const body = envelope(res, 409, "BIFROST_CONFLICT");
          expect(body.message).toBe("This entity id is already mapped to another organization for this integration.");
          expect(res.body).not.toContain("acme");
          expect((await api("GET", "/api/integrations/Crm/mappings/globex", h.keys.platform)).statusCode).toBe(404);
        });
      }

      const padded: Array<[string, string]> = [
        ["a leading space", " tenant-x"],
        ["a trailing space", "tenant-x "],
        ["a tab", "\ttenant-x"],
        ["a trailing no-break space", "tenant-x\u00a0"],
        ["a leading ideographic space", "\u3000tenant-x"],
      ];
      for (const role of ["org_admin", "platform_admin"] as const) {
        it.each(padded)(`${role}: an entity id with %s is refused (422 naming entity_id), not trimmed`, async (_what, value) => {
          const key = role === "org_admin" ? h.keys.globexAdmin : h.keys.platform;
          const res = await api("PUT", "/api/integrations/Crm/mappings/globex", key, { entity_id: value });
          const body = envelope(res, 422, "BIFROST_VALIDATION");
          expect(body.message).toMatch(/^entity_id .*leading or trailing whitespace; remove it/);
          expect(body.details).toMatchObject({ path: "entity_id" });
          expect((await api("GET", "/api/integrations/Crm/mappings/globex", h.keys.platform)).statusCode).toBe(404);
        });
      }

      it("internal spaces are allowed, and the id is stored and handed to workflows as typed", async () => {
        const res = await api("PUT", "/api/integrations/Crm/mappings/globex", h.keys.globexAdmin, { entity_id: "Globex Holdings Tenant" });
        expect(res.statusCode).toBe(201);
        expect((await mappingOf("Crm", "globex")).entity_id).toBe("Globex Holdings Tenant");
        expect((await resolved("Crm", h.keys.globexWorkflow)).entity_id).toBe("Globex Holdings Tenant");
        expect((await resolved("Crm", h.keys.acmeWorkflow)).entity_id).toBe("Tenant-Café");
        // The org's own re-spelling is allowed (same key, its own mapping).
        expect((await api("PUT", "/api/integrations/Crm/mappings/globex", h.keys.globexAdmin, { entity_id: "GLOBEX HOLDINGS TENANT." })).statusCode).toBe(200);
        expect((await mappingOf("Crm", "globex")).entity_id).toBe("GLOBEX HOLDINGS TENANT.");
      });

      it("attack: a zero-width or bidi-control character cannot make a look-alike of a taken id", async () => {
        for (const value of ["tenant-café\u200b", "\u200btenant-café", "tenant\u202e-café", "tenant-caf\u00e9\u2060"]) {
          const body = envelope(await api("PUT", "/api/integrations/Crm/mappings/victim", victimAdmin, { entity_id: value }), 422, "BIFROST_VALIDATION");
          expect(body.details).toMatchObject({ path: "entity_id" });
        }
        expect((await api("GET", "/api/integrations/Crm/mappings/victim", h.keys.platform)).statusCode).toBe(404);
      });

      it("yaml apply goes through the same rules: a padded id is refused, another org's id in another spelling collides", async () => {
        const file = (entity: string) => `integrations:\n  - name: Crm\n    mappings:\n      - { org: victim, entity_id: ${JSON.stringify(entity)} }\n`;
        const padded = await applyText(h.bf, file("tenant-y "), "bifrost.yaml", { env: {} }).catch((e: unknown) => e);
        expect(padded).toMatchObject({ message: expect.stringMatching(/entity_id .*leading or trailing whitespace/) });
        const clash = await applyText(h.bf, file("TENANT-CAFE\u0301."), "bifrost.yaml", { env: {} }).catch((e: unknown) => e);
        expect(clash).toMatchObject({ message: expect.stringContaining("This entity id is already mapped to another organization") });
        expect(JSON.stringify(clash)).not.toContain("acme");
        expect((await api("GET", "/api/integrations/Crm/mappings/victim", h.keys.platform)).statusCode).toBe(404);
      });

      it("attack: two rows of one bulk request that differ only in case → 409, nothing saved", async () => {
        const res = await api("POST", "/api/integrations/Crm/mappings/bulk", h.keys.platform, {
          rows: [
            { org: "victim", entity_id: "Shared-Tenant" },
            { org: "globex", entity_id: "shared-tenant." },
          ],
        });
        const body = envelope(res, 409, "BIFROST_CONFLICT");
        expect(body.message).toMatch(/^Row 2 \(globex\)/);
        expect((await api("GET", "/api/integrations/Crm/mappings/victim", h.keys.platform)).statusCode).toBe(404);
        expect((await mappingOf("Crm", "globex")).entity_id).toBe("GLOBEX HOLDINGS TENANT.");
      });
    });

    // ---------------------------------------------------------------------------------------------
    // Who may pick the tenant

    describe("an org admin cannot point its mapping at another customer's tenant", () => {
      it("positive control: acme's workflow gets a token minted for acme's own tenant", async () => {
        const r = await resolved("Graph", h.keys.acmeWorkflow);
        expect(r.entity_id).toBe("acme-tenant");
        expect(r.oauth?.access_token).toMatch(/^AT-/);
        expect(rec.urls).toEqual(["/acme-tenant/oauth2/token"]);
      });

      it.each([
        ["the victim's tenant", "victim-tenant"],
        ["a case variant of it", "VICTIM-TENANT"],
        ["an unmapped customer's tenant (403, not 409: no probing which tenants are taken)", "other-customer-tenant"],
      ])("attack: PUT mapping with %s → 403 naming the reason; the token endpoint never hears of it", async (_what, tenant) => {
        const before = rec.urls.length;
        const res = await api("PUT", "/api/integrations/Graph/mappings/acme", h.keys.acmeAdmin, { entity_id: tenant });
        const body = envelope(res, 403, "BIFROST_FORBIDDEN");
        expect(body.message).toMatch(/Only a platform admin may set or change the entity id .*\{entity_id\}/);
        expect(body.details).toMatchObject({ reason: "entity_id_platform_only" });
        expect((await mappingOf("Graph", "acme")).entity_id).toBe("acme-tenant");
        const r = await resolved("Graph", h.keys.acmeWorkflow);
        expect(r.entity_id).toBe("acme-tenant");
        expect(rec.urls.slice(before).join("\n")).not.toMatch(new RegExp(tenant, "i"));
        expect(rec.urls.join("\n")).not.toMatch(/victim-tenant|other-customer/i);
      });

      it("attack: the same through the console's bulk route → 403 on that row, nothing saved", async () => {
        const res = await api("POST", "/api/integrations/Graph/mappings/bulk", h.keys.acmeAdmin, { rows: [{ org: "acme", entity_id: "victim-tenant" }] });
        const body = envelope(res, 403, "BIFROST_FORBIDDEN");
        expect(body.details).toMatchObject({ path: "rows[0].entity_id", reason: "entity_id_platform_only" });
        expect((await mappingOf("Graph", "acme")).entity_id).toBe("acme-tenant");
      });

      it("attack: clearing the entity id or deleting the mapping (to fall back to url_defaults or a new capture) → 403", async () => {
        envelope(await api("PUT", "/api/integrations/Graph/mappings/acme", h.keys.acmeAdmin, { entity_id: null }), 403, "BIFROST_FORBIDDEN");
        envelope(await api("DELETE", "/api/integrations/Graph/mappings/acme", h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
        expect((await mappingOf("Graph", "acme")).entity_id).toBe("acme-tenant");
      });

      it("an org admin still manages the rest of its mapping (entity name, a new mapping without an entity id)", async () => {
        expect((await api("PUT", "/api/integrations/Graph/mappings/acme", h.keys.acmeAdmin, { entity_id: "acme-tenant", entity_name: "Acme (Graph)" })).statusCode).toBe(200);
        expect((await api("PUT", "/api/integrations/Graph/mappings/globex", h.keys.globexAdmin, { entity_name: "Globex" })).statusCode).toBe(201);
        envelope(await api("PUT", "/api/integrations/Graph/mappings/globex", h.keys.globexAdmin, { entity_id: "globex-tenant" }), 403, "BIFROST_FORBIDDEN");
      });

      it("positive control: a platform admin changes acme's tenant; the next token is minted for the new tenant, the old one is not reused", async () => {
        const old = (await resolved("Graph", h.keys.acmeWorkflow)).oauth?.access_token;
        const res = await api("PUT", "/api/integrations/Graph/mappings/acme", h.keys.platform, { entity_id: "acme-tenant-2" });
        expect(res.statusCode).toBe(200);
        const r = await resolved("Graph", h.keys.acmeWorkflow);
        expect(r.entity_id).toBe("acme-tenant-2");
        expect(r.oauth?.access_token).not.toBe(old);
        expect(rec.urls.at(-1)).toBe("/acme-tenant-2/oauth2/token");
        expect(rec.urls.join("\n")).not.toMatch(/victim-tenant|other-customer/i);
      });

      it("attack: an org admin's flow cannot capture an entity id from the callback URL (the browser relays it); a platform admin's can", async () => {
        await setOAuthProvider(h.bf, "Crm", {
          flow: "authorization_code",
          client_id: "crm-client",
          client_secret: "crm-client-secret",
          authorization_url: `${rec.base}/authorize`,
          token_url: `${rec.base}/{entity_id}/token`,
          url_defaults: { entity_id: "common" },
          entity_id_source: { type: "url_param", key: "tenant" },
        });
        // victim has no Crm mapping yet; its org admin starts the flow and tampers with the callback URL.
        const start = await api("POST", "/api/integrations/Crm/oauth/authorize", victimAdmin, { org: "victim" });
        expect(start.statusCode).toBe(200);
        const state = new URL((start.json() as { authorization_url: string }).authorization_url).searchParams.get("state")!;
        const cb = await api("GET", `/api/oauth/callback/Crm?state=${state}&code=c1&tenant=someone-elses-tenant`, null);
        expect(cb.statusCode).toBe(200);
        expect((await mappingOf("Crm", "victim")).entity_id).toBeNull();
        expect(rec.urls.at(-1)).toBe("/common/token");
        // Positive control: the same flow started by a platform admin takes the provider's tenant from the URL.
        const start2 = await api("POST", "/api/integrations/Crm/oauth/authorize", h.keys.platform, { org: "victim" });
        const state2 = new URL((start2.json() as { authorization_url: string }).authorization_url).searchParams.get("state")!;
        expect((await api("GET", `/api/oauth/callback/Crm?state=${state2}&code=c1b&tenant=victim-own-tenant`, null)).statusCode).toBe(200);
        expect((await mappingOf("Crm", "victim")).entity_id).toBe("victim-own-tenant");
      });

      it("attack: an entity id the provider reports that is another org's (any spelling) → 409, nothing stored", async () => {
        await setOAuthProvider(h.bf, "Crm", {
          flow: "authorization_code",
          client_id: "crm-client",
          client_secret: { set: true, fingerprint: "keep" },
          authorization_url: `${rec.base}/authorize`,
          token_url: `${rec.base}/{entity_id}/token`,
          url_defaults: { entity_id: "common" },
          entity_id_source: { type: "token_field", key: "tenant_id" },
        });
        await api("DELETE", "/api/integrations/Crm/mappings/victim", h.keys.platform);
        // The provider reports globex's tenant in another spelling (case, trailing dot).
        rec.extra = { tenant_id: "globex.holdings.tenant." };
        expect((await api("PUT", "/api/integrations/Crm/mappings/globex", h.keys.platform, { entity_id: "Globex.Holdings.Tenant" })).statusCode).toBe(200);
        const start = await api("POST", "/api/integrations/Crm/oauth/authorize", victimAdmin, { org: "victim" });
        const state = new URL((start.json() as { authorization_url: string }).authorization_url).searchParams.get("state")!;
        const cb = await api("GET", `/api/oauth/callback/Crm?state=${state}&code=c2`, null);
        expect(cb.statusCode).toBe(409);
        expect(cb.body).not.toContain("globex");
        expect((await api("GET", "/api/integrations/Crm/mappings/victim", h.keys.platform)).statusCode).toBe(404);
        const crm = (await h.bf.store.getIntegrationByName("Crm"))!;
        const victim = (await h.bf.store.getOrgBySlug("victim"))!;
        expect(await h.bf.store.listOAuthTokens({ integrationId: crm.id, orgId: victim.id })).toEqual([]);
        // Positive control: a tenant nobody has is captured for the org admin's flow (the provider's own answer).
        rec.extra = { tenant_id: "victim-crm-tenant" };
        const start2 = await api("POST", "/api/integrations/Crm/oauth/authorize", victimAdmin, { org: "victim" });
        const state2 = new URL((start2.json() as { authorization_url: string }).authorization_url).searchParams.get("state")!;
        expect((await api("GET", `/api/oauth/callback/Crm?state=${state2}&code=c3`, null)).statusCode).toBe(200);
        expect((await mappingOf("Crm", "victim")).entity_id).toBe("victim-crm-tenant");
        rec.extra = {};
      });
    });

    // ---------------------------------------------------------------------------------------------
    // org_override: false

    describe("org_override: false keys", () => {
      it("the schema shows org_override: false (API), and a non-boolean is refused", async () => {
        const schema = (await api("GET", "/api/integrations/Graph/schema", h.keys.acmeAdmin)).json() as { config_schema: Array<Record<string, unknown>> };
        expect(schema.config_schema).toEqual([
          { key: "region", type: "string", required: false, org_override: false },
          { key: "tenant_secret", type: "secret", required: false, org_override: false },
          { key: "note", type: "string", required: false },
        ]);
        const bad = await api("PUT", "/api/integrations/Crm/schema", h.keys.platform, { config_schema: [{ key: "note", type: "string", org_override: "no" }] });
        expect(bad.statusCode).toBe(422);
      });

      it("attack: an org admin writes (PATCH, PUT mapping config, delete) a locked key → 403 naming the key; nothing stored", async () => {
        for (const [method, url, body] of [
          ["PATCH", "/api/integrations/Graph/mappings/acme/config", { region: "eu" }],
          ["PATCH", "/api/integrations/Graph/mappings/acme/config", { region: null }],
          ["PUT", "/api/integrations/Graph/mappings/acme", { config: { region: "eu", note: "x" } }],
        ] as const) {
          const res = await api(method, url, h.keys.acmeAdmin, body);
          const env = envelope(res, 403, "BIFROST_FORBIDDEN");
          expect(env.message).toMatch(/Only a platform admin may set per-organization values of "region".*org_override: false/);
          // …and says what to do instead.
          expect(env.message).toContain("ask a platform admin to set it (`bifrost config set Graph KEY=VALUE --org SLUG`)");
          expect(env.details).toMatchObject({ reason: "org_override_false", keys: ["region"] });
        }
        expect((await mappingOf("Graph", "acme")).config).toEqual({});
        expect((await resolved("Graph", h.keys.acmeWorkflow)).config.region).toBe("us");
      });

      it("positive control: a platform admin sets the per-org value and it resolves; unlocked keys stay the org admin's", async () => {
        expect((await api("PATCH", "/api/integrations/Graph/mappings/acme/config", h.keys.platform, { region: "eu", tenant_secret: "platform-set-secret-for-acme" })).statusCode).toBe(200);
        expect((await api("PATCH", "/api/integrations/Graph/mappings/acme/config", h.keys.acmeAdmin, { note: "ours" })).statusCode).toBe(200);
        const r = await resolved("Graph", h.keys.acmeWorkflow);
        expect(r.config).toMatchObject({ region: "eu", note: "ours", tenant_secret: "platform-set-secret-for-acme" });
      });

      it("attack: an org admin guesses the platform-set secret of a locked key → 403 whether right or wrong (no 'unchanged' oracle)", async () => {
        for (const guess of ["platform-set-secret-for-acme", "wrong-guess"]) {
          const res = await api("PATCH", "/api/integrations/Graph/mappings/acme/config", h.keys.acmeAdmin, { tenant_secret: guess });
          envelope(res, 403, "BIFROST_FORBIDDEN");
          expect(res.body).not.toMatch(/unchanged/);
        }
      });

      it("attack: an org admin deletes its mapping to drop a locked override → 403 naming the key", async () => {
        const schema = [
          { key: "base_url", type: "string", required: true },
          { key: "timeout", type: "int", org_override: false },
          { key: "api_secret", type: "secret" },
          { key: "extra", type: "json" },
        ];
        expect((await api("PUT", "/api/integrations/HaloPSA/schema", h.keys.platform, { config_schema: schema })).statusCode).toBe(200);
        const res = await api("DELETE", "/api/integrations/HaloPSA/mappings/acme", h.keys.acmeAdmin);
        expect(envelope(res, 403, "BIFROST_FORBIDDEN").message).toMatch(/"timeout".*org_override: false/);
        expect((await mappingOf("HaloPSA", "acme")).config).toMatchObject({ timeout: 60 });
      });

      it("export carries org_override: false and applying the export changes nothing", async () => {
        const text = formatExport(await exportDocument(h.bf), "yaml");
        expect(text).toContain("org_override: false");
        const report = await applyText(h.bf, text, "export.yaml", { env: {} });
        expect(report.changed).toBe(false);
        const schema = (await api("GET", "/api/integrations/Graph/schema", h.keys.platform)).json() as { config_schema: Array<Record<string, unknown>> };
        expect(schema.config_schema[0]).toMatchObject({ key: "region", org_override: false });
      });
    });

    // ---------------------------------------------------------------------------------------------
    // Fingerprints bound to their row

    describe("no fingerprint oracle", () => {
      const defaultFp = async () => ((await api("GET", "/api/integrations/HaloPSA", h.keys.acmeAdmin)).json() as { defaults: { api_secret: { fingerprint: string } } }).defaults.api_secret.fingerprint;
      const overrideFp = async (org: string, key: string) =>
        ((await api("GET", `/api/integrations/HaloPSA/mappings/${org}/config`, key)).json() as { config: { api_secret?: { fingerprint: string } } }).config.api_secret?.fingerprint;

      it("masked echo (the { set, fingerprint } view or the fingerprint alone) keeps the stored override", async () => {
        const fp = (await overrideFp("acme", h.keys.acmeAdmin))!;
        for (const echo of [{ set: true, fingerprint: fp }, fp]) {
          const res = await api("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { api_secret: echo });
          expect(res.statusCode).toBe(200);
          expect((res.json() as { changes: { unchanged: string[] } }).changes.unchanged).toEqual(["api_secret"]);
        }
        expect((await resolved("HaloPSA", h.keys.acmeWorkflow)).config.api_secret).toBe(SECRET_ACME);
      });

      it("attack: an org admin writes its guess of the default secret as its override; the fingerprints differ although the guess is right", async () => {
        const res = await api("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { api_secret: SECRET_DEFAULT });
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(SECRET_DEFAULT);
        expect((await resolved("HaloPSA", h.keys.acmeWorkflow)).config.api_secret).toBe(SECRET_DEFAULT); // the guess was right…
        const mine = await overrideFp("acme", h.keys.acmeAdmin);
        expect(mine).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
        expect(mine).not.toBe(await defaultFp()); // …and nothing says so
      });

      it("attack: two orgs holding the same value cannot tell from the fingerprints", async () => {
        expect((await api("PATCH", "/api/integrations/HaloPSA/mappings/globex/config", h.keys.globexAdmin, { api_secret: SECRET_DEFAULT })).statusCode).toBe(200);
        const a = await overrideFp("acme", h.keys.platform);
        const g = await overrideFp("globex", h.keys.globexAdmin);
        expect(new Set([a, g, await defaultFp()]).size).toBe(3);
      });

      it("attack: a default's fingerprint written as an org's override is stored as a new value, not as a pointer to the default", async () => {
        const fp = await defaultFp();
        const res = await api("PATCH", "/api/integrations/HaloPSA/mappings/globex/config", h.keys.globexAdmin, { api_secret: fp });
        expect(res.statusCode).toBe(200);
        expect((await resolved("HaloPSA", h.keys.globexWorkflow)).config.api_secret).toBe(fp);
        expect((await resolved("HaloPSA", h.keys.globexWorkflow)).config.api_secret).not.toBe(SECRET_DEFAULT);
      });

      it("the OAuth client secret's fingerprint is bound to its provider row; its masked echo keeps it", async () => {
        await setOAuthProvider(h.bf, "HaloPSA", { flow: "client_credentials", client_id: "halo", client_secret: "graph-client-secret-1", token_url: `${rec.base}/halo/token` });
        const halo = ((await api("GET", "/api/integrations/HaloPSA/oauth", h.keys.acmeAdmin)).json() as { oauth: { client_secret: { fingerprint: string } } }).oauth.client_secret;
        const graph = ((await api("GET", "/api/integrations/Graph/oauth", h.keys.acmeAdmin)).json() as { oauth: { client_secret: { fingerprint: string } } }).oauth.client_secret;
        expect(halo.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
        expect(halo.fingerprint).not.toBe(graph.fingerprint);
        const put = await api("PUT", "/api/integrations/HaloPSA/oauth", h.keys.platform, { flow: "client_credentials", client_id: "halo", client_secret: halo, token_url: `${rec.base}/halo/token` });
        expect(put.statusCode).toBe(200);
        expect((put.json() as { oauth: { client_secret: { fingerprint: string } } }).oauth.client_secret.fingerprint).toBe(halo.fingerprint);
      });

      it("export → apply keeps every secret (masked echo through yaml)", async () => {
        const before = formatExport(await exportDocument(h.bf), "yaml");
        expect(before).not.toContain(SECRET_DEFAULT);
        expect((await applyText(h.bf, before, "export.yaml", { env: {} })).changed).toBe(false);
        expect(formatExport(await exportDocument(h.bf), "yaml")).toBe(before);
        expect((await resolved("HaloPSA", h.keys.acmeWorkflow)).config.api_secret).toBe(SECRET_DEFAULT);
        const r = await api("GET", "/api/integrations/HaloPSA/resolved?org=acme", h.keys.platform);
        expect((r.json() as { config: { api_secret: string } }).config.api_secret).toBe(SECRET_DEFAULT);
      });
    });
  });
}
