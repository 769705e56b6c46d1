import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUTH_KINDS, closeProviderIds, getProvider, PROVIDERS, searchProviders } from "../../src/catalog/index.js";
import { renderProvidersDoc } from "../../src/catalog/doc.js";
import { catalogEntrySchema } from "../../src/catalog/schema.js";
import { parseConfigSchema } from "../../src/core/config-schema.js";
import { BifrostError } from "../../src/core/errors.js";
import { parseProviderConfig } from "../../src/oauth/provider-config.js";
import { expandUrl, placeholdersOf } from "../../src/oauth/templating.js";

const ISSUERS = [
  "microsoft-graph", "microsoft-partner-center", "azure-resource-manager", "google", "halopsa", "connectwise-psa", "autotask", "kaseya-bms",
  "ninjaone", "datto-rmm", "n-able-ncentral", "it-glue", "hudu", "pax8", "sophos-central", "sentinelone", "crowdstrike", "huntress", "duo",
  "okta", "auth0", "xero", "quickbooks-online", "sage-accounting", "salesforce", "hubspot", "zoho-crm", "slack", "microsoft-teams-webhook",
  "zoom", "github", "gitlab", "jira", "asana", "monday", "servicenow", "zendesk", "freshdesk", "intercom", "dropbox", "box", "docusign",
  "stripe", "shopify",
];

describe("provider catalog entries", () => {
  it("has at least 60 entries with unique ids, including every provider the catalog promises", () => {
    expect(PROVIDERS.length).toBeGreaterThanOrEqual(60);
    const ids = PROVIDERS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ISSUERS.filter((id) => !ids.includes(id))).toEqual([]);
  });

  for (const entry of PROVIDERS) {
    describe(entry.id, () => {
      it("matches the entry schema (https URLs, known auth kinds, a test request)", () => {
        const r = catalogEntrySchema.safeParse(entry);
        expect(r.success ? "ok" : JSON.stringify(r.error.issues)).toBe("ok");
        for (const k of entry.auth) expect(AUTH_KINDS).toContain(k);
        expect(entry.test_request.method).toMatch(/^(GET|POST)$/);
      });

      it("has a config schema the product's own parser accepts, and defaults for declared keys only", () => {
        const schema = parseConfigSchema(entry.config_schema, `${entry.id}.config_schema`);
        const keys = new Map(schema.map((s) => [s.key, s]));
        for (const [k, v] of Object.entries(entry.defaults ?? {})) {
          expect(keys.has(k), `${entry.id}: default for undeclared key ${k}`).toBe(true);
          const opts = keys.get(k)?.options;
          if (opts) expect(opts).toContain(v);
        }
      });

      it("declares every placeholder: base URL and test path use config keys or {entity_id}", () => {
        const keys = new Set(entry.config_schema.map((s) => s.key));
        for (const p of [...placeholdersOf(entry.api_base_url), ...placeholdersOf(entry.test_request.path)]) {
          expect(p === "entity_id" || keys.has(p), `${entry.id}: {${p}} is not a config key`).toBe(true);
        }
        // A filled base URL is still https on the provider's domain.
        const values = Object.fromEntries([...placeholdersOf(entry.api_base_url)].map((p) => [p, "x1"]));
        const filled = expandUrl(entry.api_base_url, { entityId: "x1", defaults: values }, "api_base_url");
        expect(new URL(filled).protocol).toBe("https:");
      });

      if (entry.oauth) {
        it("has an OAuth block the product's provider parser accepts (placeholders declared in url_defaults)", () => {
          const block = { ...entry.oauth, client_id: "catalog-test", client_secret: "catalog-test-secret" };
          const parsed = parseProviderConfig(block, null);
          expect(parsed.settings.flow).toBe(entry.oauth?.flow);
          const declared = new Set([...Object.keys(entry.oauth?.url_defaults ?? {}), "entity_id"]);
          for (const url of [entry.oauth?.authorization_url, entry.oauth?.token_url, entry.oauth?.revocation_url]) {
            if (!url) continue;
            expect(url.startsWith("https://")).toBe(true);
            for (const p of placeholdersOf(url)) expect(declared.has(p)).toBe(true);
          }
        });
      }
    });
  }
});

describe("catalog lookup", () => {
  it("search matches every word in id, name, category or auth kind", () => {
    expect(searchProviders("graph").map((p) => p.id)).toEqual(["microsoft-graph", "microsoft-graph-app"]);
    expect(searchProviders("PSA halo").map((p) => p.id)).toEqual(["halopsa"]);
    expect(searchProviders("").length).toBe(PROVIDERS.length);
    expect(searchProviders("no-such-provider-anywhere")).toEqual([]);
  });

  it("an unknown id is a coded error that lists close matches", () => {
    expect(getProvider("xero").name).toBe("Xero");
    let err: unknown;
    try {
      getProvider("quickbooks");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BifrostError);
    expect((err as BifrostError).code).toBe("BIFROST_PROVIDER_UNKNOWN");
    expect((err as BifrostError).statusCode).toBe(404);
    expect((err as BifrostError).message).toContain('"quickbooks-online"');
    expect(closeProviderIds("zendsk")).toContain("zendesk");
    expect(closeProviderIds("qqqqqqqqqqqqqqqq")).toEqual([]);
  });
});

describe("docs/providers.md", () => {
  it("is the generated file (run `npm run docs:providers` after changing the catalog)", () => {
    expect(readFileSync("docs/providers.md", "utf8")).toBe(renderProvidersDoc());
  });
});

describe("the entry checks catch broken entries (negative controls)", () => {
  const good = PROVIDERS.find((p) => p.id === "zendesk")!;
  it("the schema refuses an http URL, a missing test request and an unknown auth kind", () => {
    expect(catalogEntrySchema.safeParse({ ...good, api_base_url: "http://x.zendesk.com" }).success).toBe(false);
    expect(catalogEntrySchema.safeParse({ ...good, docs_url: "ftp://docs" }).success).toBe(false);
    const { test_request: _dropped, ...noTest } = good;
    expect(catalogEntrySchema.safeParse(noTest).success).toBe(false);
    expect(catalogEntrySchema.safeParse({ ...good, auth: ["magic"] }).success).toBe(false);
    expect(catalogEntrySchema.safeParse({ ...good, oauth: { ...good.oauth, token_url: "http://x/token" } }).success).toBe(false);
    expect(catalogEntrySchema.safeParse(good).success).toBe(true);
  });
  it("the provider parser refuses an undeclared placeholder", () => {
    const block = { ...good.oauth, url_defaults: {}, client_id: "c", client_secret: "s" };
    expect(() => parseProviderConfig(block, null)).toThrow(/placeholder \{subdomain\}, which is not declared/);
  });
});
