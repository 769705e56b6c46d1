/**
 * A workflow file made into one plain ES module that Node imports without loader hooks: esbuild
 * bundles the file with the local files it imports (TypeScript transformed, tsconfig `paths` applied),
 * maps `bifrost` and `bifrost/*` to the SDK files the importing thread uses, and leaves builtins and
 * the workflow's own npm packages outside, as absolute URLs resolved from the workflow's folder. The
 * source map is inline with absolute sources, so stack traces name the user's files and lines.
 *
 * The output is cached in the user's own cache folder (`$XDG_CACHE_HOME` or `~/.cache`,
 * `bifrost/workflows`, mode 0700, files 0600, written atomically; never a shared temp folder: a planted
 * entry would be code run as this user). An entry is found by the workflow's path and the SDK files it
 * maps to, and used only when the content hashes of every file that went into it (the workflow, the
 * local files it imports, the tsconfig/jsconfig files that governed them) and of the output itself
 * still match, the same tsconfig files are still the nearest ones, and every npm file it imports still
 * exists. Anything else (a changed import, an edited tsconfig, a corrupt or missing entry) builds
 * again and replaces the entry. Checking an entry reads and hashes those files: no esbuild, no hooks.
 * When the cache folder cannot be used, the output goes to a private temporary folder removed at exit.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { homedir, tmpdir } from "node:os";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Plugin, PluginBuild } from "esbuild";
import { importEsm } from "../core/esm-import.js";
import { nodeCrypto } from "../core/node-crypto.js";

/** Bumped when the output's form changes: entries written before are then rebuilt. */
const FORMAT = 1;

/** The SDK a workflow module imports. */
export interface SdkEntries {
  /** package.json "exports" subpath ("." , "./client", …) → file URL of the SDK file to import. */
  entries: Readonly<Record<string, string>>;
  /** The package's own folders (src/, dist/): a file there imported by path is the SDK itself, imported, never copied. */
  dirs: readonly string[];
}

interface Manifest {
  format: number;
  entry: string;
  /** Output file name in the cache folder, and the sha256 of its content. */
  output: string;
  outputHash: string;
  /** Absolute path → sha256 of every local file that went into the output (tsconfig files included). */
  inputs: Record<string, string>;
  /** Directory → the tsconfig/jsconfig file nearest to it when built (null: none). */
  configs: Record<string, string | null>;
  /** npm files the output imports (must still exist). */
  externals: string[];
}

const sha256 = (data: string | Buffer): string => nodeCrypto().createHash("sha256").update(data).digest("hex");

/** The cache folder and its parents from the cache base down (each created alone: a recursive mkdir never returns for some paths). */
function cacheDirs(env: NodeJS.ProcessEnv): string[] {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return [base, join(base, "bifrost"), join(base, "bifrost", "workflows")];
}

/** The private cache folder, created if needed; null when it cannot be made or is not private to this user. */
function cacheDir(env: NodeJS.ProcessEnv): string | null {
  const dirs = cacheDirs(env);
  try {
    for (const dir of dirs) {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    const dir = dirs[dirs.length - 1] as string;
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (st.mode & 0o077) !== 0 || (uid !== undefined && st.uid !== uid)) return null;
    return dir;
  } catch {
    return null;
  }
}

let scratch: string | null = null;
/** A private temporary folder for this process (removed at exit): where output goes when the cache cannot be used. */
function scratchDir(): string {
  if (scratch === null) {
    const dir = mkdtempSync(join(tmpdir(), "bifrost-workflow-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function hashFile(file: string): string | null {
  try {
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The tsconfig.json or jsconfig.json esbuild applies to files in `dir`: the nearest one up the tree. */
function nearestConfig(dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    for (const name of ["tsconfig.json", "jsconfig.json"]) {
      const f = join(d, name);
      if (isFile(f)) return f;
    }
    if (dirname(d) === d) return null;
  }
}

function readManifest(file: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Partial<Manifest>;
    if (m.format !== FORMAT || typeof m.output !== "string" || typeof m.outputHash !== "string" || !m.inputs || !m.configs || !Array.isArray(m.externals)) return null;
    return m as Manifest;
  } catch {
    return null;
  }
}

/** Whether a cache entry still describes what a build would produce now. */
function fresh(dir: string, m: Manifest): boolean {
  if (hashFile(join(dir, m.output)) !== m.outputHash) return false;
  for (const [file, hash] of Object.entries(m.inputs)) if (hashFile(file) !== hash) return false;
  for (const [d, config] of Object.entries(m.configs)) if (nearestConfig(d) !== config) return false;
  return m.externals.every(isFile);
}

const LOADERS: Readonly<Record<string, "ts" | "tsx" | "js" | "jsx">> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };
const SKIP = Symbol("bifrost.resolving");

/**
 * `bifrost` and `bifrost/*` → the SDK's files; builtins as they are; npm packages resolved from the
 * importing file's folder and left outside the bundle by absolute URL (path for `require`); and
 * `import.meta.url`/`dirname`/`filename` in local files made the file's own (the bundle lives elsewhere).
 */
function workflowPlugin(sdk: SdkEntries, externals: Set<string>): Plugin {
  const byUrl = (kind: string, url: string): string => (kind === "require-call" || kind === "require-resolve" ? fileURLToPath(url) : url);
  return {
    name: "bifrost-workflow",
    setup(build: PluginBuild) {
      build.onResolve({ filter: /^[./]/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length > 0 || r.external || r.path === "" || !sdk.dirs.some((d) => r.path.startsWith(d + sep))) return undefined;
        return { path: byUrl(args.kind, pathToFileURL(r.path).href), external: true };
      });
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const spec = args.path;
        if (spec === "bifrost" || spec.startsWith("bifrost/")) {
          const sub = spec === "bifrost" ? "." : `.${spec.slice("bifrost".length)}`;
          const url = sdk.entries[sub];
          if (url === undefined) return { errors: [{ text: `"${spec}" is not an entry of the bifrost package; it has: ${Object.keys(sdk.entries).map((s) => (s === "." ? "bifrost" : `bifrost${s.slice(1)}`)).join(", ")}` }] };
          return { path: byUrl(args.kind, url), external: true };
        }
        if (isBuiltin(spec)) return { path: spec, external: true };
        const r = await build.resolve(spec, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length > 0 || r.external || r.path === "") return undefined;
        // tsconfig `paths` can map a bare name to a local file: that is bundled like any local import.
        if (!r.path.split(/[\\/]/).includes("node_modules")) return { path: r.path };
        externals.add(r.path);
        return { path: byUrl(args.kind, pathToFileURL(r.path).href), external: true };
      });
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.split(/[\\/]/).includes("node_modules")) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("import.meta.")) return undefined;
        const own: Record<string, string> = { url: pathToFileURL(args.path).href, dirname: dirname(args.path), filename: args.path };
        const contents = text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_m, k: string) => JSON.stringify(own[k]));
        return { contents, loader: LOADERS[extname(args.path)] ?? "js" };
      });
    },
  };
}

