/**
 * Benchmark: `bifrost keyring rewrap` on SQLite and PostgreSQL (when BIFROST_TEST_DATABASE_URL or
 * DATABASE_URL is set) with 1,000 orgs × 20 integrations (20,020 encrypted values, bench/dataset.ts).
 * Each round rotates the keyring and runs one rewrapping child process (bench/rewrap-worker.ts; its
 * start-up is not timed) while this process calls integrations.get() serially on random (org,
 * integration) pairs through a resolver without the cache (every get reads the database and
 * decrypts); the other case of the round measures the same gets with no rewrap running. Interleaved
 * rounds (bench/lib.ts); p99 per round, medians over rounds; failed gets are counted.
 *
 *   npm run bench:rewrap         (BENCH_ROUNDS default 3, BENCH_GETS per quiet round default 3,000, BENCH_BATCH 500)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setImmediate as nextTurn } from "node:timers/promises";
import BetterSqlite3 from "better-sqlite3";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../src/host/bootstrap.js";
import { StoreResolver } from "../src/host/store-resolver.js";
import { createContext, runInContext } from "../src/runtime/context.js";
import { integrations } from "../src/runtime/integrations.js";
import { keyringStatus, rotateKeyring } from "../src/services/keyring.js";
import { PostgresStore } from "../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../src/storage/store.js";
import { createTestDatabase, PG_URL, tempDir } from "../test/helpers/backends.js";
import { type Dataset, INTEGRATIONS, loadDataset, ORGS } from "./dataset.js";
import { fmt, interleave, median, percentile, reportFailures, table, Targets } from "./lib.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GETS = Number(process.env.BENCH_GETS ?? 3000);
const ROOT = join(import.meta.dirname, "..");

interface Setup {
  name: string;
  env: Record<string, string>;
  keyringFile: string;
  bf: Bifrost;
  ds: Dataset;
  /** A second store without the change-feed cache: the readers' own connection. */
  readerStore: Store;
}

/** One get of a random pair; returns its latency in ms (throws on a wrong or failed result). */
function getter(s: Setup): () => Promise<number> {
  const resolver = new StoreResolver(s.readerStore, s.bf.box, { clock: s.bf.clock });
  let seed = 12345;
  return async () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const p = seed % (ORGS * INTEGRATIONS);
    const org = s.ds.orgs[Math.floor(p / INTEGRATIONS)]!;
    const name = s.ds.integrations[p % INTEGRATIONS]!;
    const t0 = performance.now();
    const r = await runInContext(createContext({ org, caller: { kind: "cli", platform: false }, resolver }), () => integrations.get(name));
    const ms = performance.now() - t0;
    if (r?.config.get("api_key") !== `secret-${org.slug}-${name}`) throw new Error(`bench: wrong secret for ${org.slug}/${name}`);
    return ms;
  };
}

function spawnWorker(s: Setup): Promise<{ child: ChildProcess; result: Promise<{ rewrapped: number; superseded: number; failed: number; ms: number }> }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && k !== "DATABASE_URL") env[k] = v;
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/rewrap-worker.ts")], { cwd: ROOT, env: { ...env, ...s.env }, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((ready, fail) => {
    child.once("exit", (code) => fail(new Error(`rewrap worker exited early (${code})`)));
    lines.once("line", (first) => {
      if (first !== "ready") return fail(new Error(`rewrap worker: ${first}`));
      const result = new Promise<{ rewrapped: number; superseded: number; failed: number; ms: number }>((ok) => lines.once("line", (l) => ok(JSON.parse(l))));
      ready({ child, result });
    });
  });
}

