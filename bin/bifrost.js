#!/usr/bin/env node
// The CLI bundle (dist/bundle/bifrost.cjs and the files it requires, built by `npm run build`), with its compiled code cached
// between runs: Node ≥ 22.1 does that itself; before, ./code-cache.js does. This launcher is CommonJS
// (bin/package.json): an ES module entry would start Node's ES module loader, a few ms of CPU on every command.
"use strict";
const module_ = require("node:module");
const { join } = require("node:path");

const bundle = join(__dirname, "..", "dist", "bundle", "bifrost.cjs");
let cli;
if (module_.enableCompileCache) {
  module_.enableCompileCache();
  cli = require(bundle);
} else {
  // `bifrost run` compiles other functions (the workflow runner) than the other commands: a cache of its own.
  cli = require("./code-cache.js").requireWithCodeCache(bundle, process.argv[2] === "run" ? "run" : "");
}
cli.main().then((code) => {
  // Exit explicitly: a workflow may leave timers or sockets open; stdout/stderr writes to pipes and files are synchronous.
  process.exitCode = code;
  process.stdout.write("", () => process.exit(code));
});
