/**
 * Three catalog entries end to end: `provider: ID` in an apply file, the authorization-code flow against a
 * local token endpoint answering the way that provider does, the token stored, the entity captured. The
 * yaml overrides only the endpoint hosts (explicit oauth fields win); scopes, placeholders, quirks and entity
 * capture come from the catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { completeAuthorization, startAuthorization } from "../../src/oauth/service.js";
import { applyText } from "../../src/services/apply.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { startTokenServer, tokenBody, type TokenServer } from "../oauth/helpers/token-server.js";
import { getAs, oauthDeps, resolverFor } from "../oauth/helpers/setup.js";

const CLIENT_ID = "catalog-client";
const ENV = { CLIENT_SECRET: "catalog-client-secret-value" };

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
const jwt = (claims: Record<string, unknown>): string => `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.c2ln`;

for (const backend of BACKENDS) {
  describe(`catalog providers end to end (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let ts: TokenServer;

    beforeAll(async () => {
      ts = await startTokenServer();
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
      await ts?.close();
    });

    async function connect(integration: string, org: string, extra: Record<string, string> = {}) {
      const deps = oauthDeps(bf);
      const started = await startAuthorization(deps, { integration, org, initiatorKeyId: null });
      const url = new URL(started.authorizationUrl);
      const state = url.searchParams.get("state") as string;
      const done = await completeAuthorization(deps, { integration, query: { code: `code-${integration}`, state, ...extra }, initiatorKeyId: null });
      return { url, done };
    }

    async function tokenFor(integration: string, slug: string) {
      const org = (await bf.store.getOrgBySlug(slug))!;
      return getAs(resolverFor(bf), integration, { id: org.id, slug: org.slug, name: org.name });
    }

    it("QuickBooks Online: realmId captured from the callback URL, token stored", async () => {
      ts.routes.set("/qbo/token", () => ({ body: tokenBody({ refresh_token: "qbo-refresh-1", x_refresh_token_expires_in: 8726400 }) }));
      const report = await applyText(
        bf,
        `organizations: [{ slug: acme }]
integrations:
  - name: QBO
    provider: quickbooks-online
    oauth:
      client_id: ${CLIENT_ID}
      client_secret: \${CLIENT_SECRET}
      authorization_url: ${ts.base}/qbo/authorize
      token_url: ${ts.base}/qbo/token
    mappings: [{ org: acme }]
`,
        "bifrost.yaml",
        { env: ENV },
      );
      expect(report.changes.find((c) => c.kind === "oauth_provider")?.action).toBe("created");
      const before = ts.counts["/qbo/token"] ?? 0;
      const { url, done } = await connect("QBO", "acme", { realmId: "9130350000000001" });
      expect(url.searchParams.get("scope")).toBe("com.intuit.quickbooks.accounting");
      expect(ts.counts["/qbo/token"]).toBe(before + 1);
      expect(done.entityIdCaptured).toBe("9130350000000001");
      const integ = (await bf.store.getIntegrationByName("QBO"))!;
      const org = (await bf.store.getOrgBySlug("acme"))!;
      expect((await bf.store.getMapping(integ.id, org.id))?.entityId).toBe("9130350000000001");
      const resolved = await tokenFor("QBO", "acme");
      expect(resolved?.oauth?.accessToken).toMatch(/^AT-/);
      expect(resolved?.oauth?.refreshToken).toBe("qbo-refresh-1");
    });

    it("Microsoft Graph: {tenant} filled from the catalog default, tenant id captured from the id_token", async () => {
      const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
      ts.routes.set("/organizations/oauth2/v2.0/token", () => ({
        body: tokenBody({ refresh_token: "graph-refresh-1", scope: "openid offline_access https://graph.microsoft.com/User.Read", id_token: jwt({ aud: CLIENT_ID, tid: TID, iss: `https://login.microsoftonline.com/${TID}/v2.0`, sub: "u1" }) }),
      }));
      await applyText(
        bf,
        `organizations: [{ slug: globex }]
integrations:
  - name: Graph
    provider: microsoft-graph
    oauth:
      client_id: ${CLIENT_ID}
      client_secret: \${CLIENT_SECRET}
      authorization_url: ${ts.base}/{tenant}/oauth2/v2.0/authorize
      token_url: ${ts.base}/{tenant}/oauth2/v2.0/token
    mappings: [{ org: globex }]
`,
        "bifrost.yaml",
        { env: ENV },
      );
      const { url, done } = await connect("Graph", "globex");
      expect(url.pathname).toBe("/organizations/oauth2/v2.0/authorize");
      expect(url.searchParams.get("scope")).toBe("openid offline_access https://graph.microsoft.com/User.Read");
      expect(ts.counts["/organizations/oauth2/v2.0/token"]).toBe(1);
      expect(done.entityIdCaptured).toBe(TID);
      expect(done.hasRefreshToken).toBe(true);
      expect((await tokenFor("Graph", "globex"))?.oauth?.accessToken).toMatch(/^AT-/);
    });

    it("Shopify: shop placeholder from the yaml, a token response without token_type accepted by the catalog's quirk", async () => {
      // Shopify answers { access_token, scope } only; without the quirk this response is refused.
      ts.routes.set("/acme-store/admin/oauth/access_token", () => ({ body: { access_token: `shpat_${Math.random().toString(36).slice(2)}`, scope: "read_products,read_orders" } }));
      const oauth = `      client_id: ${CLIENT_ID}
      client_secret: \${CLIENT_SECRET}
      authorization_url: ${ts.base}/{shop}/admin/oauth/authorize
      token_url: ${ts.base}/{shop}/admin/oauth/access_token
      url_defaults: { shop: acme-store }
`;
      await applyText(
        bf,
        `organizations: [{ slug: initech }]
integrations:
  - name: Shop
    provider: shopify
    defaults: { shop: acme-store }
    oauth:
${oauth}    mappings: [{ org: initech }]
  - name: ShopPlain
    oauth:
      flow: authorization_code
${oauth}    mappings: [{ org: initech }]
`,
        "bifrost.yaml",
        { env: ENV },
      );
      // Negative control: the same endpoints without the catalog's quirk refuse this token response.
      await expect(connect("ShopPlain", "initech")).rejects.toThrow();
      expect(ts.counts["/acme-store/admin/oauth/access_token"]).toBe(1);
      const integ = (await bf.store.getIntegrationByName("Shop"))!;
      expect(integ.configSchema.map((s) => s.key)).toEqual(["shop"]);
      const { url, done } = await connect("Shop", "initech");
      expect(url.pathname).toBe("/acme-store/admin/oauth/authorize");
      expect(done.level).toBe("mapping");
      expect(ts.counts["/acme-store/admin/oauth/access_token"]).toBe(2);
      const resolved = await tokenFor("Shop", "initech");
      expect(resolved?.oauth?.accessToken).toMatch(/^shpat_/);
      expect(resolved?.oauth?.tokenType.toLowerCase()).toBe("bearer");
    });
  });
}
