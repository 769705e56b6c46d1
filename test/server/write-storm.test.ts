/**
 * Write storms: several writers racing on the same organizations' mappings and overrides, through the
 * real HTTP stack. PostgreSQL: two apps with their own stores (own pools) on one database. SQLite: the
 * server and `bifrost config set` (in-process, its own connection on the same file), plus a store
 * holding write transactions open across awaits. Idempotent requests must never answer 409 or 5xx,
 * no answer mentions a locked database, and the final data is checked row by row (secrets decrypt).
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { plainValue } from "../../src/services/config-values.js";
import { createIntegration } from "../../src/services/integrations.js";
import { createOrg } from "../../src/services/organizations.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import { createTestDatabase, PG_URL, tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";

const ORGS = Array.from({ length: 8 }, (_, i) => `org${i}`);
const SECRET = (org: string) => `sk-${org}-PLAINTEXT-93c1`;

async function seed(bf: Bifrost): Promise<string> {
  for (const slug of ORGS) await createOrg(bf, { slug });
  await createIntegration(bf, {
    name: "HaloPSA",
    configSchema: [
      { key: "base_url", type: "string", required: false },
      { key: "region", type: "string", required: false },
      { key: "shared", type: "string", required: false },
      { key: "alpha", type: "string", required: false },
      { key: "zeta", type: "string", required: false },
      { key: "api_secret", type: "secret", required: false },
    ],
    defaults: { base_url: "https://halo.example.com" },
  });
  return (await createApiKey(bf, { role: "platform_admin" })).key;
}

interface Tally {
  statuses: Map<number, number>;
  bad: string[];
  sharedWritten: Map<string, Set<string>>;
}

const newTally = (): Tally => ({ statuses: new Map(), bad: [], sharedWritten: new Map(ORGS.map((o) => [o, new Set<string>()])) });

/**
 * One writer: first a pass of idempotent mapping upserts over every org (all writers reach each org
 * together, so every mapping is created in a race), then override patches: a contended key with a
 * writer-specific value and two idempotent keys sent in writer-specific order.
 */
async function writer(app: FastifyInstance, key: string, name: string, rounds: number, tally: Tally): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const org = ORGS[i % ORGS.length] as string;
    let res;
    if (i < ORGS.length) {
      res = await app.inject({
        method: "PUT",
        url: `/api/integrations/HaloPSA/mappings/${org}`,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        payload: JSON.stringify({ entity_id: `E-${org}`, entity_name: `Org ${org}`, config: { region: "eu", api_secret: SECRET(org) } }),
      });
    } else {
      const shared = `${name}-${i}`;
      tally.sharedWritten.get(org)?.add(shared);
      const body = name.endsWith("0") ? { zeta: "z", alpha: "a", shared } : { shared, alpha: "a", zeta: "z" };
      res = await app.inject({
        method: "PATCH",
        url: `/api/integrations/HaloPSA/mappings/${org}/config`,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
    }
    tally.statuses.set(res.statusCode, (tally.statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 300 || /locked/i.test(res.body)) tally.bad.push(`${name} #${i} ${res.statusCode}: ${res.body.slice(0, 300)}`);
  }
}

/** Every org: one mapping with the entity written, one row per override key, values as written, the secret decrypts. */
async function checkFinalData(bf: Bifrost, tally: Tally, extraShared: Map<string, Set<string>> = new Map()): Promise<void> {
  const integration = await bf.store.getIntegrationByName("HaloPSA");
  expect(integration).not.toBeNull();
  const mappings = await bf.store.listMappings({ integrationId: integration!.id });
  expect(mappings.map((m) => m.entityId).sort()).toEqual(ORGS.map((o) => `E-${o}`).sort());
  for (const slug of ORGS) {
    const org = await bf.store.getOrgBySlug(slug);
    const rows = await bf.store.listConfigValues(integration!.id, org!.id);
    expect(rows.map((r) => r.key).sort()).toEqual(["alpha", "api_secret", "region", "shared", "zeta"]);
    const values = Object.fromEntries(rows.map((r) => [r.key, plainValue(bf.box, r)]));
    expect(values).toMatchObject({ region: "eu", alpha: "a", zeta: "z", api_secret: SECRET(slug) });
    const written = new Set([...(tally.sharedWritten.get(slug) ?? []), ...(extraShared.get(slug) ?? [])]);
    expect(written.has(values.shared as string)).toBe(true);
  }
}

describe.skipIf(!PG_URL)("PostgreSQL: two servers on one database, concurrent writers", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const bfs: Bifrost[] = [];
  const apps: FastifyInstance[] = [];
  let key = "";

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, BIFROST_KEYRING: generateKeyringJson(), BIFROST_HOME: "/nonexistent-bifrost-home" };
    for (let i = 0; i < 2; i++) {
      const bf = await openBifrost({ env: { ...env }, warn: () => undefined });
      bfs.push(bf);
      if (i === 0) key = await seed(bf);
      apps.push(await createApp({ bifrost: bf }));
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const bf of bfs) await bf.close();
    await db?.drop();
  });

  it("6 writers over 2 servers: no 5xx, no 409, every mapping and override as written", async () => {
    const tally = newTally();
    const rounds = ORGS.length * 3;
    await Promise.all(apps.flatMap((app, a) => [0, 1, 2].map((w) => writer(app, key, `s${a}w${w}`, rounds, tally))));
    expect(tally.bad).toEqual([]);
    expect([...tally.statuses.keys()].sort()).toEqual([200, 201]);
    // Every mapping was created exactly once (201), all other upserts of it answered 200.
    expect(tally.statuses.get(201)).toBe(ORGS.length);
    expect(tally.statuses.get(200)).toBe(6 * rounds - ORGS.length);
    await checkFinalData(bfs[1] as Bifrost, tally);
  });
});

