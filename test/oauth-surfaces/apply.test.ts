/** `bifrost apply` / `bifrost export` with an integration's `oauth:` block (DESIGN §8). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyFileError } from "../../src/core/errors.js";
import { getOAuthProvider } from "../../src/oauth/service.js";
import { applyText } from "../../src/services/apply.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { exportDocument, formatExport } from "../../src/services/export.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";

const MS_SECRET = "ms-client-secret-PLAINTEXT-81f2";
const ENV = { MS_CLIENT_SECRET: MS_SECRET };

const FILE = `organizations:
  - { slug: acme }
integrations:
  - name: Microsoft
    oauth:
      flow: client_credentials
      client_id: 00000000-aaaa-bbbb-cccc-000000000000
      client_secret: \${MS_CLIENT_SECRET}
      token_url: https://login.microsoftonline.com/{entity_id}/oauth2/v2.0/token
      scopes: [https://graph.microsoft.com/.default]
      url_defaults: { entity_id: common }
      token_auth_method: client_secret_basic
    mappings:
      - { org: acme, entity_id: tenant-1 }
  - name: Halo
    oauth:
      flow: authorization_code
      client_id: halo-client
      client_secret: \${MS_CLIENT_SECRET}
      authorization_url: https://{tenant}.halopsa.com/auth/authorize
      token_url: https://{tenant}.halopsa.com/auth/token
      revocation_url: https://{tenant}.halopsa.com/auth/revoke
      scopes: [all, offline_access]
      audience: https://api.halo.example
      authorize_params: { prompt: consent }
      token_params: { resource: halo }
      url_defaults: { tenant: demo }
      token_auth_method: client_secret_post
      entity_id_source: { type: url_param, key: realmId }
      quirks: { expires_in_as_string: true, default_token_type: bearer }
`;

for (const backend of BACKENDS) {
  describe(`apply / export with oauth: (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    const apply = (text: string, env: Record<string, string> = ENV) => applyText(bf, text, "bifrost.yaml", { env });

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
    });
    afterAll(async () => cleanup?.());

    it("creates the providers; applying twice reports no changes", async () => {
      const first = await apply(FILE);
      const oauth = first.changes.filter((c) => c.kind === "oauth_provider");
      expect(oauth.map((c) => [c.name, c.action])).toEqual([
        ["Microsoft", "created"],
        ["Halo", "created"],
      ]);
      expect(oauth[0]).toMatchObject({ path: "integrations[0].oauth", line: 6 });
      const view = await getOAuthProvider(bf, "Halo");
      expect(view).toMatchObject({ flow: "authorization_code", token_auth_method: "client_secret_post", entity_id_source: { type: "url_param", key: "realmId" }, quirks: { expires_in_as_string: true } });
      expect(JSON.stringify(view)).not.toContain(MS_SECRET);

      const second = await apply(FILE);
      expect(second.changed).toBe(false);
      expect(second.changes.filter((c) => c.kind === "oauth_provider").every((c) => c.action === "unchanged")).toBe(true);
    });

    it("a changed secret or field is an update naming the field; dry run writes nothing", async () => {
      const plan = await applyText(bf, FILE, "bifrost.yaml", { env: { MS_CLIENT_SECRET: "another-secret-value" }, dryRun: true });
      expect(plan.changes.filter((c) => c.kind === "oauth_provider").map((c) => [c.action, c.fields])).toEqual([
        ["updated", ["client_secret"]],
        ["updated", ["client_secret"]],
      ]);
      const scoped = await apply(FILE.replace("scopes: [all, offline_access]", "scopes: [all]"));
      expect(scoped.changes.find((c) => c.kind === "oauth_provider" && c.name === "Halo")).toMatchObject({ action: "updated", fields: ["scopes"] });
      await apply(FILE);
    });

    it("export writes the block with a masked secret and re-applies unchanged (YAML and JSON)", async () => {
      for (const format of ["yaml", "json"] as const) {
        const text = formatExport(await exportDocument(bf), format);
        expect(text).not.toContain(MS_SECRET);
        expect(text).toContain("fingerprint");
        expect(text).toContain("{entity_id}");
        const again = await applyText(bf, text, `export.${format}`, { env: {} });
        expect(again.changed, text).toBe(false);
      }
      const doc = await exportDocument(bf);
      const ms = doc.integrations.find((i) => i.name === "Microsoft");
      expect(ms?.oauth?.client_secret).toEqual({ set: true, fingerprint: expect.any(String) });
      expect(ms?.oauth?.url_defaults).toEqual({ entity_id: "common" });
    });

    it("errors name file, path and line; nothing is written", async () => {
      const bad = FILE.replace("flow: client_credentials", "flow: password");
      const err = await apply(bad).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplyFileError);
      expect((err as ApplyFileError).message).toMatch(/^bifrost\.yaml:6: integrations\[0\]\.oauth\.flow: .*password/);

      const noUrl = FILE.replace("      token_url: https://login.microsoftonline.com/{entity_id}/oauth2/v2.0/token\n", "");
      await expect(apply(noUrl)).rejects.toMatchObject({ details: { path: "integrations[0].oauth.token_url" } });
      const unknownField = FILE.replace("      token_auth_method: client_secret_basic\n", "      token_auth_method: client_secret_basic\n      colour: red\n");
      await expect(apply(unknownField)).rejects.toMatchObject({ details: { path: expect.stringMatching(/^integrations\[0\]\.oauth/) } });
      const badPlaceholder = FILE.replace("https://{tenant}.halopsa.com/auth/authorize", "https://{tenant}.{region}.halopsa.com/auth/authorize");
      const e2 = (await apply(badPlaceholder).then(
        () => null,
        (e: unknown) => e,
      )) as ApplyFileError;
      expect(e2.message).toMatch(/integrations\[1\]\.oauth\.authorization_url: .*\{region\}/);
      expect(e2.details?.line).toBe(20);
      expect((await getOAuthProvider(bf, "Halo"))?.scopes).toEqual(["all", "offline_access"]);
    });

    it("a masked secret for an integration without a provider is refused; oauth: null detaches", async () => {
      const masked = `integrations:\n  - name: Fresh\n    oauth:\n      flow: client_credentials\n      client_id: x\n      client_secret: { set: true, fingerprint: "hmac-sha256:abc" }\n      token_url: https://id.example.com/token\n`;
      await expect(apply(masked)).rejects.toMatchObject({ details: { path: expect.stringMatching(/^integrations\[0\]\.oauth/) } });
      expect(await bf.store.getIntegrationByName("Fresh")).toBeNull();
      const detach = await apply(`integrations:\n  - name: Microsoft\n    oauth: null\n`);
      expect(detach.changes.find((c) => c.kind === "oauth_provider")).toMatchObject({ action: "updated", fields: ["removed"] });
      expect(await getOAuthProvider(bf, "Microsoft")).toBeNull();
      const again = await apply(`integrations:\n  - name: Microsoft\n    oauth: null\n`);
      expect(again.changed).toBe(false);
    });
  });
}
