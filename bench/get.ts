/**
 * Benchmark: integrations.get() in-process on SQLite and on PostgreSQL (when BIFROST_TEST_DATABASE_URL
 * or DATABASE_URL is set), 1,000 orgs × 20 integrations, through the stack the server uses (the store
 * opened from the environment by openBifrost: change-feed cache included). Every (org, integration)
 * pair is requested: a first pass over all 20,000 (empty cache), then interleaved rounds (bench/lib.ts)
 * that walk all pairs in a shuffled order. Baselines in the same rounds: a bare prepared point-select of
 * one row and one AES-256-GCM decrypt. Medians of per-round throughput; failed calls are counted.
 *
 *   npm run bench:get            (BENCH_ROUNDS default 11, BENCH_CALLS per round default 4,000)
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { createContext, runInContext } from "../src/runtime/context.js";
import { integrations } from "../src/runtime/integrations.js";
import { type Bifrost, openBifrost } from "../src/host/bootstrap.js";
import { createTestDatabase, PG_URL, tempDir } from "../test/helpers/backends.js";
import { type Dataset, INTEGRATIONS, loadDataset, ORGS } from "./dataset.js";
import { fmt, interleave, median, reportFailures, table, Targets } from "./lib.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const CALLS = Number(process.env.BENCH_CALLS ?? 4000);
const PAIRS = ORGS * INTEGRATIONS;
/** A stride coprime with PAIRS visits every pair once per PAIRS calls, in an order that jumps between orgs. */
const STRIDE = 7919;

function pair(ds: Dataset, i: number) {
  const p = (i * STRIDE) % PAIRS;
  return { org: ds.orgs[Math.floor(p / INTEGRATIONS)]!, name: ds.integrations[p % INTEGRATIONS]!, integrationIndex: p % INTEGRATIONS };
}

