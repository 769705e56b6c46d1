import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyFileError, BifrostError } from "../../src/core/errors.js";
import { type ApplyOptions, applyText } from "../../src/services/apply.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { exportDocument, formatExport } from "../../src/services/export.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { EXAMPLE } from "../helpers/fixtures.js";


const SECRET = "halo-secret-value-42";
const ENV = { HALO_API_KEY: SECRET };

async function fails(p: Promise<unknown>): Promise<BifrostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BifrostError);
    return err as BifrostError;
  }
  throw new Error("expected the promise to reject");
}

for (const backend of BACKENDS) {
  describe(`apply / export (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    const apply = (text: string, opts: ApplyOptions = {}, file = "bifrost.yaml") => applyText(bf, text, file, { env: ENV, ...opts });
    const exported = async (format: "yaml" | "json" = "yaml") => formatExport(await exportDocument(bf), format);
    const resolveFor = async (slug: string | null) => {
      const org = slug ? await bf.store.getOrgBySlug(slug) : null;
      return bf.resolver.resolve("HaloPSA", org ? { id: org.id, slug: org.slug, name: org.name } : null);
    };

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
    });
    afterAll(async () => cleanup?.());

    it("applies the example file, and a second apply reports no changes", async () => {
      const first = await apply(EXAMPLE);
      expect(first.changed).toBe(true);
      expect(first.summary).toEqual({ created: 3, updated: 0, unchanged: 0 });
      const integ = first.changes.find((c) => c.kind === "integration");
      expect(integ).toMatchObject({ name: "HaloPSA", action: "created", path: "integrations[0]", line: 4 });
      expect(integ?.keysSet.sort()).toEqual(["api_key", "base_url", "timeout"]);
      expect(first.changes.find((c) => c.kind === "mapping")).toMatchObject({ name: "HaloPSA/acme", action: "created", keysSet: ["base_url"] });

      const second = await apply(EXAMPLE);
      expect(second.changed).toBe(false);
      expect(second.summary).toEqual({ created: 0, updated: 0, unchanged: 3 });
      expect(second.changes.every((c) => c.action === "unchanged")).toBe(true);
    });

    it("substitutes ${HALO_API_KEY} from the environment and resolves merged config", async () => {
      const acme = await resolveFor("acme");
      expect(acme?.entityId).toBe("customer-123");
      expect(acme?.config.get("api_key")).toBe(SECRET);
      expect(acme?.config.get("base_url")).toBe("https://acme.halo.example.com/api");
      expect(acme?.config.get("timeout")).toBe(30);
      const none = await resolveFor(null);
      expect(none?.entityId).toBeNull();
      expect(none?.config.get("base_url")).toBe("https://halo.example.com/api");
    });

    it("a changed env secret is reported as an updated key; dry run writes nothing", async () => {
      const before = await exported();
      const plan = await apply(EXAMPLE, { dryRun: true, env: { HALO_API_KEY: "another-secret-value" } });
      expect(plan.dryRun).toBe(true);
      expect(plan.summary).toEqual({ created: 0, updated: 1, unchanged: 2 });
      expect(plan.changes.find((c) => c.kind === "integration")).toMatchObject({ action: "updated", keysSet: ["api_key"], keysUnset: [] });
      expect(await exported()).toBe(before);
      expect((await resolveFor("acme"))?.config.get("api_key")).toBe(SECRET);
    });

    it("export → apply round trip is unchanged, and the export holds no plaintext secret", async () => {
      for (const format of ["yaml", "json"] as const) {
        const text = await exported(format);
        expect(text).not.toContain(SECRET);
        expect(text).toMatch(/hmac-sha256:[0-9a-f]+/);
        const report = await applyText(bf, text, `export.${format}`, { env: {} });
        expect(report.changed).toBe(false);
        expect((await resolveFor("acme"))?.config.get("api_key")).toBe(SECRET);
      }
      const doc = await exportDocument(bf);
      expect(doc.integrations[0]?.defaults.api_key).toMatchObject({ set: true, fingerprint: expect.stringMatching(/^hmac-sha256:/) });
      expect(doc.integrations[0]?.mappings?.[0]).toEqual({
        org: "acme",
        entity_id: "customer-123",
        entity_name: "Acme (Halo)",
        config: { base_url: "https://acme.halo.example.com/api" },
      });
    });

    it("merges defaults and mapping config key by key: absent keys kept, null deletes", async () => {
      const report = await apply(`integrations:
  - name: HaloPSA
    defaults: { timeout: 60 }
    mappings:
      - { org: acme, config: { timeout: 5 } }
`);
      expect(report.changes.map((c) => [c.name, c.action, c.keysSet, c.keysUnset])).toEqual([
        ["HaloPSA", "updated", ["timeout"], []],
        ["HaloPSA/acme", "updated", ["timeout"], []],
      ]);
      let acme = await resolveFor("acme");
      expect(acme?.config.get("timeout")).toBe(5);
      expect(acme?.config.get("base_url")).toBe("https://acme.halo.example.com/api");
      expect(acme?.entityName).toBe("Acme (Halo)");
      const back = await apply(`integrations:
  - name: HaloPSA
    defaults: { timeout: 30 }
    mappings:
      - { org: acme, config: { timeout: null } }
`);
      expect(back.changes[1]).toMatchObject({ action: "updated", keysUnset: ["timeout"] });
      acme = await resolveFor("acme");
      expect(acme?.config.get("timeout")).toBe(30);
      expect((await apply(EXAMPLE)).changed).toBe(false);
    });

    it("a missing environment variable names the variable and the line", async () => {
      const err = await fails(apply(EXAMPLE, { env: {} }));
      expect(err).toBeInstanceOf(ApplyFileError);
      expect(err.code).toBe("BIFROST_APPLY_FILE");
      expect(err.message).toContain("HALO_API_KEY");
      expect(err.message).toContain("bifrost.yaml:10");
      expect(err.details).toMatchObject({ file: "bifrost.yaml", path: "integrations[0].defaults.api_key", line: 10, variable: "HALO_API_KEY" });
    });

    it("$${X} is a literal ${X}; a variable's value cannot inject YAML structure", async () => {
      const text = `integrations:
  - name: Lit
    config_schema:
      - { key: template, type: string }
      - { key: injected, type: string }
    defaults: { template: "https://x/$\${TENANT}/api", injected: "\${EVIL}" }
`;
      const evil = 'x"\nintegrations: [{ name: Pwned }]\n  other: 1';
      const report = await apply(text, { env: { EVIL: evil } });
      expect(report.summary.created).toBe(1);
      const org = null;
      const lit = await bf.resolver.resolve("Lit", org);
      expect(lit?.config.get("template")).toBe("https://x/${TENANT}/api");
      expect(lit?.config.get("injected")).toBe(evil);
      expect(await bf.store.getIntegrationByName("Pwned")).toBeNull();
      // Export writes the literal back escaped, so a round trip keeps it.
      const out = await exported();
      expect(out).toContain("$${TENANT}");
      expect((await applyText(bf, out, "export.yaml", { env: {} })).changed).toBe(false);
    });

    it("malformed YAML names the line", async () => {
      const err = await fails(apply("organizations:\n  - { slug: acme\nintegrations: []\n"));
      expect(err.code).toBe("BIFROST_APPLY_FILE");
      expect(err.message).toMatch(/^bifrost\.yaml:\d+: cannot parse/);
      expect(typeof err.details?.line).toBe("number");
      const dup = await fails(apply("organizations: []\norganizations: []\n"));
      expect(dup.details?.line).toBe(2);
    });

    it("a wrong value type names path and line and leaves the store unchanged", async () => {
      const before = await exported();
      const bad = `organizations:
  - { slug: newco, name: New Co }
integrations:
  - name: HaloPSA
    defaults:
      timeout: "abc"
`;
      const err = await fails(apply(bad));
      expect(err.code).toBe("BIFROST_APPLY_FILE");
      expect(err.details).toMatchObject({ path: "integrations[0].defaults.timeout", line: 6 });
      expect(err.message).toContain("integrations[0].defaults.timeout");
      expect(err.message).toContain('"timeout" expects an integer');
      expect(await exported()).toBe(before);
    });

    it("an invalid schema type names the schema path and line", async () => {
      const err = await fails(
        apply(`integrations:
  - name: Other
    config_schema:
      - { key: a, type: string }
      - { key: b, type: strng }
`),
      );
      expect(err.details).toMatchObject({ path: "integrations[0].config_schema[1].type", line: 5 });
      expect(err.message).toContain("strng");
    });

    it("unknown fields are rejected by name (typo guard)", async () => {
      const top = await fails(apply("organisations:\n  - { slug: x }\n"));
      expect(top.message).toContain('"organisations"');
      expect(top.details).toMatchObject({ path: "organisations", line: 1 });
      const item = await fails(apply("integrations:\n  - name: HaloPSA\n    default: { timeout: 1 }\n"));
      expect(item.message).toContain('"default"');
      expect(item.details).toMatchObject({ path: "integrations[0].default", line: 3 });
      const mapping = await fails(apply("integrations:\n  - name: HaloPSA\n    mappings:\n      - { org: acme, entityid: x }\n"));
      expect(mapping.message).toContain('"entityid"');
      expect(mapping.details?.line).toBe(4);
      const key = await fails(apply("integrations:\n  - name: HaloPSA\n    defaults:\n      timout: 3\n"));
      expect(key.message).toContain('"timout"');
      expect(key.details).toMatchObject({ path: "integrations[0].defaults.timout", line: 4 });
    });

    it("a mapping to an unknown organization is refused before anything is written", async () => {
      const before = await exported();
      const err = await fails(
        apply(`organizations:
  - { slug: globex, name: Globex }
integrations:
  - name: HaloPSA
    mappings:
      - { org: initech, entity_id: "7" }
`),
      );
      expect(err.message).toContain('"initech"');
      expect(err.details).toMatchObject({ path: "integrations[0].mappings[0].org", line: 6 });
      expect(await exported()).toBe(before);
      // An org created in the same file can be mapped.
      const ok = await apply(`organizations:
  - { slug: globex, name: Globex }
integrations:
  - name: HaloPSA
    mappings:
      - { org: globex }
`);
      expect(ok.summary).toEqual({ created: 2, updated: 0, unchanged: 1 });
    });

    it("schema key removal with stored values is refused (store unchanged), then applied with force", async () => {
      const before = await exported();
      const text = `organizations:
  - { slug: another, name: Another }
integrations:
  - name: HaloPSA
    config_schema:
      - { key: base_url, type: string, required: true }
      - { key: api_key,  type: secret, required: true }
`;
      const err = await fails(apply(text));
      expect(err.code).toBe("BIFROST_SCHEMA_CHANGE_REFUSED");
      expect(err.message).toContain("--force");
      expect(err.details).toMatchObject({ file: "bifrost.yaml", path: "integrations[0].config_schema", line: 6 });
      // The org created earlier in the same transaction was rolled back too.
      expect(await exported()).toBe(before);
      expect(await bf.store.getOrgBySlug("another")).toBeNull();

      const forced = await apply(text, { force: true });
      const integ = forced.changes.find((c) => c.kind === "integration");
      expect(integ).toMatchObject({ action: "updated", fields: ["config_schema"] });
      expect(integ?.deletedValues).toBeGreaterThan(0);
      expect((await resolveFor("acme"))?.config.toJSON()).not.toHaveProperty("timeout");
      // Restore the example for later tests.
      const restored = await apply(EXAMPLE);
      expect(restored.changes.find((c) => c.kind === "integration")).toMatchObject({ action: "updated", keysSet: ["timeout"] });
    });

    it("an exported masked secret applied where no secret is stored fails naming the path", async () => {
      const text = await exported();
      const t = await bootTest(backend);
      try {
        const err = await fails(applyText(t.bf, text, "export.yaml", { env: {} }));
        expect(err.code).toBe("BIFROST_APPLY_FILE");
        expect(err.message).toContain("integrations[0].defaults.api_key");
        expect(err.details?.line).toEqual(expect.any(Number));
        expect(await t.bf.store.listOrgs()).toEqual([]);
      } finally {
        await t.bf.close().catch(() => undefined);
        await t.cleanup();
      }
    });

    it("reads JSON files with line numbers too", async () => {
      const json = JSON.stringify({ organizations: [{ slug: "acme", name: "Acme Corp" }], integrations: [{ name: "HaloPSA", defaults: { timeout: "x" } }] }, null, 2);
      const err = await fails(apply(json, {}, "bifrost.json"));
      expect(err.details).toMatchObject({ file: "bifrost.json", path: "integrations[0].defaults.timeout" });
      expect(err.details?.line).toBe(json.split("\n").findIndex((l) => l.includes('"timeout"')) + 1);
      const ok = await apply(JSON.stringify({ organizations: [{ slug: "acme", name: "Acme Corp" }] }), {}, "bifrost.json");
      expect(ok.changed).toBe(false);
    });

    it("export is deterministic", async () => {
      expect(await exported()).toBe(await exported());
      const doc = await exportDocument(bf);
      expect(doc.organizations.map((o) => o.slug)).toEqual([...doc.organizations.map((o) => o.slug)].sort());
      expect(doc.integrations.map((i) => i.name)).toEqual(["HaloPSA", "Lit"]);
    });

    it("json values of every shape survive export → apply unchanged (strings stay strings)", async () => {
      const file = `integrations:
  - name: JsonShapes
    config_schema:
      - { key: a, type: json }
      - { key: b, type: json }
      - { key: c, type: json }
      - { key: d, type: json }
    defaults: { a: "abc", b: "30", c: { nested: [1, "x", null] }, d: 7 }
`;
      await apply(file);
      const again = await apply(await exported());
      expect(again.changed).toBe(false);
      const r = await bf.resolver.resolve("JsonShapes", null);
      expect([r!.config.get("a"), r!.config.get("b"), r!.config.get("c"), r!.config.get("d")]).toEqual(["abc", "30", { nested: [1, "x", null] }, 7]);
    });
  });
}
