/**
 * HTTP load (`npm run bench:http [-- --duration S --rounds R --connections N]`, default 3 rounds of
 * 6 s per load, 64 connections): a real `bifrost serve` process per backend; autocannon (in this
 * process) GETs the resolved route (`/api/integrations/Crm/resolved`, workflow key scoped to org acme:
 * auth + org + resolve, secrets decrypted) and the `/healthz` baseline, interleaved (the order
 * alternates every round; bench/lib.ts). SQLite and PostgreSQL; on PostgreSQL also two server
 * processes (load split across both ports) vs one. Medians of req/s, p50/p99; non-2xx answers and
 * errors are counted as failures; on Linux also the server's CPU time per request, its main thread
 * (HTTP, auth, the resolver) apart from its other threads (workflow workers, V8's helpers). Targets (each printed MET/MISSED): ≥ 10 000 req/s SQLite,
 * ≥ 5 000 PostgreSQL, resolve ≥ 0.5× health, no failures.
 *
 * Workflow containment: the server also loads one workflow file (`integrations.get("Crm")`, returns
 * two fields) and the workflow-run route (`POST /api/workflows/bench_wf/run`, each execution in a
 * worker thread, at the default BIFROST_WORKFLOW_CONCURRENCY unless `--concurrency N`; a
 * BIFROST_WORKFLOW_QUEUE of 256 holds every connection) is loaded beside `/healthz`: target ≥ 0.5× its req/s. Then, in this process, the
 * per-execution cost of isolation: the same workflow run one at a time through a WorkflowRunner with
 * workers and one in-process (same resolver), interleaved rounds; target p50 overhead ≤ 1 ms.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { type Child, openSite, seedResolved, spawnServe } from "./cluster.js";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave, median, percentile, Targets } from "./lib.js";
import { WorkflowRunner } from "../src/host/workflow-pool.js";
import { workflowLimits } from "../src/host/workflow-limits.js";
import { loadWorkflowFile } from "../src/runtime/loader.js";
import type { Bifrost } from "../src/host/bootstrap.js";

const { values } = parseArgs({ options: { duration: { type: "string", default: "6" }, rounds: { type: "string", default: "3" }, connections: { type: "string", default: "64" }, only: { type: "string" }, concurrency: { type: "string" } } });
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Answers by HTTP status (to tell shed load, time-outs and failures apart). */
  statuses: Record<string, number>;
  /** CPU time per answered request of the server's main thread and of its other threads (µs; Linux only). */
  cpu?: { mainUs: number; otherUs: number };
}

/** CPU time (ms, user + system) of each thread of process `pid`, by thread id; null off Linux. */
function threadCpuMs(pid: number): Map<string, number> | null {
  try {
    const out = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
    }
    return out;
  } catch {
    return null;
  }
}

function addStatuses(into: Record<string, number>, from: Record<string, { count: number }> | undefined): Record<string, number> {
  for (const [code, s] of Object.entries(from ?? {})) into[code] = (into[code] ?? 0) + s.count;
  return into;
}

/** Load `urls` for `duration` s; with `pid` (one server), also the server's CPU per request by thread. */
async function load(urls: string[], headers: Record<string, string>, post?: string, pid?: number): Promise<Run> {
  const per = Math.max(1, Math.floor(connections / urls.length));
  const req = post === undefined ? {} : { method: "POST" as const, body: post };
  const before = pid === undefined ? null : threadCpuMs(pid);
  const results = await Promise.all(urls.map((url) => autocannon({ url, connections: per, duration, headers, pipelining: 1, ...req })));
  const after = pid === undefined ? null : threadCpuMs(pid);
  const rps = results.reduce((a, r) => a + r.requests.average, 0);
  const answered = results.reduce((a, r) => a + r.requests.total, 0);
  let cpu: Run["cpu"];
  if (pid !== undefined && before && after && answered > 0) {
    let main = 0;
    let other = 0;
    for (const [tid, ms] of after) {
      const used = ms - (before.get(tid) ?? 0);
      if (tid === String(pid)) main += used;
      else other += used;
    }
    cpu = { mainUs: Math.round((main * 1000) / answered), otherUs: Math.round((other * 1000) / answered) };
  }
  // Percentiles of the combined run: the worst of the parts (conservative).
  return {
    ...(cpu ? { cpu } : {}),
    rps: Math.round(rps),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors + r.timeouts, 0),
    statuses: results.reduce((a, r) => addStatuses(a, (r as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats), {} as Record<string, number>),
  };
}

