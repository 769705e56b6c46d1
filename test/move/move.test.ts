/**
 * Moving an instance with its secrets: export sealed under a passphrase from one instance, import into
 * another with a different keyring, on SQLite → SQLite, SQLite → PostgreSQL and PostgreSQL → SQLite.
 * Every secret and token must be readable on the target through the resolver (what `integrations.get()`
 * uses) and through OAuth refreshes against a real authorization server; a wrong passphrase, a flipped
 * byte or a non-empty target must leave the target exactly as it was.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, BACKENDS } from "../helpers/backends.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { createOrg } from "../../src/services/organizations.js";
import { setMapping } from "../../src/services/mappings.js";
import { PLATFORM_ACTOR } from "../../src/services/actor.js";
import { completeAuthorization, refreshConnection, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { emptyToken, tokenSecretContext } from "../../src/oauth/tokens.js";
import { secretContext } from "../../src/services/config-values.js";
import { providerSecretContext } from "../../src/oauth/tokens.js";
import { collectInstance, exportWithSecrets, MOVED_TABLES } from "../../src/services/instance-export.js";
import { importWithSecrets } from "../../src/services/instance-import.js";
import { sealWithPassphrase } from "../../src/crypto/sealed-file.js";
import type { Store } from "../../src/storage/store.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { getAs, oauthDeps, resolverFor } from "../oauth/helpers/setup.js";

/** Fast but in-range key derivation for tests (the CLI always uses the default, N=2^17). */
const FAST = { n: 2 ** 14, r: 8, p: 1 };
const PASSPHRASE = "correct horse battery staple 42";
const NAMES = { file: "move.bin", source: "environment variable MOVE_PASS" };

const SECRET_DEFAULT = "halo-default-api-key-7f3a9c2e";
const SECRET_ACME = "halo-acme-override-key-51b0d4";
const SECRET_JSONISH = "halo-initech-override-99e1";
const ORG_LEVEL_AT = "org-level-access-token-initech-8c1f";
const ORG_LEVEL_RT = "org-level-refresh-token-initech-2d7e";

async function boot(backend: Backend, kid: string): Promise<{ bf: Bifrost; url?: string; cleanup(): Promise<void> }> {
  const opened = await backend.open();
  const bf = await openBifrost({ store: opened.store, env: { BIFROST_KEYRING: generateKeyringJson(kid), BIFROST_HOME: "/nonexistent-bifrost-home" }, allowCreateDevKeyring: false, warn: () => undefined });
  return { bf, ...(opened.url ? { url: opened.url } : {}), cleanup: opened.cleanup };
}

/** Row counts of every table an import writes (and two it must not touch). */
async function snapshot(store: Store): Promise<Record<string, number>> {
  const integrations = await store.listIntegrations();
  let values = 0;
  let providers = 0;
  for (const i of integrations) {
    values += (await store.listConfigValues(i.id)).length;
    if (await store.getOAuthProvider(i.id)) providers++;
  }
  return {
    organizations: (await store.listOrgs()).length,
    integrations: integrations.length,
    mappings: (await store.listMappings({})).length,
    values,
    providers,
    tokens: (await store.listOAuthTokens({})).length,
    apiKeys: (await store.listApiKeys()).length,
    canaries: (await store.getCanaries()).length,
  };
}

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

/** Change one character of the header to another base64url character (so the field still decodes). */
function flipChar(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
  return copy;
}

/** Everything a workflow would see for one integration and org (plaintext included). */
async function view(bf: Bifrost, integration: string, orgSlug: string | null) {
  const org = orgSlug ? await bf.resolver.findOrg(orgSlug) : null;
  const r = await getAs(resolverFor(bf), integration, org);
  if (!r) return null;
  const keys = Object.keys(r.config.toJSON());
  return {
    entityId: r.entityId,
    entityName: r.entityName,
    config: Object.fromEntries(keys.map((k) => [k, r.config.get(k)])),
    levels: Object.fromEntries(keys.map((k) => [k, r.config.levelOf(k)])),
    oauth: r.oauth ? { accessToken: r.oauth.accessToken, refreshToken: r.oauth.refreshToken ?? null, tokenType: r.oauth.tokenType, expiresAt: r.oauth.expiresAt?.toISOString() ?? null, scopes: r.oauth.scopes } : null,
  };
}

const CASES: Array<[string, string | null]> = [
  ["Halo", null],
  ["Halo", "acme"],
  ["Halo", "globex"],
  ["Halo", "initech"],
  ["Graph", null],
  ["Graph", "acme"],
  ["Other", null],
  ["Other", "acme"],
  ["Other", "initech"],
];

