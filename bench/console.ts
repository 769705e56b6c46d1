/**
 * Console pages at scale (`npm run bench:console [-- --rounds R --sizes 10,1000,10000]`): one real
 * `bifrost dev --demo --demo-orgs N` process per size (the demo data set of src/host/demo/, seeded in
 * one transaction) and real Chromium (playwright-core, /usr/bin/chromium) signed in with the dev login.
 * Time to interactive of each page, from navigation to the contract's `data-ready="true"` marker with
 * no request in flight (a fresh tab per sample, the browser cache warm as a returning user has it):
 *
 * - Connections page `#/connections` (`connections-table`)
 * - integration page `#/integrations/MicrosoftGraph`, overview tab (`integration-overview`)
 * - the same integration's mappings tab `#/integrations/MicrosoftGraph/mappings` (`mappings-table`)
 *
 * Every (page, size) is a case of interleaved rounds (bench/lib.ts); medians and p90 are printed.
 * Targets: each page at 1,000 and at 10,000 orgs ≤ 1.5× the same page at 10 orgs (paired ratios of
 * the same rounds). A page whose marker never appears (not built yet) prints "page not available"
 * and has no target.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { fmt, interleave, median, pairedRatio, percentile, reportFailures, table, Targets } from "./lib.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "7" }, sizes: { type: "string", default: "10,1000,10000" } } });
const ROUNDS = Number(values.rounds);
const SIZES = values.sizes.split(",").map(Number);
const BASE_SIZE = SIZES[0] as number;
const CHROMIUM = "/usr/bin/chromium";
const BIN = join(import.meta.dirname, "..", "bin", "bifrost.js");
const INTEGRATION = "MicrosoftGraph";
/** How long a first visit may take before the page counts as not available (not built yet). */
const PROBE_MS = 20_000;
const SAMPLE_MS = 30_000;
const LIMIT = 1.5;

const PAGES = {
  connections: { hash: "#/connections", ready: '[data-testid="connections-table"][data-ready="true"]' },
  overview: { hash: `#/integrations/${INTEGRATION}`, ready: '[data-testid="integration-overview"][data-ready="true"]' },
  mappings: { hash: `#/integrations/${INTEGRATION}/mappings`, ready: '[data-testid="mappings-table"][data-ready="true"]' },
} as const;
type PageName = keyof typeof PAGES;

interface DemoServer {
  size: number;
  url: string;
  seededMs: number;
  child: ChildProcess;
  dir: string;
  context?: BrowserContext;
}

/** `bifrost dev --demo --demo-orgs N --port 0 --json` in its own folder (its own .bifrost-demo). */
async function startDemoServer(size: number): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), `bifrost-bench-console-${size}-`));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production", BIFROST_LOG_LEVEL: "warn" };
  delete env.BIFROST_HOME;
  const child = spawn(process.execPath, [BIN, "dev", "--demo", "--demo-orgs", String(size), "--port", "0", "--json"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const started = await new Promise<{ url: string; demo: { seeded_ms: number } }>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      try {
        resolve(JSON.parse(out));
      } catch {
        // not complete yet
      }
    });
    child.once("exit", (code) => reject(new Error(`bifrost dev --demo --demo-orgs ${size} exited with ${code}: ${err.slice(-2000)}`)));
  });
  return { size, url: started.url, seededMs: started.demo.seeded_ms, child, dir };
}

async function stopDemoServer(s: DemoServer): Promise<void> {
  await s.context?.close().catch(() => undefined);
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = once(s.child, "exit");
    s.child.kill("SIGTERM");
    await exited;
  }
  rmSync(s.dir, { recursive: true, force: true });
}

/**
 * Open `hash` in a fresh tab and wait until the page's marker is set and no request is in flight;
 * returns the ms from navigation to that moment. Throws when it does not happen within `timeoutMs`.
 */
