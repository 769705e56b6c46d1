import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { precompress } from "../scripts/console-compress.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
const outDir = fileURLToPath(new URL("../dist/console", import.meta.url));

/** After the bundle is written: .br and .gz next to each asset, served by @fastify/static (preCompressed). */
function precompressPlugin(): Plugin {
  return {
    name: "bifrost-precompress",
    apply: "build",
    async closeBundle() {
      const sizes = await precompress(outDir);
      for (const s of sizes) this.info(`${s.file.slice(outDir.length + 1)}: ${s.bytes} B, br ${s.br ?? "-"} B, gzip ${s.gzip ?? "-"} B`);
    },
  };
}

// Built into dist/console, which the server serves at `/` (src/server/console/routes.ts).
export default defineConfig({
  root,
  base: "/",
  plugins: [react(), precompressPlugin()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    // The CSP forbids inline scripts: never inline the module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
