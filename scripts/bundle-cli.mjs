/**
 * `npm run build:cli`: the `bifrost` command as CommonJS files in dist/bundle, which bin/bifrost.js loads
 * with V8's code cache (bin/code-cache.js, a cache per file; Node ≥ 22.1 has its own). Loading ~80
 * compiled modules plus Kysely's ~260 files was most of each command's CPU time; a few files whose
 * compiled code is cached between runs start in a fraction of it. Each command's action still imports
 * what it uses: esbuild keeps every module's top level in its own init function, run on first import,
 * so `config get` never evaluates the server.
 *
 * The files, so that each thread reads, and has V8 restore, only the code it may run:
 * - runtime.cjs: what a workflow runs with, the SDK entries and the workflow worker thread (src/index.ts,
 *   src/client/index.ts, src/host/workflow-thread.ts and every module they import). A workflow worker
 *   loads this file only (workflow-worker.cjs). dist/bundle/index.js and dist/bundle/client/index.js are
 *   ES module views of its SDK entries: a workflow run by the bundled CLI imports those
 *   (src/runtime/loader.ts, BIFROST_BUNDLE_DIR) and so shares its thread's execution context and error classes.
 * - bifrost.cjs: the CLI. It imports the modules that are in runtime.cjs from there (RUNTIME_MODULES),
 *   never a copy of its own: one instance of each module in a thread, as in src/.
 * - SEPARATE: large dependencies few commands load (undici for outbound HTTP, yaml for files applied
 *   and exported), a file each, required on first use. Neither has dependencies, so they share no modules.
 *
 * Left outside the bundle: better-sqlite3's compiled addon (its JavaScript is bundled; the store passes
 * the addon as `nativeBinding`), pg (lazily required), esbuild (it runs its own binary; it builds
 * workflow files, src/runtime/workflow-build.ts), and what only the server, MCP and the generator load
 * (Fastify and its plugins, pino, the MCP SDK with the zod it shares with our schemas, the spec parsers).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, resolve, sep } from "node:path";
import { build } from "esbuild";

const OUT = "dist/bundle";
const FILE = `${OUT}/bifrost.cjs`;
const RUNTIME = `${OUT}/runtime.cjs`;
const EXTERNAL = [
  // better-sqlite3 requires it only to find its addon when given no `nativeBinding` (src/storage/sqlite/sqlite-store.ts).
  "bindings",
  "pg",
  "esbuild",
  "pino",
  "fastify",
  "@fastify/*",
  "@modelcontextprotocol/sdk",
  "@modelcontextprotocol/sdk/*",
  "zod",
  "zod/*",
  "@readme/openapi-parser",
  "swagger2openapi",
];

/** Dependencies bundled into files of their own (dist/bundle/NAME.cjs), required by the CLI file on first use. */
const SEPARATE = ["undici", "yaml"];

const VERSION = JSON.parse(readFileSync("package.json", "utf8")).version;

/**
 * commander requires node:child_process at load, for executable subcommands the CLI does not have; loading
 * it (with net, streams…) was ~2 ms of every command. Here commander gets it on first use instead.
 */
const lazyChildProcessForCommander = {
  name: "lazy-child-process-for-commander",
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: "child_process", namespace: "lazy-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
      loader: "js",
    }));
  },
};

/** The CLI file requires each SEPARATE dependency from its own file next to it. */
const separateFiles = {
  name: "separate-files",
  setup(b) {
    const filter = new RegExp(`^(${SEPARATE.join("|")})$`);
    b.onResolve({ filter }, (args) => ({ path: `./${args.path}.cjs`, external: true }));
  },
};

/** Options shared by every file of the bundle. */
const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  legalComments: "none",
  minify: true,
  keepNames: true,
  logLevel: "warning",
};

rmSync(OUT, { recursive: true, force: true });
for (const name of SEPARATE) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: ".", sourcefile: `${name}-entry.cjs`, loader: "js" },
    outfile: `${OUT}/${name}.cjs`,
  });
}