async function run(s: Setup, targets: Targets): Promise<void> {
  const get = getter(s);
  const rates: number[] = [];
  const gotDuring: number[] = [];
  let failedGets = 0;
  const res = await interleave(
    {
      "get p99 (ms), no rewrap": async () => {
        const lat: number[] = [];
        for (let i = 0; i < GETS; i++) {
          lat.push(await get());
          await nextTurn();
        }
        return percentile(lat, 99);
      },
      "get p99 (ms), during rewrap": async () => {
        await rotateKeyring(s.bf, s.keyringFile);
        const w = await spawnWorker(s);
        const lat: number[] = [];
        let done = false;
        const finished = w.result.then((r) => {
          done = true;
          return r;
        });
        w.child.stdin!.write("go\n");
        while (!done) {
          try {
            lat.push(await get());
          } catch {
            failedGets++;
          }
          // A SQLite get completes without I/O: give the event loop a turn (the worker's result arrives on it).
          await nextTurn();
        }
        const r = await finished;
        if (r.failed > 0) throw new Error(`${r.failed} value(s) failed to rewrap`);
        rates.push((r.rewrapped + r.superseded) / (r.ms / 1000));
        gotDuring.push(lat.length);
        return percentile(lat, 99);
      },
    },
    { rounds: ROUNDS },
  );
  const quiet = median(res["get p99 (ms), no rewrap"].samples);
  const during = median(res["get p99 (ms), during rewrap"].samples);
  const status = await keyringStatus(s.bf);
  const old = Object.entries(status.keys).filter(([kid]) => kid !== status.active).reduce((n, [, c]) => n + c, 0);
  console.log(`\n## ${s.name} (${ROUNDS} interleaved rounds, medians)\n`);
  table(
    ["measure", "value"],
    [
      ["values re-encrypted per second (rewrap process, readers running)", fmt(median(rates))],
      ["get p99 (ms), no rewrap", fmt(quiet, 3)],
      ["get p99 (ms), during rewrap", fmt(during, 3)],
      ["p99 ratio during ÷ without", `${(during / quiet).toFixed(2)}×`],
      ["gets per rewrap round (median)", fmt(median(gotDuring))],
      ["values left under old keys after the last round", old],
    ],
  );
  targets.noFailures(`${s.name}: failed gets and failed rounds`, failedGets + reportFailures(res));
  targets.check(`${s.name}: get p99 during rewrap ÷ without`, during / quiet, 2, { unit: "×" });
  targets.check(`${s.name}: values left under old keys`, old, 0, { digits: 0 });
}

/** Boot from `env` with a keyring file in `dir` (creating the schema), then bulk-load through `raw()`. */
async function setup(name: string, env: Record<string, string>, dir: string, raw: () => { sqlite?: BetterSqlite3.Database; pgUrl?: string }, readerStore: () => Store): Promise<Setup> {
  const keyringFile = join(dir, "keyring.json");
  writeFileSync(keyringFile, generateKeyringJson("k1"), { mode: 0o600 });
  const full = { ...env, BIFROST_KEYRING_FILE: keyringFile };
  const bf = await openBifrost({ env: { ...full }, allowCreateDevKeyring: false, warn: () => undefined });
  const t0 = Date.now();
  const ds = await loadDataset(bf, raw());
  console.log(`${name}: loaded ${ORGS} orgs × ${INTEGRATIONS} integrations (${fmt((await keyringStatus(bf)).keys.k1 ?? 0)} encrypted values) in ${Date.now() - t0} ms`);
  return { name, env: full, keyringFile, bf, ds, readerStore: readerStore() };
}

const targets = new Targets();
{
  const t = tempDir("bifrost-bench-rewrap-");
  const dbFile = join(t.dir, "bifrost.db");
  let raw: BetterSqlite3.Database | null = null;
  try {
    // The dataset loader bulk-inserts through its own handle, opened once the boot has created the schema.
    const s = await setup("SQLite", { BIFROST_HOME: t.dir }, t.dir, () => ({ sqlite: (raw = new BetterSqlite3(dbFile)) }), () => SqliteStore.open(dbFile));
    await run(s, targets);
    await s.readerStore.close();
    await s.bf.close();
  } finally {
    (raw as BetterSqlite3.Database | null)?.close();
    t.cleanup();
  }
}
if (PG_URL) {
  const db = await createTestDatabase();
  const t = tempDir("bifrost-bench-rewrap-");
  try {
    const s = await setup("PostgreSQL", { DATABASE_URL: db.url }, t.dir, () => ({ pgUrl: db.url }), () => PostgresStore.open(db.url));
    await run(s, targets);
    await s.readerStore.close();
    await s.bf.close();
  } finally {
    await db.drop();
    t.cleanup();
  }
} else {
  console.log("\n## PostgreSQL\nSKIPPED: set BIFROST_TEST_DATABASE_URL or DATABASE_URL to benchmark PostgreSQL.");
}
targets.report();
