/** Shared by bench/http.ts and bench/soak.ts: a throwaway store, seeded data, `bifrost serve` child processes. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { generateKeyringJson } from "../src/crypto/keyring.js";
import { createApiKey } from "../src/services/api-keys.js";
import { type Bifrost, openBifrost } from "../src/host/bootstrap.js";
import { createIntegration } from "../src/services/integrations.js";
import { setConfig } from "../src/services/mappings.js";
import { createOrg } from "../src/services/organizations.js";

export const BIN = join(import.meta.dirname, "..", "bin", "bifrost.js");
export const ADMIN_PG_URL = process.env.BIFROST_BENCH_DATABASE_URL || process.env.BIFROST_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

export interface Site {
  kind: "sqlite" | "postgres";
  env: NodeJS.ProcessEnv;
  bf: Bifrost;
  cleanup(): Promise<void>;
}

/** A fresh SQLite home or PostgreSQL database (migrated) with a keyring file. */
export async function openSite(kind: "sqlite" | "postgres"): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), "bifrost-bench-"));
  const keyringFile = join(dir, "keyring.json");
  writeFileSync(keyringFile, generateKeyringJson(), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { BIFROST_HOME: join(dir, "home"), BIFROST_KEYRING_FILE: keyringFile };
  let drop = async () => undefined as void;
  if (kind === "postgres") {
    const name = `bifrost_b_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
    const admin = new pg.Client({ connectionString: ADMIN_PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(ADMIN_PG_URL);
    u.pathname = `/${name}`;
    env.DATABASE_URL = u.toString();
    drop = async () => {
      const c = new pg.Client({ connectionString: ADMIN_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const bf = await openBifrost({ env, warn: () => undefined });
  await bf.store.migrate();
  return {
    kind,
    env,
    bf,
    async cleanup() {
      await bf.close().catch(() => undefined);
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Integration "Crm" (3 keys, one secret) with defaults and overrides for org "acme"; a workflow key for acme. */
export async function seedResolved(bf: Bifrost): Promise<{ key: string; path: string }> {
  await createOrg(bf, { slug: "acme" });
  await createIntegration(bf, {
    name: "Crm",
    configSchema: [
      { key: "base_url", type: "string", required: true },
      { key: "page_size", type: "int", required: false },
      { key: "api_secret", type: "secret", required: true },
    ],
  });
  await setConfig(bf, "Crm", null, { base_url: "https://crm.example.com", page_size: 50, api_secret: "default-secret" });
  await setConfig(bf, "Crm", "acme", { page_size: 100, api_secret: "acme-secret-0" });
  const { key } = await createApiKey(bf, { role: "workflow", org: "acme", name: "bench" });
  return { key, path: "/api/integrations/Crm/resolved" };
}

export interface Child {
  url: string;
  pid: number;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `bifrost serve` on a free port; BENCH_SERVE_NODE_ARGS adds node flags (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it). */
export async function spawnServe(env: NodeJS.ProcessEnv): Promise<Child> {
  const nodeArgs = process.env.BENCH_SERVE_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, BIN, "serve", "--port", "0", "--json"], {
    env: { ...process.env, ...env, NODE_ENV: "production", BIFROST_LOG_LEVEL: process.env.BIFROST_LOG_LEVEL ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-50_000);
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
  const url = await new Promise<string>((ok, fail) => {
    let text = "";
    const rl = createInterface({ input: proc.stdout! });
    rl.on("line", (line) => {
      text += `${line}\n`;
      try {
        ok((JSON.parse(text) as { url: string }).url);
        rl.removeAllListeners("line");
      } catch {
        /* more lines */
      }
    });
    void exited.then((c) => fail(new Error(`bifrost serve exited (${c}):\n${err}`)));
  });
  return {
    url,
    pid: proc.pid!,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : Number.NaN;
}