/** Options of the files built from our sources. */
const ours = {
  ...common,
  packages: "bundle",
  external: EXTERNAL,
  define: { BIFROST_BUNDLE_DIR: JSON.stringify(OUT), BIFROST_PACKAGE_VERSION: JSON.stringify(VERSION), "import.meta.url": "__bifrostModuleUrl" },
  banner: { js: 'var __bifrostModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  metafile: true,
};

// Every entry is evaluated on first use only: a workflow worker never evaluates the SDK's client half unless
// asked, a command never evaluates the SDK entries or the worker. Synchronously, because CommonJS code in a
// workflow require()s the SDK entries and require() refuses top-level await.
const RUNTIME_ENTRIES =
  'export const workflowWorker = () => require("./src/host/workflow-thread.ts").serveWorkflowThread();\nexport const sdk = () => require("./src/index.ts");\nexport const client = () => require("./src/client/index.ts");\n';
const entry = (contents) => ({ contents, resolveDir: ".", sourcefile: "bundle-entry.ts", loader: "ts" });

/** The modules of the runtime file (paths relative to the package root, as in esbuild's metafile). */
const modules = await build({ ...ours, stdin: entry(RUNTIME_ENTRIES), outfile: RUNTIME, write: false, plugins: [separateFiles] });
const RUNTIME_MODULES = Object.keys(modules.metafile.inputs).filter((f) => f !== "bundle-entry.ts");
// ...built with each of them reachable by path, for the CLI file.
const runtimeModules = `export const modules = {\n${RUNTIME_MODULES.map((f) => `  ${JSON.stringify(f)}: () => require(${JSON.stringify(`./${f}`)}),`).join("\n")}\n};\n`;
const runtime = await build({ ...ours, stdin: entry(RUNTIME_ENTRIES + runtimeModules), outfile: RUNTIME, plugins: [separateFiles] });

/**
 * The CLI file takes every module of the runtime file from there. An ES module stays one, exporting its
 * names as constants (so none may be reassigned: checked below): importers then read them directly, not
 * through a copy of the whole namespace made for each importer, as a CommonJS stand-in gets.
 */
const mutable = RUNTIME_MODULES.filter((f) => f.startsWith("src/") && /^export (let|var)\b/m.test(readFileSync(f, "utf8")));
if (mutable.length > 0) throw new Error(`The CLI file would hold copies of these modules' \`export let\`: ${mutable.join(", ")}`);
const runtimeExports = createRequire(import.meta.url)(resolve(RUNTIME)).modules;
function fromRuntimeModule(key) {
  const ns = runtimeExports[key]();
  const load = `require("./runtime.cjs").modules[${JSON.stringify(key)}]()`;
  if (!ns.__esModule) return `module.exports = ${load};`;
  const names = Object.keys(ns).filter((n) => n !== "default");
  const lines = [`const ns = ${load};`];
  if (names.length > 0) lines.push(`export const { ${names.join(", ")} } = ns;`);
  if ("default" in ns) lines.push("export default ns.default;");
  return lines.join("\n");
}
const fromRuntime = {
  name: "from-runtime",
  setup(b) {
    const inRuntime = new Set(RUNTIME_MODULES);
    b.onResolve({ filter: /^\.\/runtime\.cjs$/, namespace: "runtime" }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === "from-runtime" || args.kind === "entry-point") return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "from-runtime" });
      const key = found.external || found.errors.length > 0 ? null : relative(process.cwd(), found.path).split(sep).join("/");
      return key !== null && inRuntime.has(key) ? { path: key, namespace: "runtime" } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "runtime" }, (args) => ({ contents: fromRuntimeModule(args.path), loader: "js" }));
  },
};
const cli = await build({
  ...ours,
  stdin: entry('export const main = () => require("./src/cli/program.ts").main();\n'),
  outfile: FILE,
  plugins: [lazyChildProcessForCommander, separateFiles, fromRuntime],
});

// bin/code-cache.js runs the bundle from V8's code cache, where `import()` has no callback: modules
// outside the bundle must be imported through importEsm (src/core/esm-import.ts), never directly.
const direct = [runtime, cli].flatMap((result) =>
  Object.entries(result.metafile.inputs).flatMap(([from, input]) =>
    input.imports.filter((i) => i.kind === "dynamic-import" && i.external).map((i) => `${from} → ${i.path}`),
  ),
);
if (direct.length > 0) {
  throw new Error(`The CLI bundle would import these modules with import(), which fails under the code cache; use importEsm():\n  ${direct.join("\n  ")}`);
}

// V8 holds a file's source as a string of one byte per character only when all of it is ASCII: one other
// character (esbuild escapes them in strings, not in regular expressions) doubled the memory, the reading
// and the hashing of the whole file on every command.
for (const file of [RUNTIME, FILE, ...SEPARATE.map((name) => `${OUT}/${name}.cjs`)]) {
  const text = readFileSync(file, "utf8");
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) {
    throw new Error(`${file} is not ASCII at ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}: write the character as an escape (\\u…) in the source.`);
  }
}

/** An ES module exporting, by name, one namespace of the runtime file (read from the built file itself). */
function esmView(file, member, fromDir) {
  const ns = createRequire(import.meta.url)(resolve(RUNTIME))[member]();
  const names = Object.keys(ns).filter((n) => n !== "default");
  const lines = [
    "// Generated by scripts/bundle-cli.mjs: the bundled CLI's own instance of this entry, for the workflows it runs.",
    'import { createRequire } from "node:module";',
    `const ns = createRequire(import.meta.url)("${fromDir}runtime.cjs").${member}();`,
    `export const { ${names.join(", ")} } = ns;`,
  ];
  if ("default" in ns) lines.push("export default ns.default;");
  mkdirSync(resolve(file, ".."), { recursive: true });
  writeFileSync(file, `${lines.join("\n")}\n`);
}
// The entry of the bundled CLI's workflow workers: the runtime file, with the same code cache as the launcher.
// CommonJS, like the launcher: an ES module entry would start the ES module loader before the bundle loads.
writeFileSync(
  `${OUT}/workflow-worker.cjs`,
  [
    "// Generated by scripts/bundle-cli.mjs: a workflow worker thread of the bundled CLI (src/host/workflow-pool.ts).",
    '"use strict";',
    'const module_ = require("node:module");',
    'const runtime = require("node:path").join(__dirname, "runtime.cjs");',
    "let bundle;",
    "if (module_.enableCompileCache) {",
    "  module_.enableCompileCache();",
    "  bundle = require(runtime);",
    "} else {",
    '  bundle = require("../../bin/code-cache.js").requireWithCodeCache(runtime, "worker");',
    "}",
    "bundle.workflowWorker();",
    "",
  ].join("\n"),
);
esmView(`${OUT}/index.js`, "sdk", "./");
esmView(`${OUT}/client/index.js`, "client", "../");
