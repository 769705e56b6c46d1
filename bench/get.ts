/**
 * Benchmark: integrations.get() in-process, cold (new execution each call) and warm (repeated in one
 * execution), on SQLite and on PostgreSQL (when BIFROST_TEST_DATABASE_URL or DATABASE_URL is set),
 * with 1,000 orgs × 20 integrations loaded. Baselines measured in the same run: a bare prepared
 * point-select of one row, and one AES-256-GCM decrypt.
 *
 *   npm run bench:get
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { createContext, runInContext } from "../src/runtime/context.js";
import { integrations } from "../src/runtime/integrations.js";
import { openBifrost, type Bifrost } from "../src/services/bootstrap.js";
import { PostgresStore } from "../src/storage/postgres.js";
import { SqliteStore } from "../src/storage/sqlite.js";
import { createTestDatabase, PG_URL, tempDir } from "../test/helpers/backends.js";
import { type Dataset, INTEGRATIONS, loadDataset, ORGS } from "./dataset.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);

interface Result {
  name: string;
  opsPerSec: number;
}

async function measure(name: string, fn: (i: number) => unknown | Promise<unknown>, concurrency = 1): Promise<Result> {
  // warm-up
  for (let i = 0; i < 200; i++) await fn(i);
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(DURATION_MS) * 1_000_000n;
  const worker = async (w: number) => {
    let i = w;
    while (process.hrtime.bigint() < deadline) {
      for (let k = 0; k < 50; k++) {
        await fn(i);
        i += concurrency;
        ops++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, opsPerSec: ops / secs };
}

function pick(ds: Dataset, i: number) {
  const org = ds.orgs[(i * 7919) % ORGS]!;
  const name = ds.integrations[i % INTEGRATIONS]!;
  return { org, name };
}

function coldGet(bf: Bifrost, ds: Dataset) {
  return async (i: number) => {
    const { org, name } = pick(ds, i);
    const ctx = createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
    const r = await runInContext(ctx, () => integrations.get(name));
    if (!r || r.entityId === null) throw new Error("bench: unexpected result");
  };
}

async function warmGet(bf: Bifrost, ds: Dataset, name: string): Promise<Result> {
  const org = ds.orgs[0]!;
  const ctx = createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
  return runInContext(ctx, () => measure(name, () => integrations.get(ds.integrations[0]!)));
}

function decryptBaseline(bf: Bifrost): Promise<Result> {
  const ctx = { tenant: "t", table: "config_values", row: "r", field: "api_key" };
  const ct = bf.box.encrypt("secret-org-1-Integration1", ctx);
  return measure("baseline: one AES-256-GCM decrypt", () => bf.box.decrypt(ct, ctx));
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US").padStart(12);
}

function report(title: string, rows: Result[], base: Result, targets: Array<[string, boolean]>) {
  console.log(`\n## ${title}`);
  for (const r of rows) console.log(`${r.name.padEnd(58)} ${fmt(r.opsPerSec)} ops/s   ${(r.opsPerSec / base.opsPerSec).toFixed(2)}× point-select`);
  for (const [t, ok] of targets) console.log(`target ${ok ? "MET   " : "MISSED"} ${t}`);
}

async function benchSqlite() {
  const t = tempDir("bifrost-bench-");
  const file = join(t.dir, "bifrost.db");
  const bf = await openBifrost({ store: SqliteStore.open(file), env: { BIFROST_KEYRING: generateKeyringJson() }, allowCreateDevKeyring: false, warn: () => undefined });
  const raw = new BetterSqlite3(file);
  const t0 = Date.now();
  const ds = await loadDataset(bf, { sqlite: raw });
  console.log(`SQLite: loaded ${ORGS} orgs × ${INTEGRATIONS} integrations in ${Date.now() - t0} ms`);
  const ids = (await bf.store.listIntegrations()).map((i) => i.id);
  const stmt = raw.prepare("SELECT entity_id FROM mappings WHERE integration_id = ? AND org_id = ?");
  const point = await measure("baseline: bare prepared point-select (1 row)", (i) => {
    const { org } = pick(ds, i);
    return stmt.get(ids[i % INTEGRATIONS], org.id);
  });
  const decrypt = await decryptBaseline(bf);
  const cold = await measure("integrations.get() cold (new execution each call)", coldGet(bf, ds));
  const warm = await warmGet(bf, ds, "integrations.get() warm (repeated in one execution)");
  report("SQLite", [point, decrypt, cold, warm], point, [
    [`cold ≥ 20,000 gets/s (${Math.round(cold.opsPerSec)})`, cold.opsPerSec >= 20_000],
    [`warm ≥ 500,000 gets/s (${Math.round(warm.opsPerSec)})`, warm.opsPerSec >= 500_000],
  ]);
  console.log(`cold get ÷ decrypt baseline: ${(cold.opsPerSec / decrypt.opsPerSec).toFixed(3)}×`);
  raw.close();
  await bf.close();
  t.cleanup();
}

async function benchPostgres() {
  if (!PG_URL) {
    console.log("\n## PostgreSQL\nSKIPPED: set BIFROST_TEST_DATABASE_URL or DATABASE_URL to benchmark PostgreSQL.");
    return;
  }
  const db = await createTestDatabase();
  try {
    const bf = await openBifrost({ store: PostgresStore.open(db.url), env: { BIFROST_KEYRING: generateKeyringJson() }, allowCreateDevKeyring: false, warn: () => undefined });
    const t0 = Date.now();
    const ds = await loadDataset(bf, { pgUrl: db.url });
    console.log(`\nPostgreSQL: loaded ${ORGS} orgs × ${INTEGRATIONS} integrations in ${Date.now() - t0} ms`);
    const ids = (await bf.store.listIntegrations()).map((i) => i.id);
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    // Dropping the benchmark database ends connections the pool may still be closing.
    pool.on("error", () => undefined);
    const pointFn = (i: number) => {
      const { org } = pick(ds, i);
      return pool.query({ name: "bench_point", text: "SELECT entity_id FROM mappings WHERE integration_id = $1 AND org_id = $2", values: [ids[i % INTEGRATIONS], org.id] });
    };
    const point1 = await measure("baseline: bare prepared point-select (1 row), serial", pointFn);
    const point8 = await measure("baseline: bare prepared point-select, 8 in flight", pointFn, 8);
    const decrypt = await decryptBaseline(bf);
    const cold1 = await measure("integrations.get() cold, serial", coldGet(bf, ds));
    const cold8 = await measure("integrations.get() cold, 8 in flight", coldGet(bf, ds), 8);
    const warm = await warmGet(bf, ds, "integrations.get() warm (repeated in one execution)");
    report("PostgreSQL", [point1, point8, decrypt, cold1, cold8, warm], point1, [
      [`cold serial ≥ 0.8× serial point-select (${(cold1.opsPerSec / point1.opsPerSec).toFixed(2)}×)`, cold1.opsPerSec >= 0.8 * point1.opsPerSec],
      [`cold 8-in-flight ≥ 0.8× 8-in-flight point-select (${(cold8.opsPerSec / point8.opsPerSec).toFixed(2)}×)`, cold8.opsPerSec >= 0.8 * point8.opsPerSec],
      [`warm ≥ 500,000 gets/s (${Math.round(warm.opsPerSec)})`, warm.opsPerSec >= 500_000],
    ]);
    await pool.end();
    await bf.close();
  } finally {
    await db.drop();
  }
}

await benchSqlite();
await benchPostgres();
