/**
 * `npm run bench:generator [-- --runs 3 --graph]`: our generator vs openapi-typescript 7.13 (types only)
 * vs @hey-api/openapi-ts 0.95 (full SDK) on the GitHub spec (and Microsoft Graph with --graph; hey-api is
 * skipped on Graph: it timed out after 600 s in the measurements of notes/generator.md).
 * Needs `npm run build` first (our generator runs from dist/, like the installed CLI).
 * Each generation runs in a child process (wall time median of N, peak RSS from /proc VmHWM of the
 * largest process); then output size and `tsc --strict` time on each output (one run each).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../test/generator/tscheck.js";
import { githubSpec, openapiDirectoryApi } from "../test/helpers/spec-packages.js";

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const WITH_GRAPH = args.includes("--graph");
const OUT = join(tmpdir(), `bifrost-bench-gen-${process.pid}`);
const BIN = join(ROOT, "node_modules/.bin");

interface Run {
  ms: number;
  rssMB: number;
  code: number | null;
}

/** Run a command, sampling VmHWM of it and its descendants every 50 ms. */
function run(cmd: string, argv: string[], timeoutMs = 900_000): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stdout.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    let peak = 0;
    const pids = (): number[] => {
      const out = [child.pid as number];
      for (let i = 0; i < out.length; i++) {
        try {
          const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim();
          if (kids) out.push(...kids.split(/\s+/).map(Number));
        } catch {
          /* gone */
        }
      }
      return out;
    };
    const sample = (): void => {
      for (const pid of pids()) {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
          if (m) peak = Math.max(peak, Number(m[1]) / 1024);
        } catch {
          /* gone */
        }
      }
    };
    const timer = setInterval(sample, 50);
    const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      if (code !== 0) process.stderr.write(`  ${cmd} ${argv.join(" ")} exited ${code}: ${err.slice(-400)}\n`);
      resolve({ ms: performance.now() - t0, rssMB: Math.round(peak), code });
    });
    sample();
  });
}

function sizeOf(path: string): { bytes: number; files: number } {
  const st = statSync(path);
  if (st.isFile()) return { bytes: st.size, files: 1 };
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(path)) {
    const s = sizeOf(join(path, e));
    bytes += s.bytes;
    files += s.files;
  }
  return { bytes, files };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Tool {
  name: string;
  gen(spec: string, out: string): [string, string[]];
  /** The directory or file to measure and type-check. */
  output(out: string): string;
  usage(out: string): string | null;
}

const TOOLS: Tool[] = [
  {
    name: "bifrost",
    gen: (spec, out) => [process.execPath, [join(ROOT, "bench/generator-run.mjs"), spec, out]],
    output: (out) => join(out, "api.ts"),
    usage: () => null,
  },
  {
    name: "openapi-typescript",
    gen: (spec, out) => [join(BIN, "openapi-typescript"), [spec, "-o", join(out, "schema.ts")]],
    output: (out) => join(out, "schema.ts"),
    usage: () => null,
  },
  {
    name: "hey-api",
    gen: (spec, out) => [join(BIN, "openapi-ts"), ["-i", spec, "-o", out]],
    output: (out) => out,
    usage: () => null,
  },
];

function tscTime(dir: string, target: string): Promise<Run> {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      // bifrost/client → the built declarations (dist/, `npm run build`), so only the generated output is checked.
      compilerOptions: { target: "es2022", module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom", "dom.iterable"], strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")], paths: { "bifrost/client": [join(ROOT, "dist/client/index.d.ts")] } },
      include: [statSync(target).isDirectory() ? `${target}/**/*.ts` : target],
    }),
  );
  return run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir]);
}

// The spec packages are not installed with the project: fetched once into the cache (the message says where).
const specs: Array<{ name: string; file: string; skip: string[] }> = [{ name: "GitHub", file: githubSpec(), skip: [] }];
if (WITH_GRAPH) specs.push({ name: "Microsoft Graph", file: join(openapiDirectoryApi(), "microsoft.com/graph.json"), skip: ["hey-api"] });

mkdirSync(OUT, { recursive: true });
for (const spec of specs) {
  console.log(`\n## ${spec.name} (${RUNS} runs each)\n`);
  console.log("| tool | gen wall median | min–max | peak RSS | output | tsc --strict | tsc errors |");
  console.log("|---|---|---|---|---|---|---|");
  const res: Record<string, { ms: number; rss: number; tscMs: number }> = {};
  for (const tool of TOOLS) {
    if (spec.skip.includes(tool.name)) {
      console.log(`| ${tool.name} | skipped | | | | | |`);
      continue;
    }
    const runs: Run[] = [];
    const out = join(OUT, `${spec.name.replace(/\W+/g, "_")}-${tool.name}`);
    for (let i = 0; i < RUNS; i++) {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const [cmd, argv] = tool.gen(spec.file, out);
      runs.push(await run(cmd, argv));
    }
    const ms = runs.map((r) => r.ms);
    const size = sizeOf(tool.output(out));
    const tsc = await tscTime(out, tool.output(out));
    res[tool.name] = { ms: median(ms), rss: Math.max(...runs.map((r) => r.rssMB)), tscMs: tsc.ms };
    console.log(
      `| ${tool.name} | ${(median(ms) / 1000).toFixed(2)} s | ${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)} s | ${res[tool.name]?.rss} MB | ${size.files} file(s), ${(size.bytes / 1e6).toFixed(1)} MB | ${(tsc.ms / 1000).toFixed(1)} s (${tsc.rssMB} MB) | ${tsc.code === 0 ? "0" : "errors (exit " + tsc.code + ")"} |`,
    );
  }
  const b = res["bifrost"];
  const o = res["openapi-typescript"];
  const hq = res["hey-api"];
  if (b && o) console.log(`\nratios vs openapi-typescript: gen time ${(b.ms / o.ms).toFixed(2)}×, peak RSS ${(b.rss / o.rss).toFixed(2)}×, tsc ${(b.tscMs / o.tscMs).toFixed(2)}×`);
  if (b && hq) console.log(`ratios vs hey-api: gen time ${(b.ms / hq.ms).toFixed(2)}×, peak RSS ${(b.rss / hq.rss).toFixed(2)}×, tsc ${(b.tscMs / hq.tscMs).toFixed(2)}×`);
}
rmSync(OUT, { recursive: true, force: true });
