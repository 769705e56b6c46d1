/**
 * Benchmark: size of one call's bundle. esbuild bundles (minified, ESM, platform node) a workflow-like
 * entry that imports ONE operation from a generated-style module (bench/fixtures/client-sample-module.ts)
 * plus the `bifrost/client` runtime. Reported twice:
 *   - "runtime": node builtins and the Bifrost SDK core (src/runtime, src/core, src/crypto — what
 *     `import "bifrost"` already loads in every workflow) external: the cost of the generated client.
 *   - "whole": only node builtins external: everything the workflow bundle really pulls in.
 * Target: runtime ≤ 8 KB.
 *
 *   npm run bench:bundle
 */
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";

const entry = `import { getTicket } from ${JSON.stringify(resolve("bench/fixtures/client-sample-module.ts"))};
export default async () => (await getTicket({ path: { id: 1 } })).subject;`;

const sdkCoreExternal: Plugin = {
  name: "sdk-core-external",
  setup(b) {
    b.onResolve({ filter: /\/(runtime|core|crypto)\/[^/]+\.js$/ }, (args) =>
      args.importer.includes("/src/client/") ? { path: args.path, external: true } : undefined,
    );
  },
};

async function size(plugins: Plugin[]): Promise<{ bytes: number; gzip: number }> {
  const out = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    plugins,
    logLevel: "silent",
  });
  const code = out.outputFiles[0]!.contents;
  return { bytes: code.length, gzip: gzipSync(code).length };
}

const runtime = await size([sdkCoreExternal]);
const whole = await size([]);
const kb = (n: number): string => `${(n / 1024).toFixed(2)} KB`;
console.log(`one call + bifrost/client runtime (SDK core external): ${kb(runtime.bytes)} minified, ${kb(runtime.gzip)} gzip — target ≤ 8 KB ${runtime.bytes <= 8192 ? "OK" : "OVER TARGET"}`);
console.log(`whole (SDK core bundled too, node builtins external):  ${kb(whole.bytes)} minified, ${kb(whole.gzip)} gzip`);
