import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyFileError, BifrostError } from "../../src/core/errors.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { getOAuthProvider } from "../../src/oauth/service.js";
import { applyText } from "../../src/services/apply.js";
import { exportDocument, formatExport } from "../../src/services/export.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";

const SECRET = "zendesk-client-secret-9876";
const ENV = { ZD_SECRET: SECRET };

async function fails(p: Promise<unknown>): Promise<BifrostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BifrostError);
    return err as BifrostError;
  }
  throw new Error("expected the promise to reject");
}

const ZENDESK = `organizations: [{ slug: acme }]
integrations:
  - name: Zendesk
    provider: zendesk
    defaults: { subdomain: acmehelp }
    oauth:
      client_id: zd-client
      client_secret: \${ZD_SECRET}
      url_defaults: { subdomain: acmehelp }
      scopes: [read, write]
    config_schema:
      - { key: brand_id, type: int, required: false }
    mappings: [{ org: acme }]
`;

for (const backend of BACKENDS) {
  describe(`provider: ID in apply files (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    const apply = (text: string) => applyText(bf, text, "bifrost.yaml", { env: ENV });

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
    });
    afterAll(async () => cleanup?.());

    it("fills the provider settings and schema from the catalog; explicit fields win; re-apply is unchanged", async () => {
      await apply(ZENDESK);
      const p = await getOAuthProvider(bf, "Zendesk");
      expect(p?.token_url).toBe("https://{subdomain}.zendesk.com/oauth/tokens");
      expect(p?.authorization_url).toBe("https://{subdomain}.zendesk.com/oauth/authorizations/new");
      expect(p?.url_defaults).toEqual({ subdomain: "acmehelp" });
      expect(p?.scopes).toEqual(["read", "write"]);
      expect(p?.token_auth_method).toBe("client_secret_post");
      const integ = (await bf.store.getIntegrationByName("Zendesk"))!;
      expect(integ.configSchema.map((s) => s.key)).toEqual(["subdomain", "brand_id"]);
      const again = await apply(ZENDESK);
      expect(again.changes.filter((c) => c.action !== "unchanged")).toEqual([]);
    });

    it("export writes the expanded form, and applying the export changes nothing; no secret in it", async () => {
      const text = formatExport(await exportDocument(bf), "yaml");
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("provider:");
      expect(text).toContain("https://{subdomain}.zendesk.com/oauth/tokens");
      const report = await apply(text);
      expect(report.changes.filter((c) => c.action !== "unchanged")).toEqual([]);
      expect(formatExport(await exportDocument(bf), "yaml")).toBe(text);
    });

    it("an unknown provider id is refused with close matches, and nothing changes", async () => {
      const before = formatExport(await exportDocument(bf), "yaml");
      const err = await fails(apply(ZENDESK.replace("provider: zendesk", "provider: zendsk").replace("name: Zendesk", "name: Zendesk2")));
      expect(err).toBeInstanceOf(ApplyFileError);
      expect(err.message).toMatch(/bifrost\.yaml:4: integrations\[0\]\.provider: Unknown provider "zendsk"; did you mean "zendesk"/);
      expect(err.details?.cause).toBe("BIFROST_PROVIDER_UNKNOWN");
      expect(err.details?.suggestions).toContain("zendesk");
      expect(formatExport(await exportDocument(bf), "yaml")).toBe(before);
    });

    it("a required placeholder value and a missing oauth block are named with the field to add", async () => {
      const noSub = await fails(apply(ZENDESK.replace("      url_defaults: { subdomain: acmehelp }\n", "").replace("name: Zendesk", "name: Zd3")));
      expect(noSub.message).toContain("integrations[0].oauth.url_defaults.subdomain");
      const noOAuth = await fails(apply("integrations:\n  - name: Xero\n    provider: xero\n"));
      expect(noOAuth.message).toMatch(/integrations\[0\]\.oauth: provider "xero" uses OAuth/);
      expect(await bf.store.getIntegrationByName("Xero")).toBeNull();
    });

    it("an API-key provider needs no oauth block: it brings its config schema", async () => {
      await apply("integrations:\n  - name: ITGlue\n    provider: it-glue\n");
      const integ = (await bf.store.getIntegrationByName("ITGlue"))!;
      expect(integ.configSchema).toEqual([{ key: "api_key", type: "secret", required: true, description: "API key (x-api-key header)" }]);
      expect(await getOAuthProvider(bf, "ITGlue")).toBeNull();
    });
  });
}
