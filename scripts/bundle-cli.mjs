/**
 * `npm run build:cli`: the `bifrost` command as a few ES modules in dist/bundle/ (bin/bifrost.js runs
 * dist/bundle/cli/main.js). Loading ~80 compiled modules plus Kysely's ~260 files cost most of each
 * command's CPU time; a bundle is parsed once. Each command's action still imports what it uses
 * (dynamic imports become chunks), so `config get` never loads the server.
 *
 * The SDK entries ("bifrost", "bifrost/client") are bundle entries too: a workflow run by the bundled
 * CLI imports them (src/runtime/loader.ts, BIFROST_BUNDLE_DIR) and so shares the CLI's execution
 * context and error classes.
 *
 * Left outside the bundle: native and lazily required drivers (better-sqlite3, pg), tsx (it registers
 * loader hooks by file), and what only the server, MCP and the generator load (Fastify and its
 * plugins, pino, the MCP SDK with the zod it shares with our schemas, the spec parsers).
 */
import { rmSync } from "node:fs";
import { build } from "esbuild";

const OUT = "dist/bundle";
const EXTERNAL = [
  "better-sqlite3",
  "pg",
  "tsx",
  "tsx/*",
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

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { "cli/main": "src/cli/main.ts", index: "src/index.ts", "client/index": "src/client/index.ts" },
  outdir: OUT,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "bundle",
  external: EXTERNAL,
  define: { BIFROST_BUNDLE_DIR: JSON.stringify(OUT) },
  // CommonJS dependencies inside an ES module bundle call require(): give every output file one.
  banner: { js: 'import { createRequire as __bifrostRequire } from "node:module"; const require = __bifrostRequire(import.meta.url);' },
  legalComments: "none",
  logLevel: "warning",
});
