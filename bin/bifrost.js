#!/usr/bin/env node
// Node ≥ 22.1 keeps compiled code between runs (in the OS temp dir), so each command starts faster; a no-op on Node 20.
import module from "node:module";

module.enableCompileCache?.();
await import("../dist/cli/main.js");