const byStatus = (r: Run) => Object.entries(r.statuses).map(([code, n]) => `${code}×${n}`).join(" ");
const cpuText = (r: Run) => (r.cpu ? `  server CPU/request: main thread ${r.cpu.mainUs} µs, other threads ${r.cpu.otherUs} µs` : "");
const fmt = (r: Run) => `${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms${r.non2xx || r.errors ? `  non-2xx ${r.non2xx} errors ${r.errors} (${byStatus(r)})` : ""}${cpuText(r)}`;

async function warm(urls: string[], headers: Record<string, string>, post?: string): Promise<void> {
  const req = post === undefined ? {} : { method: "POST" as const, body: post };
  await Promise.all(urls.map((url) => autocannon({ url, connections: 8, duration: 2, headers, ...req })));
}

/** The workflow the run route executes (a folder served by the bench server). */
const WF_DIR = mkdtempSync(join(tmpdir(), "bifrost-bench-wf-"));
const WF_FILE = join(WF_DIR, "bench_wf.ts");
writeFileSync(
  WF_FILE,
  `import { workflow, integrations } from "bifrost";
export default workflow("bench_wf", async (input: { n?: number }) => {
  const crm = await integrations.require("Crm");
  return { n: input?.n ?? 0, page_size: crm.config.get("page_size") };
});
`,
);
const RUN_PATH = "/api/workflows/bench_wf/run";
const RUN_BODY = JSON.stringify({ input: { n: 1 } });

/** Per-execution latency (µs) of `n` sequential executions through `runner`. */
async function sequential(runner: WorkflowRunner, bf: Bifrost, n: number): Promise<number[]> {
  const [def] = await loadWorkflowFile(WF_FILE);
  const org = await bf.resolver.findOrg("acme");
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await runner.run(def!, { n: i }, { org, caller: { kind: "api_key", platform: false, keyId: "bench" }, resolver: bf.resolver, output: () => undefined });
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return out;
}

/** p50 per-execution latency with isolation and in-process, interleaved rounds; the overhead is their difference. */
async function isolationOverhead(bf: Bifrost): Promise<{ workerUs: number; inProcessUs: number; overheadUs: number; failures: number }> {
  const limits = workflowLimits(process.env, { concurrency: 1 });
  const worker = new WorkflowRunner({ limits });
  const inProcess = new WorkflowRunner({ limits, isolation: "in-process" });
  try {
    const per = 500;
    const res = await interleave(
      { worker: async () => percentile(await sequential(worker, bf, per), 50), inProcess: async () => percentile(await sequential(inProcess, bf, per), 50) },
      { rounds: Math.max(3, rounds), warmup: 1 },
    );
    const workerUs = median(res.worker.samples);
    const inProcessUs = median(res.inProcess.samples);
    return { workerUs, inProcessUs, overheadUs: workerUs - inProcessUs, failures: res.worker.failures + res.inProcess.failures };
  } finally {
    await worker.close();
    await inProcess.close();
  }
}

/** Interleaved rounds of the given loads; per load the median of req/s, p50 and p99 and the summed failures. */
async function measureRounds<K extends string>(loads: Record<K, () => Promise<Run>>): Promise<Record<K, Run>> {
  const runs = Object.fromEntries(Object.keys(loads).map((k) => [k, [] as Run[]])) as unknown as Record<K, Run[]>;
  const cases = Object.fromEntries(
    (Object.entries(loads) as Array<[K, () => Promise<Run>]>).map(([k, fn]) => [
      k,
      async () => {
        const r = await fn();
        runs[k].push(r);
        return r.rps;
      },
    ]),
  ) as Record<K, () => Promise<number>>;
  await interleave(cases, { rounds, warmup: 0 });
  const out = {} as Record<K, Run>;
  for (const k of Object.keys(loads) as K[]) {
    const rs = runs[k];
    out[k] = {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      ...(rs.every((r) => r.cpu) ? { cpu: { mainUs: median(rs.map((r) => r.cpu!.mainUs)), otherUs: median(rs.map((r) => r.cpu!.otherUs)) } } : {}),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      statuses: rs.reduce((a, r) => addStatuses(a, Object.fromEntries(Object.entries(r.statuses).map(([c, n]) => [c, { count: n }]))), {} as Record<string, number>),
    };
  }
  return out;
}

