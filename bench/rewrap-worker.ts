/**
 * Child process of bench/rewrap.ts: one rewrapping process beside the benchmark's readers. Opens the
 * store and keyring from the environment (like `bifrost keyring rewrap`), prints "ready", waits for a
 * line on stdin, rewraps everything and prints `{"rewrapped","superseded","failed","ms"}`.
 */
import { createInterface } from "node:readline";
import { openBifrost } from "../src/host/bootstrap.js";
import { rewrapAll } from "../src/services/keyring.js";

const bf = await openBifrost({ allowCreateDevKeyring: false, warn: () => undefined });
process.stdout.write("ready\n");
const rl = createInterface({ input: process.stdin });
await new Promise<void>((go) => rl.once("line", () => go()));
rl.close();
const t0 = performance.now();
const r = await rewrapAll(bf, { batch: Number(process.env.BENCH_BATCH ?? 500) });
const ms = performance.now() - t0;
await bf.close();
process.stdout.write(`${JSON.stringify({ rewrapped: r.rewrapped, superseded: r.superseded, failed: r.failed.length, ms })}\n`);