const PAIRS: Array<[Backend, Backend]> = [];
for (const from of BACKENDS) for (const to of BACKENDS) if (!(from.name === "postgres" && to.name === "postgres")) PAIRS.push([from, to]);

let as: AuthServer;
beforeAll(async () => {
  as = await startAuthServer({ integrations: ["Halo", "Graph", "Other"] });
});
afterAll(async () => {
  await as?.close();
});

/** A source instance with every kind of secret: defaults, overrides, provider secrets, tokens at each owner level. */
async function populate(bf: Bifrost): Promise<string[]> {
  const deps = oauthDeps(bf);
  for (const slug of ["acme", "globex", "initech"]) await createOrg(bf, { slug, name: `${slug} Inc` });
  await createIntegration(bf, {
    name: "Halo",
    description: "Halo PSA",
    configSchema: [
      { key: "base_url", type: "string", required: true },
      { key: "api_key", type: "secret", required: true },
      { key: "timeout", type: "int" },
      { key: "extra", type: "json" },
      { key: "region", type: "string", options: ["eu", "us"], org_override: false },
    ],
    defaults: { base_url: "https://halo.example.com", api_key: SECRET_DEFAULT, timeout: 30, region: "eu" },
    trustedOrigins: ["https://files.halo.example.com"],
  });
  await setMapping(bf, "Halo", "acme", { entityId: "tenant-acme", entityName: "Acme Corp", config: { api_key: SECRET_ACME, timeout: 45, region: "us" } }, PLATFORM_ACTOR);
  await setMapping(bf, "Halo", "globex", { entityId: "tenant-globex", config: { extra: { sites: [1, 2], "${literal}": true } } }, PLATFORM_ACTOR);
  await setMapping(bf, "Halo", "initech", { config: { api_key: SECRET_JSONISH } }, PLATFORM_ACTOR);
  const base = { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] };
  await setOAuthProvider(bf, "Halo", base);
  await createIntegration(bf, { name: "Graph", privateNetwork: true });
  await setOAuthProvider(bf, "Graph", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${as.issuer}/token`, scopes: ["api:read"] });
  await createIntegration(bf, { name: "Other" });
  await setOAuthProvider(bf, "Other", base);
  // Mapping-level token (Halo / acme) and integration-level token (Other), both with refresh tokens.
  for (const [integration, org] of [["Halo", "acme"], ["Other", null]] as const) {
    const started = await startAuthorization(deps, { integration, org, initiatorKeyId: null });
    const cb = await driveAuthorization(started.authorizationUrl);
    await completeAuthorization(deps, { integration, query: cb.searchParams, initiatorKeyId: null });
  }
  // A client-credentials token minted and cached at integration level.
  await view(bf, "Graph", null);
  // An org-level token (owner "o:<org>") for an org without a mapping of "Other".
  const other = (await bf.store.getIntegrationByName("Other"))!;
  const initech = (await bf.store.getOrgBySlug("initech"))!;
  const row = emptyToken(bf.clock, other.id, { orgId: initech.id, mappingId: null });
  await bf.store.insertOAuthTokenIfAbsent({
    ...row,
    state: "connected",
    accessToken: bf.box.encrypt(ORG_LEVEL_AT, tokenSecretContext(row, "access_token")),
    refreshToken: bf.box.encrypt(ORG_LEVEL_RT, tokenSecretContext(row, "refresh_token")),
    tokenType: "bearer",
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    obtainedAt: new Date().toISOString(),
    scopes: ["api:read"],
  });
  // Every plaintext secret of the source, for the file scan.
  const secrets = [SECRET_DEFAULT, SECRET_ACME, SECRET_JSONISH, CLIENT_SECRET, ORG_LEVEL_AT, ORG_LEVEL_RT];
  for (const [integration, org] of CASES) {
    const v = await view(bf, integration, org);
    if (v?.oauth) secrets.push(v.oauth.accessToken, ...(v.oauth.refreshToken ? [v.oauth.refreshToken] : []));
  }
  return [...new Set(secrets)];
}

for (const [from, to] of PAIRS) {
  describe(`instance move ${from.name} → ${to.name}`, () => {
    let source: Awaited<ReturnType<typeof boot>>;
    let target: Awaited<ReturnType<typeof boot>>;
    let secrets: string[];
    let file: Buffer;
    const expected = new Map<string, unknown>();

    beforeAll(async () => {
      source = await boot(from, "src1");
      target = await boot(to, "tgt1");
      secrets = await populate(source.bf);
      for (const [integration, org] of CASES) expected.set(`${integration}/${org}`, await view(source.bf, integration, org));
      file = (await exportWithSecrets(source.bf, PASSPHRASE, { scrypt: FAST })).bytes;
    });
    afterAll(async () => {
      await source?.cleanup();
      await target?.cleanup();
    });

    it("the file holds no plaintext secret, name or entity id (every byte is header or ciphertext)", () => {
      expect(secrets.length).toBeGreaterThanOrEqual(10);
      for (const s of [...secrets, "tenant-acme", "Acme Corp", "halo.example.com", "Halo", "acme"]) {
        for (const form of [s, Buffer.from(s).toString("base64"), Buffer.from(s).toString("base64url")]) {
          expect(file.includes(Buffer.from(form, "utf8")), `file contains ${form.slice(0, 6)}…`).toBe(false);
        }
      }
      const header = file.subarray(0, file.indexOf(0x0a)).toString("utf8");
      expect(JSON.parse(header)).toMatchObject({ format: "bifrost-instance-export", version: 1, kdf: { name: "scrypt", n: FAST.n, r: 8, p: 1 }, cipher: { name: "aes-256-gcm" } });
    });

    it("wrong passphrase, flipped header bytes and flipped body bytes are refused; the target is unchanged", async () => {
      const before = await snapshot(target.bf.store);
      await expect(importWithSecrets(target.bf, file, "a different passphrase entirely", NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_PASSPHRASE_WRONG" });
      const nl = file.indexOf(0x0a);
      const header = file.subarray(0, nl).toString("utf8");
      const ivAt = header.indexOf('"iv":"') + 8;
      const dateAt = header.indexOf('"created_at":"') + 16;
      // IV and date are covered only by the GCM associated data: the passphrase check passes, authentication fails.
      for (const changed of [flipChar(file, ivAt), flipChar(file, dateAt), flip(file, dateAt), flip(file, nl)]) {
        await expect(importWithSecrets(target.bf, changed, PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_FILE_TAMPERED" });
      }
      // Salt or check value changed: indistinguishable from a wrong passphrase, and said so.
      const saltAt = header.indexOf('"salt":"') + 10;
      await expect(importWithSecrets(target.bf, flipChar(file, saltAt), PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_PASSPHRASE_WRONG" });
      // The cost parameter: out of range or not a power of two, refused before any key derivation.
      await expect(importWithSecrets(target.bf, flip(file, header.indexOf('"n":') + 5), PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_FILE_TAMPERED" });
      for (const at of [nl + 1, nl + Math.floor((file.length - nl) / 2), file.length - 17, file.length - 1]) {
        await expect(importWithSecrets(target.bf, flip(file, at), PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_FILE_TAMPERED" });
      }
      await expect(importWithSecrets(target.bf, file.subarray(0, file.length - 1), PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_FILE_TAMPERED" });
      expect(await snapshot(target.bf.store)).toEqual(before);
      expect(before).toMatchObject({ organizations: 0, integrations: 0, mappings: 0, values: 0, tokens: 0 });
    });

    it("import re-encrypts everything under the target's key and every secret and token resolves as on the source", async () => {
      const tokenRequestsBefore = { ...as.counts };
      const report = await importWithSecrets(target.bf, file, PASSPHRASE, NAMES);
      expect(report).toMatchObject({ kid: "tgt1", organizations: 3, integrations: 3, mappings: 3, oauth_providers: 3, oauth_tokens: 4, source_dialect: from.name, target_dialect: to.name });
      for (const [integration, org] of CASES) {
        expect(await view(target.bf, integration, org), `${integration}/${org}`).toEqual(expected.get(`${integration}/${org}`));
      }
      // Fresh tokens were handed out from the import, not fetched again.
      expect(as.counts).toEqual(tokenRequestsBefore);
      const t = await view(target.bf, "Halo", "acme");
      expect(t).toMatchObject({ entityId: "tenant-acme", config: { api_key: SECRET_ACME, timeout: 45, region: "us", base_url: "https://halo.example.com" }, levels: { api_key: "org", base_url: "integration" } });
      expect((await view(target.bf, "Other", "initech"))?.oauth).toMatchObject({ accessToken: ORG_LEVEL_AT, refreshToken: ORG_LEVEL_RT });
      const halo = (await target.bf.store.getIntegrationByName("Halo"))!;
      expect(halo).toMatchObject({ description: "Halo PSA", trustedOrigins: ["https://files.halo.example.com"], privateNetwork: false });
      expect(halo.configSchema.find((s) => s.key === "region")).toMatchObject({ orgOverride: false, options: ["eu", "us"] });
      expect((await target.bf.store.getIntegrationByName("Graph"))?.privateNetwork).toBe(true);
    });

    it("ciphertexts use the target's active key with target row ids; fingerprints are recomputed for the target rows", async () => {
      const { store, box } = target.bf;
      const sourceIds = new Set<string>();
      for (const i of await source.bf.store.listIntegrations()) {
        sourceIds.add(i.id);
        for (const v of await source.bf.store.listConfigValues(i.id)) sourceIds.add(v.id);
      }
      const sourceFingerprints = new Set<string>();
      for (const i of await source.bf.store.listIntegrations()) for (const v of await source.bf.store.listConfigValues(i.id)) if (v.fingerprint) sourceFingerprints.add(v.fingerprint);
      let secretsChecked = 0;
      for (const i of await store.listIntegrations()) {
        expect(sourceIds.has(i.id)).toBe(false);
        for (const v of await store.listConfigValues(i.id)) {
          expect(sourceIds.has(v.id)).toBe(false);
          if (!v.isSecret) continue;
          expect(v.value.startsWith("v1.tgt1.")).toBe(true);
          const plain = box.decrypt(v.value, secretContext(v));
          expect(v.fingerprint).toBe(box.fingerprint(plain, secretContext(v)));
          expect(sourceFingerprints.has(v.fingerprint!)).toBe(false);
          secretsChecked++;
        }
        const p = await store.getOAuthProvider(i.id);
        if (p) {
          expect(p.clientSecret.startsWith("v1.tgt1.")).toBe(true);
          expect(p.clientSecretFingerprint).toBe(box.fingerprint(box.decrypt(p.clientSecret, providerSecretContext(p.id)), providerSecretContext(p.id)));
          secretsChecked++;
        }
      }
      for (const t of await store.listOAuthTokens({})) {
        expect(t.accessToken?.startsWith("v1.tgt1.")).toBe(true);
        if (t.refreshToken) expect(t.refreshToken.startsWith("v1.tgt1.")).toBe(true);
        expect(t).toMatchObject({ version: 0, claimedUntil: null, refreshStartedAt: null, failureCount: 0 });
        secretsChecked++;
      }
      expect(secretsChecked).toBe(3 + 3 + 4);
      // The source's keyring opens nothing on the target (different key), the target's opens everything.
      const tokens = await store.listOAuthTokens({});
      expect(() => source.bf.box.decrypt(tokens[0]!.accessToken!, tokenSecretContext(tokens[0]!, "access_token"))).toThrow();
    });

    it("the moved refresh tokens and client secrets work against the provider from the target", async () => {
      const deps = oauthDeps(target.bf);
      const before = { refresh: as.tokenRequests("refresh_token"), cc: as.tokenRequests("client_credentials") };
      const old = expected.get("Halo/acme") as { oauth: { accessToken: string } };
      await refreshConnection(deps, { integration: "Halo", org: "acme" });
      await refreshConnection(deps, { integration: "Other", org: null });
      await refreshConnection(deps, { integration: "Graph", org: null });
      expect(as.tokenRequests("refresh_token")).toBe(before.refresh + 2);
      expect(as.tokenRequests("client_credentials")).toBe(before.cc + 1);
      const after = await view(target.bf, "Halo", "acme");
      expect(after?.oauth?.accessToken).toBeTruthy();
      expect(after?.oauth?.accessToken).not.toBe(old.oauth.accessToken);
    });

    it("every table is decided: the moved ones arrived, the others stayed behind", async () => {
      const moved = Object.entries(MOVED_TABLES).filter(([, how]) => how.startsWith("moved")).map(([table]) => table);
      expect(moved.sort()).toEqual(["config_values", "integrations", "mappings", "oauth_providers", "oauth_tokens", "organizations"]);
      expect(await snapshot(target.bf.store)).toMatchObject({ organizations: 3, integrations: 3, mappings: 3, values: 9, providers: 3, tokens: 4, apiKeys: 0, canaries: 1 });
      expect(await target.bf.store.listOAuthEvents({})).toEqual([]);
    });

    it("a second import into the now populated target is refused and changes nothing", async () => {
      const before = await snapshot(target.bf.store);
      await expect(importWithSecrets(target.bf, file, PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_IMPORT_TARGET_NOT_EMPTY", details: { organizations: 3, integrations: 3 } });
      expect(await snapshot(target.bf.store)).toEqual(before);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`instance import is one transaction (${backend.name})`, () => {
    let source: Awaited<ReturnType<typeof boot>>;
    let target: Awaited<ReturnType<typeof boot>>;
    beforeAll(async () => {
      source = await boot(backend, "a1");
      target = await boot(backend, "b1");
      for (const slug of ["acme", "globex"]) await createOrg(source.bf, { slug });
      await createIntegration(source.bf, { name: "Alpha", configSchema: [{ key: "token", type: "secret" }], defaults: { token: "alpha-secret-value" } });
      await createIntegration(source.bf, { name: "Beta" });
      await setMapping(source.bf, "Beta", "acme", { entityId: "same-tenant" }, PLATFORM_ACTOR);
      await setMapping(source.bf, "Beta", "globex", { entityId: "other-tenant" }, PLATFORM_ACTOR);
    });
    afterAll(async () => {
      await source?.cleanup();
      await target?.cleanup();
    });

    it("a payload the database refuses late (two orgs on one entity id) leaves nothing behind", async () => {
      const payload = await collectInstance(source.bf);
      const beta = payload.integrations.find((i) => i.name === "Beta")!;
      for (const m of beta.mappings) m.entity_id = "Same-Tenant";
      const bytes = await sealWithPassphrase(Buffer.from(JSON.stringify(payload)), PASSPHRASE, { scrypt: FAST });
      const before = await snapshot(target.bf.store);
      await expect(importWithSecrets(target.bf, bytes, PASSPHRASE, NAMES)).rejects.toMatchObject({ code: "BIFROST_CONFLICT" });
      expect(await snapshot(target.bf.store)).toEqual(before);
    });

    it("a payload with a value outside the schema is refused by path, naming no value", async () => {
      const payload = await collectInstance(source.bf);
      payload.integrations[0]!.values.push({ org_id: null, key: "nope", secret: true, value: "never-shown-secret", updated_at: new Date().toISOString() });
      const bytes = await sealWithPassphrase(Buffer.from(JSON.stringify(payload)), PASSPHRASE, { scrypt: FAST });
      const err = (await importWithSecrets(target.bf, bytes, PASSPHRASE, NAMES).catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ code: "BIFROST_IMPORT_FILE_INVALID", details: { path: "integrations[0].values[1].key" } });
      expect(JSON.stringify(err) + err.message).not.toContain("never-shown-secret");
      expect((await snapshot(target.bf.store)).organizations).toBe(0);
    });

    it("a writer that commits an organization while the import runs: the import is refused as not empty and leaves nothing", async () => {
      const other = await boot(backend, "c1");
      try {
        const { bytes } = await exportWithSecrets(source.bf, PASSPHRASE, { scrypt: FAST });
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const holding = new Promise<void>((r) => (inserted = r));
        // Another writer holds an uncommitted "acme" (a slug the file also has) until the import is under way.
        const writer = other.bf.store.transaction(async (tx) => {
          await tx.insertOrg({ id: "00000000-0000-4000-8000-00000000a0a0", slug: "acme", name: "Concurrent", createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" });
          inserted();
          await gate;
        });
        await holding;
        const importing = importWithSecrets(other.bf, bytes, PASSPHRASE, NAMES);
        if (other.url) {
          // PostgreSQL: wait until the import's insert is blocked on the writer's row, then let the writer commit.
          const c = new pg.Client({ connectionString: other.url });
          await c.connect();
          try {
            await expect.poll(async () => Number((await c.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted")).rows[0].n), { timeout: 20_000, interval: 50 }).toBeGreaterThan(0);
          } finally {
            await c.end();
          }
        }
        release();
        await writer;
        await expect(importing).rejects.toMatchObject({ code: "BIFROST_IMPORT_TARGET_NOT_EMPTY", details: { organizations: 1, integrations: 0 } });
        expect(await snapshot(other.bf.store)).toMatchObject({ organizations: 1, integrations: 0, mappings: 0, values: 0 });
      } finally {
        await other.cleanup();
      }
    });

    it("the untouched payload imports (control for the two refusals above)", async () => {
      const { bytes } = await exportWithSecrets(source.bf, PASSPHRASE, { scrypt: FAST });
      await importWithSecrets(target.bf, bytes, PASSPHRASE, NAMES);
      const r = await getAs(resolverFor(target.bf), "Alpha", null);
      expect(r?.config.get("token")).toBe("alpha-secret-value");
      expect((await snapshot(target.bf.store)).mappings).toBe(2);
    });
  });
}
