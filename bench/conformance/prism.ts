/**
 * Stoplight Prism, the independent validator of the conformance harness: not part of the default install.
 * A pinned version is installed on first use with `npm install --prefix` into the spec-package cache
 * (`${XDG_CACHE_HOME:-~/.cache}/bifrost/spec-packages`) and run locally as `prism mock --errors SPEC`,
 * which answers a request that breaks the spec (parameters, body, security) with a problem+json error.
 *
 * 5.14.2: the newest release whose `engines` allow Node 20 (`npm view @stoplight/prism-cli engines`:
 * 5.15 and later need Node >= 24).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";

export const PRISM_VERSION = "5.14.2";

function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bifrost", "spec-packages");
}

/** The Prism CLI entry point, installed on first use. */
export function ensurePrism(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const dir = join(cacheRoot(), `@stoplight+prism-cli@${PRISM_VERSION}`);
  const entry = join(dir, "node_modules", "@stoplight", "prism-cli", "dist", "index.js");
  if (existsSync(join(dir, ".complete")) && existsSync(entry)) return entry;
  mkdirSync(cacheRoot(), { recursive: true });
  const work = mkdtempSync(join(cacheRoot(), ".prism-"));
  try {
    log(`Installing @stoplight/prism-cli@${PRISM_VERSION} into ${dir} (once; later runs reuse it)…`);
    // --ignore-scripts: nothing of it runs at install time (its analytics postinstall included).
    execFileSync("npm", ["install", "--prefix", work, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", `@stoplight/prism-cli@${PRISM_VERSION}`], { stdio: ["ignore", "inherit", "inherit"] });
    writeFileSync(join(work, ".complete"), `@stoplight/prism-cli@${PRISM_VERSION}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface PrismMock {
  url: string;
  /** Prism's log lines (its validator explains every violation there). */
  log: string[];
  stop(): Promise<void>;
}

/** Prism processes still running: killed when the harness is interrupted, so none outlives it. */
const running = new Set<ChildProcess>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill("SIGTERM");
    process.exit(130);
  });
}

/** `prism mock --errors SPEC` on a free loopback port; resolves once it listens. */
export async function startPrism(entry: string, spec: string, timeoutMs = 180_000): Promise<PrismMock> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [entry, "mock", "-h", "127.0.0.1", "-p", String(port), "--errors", spec], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SCARF_ANALYTICS: "false", DO_NOT_TRACK: "1" } });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const log: string[] = [];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start within ${timeoutMs} ms for ${spec}:\n${log.slice(-10).join("\n")}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        // Colour codes removed so the log reads as text.
        const text = line.replace(/\u001b\[[0-9;]*m/g, "").trim();
        if (text) log.push(text);
        if (text.includes("Prism is listening")) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited (${code}) for ${spec}:\n${log.slice(-10).join("\n")}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, log, stop };
}
