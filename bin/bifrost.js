#!/usr/bin/env node
// The CLI bundle (dist/bundle/bifrost.cjs, built by `npm run build`), with its compiled code cached
// between runs: Node ≥ 22.1 does that itself; before, bin/code-cache.js does.
import module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/bundle/bifrost.cjs", import.meta.url));
let cli;
if (module.enableCompileCache) {
  module.enableCompileCache();
  cli = createRequire(import.meta.url)(bundle);
} else {
  const { requireWithCodeCache } = await import("./code-cache.js");
  // `bifrost run` compiles other functions (the workflow runner) than the other commands: a cache of its own.
  cli = requireWithCodeCache(bundle, process.argv[2] === "run" ? "run" : "");
}
const code = await cli.main();
// Exit explicitly: a workflow may leave timers or sockets open; stdout/stderr writes to pipes and files are synchronous.
process.exitCode = code;
process.stdout.write("", () => process.exit(code));
