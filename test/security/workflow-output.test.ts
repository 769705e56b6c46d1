/**
 * A workflow's console output and late errors (trust model §9.5): captured per execution through the
 * execution context, redacted with that execution's own secrets and logged with its execution id — on
 * the server (pino log of the run route) and in `bifrost run` (stderr; stdout carries only the
 * result). Late errors are attributed through the execution context however many executions ran
 * since. Output outside any execution is untouched.
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { createLogger } from "../../src/logger.js";
import { integrations } from "../../src/runtime/integrations.js";
import { workflow } from "../../src/runtime/workflow.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");
const SECRET_ACME = "acme-secret-Q7x/9+Lk2Pz";
const SECRET_GLOBEX = "globex-secret-M3v8Tq1Rw";

/** Spawn `node ...args` with a clean environment plus `env`; resolves with status, stdout and stderr. */
function spawnNode(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && k !== "DATABASE_URL" && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") base[k] = v;
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...base, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((done) => child.on("close", (status) => done({ status, stdout, stderr })));
}

const secretOf = async (): Promise<string> => (await integrations.require("Vault")).config.get("api_secret") as string;

/** Workflows registered on the server under test. */
let releaseTimer!: () => void;
const timerGate = new Promise<void>((r) => (releaseTimer = r));
const WORKFLOWS = [
  workflow("leaky", async () => {
    const s = await secretOf();
    console.log("log: the key is", s);
    console.info(`info: ${s}`);
    console.warn("warn: %s", s);
    console.error({ error: `error with ${s}` });
    console.debug(`debug: ${encodeURIComponent(s)}`);
    process.stdout.write(`stdout write ${s}\n`);
    process.stderr.write(`stderr write ${s}\n`);
    console.log(`basic header Basic-less: ${Buffer.from(`admin:${s}`).toString("base64")}`);
    return { ok: true };
  }),
  workflow("late_log", async () => {
    const s = await secretOf();
    void timerGate.then(() => setTimeout(() => console.log(`late log from a timer: ${s}`), 0));
    return { ok: true };
  }),
  workflow("interleaved", async (input: { tag: string }) => {
    const s = await secretOf();
    for (let i = 0; i < 5; i++) {
      console.log(`tag=${input.tag} step=${i} secret=${s}`);
      await new Promise((r) => setImmediate(r));
    }
    return { ok: true };
  }),
];

interface LogLine {
  level: number;
  msg: string;
  executionId?: string;
  workflow?: string;
  stream?: string;
  source?: string;
}

