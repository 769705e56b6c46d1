import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { type DemoAuthServer, loadOidcProvider, startDemoAuthServer } from "../../src/host/demo/auth-server.js";
import { DEMO_INTEGRATIONS, demoClients, demoOrgName, demoScopes, seedDemo } from "../../src/host/demo/seed.js";
import { prepareDemoHome } from "../../src/host/demo/start.js";
import { getOAuthStatus, refreshConnection } from "../../src/oauth/service.js";
import { tokenSecretContext } from "../../src/oauth/tokens.js";
import { BACKENDS, bootTest, tempDir } from "../helpers/backends.js";

const PUBLIC_URL = "http://127.0.0.1:9";
const ORGS = 60;

for (const backend of BACKENDS) {
  describe(`demo seed (${backend.name})`, () => {
    let t: Awaited<ReturnType<typeof bootTest>>;
    let bf: Bifrost;
    let as: DemoAuthServer;
    const clients = demoClients(PUBLIC_URL);

    beforeAll(async () => {
      t = await bootTest(backend);
      bf = t.bf;
      as = await startDemoAuthServer({ clients, scopes: demoScopes() });
    }, 30_000);
    afterAll(async () => {
      await as?.close();
      await t?.cleanup();
    });

    it("seeds the requested number of organizations, the catalog integrations and every connection state", async () => {
      const summary = await seedDemo(bf, { orgs: ORGS, authServer: as, clients, oauth: { publicUrl: PUBLIC_URL } });
      expect(summary.organizations).toBe(ORGS);
      const orgs = await bf.store.listOrgs();
      expect(orgs).toHaveLength(ORGS);
      expect(new Set(orgs.map((o) => o.slug)).size).toBe(ORGS);
      expect((await bf.store.listIntegrations()).map((i) => i.name).sort()).toEqual(DEMO_INTEGRATIONS.map((d) => d.name).sort());

      // The catalog's facts are kept; only the demo's explicit URLs replaced the provider's.
      const graph = (await bf.store.getOAuthProvider((await bf.store.getIntegrationByName("MicrosoftGraph"))!.id))!;
      const settings = JSON.parse(graph.settings) as { tokenUrl: string; urlDefaults: Record<string, string>; entityIdSource: unknown; scopes: string[] };
      expect(settings.tokenUrl).toBe(`${as.issuer}/t/{tenant}/token`);
      expect(settings.urlDefaults).toEqual({ tenant: "organizations" });
      expect(settings.entityIdSource).toEqual({ type: "id_token_claim", key: "tid" });
      expect(settings.scopes).toContain("https://graph.microsoft.com/User.Read");

      const status = await getOAuthStatus(bf, { integration: "Xero" });
      const states = new Set(status.filter((s) => s.org).map((s) => s.state));
      expect([...states].sort()).toEqual(["connected", "error", "needs_reauth", "not_connected"]);
      const xero = (await bf.store.getIntegrationByName("Xero"))!;
      const mappings = await bf.store.listMappings({ integrationId: xero.id });
      // Unmapped orgs, and mapped ones without an entity id, are both present.
      expect(mappings.length).toBeLessThan(ORGS);
      expect(mappings.some((m) => m.entityId === null)).toBe(true);
      const soon = Date.now() + 3 * 86_400_000;
      const connected = status.filter((s) => s.state === "connected" && s.expiresAt);
      expect(connected.some((s) => Date.parse(s.expiresAt!) < soon)).toBe(true);
      expect(connected.some((s) => Date.parse(s.expiresAt!) > soon)).toBe(true);

      // HaloPSA (client credentials) holds a real integration-level token; Hudu has per-org secrets.
      const halo = await getOAuthStatus(bf, { integration: "HaloPSA" });
      expect(halo.find((s) => s.org === null)?.state).toBe("connected");
      expect(as.tokenRequests("client_credentials")).toBe(1);
      const hudu = (await bf.store.getIntegrationByName("Hudu"))!;
      const secrets = (await bf.store.listConfigValues(hudu.id)).filter((v) => v.isSecret);
      expect(secrets.length).toBeGreaterThan(ORGS / 2);
      expect(secrets.every((v) => v.value.startsWith("v1."))).toBe(true);
    });

    it("a seeded connection refreshes for real at the in-process authorization server", async () => {
      const before = as.tokenRequests("refresh_token");
      const row = (await getOAuthStatus(bf, { integration: "MicrosoftGraph" })).find((s) => s.state === "connected" && s.org)!;
      const integration = (await bf.store.getIntegrationByName("MicrosoftGraph"))!;
      const org = (await bf.store.getOrgBySlug(row.org!))!;
      const stored = (await bf.store.listOAuthTokens({ integrationId: integration.id, orgId: org.id }))[0]!;
      expect(stored.state).toBe("connected");
      const oldToken = bf.box.decrypt(stored.accessToken!, tokenSecretContext(stored, "access_token"));
      const after = await refreshConnection({ ...bf, oauth: { publicUrl: PUBLIC_URL, allowHttpLoopback: true } }, { integration: "MicrosoftGraph", org: row.org! });
      expect(after.state).toBe("connected");
      expect(as.tokenRequests("refresh_token")).toBe(before + 1);
      const renewed = (await bf.store.getOAuthToken(stored.id))!;
      expect(bf.box.decrypt(renewed.accessToken!, tokenSecretContext(renewed, "access_token"))).not.toBe(oldToken);
      expect(renewed.version).toBeGreaterThan(stored.version);
    });

    it("refuses a database that is not empty, changing nothing", async () => {
      const count = (await bf.store.listOrgs()).length;
      await expect(seedDemo(bf, { orgs: 5, authServer: as, clients })).rejects.toMatchObject({ code: "BIFROST_DEMO_TARGET_NOT_EMPTY", details: { organizations: count, integrations: 4 } });
      expect(await bf.store.listOrgs()).toHaveLength(count);
    });
  });
}

