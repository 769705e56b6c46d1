/**
 * CLI start-up cost (`npm run bench:cli`, BENCH_ROUNDS default 15): CPU time (user + system) of
 * `bifrost config get HaloPSA --org acme` and of `bifrost run examples/workflows/sync_data.ts --org acme`
 * (the README tour's TypeScript workflow, on the tour's examples/bifrost.yaml) against a bare `node -e 0`, in interleaved
 * rounds on a prepared temporary BIFROST_HOME. Each child reports its own CPU time at exit through a
 * tiny preload (the same preload for all three, so it cancels out). Medians, and the median of the
 * per-round ratios. Targets: config get ≤ 2.5× node -e 0, run ≤ 4×.
 * Needs `npm run build` (the CLI runs from dist/, like the installed one); the npm script does it.
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { openBifrost } from "../src/host/bootstrap.js";
import { applyFile } from "../src/services/apply.js";
import { tempDir } from "../test/helpers/backends.js";
import { BIN as BUILT_BIN } from "./cluster.js";
import { fmt, interleave, median, pairedRatio, reportFailures, table, Targets } from "./lib.js";

/** BENCH_CLI_BIN: measure another build (e.g. a checkout of an older commit). */
const BIN = process.env.BENCH_CLI_BIN ?? BUILT_BIN;
const EXAMPLES = resolve(import.meta.dirname, "../examples");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Writes this process's CPU time (µs) to fd 3 when it exits. */
const PRELOAD = `data:text/javascript,${encodeURIComponent('import { writeSync } from "node:fs"; process.on("exit", () => { const c = process.cpuUsage(); try { writeSync(3, JSON.stringify(c)); } catch {} });')}`;

/** Run `node --import PRELOAD …args` and return its CPU time in ms; throws when it exits non-zero. */
function cpuMs(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", PRELOAD, ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let usage = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => (usage += d.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${args.join(" ")} exited ${code}: ${(err || out).slice(0, 300)}`));
      try {
        const c = JSON.parse(usage) as { user: number; system: number };
        resolve((c.user + c.system) / 1000);
      } catch {
        reject(new Error(`${args.join(" ")}: no CPU usage reported`));
      }
    });
  });
}

const t = tempDir("bifrost-bench-cli-");
try {
  const home = join(t.dir, "home");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: t.dir, BIFROST_HOME: home };
  const bf = await openBifrost({ env, allowCreateDevKeyring: true, warn: () => undefined });
  // The README tour's data and workflow (examples/): what a newcomer's first commands run against.
  await applyFile(bf, join(EXAMPLES, "bifrost.yaml"), { env: { HALO_API_KEY: "bench-secret" } });
  await bf.close();

  const cases = {
    "node -e 0": () => cpuMs(["-e", "0"], env, t.dir),
    "bifrost config get": () => cpuMs([BIN, "config", "get", "HaloPSA", "--org", "acme"], env, t.dir),
    "bifrost run": () => cpuMs([BIN, "run", join(EXAMPLES, "workflows", "sync_data.ts"), "--org", "acme"], env, t.dir),
  };
  console.log(`CLI CPU time (user+sys), ${ROUNDS} interleaved rounds after one warm-up round\n`);
  const res = await interleave(cases, { rounds: ROUNDS });
  const base = res["node -e 0"].samples;
  const ratio = (name: keyof typeof cases) => pairedRatio(res[name].samples, base);
  table(
    ["command", "median CPU ms", "min–max ms", "× node -e 0 (median of per-round ratios)", "failures"],
    (Object.keys(cases) as Array<keyof typeof cases>).map((name) => [
      name,
      fmt(median(res[name].samples), 1),
      `${fmt(Math.min(...res[name].samples), 1)}–${fmt(Math.max(...res[name].samples), 1)}`,
      name === "node -e 0" ? "1" : fmt(ratio(name), 2),
      res[name].failures,
    ]),
  );
  const failures = reportFailures(res);
  const targets = new Targets();
  targets.check("bifrost config get HaloPSA --org acme, CPU × node -e 0", ratio("bifrost config get"), 2.5, { unit: "×" });
  targets.check("bifrost run examples/workflows/sync_data.ts --org acme, CPU × node -e 0", ratio("bifrost run"), 4, { unit: "×" });
  targets.noFailures("failed runs", failures);
  targets.report();
} finally {
  t.cleanup();
}