describe("SQLite: the server and bifrost config set on one file, concurrent writers", () => {
  const dir = tempDir();
  const keyring = generateKeyringJson();
  const env = { BIFROST_HOME: dir.dir, BIFROST_KEYRING: keyring };
  let bf: Bifrost;
  let app: FastifyInstance;
  let key = "";

  beforeAll(async () => {
    bf = await openBifrost({ env: { ...env }, warn: () => undefined });
    key = await seed(bf);
    app = await createApp({ bifrost: bf });
  });

  afterAll(async () => {
    await app?.close();
    await bf?.close();
    dir.cleanup();
  });

  it("server writers, CLI config set runs and a long-transaction holder: no error, nothing locked, data as written", async () => {
    const tally = newTally();
    const rounds = ORGS.length * 3;
    const cliShared = new Map(ORGS.map((o) => [o, new Set<string>()]));
    const cliFailures: string[] = [];
    let holderCommits = 0;
    let stop = false;

    // A second connection that keeps taking the write lock and holding it across awaits.
    const holder = SqliteStore.open(`${dir.dir}/bifrost.db`);
    const holding = (async () => {
      const integration = await holder.getIntegrationByName("HaloPSA");
      while (!stop) {
        await holder.transaction(async (tx) => {
          await tx.upsertConfigValue({ id: "holder-row", integrationId: integration!.id, orgId: null, key: "region", value: JSON.stringify("us"), isSecret: false, fingerprint: null, updatedAt: new Date().toISOString() });
          await new Promise((r) => setTimeout(r, 15));
        });
        holderCommits++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const cli = (async () => {
      for (let i = 0; i < 12; i++) {
        const org = ORGS[i % ORGS.length] as string;
        const shared = `cli-${i}`;
        cliShared.get(org)?.add(shared);
        const res = await runCliInProcess(["config", "set", "HaloPSA", "--org", org, `shared=${shared}`, "alpha=a", "zeta=z"], { env: { ...env } });
        if (res.status !== 0 || /locked/i.test(res.stdout + res.stderr)) cliFailures.push(`#${i} exit ${res.status}: ${res.stderr.slice(0, 300)}`);
      }
    })();

    try {
      await Promise.all([...[0, 1, 2].map((w) => writer(app, key, `w${w}`, rounds, tally)), cli]);
    } finally {
      stop = true;
      await holding;
      await holder.close();
    }
    expect(cliFailures).toEqual([]);
    expect(tally.bad).toEqual([]);
    // The CLI may have created a mapping first (201 then never shows): only 200 and 201 are allowed.
    expect([...tally.statuses.keys()].filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(holderCommits).toBeGreaterThan(0);
    await checkFinalData(bf, tally, cliShared);
  });
});
