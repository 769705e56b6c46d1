#!/usr/bin/env node
// Node ≥ 22.1 keeps compiled code between runs (in the OS temp dir), so each command starts faster; a no-op on Node 20.
import module from "node:module";

module.enableCompileCache?.();
// The CLI bundle (scripts/bundle-cli.mjs, built by `npm run build`).
await import("../dist/bundle/cli/main.js");
