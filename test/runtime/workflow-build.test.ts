/**
 * Workflow files built by esbuild into one ES module (src/runtime/workflow-build.ts): local imports,
 * tsconfig paths and the workflow's own npm packages work; the cached output is private, reused while
 * nothing that went into it changed, rebuilt when anything did, and replaced when corrupt; a worker runs
 * the result with stack traces naming the user's file and line.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowRunner } from "../../src/host/workflow-pool.js";
import { workflowLimits } from "../../src/host/workflow-limits.js";
import type { IntegrationResolver, WorkflowOutput } from "../../src/runtime/types.js";
import { buildWorkflow, WorkflowBuildError } from "../../src/runtime/workflow-build.js";
import { tempDir } from "../helpers/backends.js";

const NO_SDK = { entries: {}, dirs: [] };

/** A project folder: a workflow-style entry, a local module reached through tsconfig paths, an npm package with ESM, CommonJS and bundler-only entries. */
function project(dir: string): { entry: string; helper: string; tsconfig: string } {
  mkdirSync(join(dir, "lib"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "greet"), { recursive: true });
  writeFileSync(
    join(dir, "node_modules", "greet", "package.json"),
    JSON.stringify({ name: "greet", version: "1.0.0", exports: { module: "./bundler.mjs", import: "./esm.mjs", require: "./cjs.cjs" } }),
  );
  writeFileSync(join(dir, "node_modules", "greet", "esm.mjs"), 'export const greet = (n) => `hello ${n} (esm)`;\n');
  writeFileSync(join(dir, "node_modules", "greet", "cjs.cjs"), 'exports.greet = (n) => `hello ${n} (cjs)`;\n');
  writeFileSync(join(dir, "node_modules", "greet", "bundler.mjs"), 'export const greet = (n) => `hello ${n} (bundler)`;\n');
  const tsconfig = join(dir, "tsconfig.json");
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@lib/*": ["lib/*"] } } }));
  const helper = join(dir, "lib", "helper.ts");
  writeFileSync(helper, "export const version: number = 1;\n");
  const entry = join(dir, "entry.ts");
  writeFileSync(
    entry,
    'import { greet } from "greet";\nimport { version } from "@lib/helper";\nexport const out = { greeting: greet("acme"), version, here: import.meta.url };\n',
  );
  return { entry, helper, tsconfig };
}

describe("workflow build cache", () => {
  const t = tempDir("bifrost-wf-build-");
  const env = { XDG_CACHE_HOME: join(t.dir, "cache") };
  const cacheDir = join(t.dir, "cache", "bifrost", "workflows");
  const p = project(join(t.dir, "proj"));
  afterAll(() => t.cleanup());

  const load = async (url: string) => ((await import(url)) as { out: { greeting: string; version: number; here: string } }).out;

  it("builds local imports, tsconfig paths and npm packages (Node's import entry) into a private cache entry, reused while nothing changed", async () => {
    const url = await buildWorkflow(p.entry, NO_SDK, env);
    expect(fileURLToPath(url).startsWith(cacheDir)).toBe(true);
    expect(await load(url)).toEqual({ greeting: "hello acme (esm)", version: 1, here: pathToFileURL(p.entry).href });
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(cacheDir).sort();
    expect(files).toHaveLength(2);
    for (const f of files) expect(statSync(join(cacheDir, f)).mode & 0o777).toBe(0o600);
    // The npm package stays outside, imported from the project's node_modules.
    expect(readFileSync(fileURLToPath(url), "utf8")).toContain(pathToFileURL(join(t.dir, "proj", "node_modules", "greet", "esm.mjs")).href);

    const before = statSync(fileURLToPath(url)).mtimeMs;
    expect(await buildWorkflow(p.entry, NO_SDK, env)).toBe(url);
    expect(statSync(fileURLToPath(url)).mtimeMs).toBe(before);
    expect(readdirSync(cacheDir).sort()).toEqual(files);
  });

  it("an edited imported file, or an edited tsconfig, builds again and replaces the entry", async () => {
    const first = await buildWorkflow(p.entry, NO_SDK, env);
    writeFileSync(p.helper, "export const version: number = 2;\n");
    const second = await buildWorkflow(p.entry, NO_SDK, env);
    expect(second).not.toBe(first);
    expect((await load(second)).version).toBe(2);
    expect(readdirSync(cacheDir)).toHaveLength(2);

    mkdirSync(join(t.dir, "proj", "lib2"), { recursive: true });
    writeFileSync(join(t.dir, "proj", "lib2", "helper.ts"), "export const version: number = 3;\n");
    writeFileSync(p.tsconfig, JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@lib/*": ["lib2/*"] } } }));
    const third = await buildWorkflow(p.entry, NO_SDK, env);
    expect((await load(third)).version).toBe(3);
  });

  it("a corrupt output or manifest is replaced by a fresh build", async () => {
    const url = await buildWorkflow(p.entry, NO_SDK, env);
    const good = readFileSync(fileURLToPath(url), "utf8");
    writeFileSync(fileURLToPath(url), "export const out = 'planted';\n");
    expect(await buildWorkflow(p.entry, NO_SDK, env)).toBe(url);
    expect(readFileSync(fileURLToPath(url), "utf8")).toBe(good);

    const manifest = readdirSync(cacheDir).find((f) => f.endsWith(".json")) as string;
    writeFileSync(join(cacheDir, manifest), "{ not json");
    expect(await buildWorkflow(p.entry, NO_SDK, env)).toBe(url);
    expect(JSON.parse(readFileSync(join(cacheDir, manifest), "utf8"))).toMatchObject({ output: fileURLToPath(url).split("/").pop() });
  });

  it("a cache folder other users can write is not used: the output goes to a private temporary folder", async () => {
    const list = readdirSync(cacheDir).sort();
    chmodSync(cacheDir, 0o777);
    try {
      writeFileSync(p.helper, "export const version: number = 4;\n");
      writeFileSync(p.tsconfig, JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@lib/*": ["lib/*"] } } }));
      const url = await buildWorkflow(p.entry, NO_SDK, env);
      expect(fileURLToPath(url).startsWith(cacheDir)).toBe(false);
      expect(statSync(fileURLToPath(url)).mode & 0o777).toBe(0o600);
      expect((await load(url)).version).toBe(4);
      expect(readdirSync(cacheDir).sort()).toEqual(list);
    } finally {
      chmodSync(cacheDir, 0o700);
    }
  });

  it("a file that does not build is refused with its file and line", async () => {
    const bad = join(t.dir, "proj", "bad.ts");
    writeFileSync(bad, 'export const a = 1;\nimport { nope } from "./missing";\nexport const b = nope;\n');
    await expect(buildWorkflow(bad, NO_SDK, env)).rejects.toThrow(WorkflowBuildError);
    await expect(buildWorkflow(bad, NO_SDK, env)).rejects.toThrow(`${bad}:2:`);
  });
});

/** Knows no integrations: the workflows here never ask. */
const noIntegrations: IntegrationResolver = { resolve: async () => null, list: async () => [], findOrg: async () => null };

describe("a workflow importing a local module and an npm package runs in a worker", () => {
  const t = tempDir("bifrost-wf-run-");
  const saved = process.env.XDG_CACHE_HOME;
  let runner: WorkflowRunner;
  beforeAll(() => {
    process.env.XDG_CACHE_HOME = join(t.dir, "cache");
    runner = new WorkflowRunner({ limits: workflowLimits({}, { concurrency: 1 }), spare: false });
  });
  afterAll(async () => {
    await runner.close();
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    t.cleanup();
  });

  it("runs it, and a stack trace names the user's file and line", async () => {
    const dir = join(t.dir, "proj");
    const { helper } = project(dir);
    writeFileSync(helper, "export const version: number = 7;\n\nexport function where(): string {\n  return new Error(\"here\").stack ?? \"\";\n}\n");
    const wf = join(dir, "wf.ts");
    writeFileSync(
      wf,
      'import { workflow } from "bifrost";\nimport { greet } from "greet";\nimport { version, where } from "./lib/helper.ts";\nexport default workflow("greeter", async (input: { name: string }) => {\n  console.log(where());\n  return { greeting: greet(input.name), version };\n});\n',
    );
    const outputs: WorkflowOutput[] = [];
    const res = await runner.runFile(wf, undefined, { name: "globex" }, { org: null, caller: { kind: "cli", platform: true }, resolver: noIntegrations, output: (o) => outputs.push(o) });
    expect(res.result).toEqual({ greeting: "hello globex (esm)", version: 7 });
    expect(outputs.map((o) => o.text).join("")).toContain(`${helper}:4:`);
  });
});