describe("demo names, home and dependencies", () => {
  it("without oidc-provider installed, the demo fails with a clear error naming the fix", async () => {
    await expect(loadOidcProvider("oidc-provider-not-installed")).rejects.toMatchObject({
      code: "BIFROST_DEMO_UNAVAILABLE",
      message: expect.stringMatching(/--demo needs the development dependencies.*npm ci in a checkout/),
    });
    // Positive control: the installed module loads.
    expect(typeof (await loadOidcProvider())).toBe("function");
  });

  it("org names stay unique beyond the word lists (10,000 orgs)", () => {
    const slugs = new Set(Array.from({ length: 10_000 }, (_, i) => demoOrgName(i).slug));
    expect(slugs.size).toBe(10_000);
  });

  it("the default demo home is recreated; a folder the demo did not make is refused untouched; BIFROST_HOME is used as given", () => {
    const t = tempDir();
    try {
      const first = prepareDemoHome({}, t.dir);
      expect(first).toEqual({ home: join(t.dir, ".bifrost-demo"), recreated: true });
      writeFileSync(join(first.home, "bifrost.db"), "old demo");
      prepareDemoHome({}, t.dir);
      expect(existsSync(join(first.home, "bifrost.db"))).toBe(false);

      const foreign = join(t.dir, "elsewhere");
      mkdirSync(join(foreign, ".bifrost-demo"), { recursive: true });
      writeFileSync(join(foreign, ".bifrost-demo", "bifrost.db"), "someone's data");
      expect(() => prepareDemoHome({}, foreign)).toThrow(expect.objectContaining({ code: "BIFROST_DEMO_TARGET_NOT_EMPTY" }));
      expect(readFileSync(join(foreign, ".bifrost-demo", "bifrost.db"), "utf8")).toBe("someone's data");

      expect(prepareDemoHome({ BIFROST_HOME: "mine" }, t.dir)).toEqual({ home: join(t.dir, "mine"), recreated: false });
    } finally {
      t.cleanup();
    }
  });
});
