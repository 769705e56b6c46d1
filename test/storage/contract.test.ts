import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, DecryptError, KeyringError, NotFoundError, SchemaChangeError, ValidationError, ValueTooLargeError } from "../../src/core/errors.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { openBifrost, type Bifrost } from "../../src/host/bootstrap.js";
import { getStoredConfig, listMappings, removeMapping, setConfig, setMapping } from "../../src/services/mappings.js";
import { createIntegration, deleteIntegration, getIntegration, updateIntegration } from "../../src/services/integrations.js";
import { createOrg, deleteOrg, updateOrg } from "../../src/services/organizations.js";
import type { Store } from "../../src/storage/store.js";
import { BACKENDS, type Backend } from "../helpers/backends.js";

const HALO_SCHEMA = [
  { key: "base_url", type: "string", required: true },
  { key: "api_key", type: "secret", required: true },
  { key: "timeout", type: "int" },
  { key: "flags", type: "json" },
  { key: "verbose", type: "bool" },
  { key: "region", type: "string", options: ["eu", "us"] },
];

/** Every row of every table, for "nothing changed" assertions. */
async function snapshot(store: Store): Promise<string> {
  const orgs = await store.listOrgs();
  const integrations = await store.listIntegrations();
  const values = (await Promise.all(integrations.map((i) => store.listConfigValues(i.id)))).flat();
  const mappings = await store.listMappings({});
  return JSON.stringify({ orgs, integrations, values, mappings });
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: store and config engine`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let keyring: string;
    let storeUrl: string | undefined;
    let reopen: Backend["open"];

    beforeAll(async () => {
      const opened = await backend.open();
      keyring = generateKeyringJson();
      storeUrl = opened.url;
      reopen = backend.open;
      bf = await openBifrost({ store: opened.store, env: { BIFROST_KEYRING: keyring }, allowCreateDevKeyring: false, warn: () => undefined });
      cleanup = opened.cleanup;
      await createOrg(bf, { slug: "acme", name: "Acme Corp" });
      await createOrg(bf, { slug: "globex", name: "Globex" });
      await createIntegration(bf, {
        name: "HaloPSA",
        configSchema: HALO_SCHEMA,
        defaults: { base_url: "https://halo.example.com/api", timeout: "30", api_key: "default-key-123" },
      });
      await setMapping(bf, "HaloPSA", "acme", { entityId: "customer-123", entityName: "Acme (Halo)", config: { base_url: "https://acme.halo.example.com/api", api_key: "acme-key-456" } });
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it("migrations are idempotent", async () => {
      expect((await bf.store.migrate()).applied).toEqual([]);
    });

    it("coerces at write time and stores typed values", async () => {
      const defaults = await getStoredConfig(bf, "HaloPSA", null);
      expect(defaults.timeout).toBe(30);
      expect(defaults.api_key).toEqual({ set: true, fingerprint: expect.stringMatching(/^hmac-sha256:/) });
      // command-line text: json keys are parsed
      const change = await setConfig(bf, "HaloPSA", null, { flags: '{"beta":true}', verbose: "true" }, { text: true });
      expect(change.change.set.sort()).toEqual(["flags", "verbose"]);
      const after = await getStoredConfig(bf, "HaloPSA", null);
      expect(after.flags).toEqual({ beta: true });
      expect(after.verbose).toBe(true);
      // structured input (API body, YAML): the value is the JSON value itself, so a string stays a string
      await setConfig(bf, "HaloPSA", "globex", { flags: '{"beta":true}' });
      expect((await getStoredConfig(bf, "HaloPSA", "globex")).flags).toBe('{"beta":true}');
      await setConfig(bf, "HaloPSA", "globex", { flags: null });
      await removeMapping(bf, "HaloPSA", "globex");
    });

    it("stores secrets encrypted on every write path", async () => {
      const integration = (await bf.store.getIntegrationByName("HaloPSA"))!;
      const rows = await bf.store.listConfigValues(integration.id);
      const secrets = rows.filter((r) => r.key === "api_key");
      expect(secrets).toHaveLength(2);
      for (const r of secrets) {
        expect(r.isSecret).toBe(true);
        expect(r.value.startsWith("v1.")).toBe(true);
        expect(r.value).not.toMatch(/default-key-123|acme-key-456/);
      }
      expect(JSON.stringify(rows)).not.toMatch(/default-key-123|acme-key-456/);
    });

    it("resolves defaults merged with the org's overrides", async () => {
      const acme = (await bf.resolver.findOrg("acme"))!;
      const globex = (await bf.resolver.findOrg("globex"))!;
      const a = (await bf.resolver.resolve("HaloPSA", acme))!;
      expect(a.entityId).toBe("customer-123");
      expect(a.entityName).toBe("Acme (Halo)");
      expect(a.mapped).toBe(true);
      expect(a.config.get("base_url")).toBe("https://acme.halo.example.com/api");
      expect(a.config.get("timeout")).toBe(30);
      expect(a.config.get("api_key")).toBe("acme-key-456");
      expect(JSON.stringify(a.config)).not.toContain("acme-key-456");
      const g = (await bf.resolver.resolve("HaloPSA", globex))!;
      expect(g.entityId).toBeNull();
      expect(g.mapped).toBe(false);
      expect(g.config.get("base_url")).toBe("https://halo.example.com/api");
      expect(g.config.get("api_key")).toBe("default-key-123");
      expect(await bf.resolver.resolve("NoSuchIntegration", acme)).toBeNull();
    });

    it("null deletes an override so the default shows through", async () => {
      await setConfig(bf, "HaloPSA", "acme", { timeout: 99 });
      const acme = (await bf.resolver.findOrg("acme"))!;
      expect((await bf.resolver.resolve("HaloPSA", acme))!.config.get("timeout")).toBe(99);
      const res = await setConfig(bf, "HaloPSA", "acme", { timeout: null });
      expect(res.change.unset).toEqual(["timeout"]);
      expect((await bf.resolver.resolve("HaloPSA", acme))!.config.get("timeout")).toBe(30);
    });

    it("a masked echo never overwrites the stored secret", async () => {
      const before = await getStoredConfig(bf, "HaloPSA", "acme");
      const fp = (before.api_key as { fingerprint: string }).fingerprint;
      for (const echo of [before.api_key, fp, "••••••", "********"]) {
        const res = await setConfig(bf, "HaloPSA", "acme", { api_key: echo });
        expect(res.change.unchanged).toEqual(["api_key"]);
      }
      const acme = (await bf.resolver.findOrg("acme"))!;
      expect((await bf.resolver.resolve("HaloPSA", acme))!.config.get("api_key")).toBe("acme-key-456");
      expect((await setConfig(bf, "HaloPSA", "acme", { api_key: "acme-key-456" })).change.unchanged).toEqual(["api_key"]);
    });

    it("bad values are rejected with a clear error and change nothing", async () => {
      const before = await snapshot(bf.store);
      await expect(setConfig(bf, "HaloPSA", null, { timeout: "abc", verbose: true })).rejects.toThrowError(/"timeout" expects an integer; received the string "abc"/);
      await expect(setConfig(bf, "HaloPSA", null, { nope: 1, other: 2 })).rejects.toThrowError(/unknown config key\(s\) "nope", "other"/);
      await expect(setConfig(bf, "HaloPSA", null, JSON.parse('{"__proto__": {"x": 1}}'))).rejects.toThrowError(/reserved key/);
      await expect(setConfig(bf, "HaloPSA", null, { constructor: "x" })).rejects.toThrowError(ValidationError);
      await expect(setConfig(bf, "HaloPSA", null, { base_url: "x".repeat(1024 * 1024) })).rejects.toThrowError(ValueTooLargeError);
      await expect(setConfig(bf, "HaloPSA", null, { region: "apac" })).rejects.toThrowError(/must be one of/);
      await expect(setConfig(bf, "HaloPSA", "acme", { timeout: 5, flags: "{oops" }, { text: true })).rejects.toThrowError(/"flags" expects JSON/);
      await expect(setConfig(bf, "HaloPSA", "nobody", { timeout: 5 })).rejects.toThrowError(NotFoundError);
      expect(await snapshot(bf.store)).toBe(before);
    });

    it("rejects duplicate and invalid names", async () => {
      const before = await snapshot(bf.store);
      await expect(createIntegration(bf, { name: "HaloPSA" })).rejects.toThrowError(ConflictError);
      await expect(createIntegration(bf, { name: "Halo PSA" })).rejects.toThrowError(/Integration name/);
      await expect(createIntegration(bf, { name: "../etc/passwd" })).rejects.toThrowError(ValidationError);
      await expect(createOrg(bf, { slug: "acme" })).rejects.toThrowError(ConflictError);
      await expect(updateOrg(bf, "globex", { slug: "acme" })).rejects.toThrowError(ConflictError);
      await expect(createIntegration(bf, { name: "Other", configSchema: [{ key: "a", type: "int" }], defaults: { a: "x" } })).rejects.toThrowError(/expects an integer/);
      expect(await snapshot(bf.store)).toBe(before);
    });

    it("one entity id maps to one org per integration", async () => {
      await expect(setMapping(bf, "HaloPSA", "globex", { entityId: "customer-123" })).rejects.toThrowError(ConflictError);
      expect(await listMappings(bf, "HaloPSA")).toHaveLength(1);
    });

    it("refuses to delete an org that has mappings", async () => {
      const before = await snapshot(bf.store);
      await expect(deleteOrg(bf, "acme")).rejects.toThrowError(/has 1 mapping\(s\); remove them first/);
      expect(await snapshot(bf.store)).toBe(before);
    });

    it("refuses schema key removal that would delete values unless forced", async () => {
      await createIntegration(bf, { name: "Temp", configSchema: [{ key: "a", type: "string" }, { key: "b", type: "int" }], defaults: { a: "x", b: 1 } });
      await setConfig(bf, "Temp", "globex", { b: 2 });
      const before = await snapshot(bf.store);
      const err = await updateIntegration(bf, "Temp", { configSchema: [{ key: "a", type: "string" }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaChangeError);
      expect((err as Error).message).toMatch(/would delete 2 stored value\(s\) \(b: 2 value\(s\) of a removed key\)/);
      await expect(updateIntegration(bf, "Temp", { configSchema: [{ key: "a", type: "int" }, { key: "b", type: "int" }] })).rejects.toThrowError(/no longer valid/);
      expect(await snapshot(bf.store)).toBe(before);
      // a compatible type change rewrites values instead of deleting them
      const widened = await updateIntegration(bf, "Temp", { configSchema: [{ key: "a", type: "string" }, { key: "b", type: "string" }] });
      expect(widened.deletedValues).toBe(0);
      expect((await getStoredConfig(bf, "Temp", null)).b).toBe("1");
      const forced = await updateIntegration(bf, "Temp", { configSchema: [{ key: "a", type: "string" }], force: true });
      expect(forced.deletedValues).toBe(2);
      expect(await getStoredConfig(bf, "Temp", null)).toEqual({ a: "x" });
      await expect(deleteIntegration(bf, "Temp")).rejects.toThrowError(/has 1 mapping/);
      expect((await deleteIntegration(bf, "Temp", { force: true })).deletedMappings).toBe(1);
      await expect(getIntegration(bf, "Temp")).rejects.toThrowError(NotFoundError);
    });

    it("get() of a missing required key names integration, org and keys", async () => {
      await createIntegration(bf, { name: "NeedsKey", configSchema: [{ key: "token", type: "secret", required: true }, { key: "url", type: "string", required: true }] });
      const acme = (await bf.resolver.findOrg("acme"))!;
      await expect(bf.resolver.resolve("NeedsKey", acme)).rejects.toThrowError(/"NeedsKey" is missing required config key\(s\) token, url for organization "acme"/);
    });

    it("removing a mapping removes its overrides", async () => {
      await setMapping(bf, "HaloPSA", "globex", { entityId: "g-1", config: { timeout: 7 } });
      const res = await removeMapping(bf, "HaloPSA", "globex");
      expect(res).toEqual({ removed: true, deletedOverrides: 1 });
      const integration = (await bf.store.getIntegrationByName("HaloPSA"))!;
      const globex = (await bf.store.getOrgBySlug("globex"))!;
      expect(await bf.store.listConfigValues(integration.id, globex.id)).toEqual([]);
    });

    it("a ciphertext swapped between rows fails loudly and never returns the other org's secret", async () => {
      await createOrg(bf, { slug: "initech", name: "Initech" });
      await setMapping(bf, "HaloPSA", "initech", { entityId: "i-1", config: { api_key: "initech-key-789" } });
      const integration = (await bf.store.getIntegrationByName("HaloPSA"))!;
      const acme = (await bf.store.getOrgBySlug("acme"))!;
      const initech = (await bf.store.getOrgBySlug("initech"))!;
      const [acmeRow] = await bf.store.listConfigValues(integration.id, acme.id).then((r) => r.filter((v) => v.key === "api_key"));
      const [initechRow] = await bf.store.listConfigValues(integration.id, initech.id).then((r) => r.filter((v) => v.key === "api_key"));
      // an attacker with database access copies acme's ciphertext into initech's row
      await bf.store.upsertConfigValue({ ...initechRow!, value: acmeRow!.value });
      const err = await bf.resolver.resolve("HaloPSA", { id: initech.id, slug: "initech", name: "Initech" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecryptError);
      expect((err as Error).message).toMatch(/failed authentication/);
      expect((err as Error).message).not.toContain("acme-key-456");
      // the same ciphertext as a default (another tenant) fails too
      const [defRow] = await bf.store.listConfigValues(integration.id, null).then((r) => r.filter((v) => v.key === "api_key"));
      await bf.store.upsertConfigValue({ ...defRow!, value: acmeRow!.value });
      await expect(bf.resolver.resolve("HaloPSA", null)).rejects.toThrowError(DecryptError);
      await bf.store.upsertConfigValue(defRow!);
      // writing a new value repairs the tampered row (the old one is not needed to compare against)
      expect((await setConfig(bf, "HaloPSA", "initech", { api_key: "initech-key-new" })).change.set).toEqual(["api_key"]);
      expect((await bf.resolver.resolve("HaloPSA", { id: initech.id, slug: "initech", name: "Initech" }))!.config.get("api_key")).toBe("initech-key-new");
      await removeMapping(bf, "HaloPSA", "initech");
      await deleteOrg(bf, "initech");
    });

    it("refuses to start with a wrong keyring, and accepts the right one", async () => {
      if (!storeUrl && backend.name === "postgres") throw new Error("postgres backend must expose its url");
      // A second process on the same database with a different key for k1.
      const second = backend.name === "postgres" ? (await import("../../src/storage/postgres/postgres-store.js")).PostgresStore.open(storeUrl!) : null;
      if (second) {
        await expect(openBifrost({ store: second, env: { BIFROST_KEYRING: generateKeyringJson() }, allowCreateDevKeyring: false, warn: () => undefined })).rejects.toThrowError(/wrong key for "k1"|does not match this database/);
        const ok = await openBifrost({ store: (await import("../../src/storage/postgres/postgres-store.js")).PostgresStore.open(storeUrl!), env: { BIFROST_KEYRING: keyring }, allowCreateDevKeyring: false, warn: () => undefined });
        await ok.close();
      } else {
        // SQLite: check the canary through the same store (checkCanaries is what openBifrost runs)
        const { checkCanaries } = await import("../../src/host/bootstrap.js");
        const { SecretBox } = await import("../../src/crypto/secret-box.js");
        const { parseKeyring } = await import("../../src/crypto/keyring.js");
        await expect(checkCanaries(bf.store, new SecretBox(parseKeyring(generateKeyringJson(), "t")), bf.clock)).rejects.toThrowError(KeyringError);
        await expect(checkCanaries(bf.store, new SecretBox(parseKeyring(generateKeyringJson("k7"), "t")), bf.clock)).rejects.toThrowError(/lacks key\(s\) k1/);
        await checkCanaries(bf.store, bf.box, bf.clock);
      }
      void reopen;
    });
  });
}
