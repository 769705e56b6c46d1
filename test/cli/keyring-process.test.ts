/**
 * Key rotation across processes, where the process boundary is the point: a `bifrost keyring rewrap`
 * killed with SIGKILL part-way leaves a readable database and a rerun finishes it; two rewrap processes
 * at once share the work (SQLite immediate transactions, PostgreSQL SKIP LOCKED); a running server
 * picks up a rotated keyring on SIGHUP and logs the active key id, never the key.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { createIntegration } from "../../src/services/integrations.js";
import { keyringStatus, rewrapAll } from "../../src/services/keyring.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";
import { getAs } from "../oauth/helpers/setup.js";

const ROOT = join(import.meta.dirname, "..", "..");
const ORGS = 25;
const KEYS = 20;
const secret = (org: number, key: number) => `secret-${org}-${key}-abcdefghijklmnop`;

/** `bifrost …` as a child process: bin/bifrost.js, the built CLI (run `npm run build` first), as the other CLI process tests. */
function spawnCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && k !== "DATABASE_URL" && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") base[k] = v;
  const child = spawn(process.execPath, [join(ROOT, "bin/bifrost.js"), ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((ok) => child.once("close", (code, signal) => ok({ code, signal, stdout, stderr })));
  return { child, done };
}

async function until(cond: () => Promise<boolean> | boolean, what: string, tries = 3000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Sessions on the database that are not idle (working, or inside a transaction), other than the one asking. */
async function foreignSessions(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'");
    return r.rows[0]?.n ?? 0;
  } finally {
    await c.end();
  }
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: keyring rotation across processes`, () => {
    const tmp = tempDir("bifrost-keyring-proc-");
    const keyringFile = join(tmp.dir, "keyring.json");
    let env: Record<string, string>;
    let drop: () => Promise<void> = async () => undefined;
    let bf: Bifrost;
    const orgs: ExecutionOrg[] = [];

    const cli = async (args: string[]) => {
      const r = await runCliInProcess([...args, "--json"], { env, cwd: tmp.dir });
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const countUnder = async (kid: string) => (await keyringStatus(bf)).keys[kid] ?? 0;
    const readAll = async () => {
      for (const [i, org] of orgs.entries()) {
        const halo = await getAs(bf.resolver, "HaloPSA", org);
        for (let k = 0; k < KEYS; k++) expect(halo?.config.get(`key${k}`)).toBe(secret(i, k));
      }
    };

    beforeAll(async () => {
      writeFileSync(keyringFile, generateKeyringJson("k1"), { mode: 0o600 });
      env = { BIFROST_HOME: join(tmp.dir, "home"), BIFROST_KEYRING_FILE: keyringFile };
      if (backend.name === "postgres") {
        const db = await createTestDatabase();
        env.DATABASE_URL = db.url;
        drop = db.drop;
      }
      bf = await openBifrost({ env: { ...env }, allowCreateDevKeyring: false, warn: () => undefined });
      await createIntegration(bf, { name: "HaloPSA", configSchema: Array.from({ length: KEYS }, (_, k) => ({ key: `key${k}`, type: "secret" })) });
      for (let i = 0; i < ORGS; i++) {
        await createOrg(bf, { slug: `org-${i}` });
        await setMapping(bf, "HaloPSA", `org-${i}`, { config: Object.fromEntries(Array.from({ length: KEYS }, (_, k) => [`key${k}`, secret(i, k)])) });
        orgs.push((await bf.resolver.findOrg(`org-${i}`)) as ExecutionOrg);
      }
    });
    afterAll(async () => {
      await bf?.close();
      await drop();
      tmp.cleanup();
    });

    it("a rewrap killed with SIGKILL part-way leaves every value readable; a rerun brings the old key to 0", async () => {
      expect(await cli(["keyring", "rotate", "--file", keyringFile])).toMatchObject({ active: "k2" });
      await bf.reloadKeyring();
      const total = ORGS * KEYS;
      const run = spawnCli(["keyring", "rewrap", "--batch", "1", "--json"], env);
      await until(async () => (await countUnder("k2")) >= 3, "the first committed batches");
      run.child.kill("SIGKILL");
      const killed = await run.done;
      expect(killed.signal).toBe("SIGKILL");
      // PostgreSQL finishes a COMMIT the killed process had already sent: count only once its sessions are gone.
      if (env.DATABASE_URL) await until(() => foreignSessions(env.DATABASE_URL as string).then((n) => n === 0), "the killed process's sessions to end");
      const mid = await keyringStatus(bf);
      expect(mid.keys.k1).toBeGreaterThan(0);
      expect((mid.keys.k1 as number) + (mid.keys.k2 as number)).toBe(total);
      await readAll();

      // The rerun (in this process: the crash was the part that needed a process of its own).
      const body = (await cli(["keyring", "rewrap"])) as { rewrapped: number; superseded: number; remaining: Record<string, number>; failed: unknown[] };
      expect(body).toMatchObject({ remaining: {}, failed: [] });
      expect(body.rewrapped + body.superseded).toBe(mid.keys.k1);
      expect(await keyringStatus(bf)).toMatchObject({ active: "k2", keys: { k1: 0, k2: total } });
      await readAll();
    });

    it("two rewrappers in two processes at once re-encrypt every value exactly once between them", async () => {
      expect(await cli(["keyring", "rotate", "--file", keyringFile])).toMatchObject({ active: "k3" });
      await bf.reloadKeyring();
      const total = ORGS * KEYS;
      const child = spawnCli(["keyring", "rewrap", "--batch", "2", "--json"], env);
      // Start this process's rewrap once the child is at work, so the two overlap.
      await until(async () => (await countUnder("k3")) >= 1 || child.child.exitCode !== null, "the child's first batch");
      const mine = await rewrapAll(bf, { batch: 2 });
      const out = await child.done;
      expect(out.code, out.stderr).toBe(0);
      const bodies = [JSON.parse(out.stdout) as { rewrapped: number; superseded: number; failed: unknown[] }, mine];
      expect(bodies.reduce((n, b) => n + b.rewrapped + b.superseded, 0)).toBe(total);
      for (const b of bodies) expect(b.failed).toEqual([]);
      expect((await keyringStatus(bf)).keys).toEqual({ k1: 0, k2: 0, k3: total });
      await readAll();
    });

    it("a running server reloads the keyring on SIGHUP and logs the active key id, never the key", async () => {
      const server = spawnCli(["serve", "--port", "0", "--json"], env);
      try {
        const rl = createInterface({ input: server.child.stdout! });
        let text = "";
        await new Promise<void>((ok, fail) => {
          rl.on("line", (line) => {
            text += `${line}\n`;
            try {
              JSON.parse(text);
              ok();
            } catch {
              // the start-up object spans several lines
            }
          });
          void server.done.then((r) => fail(new Error(`server exited: ${r.stderr}`)));
        });
        let stderr = "";
        server.child.stderr!.on("data", (d: string) => (stderr += d));
        expect(await cli(["keyring", "rotate", "--file", keyringFile])).toMatchObject({ active: "k4" });
        server.child.kill("SIGHUP");
        await until(() => stderr.includes("keyring reloaded"), "the reload log line");
        expect(stderr).toContain('"active_kid":"k4"');
        const keys = JSON.parse(readFileSync(keyringFile, "utf8")).keys as Record<string, string>;
        for (const key of Object.values(keys)) expect(stderr).not.toContain(key);
        // The server is still up after the reload.
        expect(server.child.exitCode).toBeNull();
      } finally {
        server.child.kill("SIGTERM");
        await server.done;
      }
    });
  });
}