const targets = new Targets();
const summary: Record<string, unknown> = { duration, rounds, connections };
for (const kind of ["sqlite", "postgres"] as const) {
  if (values.only && values.only !== kind) continue;
  const site = await openSite(kind);
  const { key, path } = await seedResolved(site.bf);
  const auth = { authorization: `Bearer ${key}` };
  // Room for every connection (and for executions of connections a finished round left queued): a 429
  // would be a failure here, not a fast answer.
  const limits = { BIFROST_WORKFLOW_QUEUE: "256", ...(values.concurrency ? { BIFROST_WORKFLOW_CONCURRENCY: values.concurrency } : {}) };
  const servers: Child[] = [await spawnServe({ ...site.env, BIFROST_WORKFLOWS_DIR: WF_DIR, ...limits })];
  try {
    const one = servers[0]!;
    const json = { ...auth, "content-type": "application/json" };
    await warm([`${one.url}${path}`, `${one.url}/healthz`], auth);
    // Workers start per principal as concurrent executions need them: warm at full load so the
    // measured rounds see the steady state (warm workers), not 16 worker start-ups.
    await load([`${one.url}${RUN_PATH}`], json, RUN_BODY);
    const { health, resolve, run } = await measureRounds({
      health: () => load([`${one.url}/healthz`], {}, undefined, one.pid),
      resolve: () => load([`${one.url}${path}`], auth, undefined, one.pid),
      run: () => load([`${one.url}${RUN_PATH}`], json, RUN_BODY, one.pid),
    });
    console.log(`${kind}: /healthz  ${fmt(health)}   (median of ${rounds} rounds)`);
    console.log(`${kind}: resolved ${fmt(resolve)}   ratio resolve/health ${(resolve.rps / health.rps).toFixed(2)}`);
    targets.check(`${kind}: resolved req/s`, resolve.rps, kind === "sqlite" ? 10_000 : 5_000, { atLeast: true, digits: 0 });
    targets.check(`${kind}: resolved ÷ /healthz req/s`, resolve.rps / health.rps, 0.5, { atLeast: true, unit: "×" });
    targets.noFailures(`${kind}: non-2xx answers and errors`, health.non2xx + health.errors + resolve.non2xx + resolve.errors);
    const concurrency = values.concurrency ?? `${workflowLimits({}).concurrency} (default)`;
    console.log(`${kind}: workflow run ${fmt(run)}   ratio run/health ${(run.rps / health.rps).toFixed(2)}   (isolation on: worker threads, concurrency ${concurrency})`);
    targets.check(`${kind}: workflow run (isolated) ÷ /healthz req/s`, run.rps / health.rps, 0.5, { atLeast: true, unit: "×" });
    targets.noFailures(`${kind}: workflow run non-2xx answers and errors`, run.non2xx + run.errors);
    const iso = await isolationOverhead(site.bf);
    console.log(`${kind}: one execution p50: worker ${(iso.workerUs / 1000).toFixed(3)} ms, in-process ${(iso.inProcessUs / 1000).toFixed(3)} ms, isolation overhead ${(iso.overheadUs / 1000).toFixed(3)} ms`);
    targets.check(`${kind}: isolation overhead per execution (p50)`, iso.overheadUs / 1000, 1, { unit: " ms", digits: 3 });
    targets.noFailures(`${kind}: isolation overhead rounds`, iso.failures);
    const entry: Record<string, unknown> = { health, resolve, ratio: +(resolve.rps / health.rps).toFixed(2), run, runRatio: +(run.rps / health.rps).toFixed(2), isolation: iso };
    if (kind === "postgres") {
      servers.push(await spawnServe(site.env));
      const urls = servers.map((s) => `${s.url}${path}`);
      await warm(urls, auth);
      const { two } = await measureRounds({ two: () => load(urls, auth) });
      targets.noFailures(`${kind}: non-2xx answers and errors, 2 processes`, two.non2xx + two.errors);
      console.log(`${kind}: resolved, 2 processes ${fmt(two)}   ratio 2/1 ${(two.rps / resolve.rps).toFixed(2)}`);
      entry.twoProcesses = two;
      entry.twoVsOne = +(two.rps / resolve.rps).toFixed(2);
    }
    summary[kind] = entry;
  } finally {
    for (const s of servers) await s.stop();
    await site.cleanup();
  }
}
rmSync(WF_DIR, { recursive: true, force: true });
console.log(JSON.stringify(summary));
targets.report();