for (const backend of BACKENDS) {
  describe(`workflow output is captured per execution and redacted (${backend.name})`, () => {
    const tmp = tempDir("bifrost-output-");
    const env: Record<string, string> = { BIFROST_HOME: tmp.dir, BIFROST_KEYRING: generateKeyringJson() };
    let bf: Bifrost;
    let app: FastifyInstance;
    let key: string;
    let drop = async () => undefined as void;
    const logs: string[] = [];
    const lines = (): LogLine[] => logs.flatMap((l) => l.split("\n").filter(Boolean)).map((l) => JSON.parse(l) as LogLine);
    const outputOf = (executionId: string) => lines().filter((l) => l.source === "workflow-output" && l.executionId === executionId);

    const run = async (name: string, org: string, input: unknown = {}) => {
      const res = await app.inject({
        method: "POST",
        url: `/api/workflows/${name}/run`,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        payload: JSON.stringify({ org, input }),
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { execution_id: string };
    };

    beforeAll(async () => {
      if (backend.name === "postgres") {
        const db = await createTestDatabase();
        env.DATABASE_URL = db.url;
        drop = db.drop;
      }
      bf = await openBifrost({ env: { ...env }, allowCreateDevKeyring: false, warn: () => undefined });
      await createIntegration(bf, { name: "Vault", configSchema: [{ key: "api_secret", type: "secret", required: true }], defaults: { api_secret: "vault-default-secret-1" } });
      await createOrg(bf, { slug: "acme" });
      await createOrg(bf, { slug: "globex" });
      await setMapping(bf, "Vault", "acme", { entityId: "A-1", config: { api_secret: SECRET_ACME } });
      await setMapping(bf, "Vault", "globex", { entityId: "G-1", config: { api_secret: SECRET_GLOBEX } });
      key = (await createApiKey(bf, { role: "platform_admin" })).key;
      const logger = createLogger({ level: "debug", destination: { write: (s: string) => void logs.push(s) } });
      app = await createApp({ bifrost: bf, logger, workflows: WORKFLOWS });
    });
    afterAll(async () => {
      await app?.close();
      await bf?.close();
      await drop();
      tmp.cleanup();
    });

    it("server: console.*, process.stdout/stderr.write of a secret → one log line each, redacted, with the execution id and level", async () => {
      const { execution_id } = await run("leaky", "acme");
      const out = outputOf(execution_id);
      expect(out.map((l) => l.msg.split(":")[0]?.split(" ")[0])).toEqual(["log", "info", "warn", "{", "debug", "stdout", "stderr", "basic"]);
      for (const l of out) {
        expect(l.workflow).toBe("leaky");
        expect(l.msg).toContain("[REDACTED]");
      }
      const text = JSON.stringify(out) + logs.join("");
      for (const f of [SECRET_ACME, encodeURIComponent(SECRET_ACME), Buffer.from(`admin:${SECRET_ACME}`).toString("base64")]) expect(text).not.toContain(f);
      // Levels follow the console method: warn 40, error 50, debug 20, info 30.
      expect(out.map((l) => l.level)).toEqual([30, 30, 40, 50, 20, 30, 40, 30]);
      expect(out.map((l) => l.stream)).toEqual(["stdout", "stdout", "stderr", "stderr", "stdout", "stdout", "stderr", "stdout"]);
      expect(out[0]!.msg).toBe("log: the key is [REDACTED]");
    });

    it("attack: console.log from a timer after the execution returned is still attributed to it and redacted", async () => {
      const { execution_id } = await run("late_log", "acme");
      expect(outputOf(execution_id)).toEqual([]);
      releaseTimer();
      await vi.waitFor(() => expect(outputOf(execution_id)).toHaveLength(1));
      expect(outputOf(execution_id)[0]!.msg).toBe("late log from a timer: [REDACTED]");
      expect(logs.join("")).not.toContain(SECRET_ACME);
    });

    it("attack: two organizations' executions interleaved → each line carries its own execution id and is redacted with its own secret", async () => {
      const [a, g] = await Promise.all([run("interleaved", "acme", { tag: "acme" }), run("interleaved", "globex", { tag: "globex" })]);
      const outA = outputOf(a.execution_id);
      const outG = outputOf(g.execution_id);
      expect(outA).toHaveLength(5);
      expect(outG).toHaveLength(5);
      expect(outA.every((l) => l.msg.startsWith("tag=acme") && l.msg.endsWith("secret=[REDACTED]"))).toBe(true);
      expect(outG.every((l) => l.msg.startsWith("tag=globex") && l.msg.endsWith("secret=[REDACTED]"))).toBe(true);
      const all = logs.join("");
      expect(all).not.toContain(SECRET_ACME);
      expect(all).not.toContain(SECRET_GLOBEX);
    });

    it("bifrost run: console output goes to stderr redacted with the execution id; stdout is only the JSON result", async () => {
      if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests.");
      const file = join(tmp.dir, "leak.ts");
      writeFileSync(
        file,
        `import { workflow, integrations } from "bifrost";
export default workflow("leak", async () => {
  const s = (await integrations.require("Vault")).config.get("api_secret") as string;
  console.log("cli log", s);
  console.error("cli error", s);
  process.stdout.write("cli stdout write " + s + "\\n");
  return { done: true };
});
`,
      );
      const r = await spawnNode([BIN, "run", file, "--org", "acme", "--json"], env);
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { execution_id: string; result: unknown };
      expect(result.result).toEqual({ done: true });
      for (const m of ["cli log [REDACTED]", "cli error [REDACTED]", "cli stdout write [REDACTED]"]) expect(r.stderr).toContain(`[execution ${result.execution_id}] ${m}`);
      expect(r.stdout + r.stderr).not.toContain(SECRET_ACME);
    });

    it("attack: a late rejection and a timer exception after 300 later executions (other org, other secret) → attributed to their execution and redacted with its own secret; output outside executions untouched", async () => {
      const first = `first-${SECRET_ACME}`;
      const lateDb = env.DATABASE_URL ? await createTestDatabase() : null;
      const r = await spawnNode(["--import", "tsx", join(ROOT, "test/security/fixtures/late-faults.ts")], {
        ...env,
        BIFROST_HOME: join(tmp.dir, "late"),
        ...(lateDb ? { DATABASE_URL: lateDb.url } : {}),
        FIRST_SECRET: first,
        OTHER_SECRET: SECRET_GLOBEX,
      });
      await lateDb?.drop();
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout.trim().split("\n");
      // Outside any execution: printed as is, no prefix, no capture.
      expect(out).toContain("outside-marker console");
      expect(out).toContain("outside-marker write");
      const report = JSON.parse(out.at(-1) as string) as { lateExecutionId: string; faults: Array<{ kind: string; message: string; executionId: string | null }> };
      expect(report.faults.map((f) => f.kind).sort()).toEqual(["uncaughtException", "unhandledRejection"]);
      for (const f of report.faults) {
        expect(f.executionId).toBe(report.lateExecutionId);
        expect(f.message).toMatch(/late (rejection|timer exception) carrying \[REDACTED\]/);
        expect(f.message).not.toContain(first);
        expect(f.message).not.toContain(Buffer.from(`user:${first}`).toString("base64"));
      }
      expect(r.stdout + r.stderr).not.toContain(first);
    });
  });
}