async function timeToInteractive(context: BrowserContext, base: string, page: PageName, timeoutMs: number): Promise<number> {
  const tab = await context.newPage();
  try {
    let inFlight = 0;
    let idleSince = 0;
    let settled: (() => void) | null = null;
    const done = () => {
      inFlight--;
      if (inFlight === 0) {
        idleSince = performance.now();
        settled?.();
      }
    };
    tab.on("request", () => void inFlight++);
    tab.on("requestfinished", done);
    tab.on("requestfailed", done);
    const t0 = performance.now();
    await tab.goto(`${base}/${PAGES[page].hash}`, { waitUntil: "commit", timeout: timeoutMs });
    await tab.waitForSelector(PAGES[page].ready, { state: "attached", timeout: timeoutMs });
    const marked = performance.now();
    if (inFlight > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${page}: requests still in flight after ${timeoutMs} ms`)), timeoutMs);
        settled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return Math.max(marked, inFlight === 0 && idleSince > marked ? idleSince : marked) - t0;
  } finally {
    await tab.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  if (!existsSync(join(import.meta.dirname, "..", "dist", "console", "index.html"))) throw new Error("the console is not built: npm run build");
  console.log(`bench:console: sizes ${SIZES.join(", ")} orgs, ${ROUNDS} rounds; load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const servers: DemoServer[] = [];
  let browser: Browser | null = null;
  try {
    for (const size of SIZES) servers.push(await startDemoServer(size));
    table(["orgs", "seed (ms)", "server"], servers.map((s) => [fmt(s.size), fmt(s.seededMs), s.url]));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    for (const s of servers) {
      s.context = await browser.newContext();
      const login = await s.context.request.post(`${s.url}/api/session/dev`, { headers: { "x-bifrost-dev-login": "1" } });
      if (!login.ok()) throw new Error(`dev login on ${s.url} answered ${login.status()}`);
    }

    // Which pages exist: a first visit per (page, size) also warms the browser cache.
    const available = new Map<PageName, boolean>();
    for (const page of Object.keys(PAGES) as PageName[]) {
      let ok = true;
      for (const s of servers) {
        try {
          await timeToInteractive(s.context as BrowserContext, s.url, page, PROBE_MS);
        } catch {
          ok = false;
          break;
        }
      }
      available.set(page, ok);
      if (!ok) console.log(`${page} (${PAGES[page].hash}): page not available (no data-ready="true" marker within ${PROBE_MS / 1000} s); skipped`);
    }

    const cases: Record<string, () => Promise<number>> = {};
    for (const page of Object.keys(PAGES) as PageName[]) {
      if (!available.get(page)) continue;
      for (const s of servers) cases[`${page}@${s.size}`] = () => timeToInteractive(s.context as BrowserContext, s.url, page, SAMPLE_MS);
    }
    const targets = new Targets();
    if (Object.keys(cases).length === 0) {
      console.log("\nNo page is available yet: nothing measured.");
      return;
    }
    const results = await interleave(cases, { rounds: ROUNDS, warmup: 1 });
    console.log("");
    table(
      ["page", "orgs", "median (ms)", "p90 (ms)", "samples", `× ${fmt(BASE_SIZE)} orgs`],
      Object.entries(results).map(([name, r]) => {
        const [page, size] = name.split("@") as [PageName, string];
        const base = results[`${page}@${BASE_SIZE}`];
        const ratio = base && base.samples.length === r.samples.length ? pairedRatio(r.samples, base.samples) : median(r.samples) / median(base?.samples ?? []);
        return [page, fmt(Number(size)), fmt(median(r.samples), 1), fmt(percentile(r.samples, 90), 1), r.samples.length, fmt(ratio, 2)];
      }),
    );
    for (const page of Object.keys(PAGES) as PageName[]) {
      const base = results[`${page}@${BASE_SIZE}`];
      if (!base) continue;
      for (const size of SIZES.slice(1)) {
        const r = results[`${page}@${size}`] as (typeof results)[string];
        const ratio = base.samples.length === r.samples.length ? pairedRatio(r.samples, base.samples) : median(r.samples) / median(base.samples);
        targets.check(`${page} at ${fmt(size)} orgs vs ${fmt(BASE_SIZE)} (time to interactive)`, ratio, LIMIT, { unit: "×" });
      }
    }
    targets.noFailures("failed samples", reportFailures(results));
    console.log(`\nload average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    targets.report();
  } finally {
    await browser?.close().catch(() => undefined);
    for (const s of servers) await stopDemoServer(s);
  }
}

await main();
