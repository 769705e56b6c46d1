/**
 * The launcher's code cache (bin/code-cache.js, Node < 22.1): the built CLI bundle keeps its compiled
 * code in the user's own cache folder, and a missing, stale or corrupt cache only costs speed. Spawns
 * bin/bifrost.js: the launcher and the cache files between runs are the point (needs `npm run build`).
 */
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import module from "node:module";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");
const run = promisify(execFile);
// Node ≥ 22.1 caches compiled code itself; the launcher's own cache is for the versions before.
const launcherCaches = !(module as { enableCompileCache?: unknown }).enableCompileCache;

describe.skipIf(!launcherCaches)("CLI code cache (Node without module.enableCompileCache)", () => {
  const t = tempDir("bifrost-code-cache-");
  const cacheHome = join(t.dir, "cache");
  const cacheDir = join(cacheHome, "bifrost", "code-cache");
  const env = { PATH: process.env.PATH ?? "", HOME: t.dir, XDG_CACHE_HOME: cacheHome, BIFROST_HOME: join(t.dir, "home") };
  const bifrost = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, cwd: t.dir });

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist/bundle/bifrost.cjs"))) throw new Error("Run `npm run build` before the CLI tests (they spawn bin/bifrost.js).");
    await bifrost("orgs", "create", "acme", "--name", "Acme");
  });
  afterAll(() => t.cleanup());

  it("the first run writes the cache privately; later runs use it and answer the same", async () => {
    const first = await bifrost("orgs", "list", "--json");
    // One cache per file of the bundle the command loaded: the CLI and the runtime it shares with workflows.
    const files = readdirSync(cacheDir).filter((f) => f.endsWith(".bin"));
    expect(files.map((f) => f.split("-")[2]).sort()).toEqual(["bifrost", "runtime"]);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    for (const f of files) {
      expect(statSync(join(cacheDir, f)).mode & 0o777).toBe(0o600);
      expect(f).toContain(process.version);
    }

    const second = await bifrost("orgs", "list", "--json");
    expect(second.stdout).toBe(first.stdout);
    expect(JSON.parse(second.stdout)).toEqual({ organizations: [expect.objectContaining({ slug: "acme" })] });
    // Used, not rewritten: still the one file, no temporary left behind.
    expect(readdirSync(cacheDir)).toEqual(files);
  });

  it("a corrupt cache is rejected by V8 and replaced; the command still works", async () => {
    const [file] = readdirSync(cacheDir).filter((f) => f.includes("-bifrost-"));
    // The bundle's own identity line, then garbage: V8 itself must refuse it.
    const identity = readFileSync(join(cacheDir, file!), "latin1").split("\n")[0]!;
    writeFileSync(join(cacheDir, file!), Buffer.concat([Buffer.from(`${identity}\n`), Buffer.alloc(4096, 7)]));
    const res = await bifrost("orgs", "list", "--json");
    expect(JSON.parse(res.stdout)).toEqual({ organizations: [expect.objectContaining({ slug: "acme" })] });
    expect(statSync(join(cacheDir, file!)).size).toBeGreaterThan(identity.length + 1 + 4096);
  });

  it("workflows it runs import the bundle's SDK (one execution context), built from TypeScript without tsx", async () => {
    const wf = join(t.dir, "hello.ts");
    writeFileSync(wf, 'import { workflow, execution } from "bifrost";\nexport default workflow("hello", async () => ({ org: execution()?.org ?? null }));\n');
    const res = await bifrost("run", wf, "--org", "acme");
    expect(JSON.parse(res.stdout)).toEqual({ org: "acme" });
    // `bifrost run` and its worker thread (which is terminated, never exits) each wrote caches of their own;
    // the worker loads the runtime file only.
    const variants = readdirSync(cacheDir).filter((f) => f.endsWith("-run.bin") || f.endsWith("-worker.bin"));
    expect(variants.map((f) => `${f.split("-")[2]}-${f.replace(/^.*-/, "")}`).sort()).toEqual(["bifrost-run.bin", "runtime-run.bin", "runtime-worker.bin"]);
    for (const f of variants) expect(statSync(join(cacheDir, f)).mode & 0o777).toBe(0o600);
    expect(JSON.parse((await bifrost("run", wf, "--org", "acme")).stdout)).toEqual({ org: "acme" });
  });

  it("a dependency bundled in a file of its own is cached apart, when a command loads it", async () => {
    const before = readdirSync(cacheDir);
    expect(before.some((f) => f.includes("-yaml-"))).toBe(false);
    const res = await bifrost("export");
    expect(res.stdout).toContain("organizations:");
    expect(readdirSync(cacheDir).filter((f) => !before.includes(f)).some((f) => f.includes("-yaml-"))).toBe(true);
  });

  it("a changed bundle overwrites its cache; caches named by an old launcher are removed", async () => {
    // A copy of the installed package, so its bundle can change.
    const pkg = join(t.dir, "pkg");
    cpSync(join(ROOT, "bin"), join(pkg, "bin"), { recursive: true });
    cpSync(join(ROOT, "dist/bundle"), join(pkg, "dist/bundle"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"));
    const cacheHome2 = join(t.dir, "cache2");
    const dir = join(cacheHome2, "bifrost", "code-cache");
    const list = () => run(process.execPath, [join(pkg, "bin/bifrost.js"), "orgs", "list", "--json"], { env: { ...env, XDG_CACHE_HOME: cacheHome2 }, cwd: t.dir });
    await list();
    const files = readdirSync(dir);
    const file = files.find((f) => f.includes("-bifrost-"));
    const oldLauncher = `${process.version}-${process.arch}-1234-5678-1700000000000-run.bin`;
    writeFileSync(join(dir, oldLauncher), "stale");

    appendFileSync(join(pkg, "dist/bundle/bifrost.cjs"), "\n// rebuilt\n");
    const res = await list();
    expect(JSON.parse(res.stdout)).toEqual({ organizations: [expect.objectContaining({ slug: "acme" })] });
    // The same files, the CLI file's now the changed bundle's (its identity line: inode, size, modification time).
    expect(readdirSync(dir)).toEqual(files);
    const bundle = statSync(join(pkg, "dist/bundle/bifrost.cjs"));
    expect(readFileSync(join(dir, file!), "latin1").split("\n")[0]).toBe(`${bundle.ino}-${bundle.size}-${Math.trunc(bundle.mtimeMs)}`);
  });

  it("an unusable cache folder only costs speed", async () => {
    const notADir = join(t.dir, "a-file");
    writeFileSync(notADir, "");
    // A file where the folder should be, and a place where folders cannot be made (a recursive mkdir there never returned).
    for (const base of [notADir, "/proc/bifrost-no-cache"]) {
      const res = await run(process.execPath, [BIN, "orgs", "list", "--json"], { env: { ...env, XDG_CACHE_HOME: base }, cwd: t.dir, timeout: 20_000 });
      expect(JSON.parse(res.stdout)).toEqual({ organizations: [expect.objectContaining({ slug: "acme" })] });
    }
  });
});
