/**
 * HTTP load (`npm run bench:http [-- --duration S --connections N]`, default 20 s, 64 connections):
 * a real `bifrost serve` process per backend; autocannon (in this process) GETs the resolved route
 * (`/api/integrations/Crm/resolved`, workflow key scoped to org acme: auth + org + resolve, secrets
 * decrypted) and, in the same run, the `/healthz` baseline. SQLite and PostgreSQL; on PostgreSQL also
 * two server processes (load split across both ports) vs one. Prints req/s, p50/p99 and ratios.
 * Targets: ≥ 10 000 req/s SQLite, ≥ 5 000 PostgreSQL, resolve ≥ 0.5× health.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { type Child, openSite, seedResolved, spawnServe } from "./cluster.js";

const { values } = parseArgs({ options: { duration: { type: "string", default: "20" }, connections: { type: "string", default: "64" }, only: { type: "string" } } });
const duration = Number(values.duration);
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

const summary: Record<string, unknown> = { duration, connections };
for (const kind of ["sqlite", "postgres"] as const) {
  if (values.only && values.only !== kind) continue;
  const site = await openSite(kind);
  const { key, path } = await seedResolved(site.bf);
  const auth = { authorization: `Bearer ${key}` };
  const servers: Child[] = [await spawnServe(site.env)];
  try {
    const one = servers[0]!;
    await warm([`${one.url}${path}`, `${one.url}/healthz`], auth);
    const health = await load([`${one.url}/healthz`], {});
    const resolve = await load([`${one.url}${path}`], auth);
    console.log(`${kind}: /healthz  ${fmt(health)}`);
    console.log(`${kind}: resolved ${fmt(resolve)}   ratio resolve/health ${(resolve.rps / health.rps).toFixed(2)}`);
    const entry: Record<string, unknown> = { health, resolve, ratio: +(resolve.rps / health.rps).toFixed(2) };
    if (kind === "postgres") {
      servers.push(await spawnServe(site.env));
      const urls = servers.map((s) => `${s.url}${path}`);
      await warm(urls, auth);
      const two = await load(urls, auth);
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
