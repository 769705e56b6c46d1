import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../src/catalog/index.js";
import { sqliteBackend } from "../helpers/backends.js";
import { type Harness, setup } from "../server/harness.js";

describe("GET /api/catalog", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(sqliteBackend);
  });
  afterAll(async () => h?.close());

  it("lists and searches providers for admins; workflow keys and anonymous callers are refused", async () => {
    const all = await h.call("GET", "/api/catalog", h.keys.acmeAdmin);
    expect(all.statusCode).toBe(200);
    expect((all.json() as { providers: unknown[] }).providers.length).toBe(PROVIDERS.length);
    const q = await h.call("GET", "/api/catalog?q=quickbooks", h.keys.platform);
    expect((q.json() as { providers: Array<{ id: string }> }).providers.map((p) => p.id)).toEqual(["quickbooks-online"]);
    expect((await h.call("GET", "/api/catalog", h.keys.acmeWorkflow)).statusCode).toBe(403);
    expect((await h.call("GET", "/api/catalog", null)).statusCode).toBe(401);
  });

  it("shows one provider; an unknown id is 404 BIFROST_PROVIDER_UNKNOWN with suggestions", async () => {
    const one = await h.call("GET", "/api/catalog/xero", h.keys.platform);
    expect(one.statusCode).toBe(200);
    expect((one.json() as { provider: { oauth: { token_url: string } } }).provider.oauth.token_url).toBe("https://identity.xero.com/connect/token");
    const bad = await h.call("GET", "/api/catalog/zoho", h.keys.platform);
    expect(bad.statusCode).toBe(404);
    const body = bad.json() as { code: string; details: { suggestions: string[] } };
    expect(body.code).toBe("BIFROST_PROVIDER_UNKNOWN");
    expect(body.details.suggestions).toContain("zoho-crm");
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await h.call("GET", "/api/openapi.json", null)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/catalog", "/api/catalog/{id}"]));
  });
});
