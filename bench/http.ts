/**
 * HTTP load (`npm run bench:http [-- --duration S --rounds R --connections N]`, default 3 rounds of
 * 6 s per load, 64 connections): a real `bifrost serve` process per backend; autocannon (in this
 * process) GETs the resolved route (`/api/integrations/Crm/resolved`, workflow key scoped to org acme:
 * auth + org + resolve, secrets decrypted) and the `/healthz` baseline, interleaved (the order
 * alternates every round; bench/lib.ts). SQLite and PostgreSQL; on PostgreSQL also two server
 * processes (load split across both ports) vs one. Medians of req/s, p50/p99; non-2xx answers and
 * errors are counted as failures. Targets (each printed MET/MISSED): ≥ 10 000 req/s SQLite,
 * ≥ 5 000 PostgreSQL, resolve ≥ 0.5× health, no failures.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { type Child, openSite, seedResolved, spawnServe } from "./cluster.js";
import { interleave, median, Targets } from "./lib.js";

const { values } = parseArgs({ options: { duration: { type: "string", default: "6" }, rounds: { type: "string", default: "3" }, connections: { type: "string", default: "64" }, only: { type: "string" } } });
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(urls: string[], headers: Record<string, string>): Promise<Run> {
  const per = Math.max(1, Math.floor(connections / urls.length));
  const results = await Promise.all(urls.map((url) => autocannon({ url, connections: per, duration, headers, pipelining: 1 })));
  const rps = results.reduce((a, r) => a + r.requests.average, 0);
  // Percentiles of the combined run: the worst of the parts (conservative).
  return {
    rps: Math.round(rps),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors + r.timeouts, 0),
  };
}

const fmt = (r: Run) => `${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms${r.non2xx || r.errors ? `  non-2xx ${r.non2xx} errors ${r.errors}` : ""}`;

async function warm(urls: string[], headers: Record<string, string>): Promise<void> {
  await Promise.all(urls.map((url) => autocannon({ url, connections: 8, duration: 2, headers })));
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
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
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
  const servers: Child[] = [await spawnServe(site.env)];
  try {
    const one = servers[0]!;
    await warm([`${one.url}${path}`, `${one.url}/healthz`], auth);
    const { health, resolve } = await measureRounds({ health: () => load([`${one.url}/healthz`], {}), resolve: () => load([`${one.url}${path}`], auth) });
    console.log(`${kind}: /healthz  ${fmt(health)}   (median of ${rounds} rounds)`);
    console.log(`${kind}: resolved ${fmt(resolve)}   ratio resolve/health ${(resolve.rps / health.rps).toFixed(2)}`);
    targets.check(`${kind}: resolved req/s`, resolve.rps, kind === "sqlite" ? 10_000 : 5_000, { atLeast: true, digits: 0 });
    targets.check(`${kind}: resolved ÷ /healthz req/s`, resolve.rps / health.rps, 0.5, { atLeast: true, unit: "×" });
    targets.noFailures(`${kind}: non-2xx answers and errors`, health.non2xx + health.errors + resolve.non2xx + resolve.errors);
    const entry: Record<string, unknown> = { health, resolve, ratio: +(resolve.rps / health.rps).toFixed(2) };
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
console.log(JSON.stringify(summary));
targets.report();