/** ops/s of `n` calls of fn(i) with i continuing from `cursor.next`, `concurrency` in flight. */
async function throughput(n: number, fn: (i: number) => unknown, cursor: { next: number }, concurrency = 1): Promise<number> {
  const start = cursor.next;
  cursor.next += n;
  const t0 = process.hrtime.bigint();
  let k = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (k < n) await fn(start + k++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function coldGet(bf: Bifrost, ds: Dataset) {
  return async (i: number) => {
    const { org, name } = pair(ds, i);
    const ctx = createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
    const r = await runInContext(ctx, () => integrations.get(name));
    if (!r || r.entityId !== `${org.slug}-${name}`) throw new Error(`bench: unexpected result for ${org.slug}/${name}`);
  };
}

function warmGet(bf: Bifrost, ds: Dataset): () => Promise<number> {
  const org = ds.orgs[0]!;
  const ctx = createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
  const cursor = { next: 0 };
  return () => runInContext(ctx, () => throughput(CALLS * 10, () => integrations.get(ds.integrations[0]!), cursor));
}

function decrypt(bf: Bifrost): () => Promise<number> {
  const ctx = { tenant: "t", table: "config_values", row: "r", field: "api_key" };
  const ct = bf.box.encrypt("secret-org-1-Integration1", ctx);
  const cursor = { next: 0 };
  return () => throughput(CALLS, () => bf.box.decrypt(ct, ctx), cursor);
}

/** The first pass: every pair once, cache empty. Counts failures instead of stopping. */
async function firstPass(bf: Bifrost, ds: Dataset): Promise<{ opsPerSec: number; failures: number }> {
  const get = coldGet(bf, ds);
  let failures = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) await get(i).catch(() => failures++);
  return { opsPerSec: PAIRS / (Number(process.hrtime.bigint() - t0) / 1e9), failures };
}

function print(title: string, first: { opsPerSec: number; failures: number }, res: Record<string, { samples: number[]; failures: number }>, base: string): void {
  console.log(`\n## ${title} (${ROUNDS} interleaved rounds, medians; every one of the ${fmt(PAIRS)} pairs requested)\n`);
  const b = median(res[base]!.samples);
  table(
    ["case", "ops/s (median)", `× ${base}`, "failures"],
    [
      ["first pass over every pair (empty cache)", fmt(first.opsPerSec), (first.opsPerSec / b).toFixed(2), first.failures],
      ...Object.entries(res).map(([name, r]) => [name, fmt(median(r.samples)), (median(r.samples) / b).toFixed(2), r.failures]),
    ],
  );
}

const targets = new Targets();

async function benchSqlite(): Promise<void> {
  const t = tempDir("bifrost-bench-");
  // Opened from the environment, like `bifrost serve`: SQLite file in BIFROST_HOME, change-feed cache.
  const bf = await openBifrost({ env: { BIFROST_HOME: t.dir, BIFROST_KEYRING: generateKeyringJson() }, allowCreateDevKeyring: false, warn: () => undefined });
  const raw = new BetterSqlite3(join(t.dir, "bifrost.db"));
  try {
    await bf.store.changes?.ready();
    const t0 = Date.now();
    const ds = await loadDataset(bf, { sqlite: raw });
    console.log(`SQLite: loaded ${ORGS} orgs × ${INTEGRATIONS} integrations in ${Date.now() - t0} ms (${bf.storeDescription})`);
    const ids = (await bf.store.listIntegrations()).map((i) => i.id);
    const stmt = raw.prepare("SELECT entity_id FROM mappings WHERE integration_id = ? AND org_id = ?");
    const first = await firstPass(bf, ds);
    const c = { point: { next: 0 }, cold: { next: 0 } };
    const res = await interleave(
      {
        "point-select (1 row)": () => throughput(CALLS, (i) => { const p = pair(ds, i); return stmt.get(ids[p.integrationIndex], p.org.id); }, c.point),
        "decrypt (AES-256-GCM)": decrypt(bf),
        "get, new execution each call": () => throughput(CALLS, coldGet(bf, ds), c.cold),
        "get, repeated in one execution": warmGet(bf, ds),
      },
      { rounds: ROUNDS },
    );
    print("SQLite", first, res, "point-select (1 row)");
    targets.noFailures("SQLite: failed gets", first.failures + reportFailures(res));
    targets.check("SQLite: get, new execution each call (ops/s)", median(res["get, new execution each call"].samples), 20_000, { atLeast: true, digits: 0 });
    targets.check("SQLite: get, repeated in one execution (ops/s)", median(res["get, repeated in one execution"].samples), 500_000, { atLeast: true, digits: 0 });
  } finally {
    raw.close();
    await bf.close();
    t.cleanup();
  }
}

async function benchPostgres(): Promise<void> {
  if (!PG_URL) {
    console.log("\n## PostgreSQL\nSKIPPED: set BIFROST_TEST_DATABASE_URL or DATABASE_URL to benchmark PostgreSQL.");
    return;
  }
  const db = await createTestDatabase();
  try {
    const bf = await openBifrost({ env: { DATABASE_URL: db.url, BIFROST_KEYRING: generateKeyringJson() }, allowCreateDevKeyring: false, warn: () => undefined });
    await bf.store.changes?.ready();
    const t0 = Date.now();
    const ds = await loadDataset(bf, { pgUrl: db.url });
    console.log(`\nPostgreSQL: loaded ${ORGS} orgs × ${INTEGRATIONS} integrations in ${Date.now() - t0} ms (${bf.storeDescription})`);
    const ids = (await bf.store.listIntegrations()).map((i) => i.id);
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    // Dropping the benchmark database ends connections the pool may still be closing.
    pool.on("error", () => undefined);
    const point = (i: number) => {
      const p = pair(ds, i);
      return pool.query({ name: "bench_point", text: "SELECT entity_id FROM mappings WHERE integration_id = $1 AND org_id = $2", values: [ids[p.integrationIndex], p.org.id] });
    };
    const first = await firstPass(bf, ds);
    const c = { p1: { next: 0 }, p8: { next: 0 }, c1: { next: 0 }, c8: { next: 0 } };
    const cold = coldGet(bf, ds);
    const n = Math.max(1, Math.floor(CALLS / 4));
    const res = await interleave(
      {
        "point-select, serial": () => throughput(n, point, c.p1),
        "point-select, 8 in flight": () => throughput(n, point, c.p8, 8),
        "decrypt (AES-256-GCM)": decrypt(bf),
        "get, new execution each call, serial": () => throughput(n, cold, c.c1),
        "get, new execution each call, 8 in flight": () => throughput(n, cold, c.c8, 8),
        "get, repeated in one execution": warmGet(bf, ds),
      },
      { rounds: ROUNDS },
    );
    print("PostgreSQL", first, res, "point-select, serial");
    const m = (k: keyof typeof res) => median(res[k].samples);
    targets.noFailures("PostgreSQL: failed gets", first.failures + reportFailures(res));
    targets.check("PostgreSQL: get serial ÷ point-select serial", m("get, new execution each call, serial") / m("point-select, serial"), 0.8, { atLeast: true, unit: "×" });
    targets.check("PostgreSQL: get 8-in-flight ÷ point-select 8-in-flight", m("get, new execution each call, 8 in flight") / m("point-select, 8 in flight"), 0.8, { atLeast: true, unit: "×" });
    targets.check("PostgreSQL: get, repeated in one execution (ops/s)", m("get, repeated in one execution"), 500_000, { atLeast: true, digits: 0 });
    await pool.end();
    await bf.close();
  } finally {
    await db.drop();
  }
}

await benchSqlite();
await benchPostgres();
targets.report();
