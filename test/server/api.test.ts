import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { envelope, type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "./harness.js";

describe.each(BACKENDS)("HTTP API on $name", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("GET /healthz needs no key", async () => {
    const res = await h.call("GET", "/healthz", null);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  describe("authentication and the error envelope", () => {
    it("401 without a key, with a malformed key, with an unknown key and with a revoked key", async () => {
      envelope(await h.call("GET", "/api/integrations", null), 401, "BIFROST_UNAUTHENTICATED");
      const wrongScheme = await h.app.inject({ method: "GET", url: "/api/integrations", headers: { authorization: `Basic ${h.keys.platform}` } });
      envelope(wrongScheme, 401, "BIFROST_UNAUTHENTICATED");
      expect(wrongScheme.headers["www-authenticate"]).toMatch(/^Bearer/);
      envelope(await h.call("GET", "/api/integrations", "nope"), 401, "BIFROST_UNAUTHENTICATED");
      const forged = h.keys.platform.slice(0, -4) + "AAAA";
      envelope(await h.call("GET", "/api/integrations", forged), 401, "BIFROST_UNAUTHENTICATED");

      const created = (await h.call("POST", "/api/keys", h.keys.platform, { role: "workflow", org: "acme", name: "temp" })).json() as { key: string; api_key: { id: string } };
      expect((await h.call("GET", "/api/workflows", created.key)).statusCode).toBe(200);
      expect((await h.call("DELETE", `/api/keys/${created.api_key.id}`, h.keys.platform)).json()).toEqual({ revoked: true, id: created.api_key.id });
      envelope(await h.call("GET", "/api/workflows", created.key), 401, "BIFROST_UNAUTHENTICATED");
      envelope(await h.call("DELETE", `/api/keys/${created.api_key.id}`, h.keys.platform), 404, "BIFROST_NOT_FOUND");
    });

    it("403 for an action the role can never do, before the body is validated", async () => {
      envelope(await h.call("POST", "/api/integrations", h.keys.acmeWorkflow, { name: "X" }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("POST", "/api/integrations", h.keys.acmeAdmin, { not: "valid" }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("GET", "/api/integrations", h.keys.acmeWorkflow), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.acmeAdmin, { timeout: 1 }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("POST", "/api/keys", h.keys.acmeAdmin, { role: "platform_admin" }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("GET", "/api/keys", h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("POST", "/api/organizations", h.keys.acmeAdmin, { slug: "evil" }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("GET", "/api/integrations/HaloPSA/mappings/acme", h.keys.acmeWorkflow), 403, "BIFROST_FORBIDDEN");
    });

    it("unknown routes answer 404 in the envelope", async () => {
      envelope(await h.call("GET", "/api/nothing-here", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      envelope(await h.call("GET", "/nothing", null), 404, "BIFROST_NOT_FOUND");
    });

    it("malformed JSON is a 400 envelope that does not echo the body", async () => {
      const res = await h.call("POST", "/api/organizations", h.keys.platform, '{"slug": "x", "name": sk-LEAK-123');
      const e = envelope(res, 400, "BIFROST_BAD_REQUEST");
      expect(e.message).not.toContain("sk-LEAK");
    });

    it("a non-JSON content type is 415", async () => {
      const res = await h.app.inject({ method: "POST", url: "/api/organizations", headers: { authorization: `Bearer ${h.keys.platform}`, "content-type": "text/plain" }, payload: "slug=x" });
      envelope(res, 415, "BIFROST_UNSUPPORTED_MEDIA_TYPE");
    });

    it("422 for bad fields, naming the path", async () => {
      const e = envelope(await h.call("POST", "/api/integrations", h.keys.platform, { name: "Ok", config_schema: [{ key: "a", type: "nope" }] }), 422, "BIFROST_VALIDATION");
      expect(e.message).toContain("config_schema[0].type");
      expect(e.details?.path).toBe("config_schema[0].type");
      const extra = envelope(await h.call("POST", "/api/organizations", h.keys.platform, { slug: "ok-org", colour: "red" }), 422, "BIFROST_VALIDATION");
      expect(extra.message).toContain("colour");
    });

    it("a body larger than 2 MiB is 413 in the envelope", async () => {
      const res = await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { base_url: "x".repeat(3 * 1024 * 1024) });
      envelope(res, 413, "BIFROST_VALUE_TOO_LARGE");
    });
  });

  describe("organizations", () => {
    it("CRUD", async () => {
      const created = await h.call("POST", "/api/organizations", h.keys.platform, { slug: "initech", name: "Initech" });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ slug: "initech", name: "Initech" });
      expect(created.json()).toHaveProperty("created_at");
      envelope(await h.call("POST", "/api/organizations", h.keys.platform, { slug: "initech" }), 409, "BIFROST_CONFLICT");
      envelope(await h.call("POST", "/api/organizations", h.keys.platform, { slug: "Bad Slug" }), 422, "BIFROST_VALIDATION");
      const list = (await h.call("GET", "/api/organizations", h.keys.platform)).json() as { organizations: Array<{ slug: string }> };
      expect(list.organizations.map((o) => o.slug).sort()).toEqual(["acme", "globex", "initech"]);
      const patched = await h.call("PATCH", "/api/organizations/initech", h.keys.platform, { name: "Initech Corp" });
      expect(patched.json()).toMatchObject({ slug: "initech", name: "Initech Corp" });
      expect((await h.call("GET", "/api/organizations/initech", h.keys.platform)).json()).toMatchObject({ name: "Initech Corp" });
      expect((await h.call("DELETE", "/api/organizations/initech", h.keys.platform)).json()).toEqual({ deleted: true, org: "initech" });
      envelope(await h.call("GET", "/api/organizations/initech", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      // acme has a mapping: deleting it is refused.
      envelope(await h.call("DELETE", "/api/organizations/acme", h.keys.platform), 409, "BIFROST_CONFLICT");
    });

    it("org_admin sees only its own org; another org answers exactly like a missing one", async () => {
      const list = (await h.call("GET", "/api/organizations", h.keys.acmeAdmin)).json() as { organizations: Array<{ slug: string }> };
      expect(list.organizations.map((o) => o.slug)).toEqual(["acme"]);
      expect((await h.call("GET", "/api/organizations/acme", h.keys.acmeAdmin)).statusCode).toBe(200);
      const foreign = envelope(await h.call("GET", "/api/organizations/globex", h.keys.acmeAdmin), 404, "BIFROST_NOT_FOUND");
      const missing = envelope(await h.call("GET", "/api/organizations/globex-missing", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      expect(foreign.message).toBe(missing.message.replace("globex-missing", "globex"));
      expect(foreign.details).toEqual({ org: "globex" });
    });
  });

  describe("integrations", () => {
    it("CRUD with schema and defaults", async () => {
      const created = await h.call("POST", "/api/integrations", h.keys.platform, {
        name: "Graph",
        description: "Microsoft Graph",
        config_schema: [
          { key: "tenant", type: "string", required: true },
          { key: "retries", type: "int", required: false },
        ],
        defaults: { tenant: "common", retries: "3" },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ name: "Graph", description: "Microsoft Graph", defaults: { tenant: "common", retries: 3 }, mapping_count: 0 });
      expect(created.json().config_schema).toHaveLength(2);

      envelope(await h.call("POST", "/api/integrations", h.keys.platform, { name: "Graph" }), 409, "BIFROST_CONFLICT");
      envelope(await h.call("POST", "/api/integrations", h.keys.platform, { name: "has space" }), 422, "BIFROST_VALIDATION");
      envelope(await h.call("POST", "/api/integrations", h.keys.platform, { name: "../etc" }), 422, "BIFROST_VALIDATION");
      envelope(await h.call("GET", "/api/integrations/..%2Fetc", h.keys.platform), 422, "BIFROST_VALIDATION");

      const list = (await h.call("GET", "/api/integrations", h.keys.platform)).json() as { integrations: Array<{ name: string }> };
      expect(list.integrations.map((i) => i.name).sort()).toEqual(["Graph", "HaloPSA"]);
      expect((await h.call("GET", "/api/integrations/Graph", h.keys.platform)).json()).toMatchObject({ name: "Graph" });

      const patched = await h.call("PATCH", "/api/integrations/Graph", h.keys.platform, { name: "MSGraph", description: "renamed", defaults: { retries: 5 } });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ integration: { name: "MSGraph", description: "renamed", defaults: { tenant: "common", retries: 5 } }, changed: true, changes: { set: ["retries"] } });
      envelope(await h.call("GET", "/api/integrations/Graph", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      envelope(await h.call("PATCH", "/api/integrations/MSGraph", h.keys.platform, { name: "HaloPSA" }), 409, "BIFROST_CONFLICT");

      expect((await h.call("GET", "/api/integrations/MSGraph/schema", h.keys.platform)).json()).toEqual({
        integration: "MSGraph",
        config_schema: [
          { key: "tenant", type: "string", required: true },
          { key: "retries", type: "int", required: false },
        ],
      });
      expect((await h.call("GET", "/api/integrations/MSGraph/defaults", h.keys.acmeAdmin)).json()).toEqual({ integration: "MSGraph", defaults: { tenant: "common", retries: 5 } });
      const unset = await h.call("PATCH", "/api/integrations/MSGraph/defaults", h.keys.platform, { retries: null });
      expect(unset.json()).toEqual({ integration: "MSGraph", defaults: { tenant: "common" }, changes: { set: [], unset: ["retries"], unchanged: [] } });

      const del = await h.call("DELETE", "/api/integrations/MSGraph", h.keys.platform);
      expect(del.json()).toEqual({ deleted: true, integration: "MSGraph", deleted_mappings: 0 });
      envelope(await h.call("GET", "/api/integrations/MSGraph", h.keys.platform), 404, "BIFROST_NOT_FOUND");
    });

    it("org_admin reads integrations without the cross-tenant mapping count", async () => {
      const res = await h.call("GET", "/api/integrations/HaloPSA", h.keys.acmeAdmin);
      expect(res.statusCode).toBe(200);
      expect(res.json()).not.toHaveProperty("mapping_count");
    });

    it("removing a schema key with stored values is 409 with the count; force deletes them", async () => {
      await h.call("POST", "/api/integrations", h.keys.platform, {
        name: "Shrink",
        config_schema: [
          { key: "keep", type: "string", required: false },
          { key: "drop", type: "string", required: false },
        ],
        defaults: { keep: "k", drop: "d" },
      });
      await h.call("PUT", "/api/integrations/Shrink/mappings/acme", h.keys.platform, { config: { drop: "acme-d" } });
      const refused = envelope(await h.call("PUT", "/api/integrations/Shrink/schema", h.keys.platform, { config_schema: [{ key: "keep", type: "string" }] }), 409, "BIFROST_SCHEMA_CHANGE_REFUSED");
      expect(refused.details).toMatchObject({ integration: "Shrink", would_delete: 2, removed: [{ key: "drop", count: 2 }] });
      expect(refused.message).toContain("2 stored value");
      expect((await h.call("GET", "/api/integrations/Shrink/schema", h.keys.platform)).json().config_schema).toHaveLength(2);

      const forced = await h.call("PUT", "/api/integrations/Shrink/schema", h.keys.platform, { config_schema: [{ key: "keep", type: "string" }], force: true });
      expect(forced.json()).toEqual({ integration: "Shrink", config_schema: [{ key: "keep", type: "string", required: false }], schema_changed: true, deleted_values: 2 });
      expect((await h.call("GET", "/api/integrations/Shrink/mappings/acme/config", h.keys.platform)).json().config).toEqual({});

      envelope(await h.call("DELETE", "/api/integrations/Shrink", h.keys.platform), 409, "BIFROST_CONFLICT");
      expect((await h.call("DELETE", "/api/integrations/Shrink?force=true", h.keys.platform)).json()).toEqual({ deleted: true, integration: "Shrink", deleted_mappings: 1 });
    });

    it("a __proto__ key is 422 and nothing changes", async () => {
      const before = (await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).body;
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, '{"__proto__": {"timeout": 1}}'), 422, "BIFROST_VALIDATION");
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, '{"extra": {"a": {"__proto__": {"x": 1}}}}'), 422, "BIFROST_VALIDATION");
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { constructor: "x" }), 422, "BIFROST_VALIDATION");
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { nope: "x" }), 422, "BIFROST_VALIDATION");
      const wrongType = envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { timeout: "soon" }), 422, "BIFROST_VALIDATION");
      expect(wrongType.message).toContain("timeout");
      expect((await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).body).toBe(before);
    });

    it("a 1 MB value reaches the config engine: 413 naming the key, store unchanged", async () => {
      const before = (await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).body;
      const e = envelope(await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { timeout: 5, base_url: "x".repeat(1024 * 1024) }), 413, "BIFROST_VALUE_TOO_LARGE");
      expect(e.message).toContain("base_url");
      expect(e.details).toMatchObject({ key: "base_url", limit: 65536 });
      expect((await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).body).toBe(before);
    });
  });

  describe("mappings and overrides", () => {
    it("CRUD by platform_admin", async () => {
      const put = await h.call("PUT", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform, { entity_id: 42, entity_name: "Globex Corp", config: { timeout: 90 } });
      expect(put.statusCode).toBe(201);
      expect(put.json()).toMatchObject({ mapping: { integration: "HaloPSA", org: "globex", entity_id: "42", entity_name: "Globex Corp", config: { timeout: 90 } }, created: true, changed: true });
      const again = await h.call("PUT", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform, { entity_name: "Globex" });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ mapping: { entity_id: "42", entity_name: "Globex" }, created: false, changed: true });
      const list = (await h.call("GET", "/api/integrations/HaloPSA/mappings", h.keys.platform)).json() as { mappings: Array<{ org: string }> };
      expect(list.mappings.map((m) => m.org).sort()).toEqual(["acme", "globex"]);
      expect((await h.call("GET", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform)).json()).toMatchObject({ entity_id: "42" });
      const del = await h.call("DELETE", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform);
      expect(del.json()).toEqual({ deleted: true, integration: "HaloPSA", org: "globex", deleted_overrides: 1 });
      envelope(await h.call("GET", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      envelope(await h.call("DELETE", "/api/integrations/HaloPSA/mappings/globex", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      envelope(await h.call("GET", "/api/integrations/Nope/mappings", h.keys.platform), 404, "BIFROST_NOT_FOUND");
    });

    it("org_admin reads and writes its own org's mapping and overrides", async () => {
      const list = (await h.call("GET", "/api/integrations/HaloPSA/mappings", h.keys.acmeAdmin)).json() as { mappings: Array<{ org: string }> };
      expect(list.mappings.map((m) => m.org)).toEqual(["acme"]);
      const set = await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { timeout: "45", extra: { a: [1, 2] } });
      expect(set.statusCode).toBe(200);
      expect(set.json()).toMatchObject({ integration: "HaloPSA", org: "acme", config: { timeout: 45, extra: { a: [1, 2] } }, changes: { set: ["timeout", "extra"] }, mapping_created: false });
      const got = (await h.call("GET", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin)).json();
      expect(got.config.timeout).toBe(45);
      const unset = await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { extra: null });
      expect(unset.json().changes).toEqual({ set: [], unset: ["extra"], unchanged: [] });
      const put = await h.call("PUT", "/api/integrations/HaloPSA/mappings/acme", h.keys.acmeAdmin, { entity_id: "T-1" });
      expect(put.statusCode).toBe(200);
    });

    it("an org-scoped key gets 404 for another org's mapping, overrides and resolved view", async () => {
      const missing = envelope(await h.call("GET", "/api/integrations/HaloPSA/mappings/no-such-org", h.keys.platform), 404, "BIFROST_NOT_FOUND");
      const asMissing = (slug: string) => ({ ...missing, message: missing.message.replace("no-such-org", slug), details: { org: slug } });
      const cases: Array<[string, string, unknown?]> = [
        ["GET", "/api/integrations/HaloPSA/mappings/acme"],
        ["PUT", "/api/integrations/HaloPSA/mappings/acme", { entity_id: "stolen" }],
        ["DELETE", "/api/integrations/HaloPSA/mappings/acme"],
        ["GET", "/api/integrations/HaloPSA/mappings/acme/config"],
        ["PATCH", "/api/integrations/HaloPSA/mappings/acme/config", { timeout: 1 }],
      ];
      for (const [method, url, body] of cases) {
        const e = envelope(await h.call(method, url, h.keys.globexAdmin, body), 404, "BIFROST_NOT_FOUND");
        expect(e).toEqual(asMissing("acme"));
      }
      const list = (await h.call("GET", "/api/integrations/HaloPSA/mappings", h.keys.globexAdmin)).json() as { mappings: unknown[] };
      expect(list.mappings).toEqual([]);
      envelope(await h.call("GET", "/api/integrations/HaloPSA/resolved?org=acme", h.keys.globexWorkflow), 404, "BIFROST_NOT_FOUND");
      envelope(await h.call("GET", "/api/integrations/HaloPSA/resolved?org=acme", h.keys.globexAdmin), 403, "BIFROST_FORBIDDEN");
      // Nothing of acme's changed.
      const acme = (await h.call("GET", "/api/integrations/HaloPSA/mappings/acme", h.keys.platform)).json();
      expect(acme.entity_id).toBe("T-1");
    });
  });

  describe("secrets", () => {
    const MANAGEMENT_READS = [
      "/api/integrations",
      "/api/integrations/HaloPSA",
      "/api/integrations/HaloPSA/defaults",
      "/api/integrations/HaloPSA/mappings",
      "/api/integrations/HaloPSA/mappings/acme",
      "/api/integrations/HaloPSA/mappings/acme/config",
    ];

    it("no management response contains a plaintext secret", async () => {
      const bodies: string[] = [];
      for (const url of MANAGEMENT_READS) {
        const res = await h.call("GET", url, h.keys.platform);
        expect(res.statusCode, url).toBe(200);
        bodies.push(res.body);
      }
      bodies.push((await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { api_secret: SECRET_DEFAULT })).body);
      bodies.push((await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { api_secret: SECRET_ACME })).body);
      bodies.push((await h.call("PUT", "/api/integrations/HaloPSA/mappings/acme", h.keys.platform, { config: { api_secret: SECRET_ACME } })).body);
      bodies.push((await h.call("PATCH", "/api/integrations/HaloPSA", h.keys.platform, { description: "PSA" })).body);
      for (const b of bodies) {
        expect(b).not.toContain(SECRET_DEFAULT);
        expect(b).not.toContain(SECRET_ACME);
      }
      const d = (await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).json();
      expect(d.defaults.api_secret).toEqual({ set: true, fingerprint: expect.any(String) });
    });

    it("/resolved returns plaintext merged config with no-store, for the key's own org", async () => {
      // org_admin is a management role: it never receives plaintext secrets
      envelope(await h.call("GET", "/api/integrations/HaloPSA/resolved", h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
      for (const key of [h.keys.acmeWorkflow]) {
        const res = await h.call("GET", "/api/integrations/HaloPSA/resolved", key);
        expect(res.statusCode).toBe(200);
        expect(res.headers["cache-control"]).toBe("no-store");
        expect(res.json()).toEqual({
          integration: "HaloPSA",
          org: "acme",
          entity_id: "T-1",
          entity_name: "Acme Ltd",
          mapped: true,
          config: expect.objectContaining({ base_url: "https://halo.example.com", api_secret: SECRET_ACME }),
          oauth: null,
        });
      }
      const globex = (await h.call("GET", "/api/integrations/HaloPSA/resolved?org=globex", h.keys.platform)).json();
      expect(globex).toMatchObject({ org: "globex", mapped: false, entity_id: null, config: { api_secret: SECRET_DEFAULT, timeout: 30 } });
      envelope(await h.call("GET", "/api/integrations/Nope/resolved", h.keys.acmeWorkflow), 404, "BIFROST_NOT_FOUND");
    });

    it("a malformed URL and a deeply nested body get the envelope, not a crash", async () => {
      envelope(await h.call("GET", "/api/integrations/%E0%A4%A/mappings", h.keys.platform), 400, "BIFROST_BAD_REQUEST");
      const deep = `{"defaults":{"extra":${"[".repeat(5000)}${"]".repeat(5000)}}}`;
      const res = await h.app.inject({ method: "PATCH", url: "/api/integrations/HaloPSA", headers: { authorization: `Bearer ${h.keys.platform}`, "content-type": "application/json" }, payload: deep });
      envelope(res, 422, "BIFROST_VALIDATION");
      const shallowButDeepValue = { defaults: { extra: JSON.parse(`${"[".repeat(80)}${"]".repeat(80)}`) } };
      envelope(await h.call("PATCH", "/api/integrations/HaloPSA", h.keys.platform, shallowButDeepValue), 422, "BIFROST_VALIDATION");
    });

    it("writing the masked value back (object or fingerprint) keeps the stored secret", async () => {
      const d = (await h.call("GET", "/api/integrations/HaloPSA/defaults", h.keys.platform)).json();
      const masked = d.defaults.api_secret as { set: true; fingerprint: string };
      const r1 = await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { api_secret: masked });
      expect(r1.statusCode).toBe(200);
      expect(r1.json().changes.unchanged).toEqual(["api_secret"]);
      const r2 = await h.call("PATCH", "/api/integrations/HaloPSA/defaults", h.keys.platform, { api_secret: masked.fingerprint });
      expect(r2.json().changes.unchanged).toEqual(["api_secret"]);
      const o = (await h.call("GET", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin)).json();
      await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { api_secret: o.config.api_secret });
      const resolved = (await h.call("GET", "/api/integrations/HaloPSA/resolved?org=globex", h.keys.platform)).json();
      expect(resolved.config.api_secret).toBe(SECRET_DEFAULT);
      const acme = (await h.call("GET", "/api/integrations/HaloPSA/resolved", h.keys.acmeWorkflow)).json();
      expect(acme.config.api_secret).toBe(SECRET_ACME);
    });
  });

  describe("API keys", () => {
    it("create shows the key once; list never shows it", async () => {
      const res = await h.call("POST", "/api/keys", h.keys.platform, { role: "org_admin", org: "globex", name: "globex ops" });
      expect(res.statusCode).toBe(201);
      expect(res.headers["cache-control"]).toBe("no-store");
      const body = res.json() as { key: string; api_key: Record<string, unknown> };
      expect(body.key).toMatch(/^bfk_/);
      expect(body.api_key).toMatchObject({ name: "globex ops", role: "org_admin", org: "globex", revoked_at: null });
      const list = await h.call("GET", "/api/keys", h.keys.platform);
      expect(list.body).not.toContain(body.key);
      expect(list.body).not.toContain(h.keys.platform);
      expect((list.json() as { api_keys: unknown[] }).api_keys.length).toBeGreaterThanOrEqual(6);
      envelope(await h.call("POST", "/api/keys", h.keys.platform, { role: "root" }), 422, "BIFROST_VALIDATION");
      envelope(await h.call("POST", "/api/keys", h.keys.platform, { role: "workflow" }), 422, "BIFROST_VALIDATION");
      envelope(await h.call("POST", "/api/keys", h.keys.platform, { role: "workflow", org: "missing" }), 404, "BIFROST_NOT_FOUND");
    });
  });
});

describe("unexpected exceptions", () => {
  it("answer 500 BIFROST_INTERNAL with a generic message and are logged redacted", async () => {
    const t = await bootTest();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    try {
      const { key } = await createApiKey(t.bf, { role: "platform_admin" });
      const raw = `connection to db failed: Authorization: Bearer ${"tok".repeat(10)} key ${key}`;
      const store = new Proxy(t.bf.store, {
        get(target, prop, receiver) {
          if (prop === "pageOrgs") return async () => Promise.reject(new Error(raw));
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const app = await createApp({ bifrost: { ...t.bf, store }, logger: createLogger({ level: "info", destination }) });
      try {
        const res = await app.inject({ method: "GET", url: "/api/organizations", headers: { authorization: `Bearer ${key}` } });
        const e = envelope(res, 500, "BIFROST_INTERNAL");
        expect(e.message).not.toContain("connection to db");
        expect(res.body).not.toContain("tok".repeat(10));
        const log = lines.join("");
        expect(log).toContain("unhandled error");
        expect(log).toContain("connection to db failed");
        expect(log).not.toContain("tok".repeat(10));
        expect(log).not.toContain(key);
      } finally {
        await app.close();
      }
    } finally {
      await t.cleanup();
    }
  });
});
