/**
 * Benchmark: peak memory (VmHWM) of the server process with 1,000 orgs × 20 integrations loaded,
 * after serving a resolved-integration request for every one of the 20,000 (org, integration) pairs
 * (then BENCH_REQUESTS more, default 0, cycling through them). Baselines measured in the same run:
 * a bare Node.js process, and the server on an empty database. Failed requests are counted and
 * printed (a non-200 answer does not stop the run); targets print MET/MISSED (bench/lib.ts).
 *
 *   npm run bench:memory
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { createApiKey } from "../src/services/api-keys.js";
import { openBifrost } from "../src/host/bootstrap.js";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import { tempDir } from "../test/helpers/backends.js";
import { loadDataset, ORGS, INTEGRATIONS } from "./dataset.js";
import { Targets } from "./lib.js";

const PAIRS = ORGS * INTEGRATIONS;
const REQUESTS = PAIRS + Number(process.env.BENCH_REQUESTS ?? 0);
/** Coprime with PAIRS: request n visits pair (n × STRIDE) mod PAIRS, so the first PAIRS requests cover every pair once. */
const STRIDE = 7919;

function peakKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

async function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000).unref();
  });
}

async function serverPeak(home: string, keyringFile: string, load: ((url: string) => Promise<void>) | null): Promise<number> {
  const child = spawn(process.execPath, ["bin/bifrost.js", "serve", "--port", "0"], {
    env: { ...process.env, BIFROST_HOME: home, BIFROST_KEYRING_FILE: keyringFile, BIFROST_LOG_LEVEL: "warn", DATABASE_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const url = await waitForUrl(child);
    if (load) await load(url);
    return peakKiB(child.pid!);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function bareNodePeak(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 300));
  const kib = peakKiB(child.pid!);
  child.kill();
  return kib;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1).padStart(7)} MiB`;

const empty = tempDir("bifrost-mem-empty-");
const full = tempDir("bifrost-mem-full-");
const keyringJson = generateKeyringJson();
for (const d of [empty.dir, full.dir]) writeFileSync(join(d, "keyring.secret.json"), keyringJson, { mode: 0o600 });
try {
  const bf = await openBifrost({ store: SqliteStore.open(join(full.dir, "bifrost.db")), env: { BIFROST_KEYRING: keyringJson }, allowCreateDevKeyring: false, warn: () => undefined });
  const raw = new BetterSqlite3(join(full.dir, "bifrost.db"));
  const ds = await loadDataset(bf, { sqlite: raw });
  raw.close();
  const { key } = await createApiKey(bf, { role: "platform_admin" });
  await bf.close();
  const emptyBf = await openBifrost({ store: SqliteStore.open(join(empty.dir, "bifrost.db")), env: { BIFROST_KEYRING: keyringJson }, allowCreateDevKeyring: false, warn: () => undefined });
  await emptyBf.close();

  const bare = await bareNodePeak();
  const idle = await serverPeak(empty.dir, join(empty.dir, "keyring.secret.json"), null);
  let failures = 0;
  const firstFailures: string[] = [];
  const covered = new Set<number>();
  const loaded = await serverPeak(full.dir, join(full.dir, "keyring.secret.json"), async (url) => {
    const headers = { authorization: `Bearer ${key}` };
    const fail = (what: string) => {
      failures++;
      if (firstFailures.length < 3) firstFailures.push(what);
    };
    for (let i = 0; i < REQUESTS; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, REQUESTS - i) }, async (_, k) => {
          const p = ((i + k) * STRIDE) % PAIRS;
          const org = ds.orgs[Math.floor(p / INTEGRATIONS)]!.slug;
          const res = await fetch(`${url}/api/integrations/${ds.integrations[p % INTEGRATIONS]}/resolved?org=${org}`, { headers }).catch((err: Error) => err);
          if (res instanceof Error) return fail(res.message);
          if (res.status !== 200) return fail(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
          await res.arrayBuffer();
          covered.add(p);
        }),
      );
    }
    const list = await fetch(`${url}/api/organizations`, { headers });
    if (list.status !== 200) fail(`GET /api/organizations: HTTP ${list.status}`);
  });
  console.log(`## Server peak memory (VmHWM), ${ORGS} orgs × ${INTEGRATIONS} integrations, ${REQUESTS} resolved requests (${covered.size} of ${PAIRS} pairs answered)`);
  console.log(`baseline: bare node process            ${mib(bare)}`);
  console.log(`baseline: server, empty database       ${mib(idle)}   ${(idle / bare).toFixed(2)}× bare node`);
  console.log(`server with data set, after requests   ${mib(loaded)}   ${(loaded / bare).toFixed(2)}× bare node, ${(loaded / idle).toFixed(2)}× empty server`);
  if (failures > 0) console.log(`FAILURES: ${failures} request(s) failed; first: ${firstFailures.join(" | ")}`);
  const targets = new Targets();
  targets.noFailures("failed resolved requests", failures);
  targets.check("pairs answered", covered.size, PAIRS, { atLeast: true, digits: 0 });
  targets.report();
} finally {
  empty.cleanup();
  full.cleanup();
}
