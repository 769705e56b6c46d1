/** Real PostgreSQL databases, keyring files and `bifrost serve` child processes for the scale tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createTestDatabase, tempDir } from "../helpers/backends.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "bifrost.js");

export interface PgEnv {
  url: string;
  keyringFile: string;
  env: NodeJS.ProcessEnv;
  /** A Bifrost over its own pool and change feed (as another process would have). */
  open(extra?: NodeJS.ProcessEnv): Promise<Bifrost>;
  cleanup(): Promise<void>;
}

/** A fresh database (migrated) and keyring file; `env` is what a `bifrost serve` process needs. */
export async function pgEnv(): Promise<PgEnv> {
  const db = await createTestDatabase();
  const t = tempDir("bifrost-scale-");
  const keyringFile = join(t.dir, "keyring.json");
  writeFileSync(keyringFile, generateKeyringJson(), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { DATABASE_URL: db.url, BIFROST_KEYRING_FILE: keyringFile, BIFROST_HOME: join(t.dir, "home") };
  const opened: Bifrost[] = [];
  const open = async (extra: NodeJS.ProcessEnv = {}) => {
    const bf = await openBifrost({ env: { ...env, ...extra }, warn: () => undefined });
    opened.push(bf);
    return bf;
  };
  const first = await open();
  await first.store.migrate();
  return {
    url: db.url,
    keyringFile,
    env,
    open,
    async cleanup() {
      for (const bf of opened) await bf.close().catch(() => undefined);
      await db.drop();
      t.cleanup();
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `bifrost serve --port 0 --json` as a child process; resolves once it listens. */
export async function spawnServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--json", ...args], {
    env: { ...process.env, ...env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const rl = createInterface({ input: child.stdout! });
    let text = "";
    // The --json start-up object (possibly pretty-printed over several lines).
    rl.on("line", (line) => {
      text += `${line}\n`;
      try {
        resolveUrl((JSON.parse(text) as { url: string }).url);
        rl.removeAllListeners("line");
      } catch {
        if (text.length > 10_000) reject(new Error(`unexpected start-up output: ${text}\n${err}`));
      }
    });
    void exited.then((code) => reject(new Error(`bifrost serve exited (${code}) before listening:\n${err}`)));
  });
  return {
    url,
    child,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}
