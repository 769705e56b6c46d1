/**
 * Benchmark: overhead of a generated-style call — `client.request(op, …)` inside one execution
 * (warm: the integration is cached) — vs a bare `fetch(url, { headers })` + `res.json()` of the same
 * URL with the same request headers (x-api-key and the client's default Accept; no signal, default
 * redirect mode), against a local HTTP server in a child process (so the server does not share our
 * event loop). Both run inside the same execution context, warmed up one round each; rounds alternate
 * (ABBA order); medians of per-call wall time and of the paired ratios, plus this process's CPU time
 * per call (robust on a loaded machine). Target: wall ratio ≤ 1.1. (The client sends such a call
 * through undici's dispatcher, not fetch: see docs/decisions.md, so the ratio can be below 1.)
 *
 *   npm run bench:client            (BENCH_CALLS per round, default 500; BENCH_ROUNDS, default 21)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createClient, type OperationSpec } from "../src/client/index.js";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { createContext, runInContext } from "../src/runtime/context.js";
import { openBifrost } from "../src/host/bootstrap.js";
import { createIntegration } from "../src/services/integrations.js";
import { setMapping } from "../src/services/mappings.js";
import { createOrg } from "../src/services/organizations.js";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import { tempDir } from "../test/helpers/backends.js";

const CALLS = Number(process.env.BENCH_CALLS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const KEY = "bench-api-key-0123456789";

const SERVER = `
const http = require("node:http");
const body = JSON.stringify({ id: 42, subject: "Printer on fire", status: "open", tags: ["a", "b"], owner: { id: 7, name: "Ann" } });
const s = http.createServer((req, res) => { res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;

async function main(): Promise<void> {
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const base = `http://127.0.0.1:${chunk.toString().trim()}`;
  const t = tempDir("bifrost-bench-client-");
  const store = SqliteStore.open(join(t.dir, "b.db"));
  try {
    const bf = await openBifrost({ store, env: { BIFROST_KEYRING: generateKeyringJson(), BIFROST_HOME: "/nonexistent" }, allowCreateDevKeyring: false, warn: () => undefined });
    await createOrg(bf, { slug: "acme" });
    // The default base URL: its origin is trusted for the default API key. The local server speaks plain http.
    process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
    await createIntegration(bf, { name: "Halo", configSchema: [{ key: "base_url", type: "string" }, { key: "api_key", type: "secret" }], defaults: { api_key: KEY, base_url: `${base}/api` } });
    await setMapping(bf, "Halo", "acme", { entityId: "c1" });
    const org = (await bf.resolver.findOrg("acme"))!;

    const client = createClient({ integration: "Halo", servers: [], securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Api-Key", configKey: "api_key" } }, security: [{ key: [] }] });
    const op: OperationSpec = { id: "getTicket", method: "GET", path: "/tickets/{id}", params: [{ name: "id", in: "path", required: true }, { name: "include", in: "query" }] };
    const url = `${base}/api/tickets/42?include=owner`;

    const bare = async (): Promise<void> => {
      // Same request headers as the client sends (its default Accept), same JSON parse of the body.
      const res = await fetch(url, { headers: { "x-api-key": KEY, accept: "application/json, */*;q=0.8" } });
      await res.json();
    };
    const generated = (): Promise<unknown> => client.request(op, { path: { id: 42 }, query: { include: "owner" } });

    const ctx = createContext({ org, caller: { kind: "cli", platform: false }, resolver: bf.resolver });
    const bareCpu: number[] = [];
    const genCpu: number[] = [];
    const timeRound = async (fn: () => Promise<unknown>, cpu?: number[]): Promise<number> => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) await fn();
      const c = process.cpuUsage(c0);
      cpu?.push((c.user + c.system) / CALLS);
      return Number(process.hrtime.bigint() - t0) / 1e3 / CALLS; // µs per call
    };
    const bareUs: number[] = [];
    const genUs: number[] = [];
    await runInContext(ctx, async () => {
      await timeRound(bare); // warm-up both
      await timeRound(generated);
      // Alternate which one goes first (ABBA) so neither always inherits the other's GC debt.
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) {
          bareUs.push(await timeRound(bare, bareCpu));
          genUs.push(await timeRound(generated, genCpu));
        } else {
          genUs.push(await timeRound(generated, genCpu));
          bareUs.push(await timeRound(bare, bareCpu));
        }
      }
    });
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const b = median(bareUs);
    const g = median(genUs);
    // Paired rounds run back to back, so the median of their ratios cancels most machine noise.
    const ratio = median(genUs.map((x, i) => x / (bareUs[i] ?? NaN)));
    console.log(`bare fetch + json:          ${b.toFixed(1)} µs/call `);
    console.log(`client.request (generated): ${g.toFixed(1)} µs/call `);
    // This process's CPU time per call (fetch + our code; the server is another process): less sensitive to a loaded machine.
    const cpuRatio = median(genCpu.map((x, i) => x / (bareCpu[i] ?? NaN)));
    console.log(`client-side CPU per call: bare ${median(bareCpu).toFixed(1)} µs, client ${median(genCpu).toFixed(1)} µs, ratio ${cpuRatio.toFixed(3)}×`);
    console.log(`overhead ratio (median of paired rounds): ${ratio.toFixed(3)}× (target ≤ 1.10×) ${ratio <= 1.1 ? "OK" : "OVER TARGET"}`);
  } finally {
    child.kill();
    await store.close();
    t.cleanup();
  }
}

await main();
