/**
 * Key rotation without downtime (issue 13 part 1), on SQLite and PostgreSQL: rotate → rewrap while two
 * "servers" (own store instances, no cache, so every get() decrypts) read secrets and OAuth tokens in a
 * loop; a rewrap stopped part-way resumes; retire is refused while a key is used or active; start is
 * refused when a key in use is missing; SIGHUP reload. The CLI runs in this process (runCliInProcess).
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import pg from "pg";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { StoreResolver } from "../../src/host/store-resolver.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { completeAuthorization, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { providerSecretContext } from "../../src/oauth/tokens.js";
import { secretContext } from "../../src/services/config-values.js";
import { createIntegration } from "../../src/services/integrations.js";
import { keyringStatus, rewrapAll } from "../../src/services/keyring.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { TEST_OAUTH, getAs, oauthDeps } from "../oauth/helpers/setup.js";

const ORGS = ["o1", "o2", "o3", "o4", "o5"];
const secretOf = (slug: string) => `halo-secret-of-${slug}-0123456789`;

interface Reader {
  reads: number;
  failures: string[];
  stop(): Promise<void>;
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: keyring rotate → rewrap → retire`, () => {
    const tmp = tempDir("bifrost-keyring-");
    const keyringFile = join(tmp.dir, "keyring.json");
    let env: Record<string, string>;
    let drop: () => Promise<void> = async () => undefined;
    let as: AuthServer;
    let a: Bifrost;
    let b: Bifrost;
    const orgs = new Map<string, ExecutionOrg>();
    let accessToken = "";

    /** A raw store (no change-feed cache: every get() reads and decrypts). */
    const rawStore = (): Store => (env.DATABASE_URL ? PostgresStore.open(env.DATABASE_URL) : SqliteStore.open(join(env.BIFROST_HOME as string, "bifrost.db")));
    const boot = (extra: Record<string, string> = {}): Promise<Bifrost> => openBifrost({ store: rawStore(), env: { ...env, ...extra }, allowCreateDevKeyring: false, warn: () => undefined });
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
      const r = await runCliInProcess([...args, "--json"], { env: { ...env, ...extra }, cwd: tmp.dir });
      return { status: r.status, body: JSON.parse(r.stdout || "null") as Record<string, unknown>, stderr: r.stderr };
    };
    const resolver = (bf: Bifrost) => new StoreResolver(bf.store, bf.box, { clock: bf.clock, oauth: TEST_OAUTH });

    /** Read every org's secret and the OAuth token through integrations.get(), in a loop, until stopped. */
    function startReading(bf: Bifrost): Reader {
      const r = resolver(bf);
      const state = { reads: 0, failures: [] as string[], running: true };
      const loop = (async () => {
        while (state.running) {
          for (const slug of ORGS) {
            try {
              const halo = await getAs(r, "HaloPSA", orgs.get(slug) as ExecutionOrg);
              if (halo?.config.get("api_key") !== secretOf(slug)) state.failures.push(`wrong value for ${slug}`);
              const oauth = await getAs(r, "Halo", orgs.get("o1") as ExecutionOrg);
              if (oauth?.oauth?.accessToken !== accessToken) state.failures.push("wrong access token");
              state.reads += 2;
            } catch (err) {
              state.failures.push((err as Error).message);
            }
          }
          await new Promise((ok) => setImmediate(ok));
        }
      })();
      return {
        get reads() {
          return state.reads;
        },
        failures: state.failures,
        async stop() {
          state.running = false;
          await loop;
        },
      };
    }

    beforeAll(async () => {
      writeFileSync(keyringFile, generateKeyringJson("k1"), { mode: 0o600 });
      env = { BIFROST_HOME: join(tmp.dir, "home"), BIFROST_KEYRING_FILE: keyringFile };
      if (backend.name === "postgres") {
        const db = await createTestDatabase();
        env.DATABASE_URL = db.url;
        drop = db.drop;
      }
      as = await startAuthServer({ integrations: ["Halo"] });
      a = await boot();
      b = await boot();
      await createIntegration(a, { name: "HaloPSA", configSchema: [{ key: "api_key", type: "secret", required: true }], defaults: { api_key: "the-default-secret" } });
      for (const slug of ORGS) {
        await createOrg(a, { slug });
        await setMapping(a, "HaloPSA", slug, { entityId: `c-${slug}`, config: { api_key: secretOf(slug) } });
        orgs.set(slug, (await a.resolver.findOrg(slug)) as ExecutionOrg);
      }
      await createIntegration(a, { name: "Halo" });
      await setOAuthProvider(a, "Halo", { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read"] });
      const started = await startAuthorization(oauthDeps(a), { integration: "Halo", org: "o1", initiatorKeyId: null });
      await completeAuthorization(oauthDeps(a), { integration: "Halo", query: (await driveAuthorization(started.authorizationUrl)).searchParams });
      // A second, unfinished authorization leaves a state row with its encrypted verifier.
      await startAuthorization(oauthDeps(a), { integration: "Halo", org: "o2", initiatorKeyId: null });
      accessToken = (await getAs(resolver(a), "Halo", orgs.get("o1") as ExecutionOrg))?.oauth?.accessToken as string;
      expect(accessToken).toBeTruthy();
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await as?.close();
      await drop();
      tmp.cleanup();
    });

    it("covers every kind of encrypted value before rotating", async () => {
      const columns = (await a.store.countCiphertexts()).map((c) => `${c.table}.${c.column}`);
      for (const c of ["config_values.value", "oauth_providers.client_secret", "oauth_tokens.access_token", "oauth_tokens.refresh_token", "oauth_states.code_verifier", "keyring_canaries.value"]) {
        expect(columns).toContain(c);
      }
      const status = await cli(["keyring", "status"]);
      expect(status.body).toEqual({ active: "k1", keys: { k1: expect.any(Number) } });
    });

    it("rotate → rewrap with two servers reading the whole time: 0 failed reads, every value under the new key", async () => {
      const before = await keyringStatus(a);
      const total = before.keys.k1 as number;
      // 1 default + 5 overrides + client secret + access + refresh + 2 verifiers.
      expect(total).toBeGreaterThanOrEqual(11);
      const readers = [startReading(a), startReading(b)];
      try {
        const rotated = await cli(["keyring", "rotate", "--file", keyringFile]);
        expect(rotated.status).toBe(0);
        expect(rotated.body).toMatchObject({ active: "k2", previous: "k1", kids: ["k1", "k2"] });
        expect(statSync(keyringFile).mode & 0o777).toBe(0o600);
        expect(JSON.stringify(rotated.body)).not.toContain(JSON.parse(readFileSync(keyringFile, "utf8")).keys.k2);

        // Server A reloads (the SIGHUP path); server B does not: it still reads new-key values.
        expect(await a.reloadKeyring()).toEqual({ active: "k2", kids: ["k1", "k2"] });
        expect(a.box.activeKid).toBe("k2");
        expect(b.box.activeKid).toBe("k1");
        // New writes use the new key at once; B reads them (its keyring file has the key).
        await createOrg(a, { slug: "o6" });
        await setMapping(a, "HaloPSA", "o6", { config: { api_key: secretOf("o6") } });
        const o6 = (await a.resolver.findOrg("o6")) as ExecutionOrg;
        const written = (await a.store.listConfigValues((await a.store.getIntegrationByName("HaloPSA"))!.id, o6.id))[0]!;
        expect(written.value.startsWith("v1.k2.")).toBe(true);
        expect((await getAs(resolver(b), "HaloPSA", o6))?.config.get("api_key")).toBe(secretOf("o6"));
        expect(b.box.activeKid).toBe("k1");

        const readsBefore = readers.map((r) => r.reads);
        const rewrap = await cli(["keyring", "rewrap", "--batch", "2"]);
        expect(rewrap.status).toBe(0);
        expect(rewrap.body).toMatchObject({ active: "k2", failed: [], remaining: {} });
        expect((rewrap.body.rewrapped as number) + (rewrap.body.superseded as number)).toBe(total);
        expect(rewrap.body.batches as number).toBeGreaterThan(3);
        // The loops kept reading while the batches ran.
        readers.forEach((r, i) => expect(r.reads).toBeGreaterThan(readsBefore[i] as number));
      } finally {
        for (const r of readers) await r.stop();
      }
      expect(readers[0]!.failures).toEqual([]);
      expect(readers[1]!.failures).toEqual([]);
      expect(readers[0]!.reads).toBeGreaterThan(0);
      const status = await cli(["keyring", "status"]);
      expect(status.body).toEqual({ active: "k2", keys: { k1: 0, k2: total + 1 } });
      // Canaries stay per key.
      expect((await a.store.getCanaries()).map((c) => c.kid)).toEqual(["k1", "k2"]);
      // Both steps are in the audit trail, by the local CLI, naming key ids only.
      const [rotateEntry] = await a.store.listAuditEntries({ action: "keyring.rotate", limit: 10 });
      expect(rotateEntry).toMatchObject({ action: "keyring.rotate", actor: { kind: "local_cli" }, keys: ["k2"], detail: { previous: "k1" } });
      const [rewrapEntry] = await a.store.listAuditEntries({ action: "keyring.rewrap", limit: 10 });
      expect(rewrapEntry).toMatchObject({ action: "keyring.rewrap", actor: { kind: "local_cli" }, keys: ["k2"], detail: { failed: 0 } });
      expect(JSON.stringify([rotateEntry, rewrapEntry])).not.toContain(JSON.parse(readFileSync(keyringFile, "utf8")).keys.k2);
      // Fingerprints were recomputed with their values (keyed from k2 now): none is left keyed from k1.
      const halo = (await a.store.getIntegrationByName("HaloPSA"))!;
      const secrets = (await a.store.listConfigValues(halo.id)).filter((v) => v.isSecret);
      expect(secrets).toHaveLength(7);
      for (const v of secrets) expect(v.fingerprint).toBe(a.box.fingerprint(a.box.decrypt(v.value, secretContext(v)), secretContext(v)));
      const provider = (await a.store.getOAuthProvider((await a.store.getIntegrationByName("Halo"))!.id))!;
      expect(provider.clientSecretFingerprint).toBe(a.box.fingerprint(CLIENT_SECRET, providerSecretContext(provider.id)));
    });

    it("retire is refused for a key in use (with the count) and for the active key, then allowed", async () => {
      const rotated = await cli(["keyring", "rotate", "--file", keyringFile]);
      expect(rotated.body).toMatchObject({ active: "k3" });
      await a.reloadKeyring();
      const inUse = await cli(["keyring", "retire", "k2", "--file", keyringFile]);
      expect(inUse.status).toBe(1);
      expect(inUse.body).toMatchObject({ code: "BIFROST_KEYRING_KEY_IN_USE", statusCode: 409, details: { kid: "k2", count: expect.any(Number) } });
      expect(inUse.body.message).toMatch(/still encrypts \d+ stored value/);
      expect(JSON.parse(readFileSync(keyringFile, "utf8")).keys).toHaveProperty("k2");
      const active = await cli(["keyring", "retire", "k3", "--file", keyringFile]);
      expect(active.body).toMatchObject({ code: "BIFROST_KEYRING_KEY_IN_USE", details: { kid: "k3", active: true } });
      const unknown = await cli(["keyring", "retire", "k9", "--file", keyringFile]);
      expect(unknown.body).toMatchObject({ code: "BIFROST_NOT_FOUND" });

      expect((await cli(["keyring", "rewrap"])).body).toMatchObject({ remaining: {} });
      const k1 = await cli(["keyring", "retire", "k1", "--file", keyringFile]);
      expect(k1.status).toBe(0);
      const k2 = await cli(["keyring", "retire", "k2", "--file", keyringFile]);
      expect(k2.body).toMatchObject({ retired: "k2", active: "k3", kids: ["k3"] });
      expect(Object.keys(JSON.parse(readFileSync(keyringFile, "utf8")).keys)).toEqual(["k3"]);
      expect(statSync(keyringFile).mode & 0o777).toBe(0o600);
      expect((await a.store.getCanaries()).map((c) => c.kid)).toEqual(["k3"]);
      // Both servers reload onto the one remaining key and still read everything.
      await a.reloadKeyring();
      await b.reloadKeyring();
      for (const bf of [a, b]) {
        for (const slug of ORGS) expect((await getAs(resolver(bf), "HaloPSA", orgs.get(slug)!))?.config.get("api_key")).toBe(secretOf(slug));
        expect((await getAs(resolver(bf), "Halo", orgs.get("o1")!))?.oauth?.accessToken).toBe(accessToken);
      }
    });

    it("a rewrap stopped after some batches resumes to 0 old-key values; two rewrappers share the work", async () => {
      await cli(["keyring", "rotate", "--file", keyringFile]);
      await a.reloadKeyring();
      await b.reloadKeyring();
      const total = (await keyringStatus(a)).keys.k3 as number;
      let batches = 0;
      const crash = new Error("simulated crash after two batches");
      await expect(
        rewrapAll(a, {
          batch: 2,
          onBatch: () => {
            if (++batches === 2) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const mid = await keyringStatus(a);
      expect(mid.keys).toEqual({ k3: total - 4, k4: 4 });
      // Resume with two rewrappers at once: every value exactly once. PostgreSQL: two store instances
      // (two servers). SQLite: one store (two connections in one process would wait on each other's
      // lock synchronously; separate processes are the spawned test in test/cli/keyring-crash.test.ts).
      const second = backend.name === "postgres" ? b : a;
      const finished: Awaited<ReturnType<typeof rewrapAll>>[] = [];
      const done = (r: Awaited<ReturnType<typeof rewrapAll>>) => (finished.push(r), r);
      const [r1, r2] = await Promise.all([rewrapAll(a, { batch: 1 }).then(done), rewrapAll(second, { batch: 1 }).then(done)]);
      expect(r1.failed).toEqual([]);
      expect(r2.failed).toEqual([]);
      expect(r1.rewrapped + r2.rewrapped + r1.superseded + r2.superseded).toBe(total - 4);
      // The rewrapper that finished last worked alone at the end: nothing remains. (The first one to find no
      // unlocked row may still count a row the other holds, on PostgreSQL with SKIP LOCKED.)
      expect(finished[1]?.remaining).toEqual({});
      expect((await keyringStatus(a)).keys).toEqual({ k3: 0, k4: total });
      for (const slug of ORGS) expect((await getAs(resolver(b), "HaloPSA", orgs.get(slug)!))?.config.get("api_key")).toBe(secretOf(slug));
    });

    it("start (server and CLI) is refused when a key still in use is missing; a refused reload keeps the keyring", async () => {
      const other = join(tmp.dir, "other-keyring.json");
      writeFileSync(other, generateKeyringJson("k3"), { mode: 0o600 });
      const refused = await boot({ BIFROST_KEYRING_FILE: other }).then(
        () => null,
        (err: unknown) => err as { code: string; message: string; details: Record<string, unknown> },
      );
      const total = (await keyringStatus(a)).keys.k4 as number;
      expect(refused?.code).toBe("BIFROST_KEYRING_KEY_MISSING");
      expect(refused?.message).toContain(`"k4" (${total} values)`);
      expect(refused?.message).toContain("Refusing to start");
      expect(refused?.details).toEqual({ missing: { k4: total } });
      const status = await cli(["keyring", "status"], { BIFROST_KEYRING_FILE: other });
      expect(status.status).toBe(1);
      expect(status.body).toMatchObject({ code: "BIFROST_KEYRING_KEY_MISSING" });

      // SIGHUP with a broken keyring file: refused, the running keyring stays.
      const good = readFileSync(keyringFile, "utf8");
      writeFileSync(keyringFile, generateKeyringJson("k4"));
      await expect(a.reloadKeyring()).rejects.toMatchObject({ code: "BIFROST_KEYRING_INVALID" });
      writeFileSync(keyringFile, readFileSync(other));
      await expect(a.reloadKeyring()).rejects.toMatchObject({ code: "BIFROST_KEYRING_KEY_MISSING" });
      writeFileSync(keyringFile, good);
      expect(a.box.activeKid).toBe("k4");
      expect((await getAs(resolver(a), "HaloPSA", orgs.get("o3")!))?.config.get("api_key")).toBe(secretOf("o3"));
    });

    it.runIf(backend.name === "postgres")("a row a writer holds is skipped, not waited for, and the writer's value wins (SKIP LOCKED)", async () => {
      await cli(["keyring", "rotate", "--file", keyringFile]);
      await a.reloadKeyring();
      const halo = (await a.store.getIntegrationByName("HaloPSA"))!;
      const row = (await a.store.listConfigValues(halo.id, orgs.get("o4")!.id))[0]!;
      // Another server writes a new value for o4 (under the old key: it has not reloaded) and has not committed yet.
      const writer = new pg.Client({ connectionString: env.DATABASE_URL });
      await writer.connect();
      try {
        await writer.query("BEGIN");
        await writer.query("UPDATE config_values SET value = $1 WHERE id = $2", [b.box.encrypt("written-during-rewrap", secretContext(row), "k4"), row.id]);
        const res = await rewrapAll(a, { batch: 3 });
        expect(res.failed).toEqual([]);
        expect(res.remaining).toEqual({ k4: 1 });
        await writer.query("COMMIT");
      } finally {
        await writer.end();
      }
      expect((await getAs(resolver(a), "HaloPSA", orgs.get("o4")!))?.config.get("api_key")).toBe("written-during-rewrap");
      expect((await rewrapAll(a, { batch: 3 })).remaining).toEqual({});
      expect((await getAs(resolver(b), "HaloPSA", orgs.get("o4")!))?.config.get("api_key")).toBe("written-during-rewrap");
    });
  });
}
