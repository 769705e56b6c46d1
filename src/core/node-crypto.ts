/**
 * node:crypto, loaded on first use, for the modules a workflow worker thread imports (src/runtime,
 * src/host/remote-resolver.ts): they hash or make ids only on some paths (building a workflow, a remote
 * resolver's token, an execution id the host did not give), and node:crypto with the ~35 internal
 * modules it loads was a few ms of every worker's start.
 */
import { createRequire } from "node:module";

type NodeCrypto = typeof import("node:crypto");

let loaded: NodeCrypto | undefined;

export function nodeCrypto(): NodeCrypto {
  loaded ??= createRequire(import.meta.url)("node:crypto") as NodeCrypto;
  return loaded;
}