interface Built {
  code: string;
  inputs: string[];
  externals: string[];
}

/** Thrown for a workflow that cannot be built: the first error, with its file and line. */
export class WorkflowBuildError extends Error {}

async function buildModule(entry: string, sdk: SdkEntries): Promise<Built> {
  const esbuild = await importEsm<typeof import("esbuild")>("esbuild");
  const externals = new Set<string>();
  const outfile = join(dirname(entry), "bifrost-workflow.mjs");
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: dirname(entry),
      outfile,
      write: false,
      bundle: true,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      // Node's own conditions and fields, not the bundler-only "module".
      conditions: ["node"],
      mainFields: ["main"],
      sourcemap: "external",
      sourcesContent: false,
      metafile: true,
      logLevel: "silent",
      // CommonJS code in the bundle calls require(): one that resolves from the workflow's folder.
      banner: { js: `import { createRequire as __bifrostCreateRequire } from "node:module";\nconst require = __bifrostCreateRequire(${JSON.stringify(entry)});` },
      plugins: [workflowPlugin(sdk, externals)],
    });
  } catch (err) {
    const first = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors?.[0];
    if (!first) throw err;
    const where = first.location ? `${resolve(dirname(entry), first.location.file)}:${first.location.line}:${first.location.column + 1}: ` : "";
    throw new WorkflowBuildError(`${where}${first.text}`);
  }
  const js = result.outputFiles.find((f) => f.path === outfile);
  const map = result.outputFiles.find((f) => f.path === `${outfile}.map`);
  if (!js || !map) throw new Error("esbuild returned no output for the workflow");
  const sourceMap = JSON.parse(map.text) as { sources: string[] };
  sourceMap.sources = sourceMap.sources.map((s) => pathToFileURL(resolve(dirname(outfile), s)).href);
  const code = `${js.text.replace(/\/\/# sourceMappingURL=.*\s*$/, "")}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(sourceMap)).toString("base64")}\n`;
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => resolve(dirname(entry), p))
    .filter(isFile);
  return { code, inputs, externals: [...externals] };
}

/**
 * The file URL of `file` as one ES module importing `sdk`'s files for `bifrost` (built, or taken from
 * the cache). Throws WorkflowBuildError when esbuild cannot build it (syntax error, unresolvable import).
 */
export async function buildWorkflow(file: string, sdk: SdkEntries, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const entry = resolve(file);
  const key = sha256(JSON.stringify([FORMAT, entry, sdk])).slice(0, 32);
  const dir = cacheDir(env);
  const manifestFile = dir === null ? null : join(dir, `${key}.json`);
  const prior = manifestFile === null ? null : readManifest(manifestFile);
  if (dir !== null && prior !== null && fresh(dir, prior)) return pathToFileURL(join(dir, prior.output)).href;

  const built = await buildModule(entry, sdk);
  const outputHash = sha256(built.code);
  // The content in the name: a long-running process importing a rebuilt workflow gets a new module, not its cached old one.
  const output = `${key}-${outputHash.slice(0, 16)}.mjs`;
  const inputs: Record<string, string> = {};
  const configs: Record<string, string | null> = {};
  for (const f of built.inputs) {
    const d = dirname(f);
    if (!(d in configs)) configs[d] = nearestConfig(d);
  }
  for (const f of [...built.inputs, ...Object.values(configs).filter((c): c is string => c !== null)]) {
    const h = hashFile(f);
    if (h !== null) inputs[f] = h;
  }
  if (dir !== null && manifestFile !== null) {
    try {
      writeAtomic(join(dir, output), built.code);
      const manifest: Manifest = { format: FORMAT, entry, output, outputHash, inputs, configs, externals: built.externals };
      writeAtomic(manifestFile, JSON.stringify(manifest));
      if (prior !== null && prior.output !== output) rmSync(join(dir, prior.output), { force: true });
      return pathToFileURL(join(dir, output)).href;
    } catch {
      // fall through: a private temporary copy for this process
    }
  }
  const tmp = join(scratchDir(), output);
  writeFileSync(tmp, built.code, { mode: 0o600 });
  return pathToFileURL(tmp).href;
}

