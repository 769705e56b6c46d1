/**
 * Workflow containment (DESIGN §9.5): workflows loaded from files run in worker threads under a time
 * limit, a memory limit and a concurrency limit. A runaway, hanging, memory-hungry or crashing
 * workflow is stopped and reported with its execution id while /healthz and another org's workflow
 * keep answering; over capacity answers 429 BIFROST_BUSY with Retry-After; what one execution held
 * never reaches an execution of another principal.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, tempDir } from "../helpers/backends.js";
import { envelope, type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "./harness.js";

const SDK = JSON.stringify(resolve(import.meta.dirname, "../../src/index.ts"));

/** Workflow files of the server under test (they import the SDK from this checkout). */
const FILES: Record<string, string> = {
  "echo.ts": `import { workflow, integrations } from ${SDK};
export default workflow("echo", async (input: { n?: number }) => {
  const halo = await integrations.require("HaloPSA");
  return { n: input?.n ?? null, org_entity: halo.entityId, timeout: halo.config.get("timeout") };
});`,
  "spin.ts": `import { workflow } from ${SDK};
export default workflow("spin", async () => { for (;;) {} }, { timeoutMs: 300 });`,
  "hang.ts": `import { workflow } from ${SDK};
export default workflow("hang", () => new Promise(() => undefined), { timeoutMs: 300 });`,
  "hold.ts": `import { workflow } from ${SDK};
export default workflow("hold", () => new Promise(() => undefined), { timeoutMs: 1000 });`,
  "hog.ts": `import { workflow } from ${SDK};
export default workflow("hog", async () => {
  const keep: number[][] = [];
  for (;;) keep.push(new Array(250_000).fill(keep.length));
});`,
  "fat.ts": `import { workflow } from ${SDK};
let held: number[][] | null = null;
export default workflow("fat", async (input: { mb?: number }) => {
  const before = (held?.length ?? 0) * 65_536;
  // Kept in 512 KB arrays: one multi-megabyte array is a single allocation the heap limit cannot interrupt.
  held = [];
  for (let i = 0; i < Math.round((input?.mb ?? 1) * 2); i++) held.push(new Array(65_536).fill(1.5));
  return { before };
});`,
  "exits.ts": `import { workflow } from ${SDK};
export default workflow("exits", async () => { process.exit(3); });`,
  "throws_late.ts": `import { workflow, integrations } from ${SDK};
export default workflow("throws_late", async () => {
  const secret = (await integrations.require("HaloPSA")).config.get("api_secret");
  await new Promise((_ok, _fail) => setTimeout(() => { throw new Error("timer blew up holding " + secret); }, 1));
});`,
  "stash.ts": `import { workflow, integrations } from ${SDK};
let moduleStash: unknown = null;
export default workflow("stash", async (input: { keep?: boolean }) => {
  const seen = { module: moduleStash, global: (globalThis as Record<string, unknown>).__stash ?? null, env: process.env.BIFROST_KEYRING ?? null };
  if (input?.keep) {
    const secret = (await integrations.require("HaloPSA")).config.get("api_secret");
    moduleStash = secret;
    (globalThis as Record<string, unknown>).__stash = secret;
  }
  return JSON.stringify(seen).replaceAll("sk-", "SK:");
});`,
};

const run = (h: Harness, name: string, key: string, body: unknown = {}): Promise<LightMyRequestResponse> => h.call("POST", `/api/workflows/${name}/run`, key, body);

/** The server still answers: /healthz and a workflow of another org, both checked by their answers. */
async function stillServing(h: Harness): Promise<void> {
  const health = await h.call("GET", "/healthz", null);
  expect(health.json()).toEqual({ status: "ok" });
  const other = await run(h, "echo", h.keys.globexWorkflow, { input: { n: 7 } });
  expect(other.statusCode, other.body).toBe(200);
  expect(other.json()).toMatchObject({ org: "globex", result: { n: 7, org_entity: null, timeout: 30 } });
}

describe.each(BACKENDS)("workflow containment on $name", (backend) => {
  let h: Harness;
  const tmp = tempDir("bifrost-contain-");
  beforeAll(async () => {
    const dir = join(tmp.dir, "wf");
    mkdirSync(dir);
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    h = await setup(backend, { workflowsDir: dir, workflowLimits: { memoryMb: 64, concurrency: 2, queue: 1 } });
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it("positive control: a workflow runs in a worker with its org's config", async () => {
    const res = await run(h, "echo", h.keys.acmeWorkflow, { input: { n: 1 } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ workflow: "echo", org: "acme", result: { n: 1, org_entity: "T-1", timeout: 60 } });
  });

  it("a runaway loop (while(true)) is stopped at its time limit while other requests answer", async () => {
    const spinning = run(h, "spin", h.keys.acmeWorkflow);
    await stillServing(h);
    const e = envelope(await spinning, 504, "BIFROST_WORKFLOW_TIMEOUT");
    expect(e.details).toMatchObject({ execution_id: expect.any(String), timeout_ms: 300 });
    expect(e.message).toContain(String(e.details?.execution_id));
    await stillServing(h);
  });

  it("a never-settling promise is ended by the time limit", async () => {
    const hanging = run(h, "hang", h.keys.acmeWorkflow);
    await stillServing(h);
    const e = envelope(await hanging, 504, "BIFROST_WORKFLOW_TIMEOUT");
    expect(e.details?.execution_id).toEqual(expect.any(String));
  });

  it("a memory-hungry workflow is stopped at the memory limit", async () => {
    const hog = run(h, "hog", h.keys.acmeWorkflow);
    await stillServing(h);
    const e = envelope(await hog, 500, "BIFROST_WORKFLOW_CRASHED");
    expect(e.details).toMatchObject({ reason: "memory", execution_id: expect.any(String) });
    await stillServing(h);
  });

  it("a worker whose heap holds more than half its limit after an execution is not used again", async () => {
    const fat = async (mb: number) => {
      const r = await run(h, "fat", h.keys.acmeWorkflow, { input: { mb } });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { result: { before: number } }).result.before;
    };
    // Positive control: a small heap keeps the worker warm for its principal (the module state is still there).
    await fat(1);
    expect(await fat(1)).toBe(131_072);
    // 36 MB kept (limit 64 MB): that worker is retired; the next execution starts with fresh module state.
    expect(await fat(36)).toBe(131_072);
    expect(await fat(1)).toBe(0);
    await stillServing(h);
  });

  it("process.exit() ends only its own execution", async () => {
    const e = envelope(await run(h, "exits", h.keys.acmeWorkflow), 500, "BIFROST_WORKFLOW_CRASHED");
    expect(e.details).toMatchObject({ reason: "exit", exit_code: 3 });
    await stillServing(h);
  });

  it("an exception thrown in a timer crashes only its execution, reported without the secret", async () => {
    const res = await run(h, "throws_late", h.keys.acmeWorkflow);
    const e = envelope(res, 500, "BIFROST_WORKFLOW_CRASHED");
    expect(e.details).toMatchObject({ reason: "uncaught", execution_id: expect.any(String) });
    expect(e.message).toContain("timer blew up holding [REDACTED]");
    expect(res.body).not.toContain(SECRET_ACME);
    await stillServing(h);
  });

  it("over capacity answers 429 BIFROST_BUSY with Retry-After; the executions that got a slot answer normally", async () => {
    // 2 slots + 1 queue place: of six simultaneous long executions at least three are refused at once.
    const answers = await Promise.all(Array.from({ length: 6 }, () => run(h, "hold", h.keys.acmeWorkflow)));
    const busy = answers.filter((r) => r.statusCode === 429);
    expect(busy.length).toBeGreaterThanOrEqual(3);
    for (const r of busy) {
      const e = envelope(r, 429, "BIFROST_BUSY");
      expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(e.details?.retry_after).toBe(Number(r.headers["retry-after"]));
    }
    for (const r of answers.filter((x) => x.statusCode !== 429)) envelope(r, 504, "BIFROST_WORKFLOW_TIMEOUT");
    await stillServing(h);
  });

  it("what an execution keeps in module or global state never reaches another org's execution, nor the keyring", async () => {
    const first = await run(h, "stash", h.keys.acmeWorkflow, { input: { keep: true } });
    expect(first.statusCode, first.body).toBe(200);
    // Positive control: the same principal's next execution may reuse the warm worker (it could read the secret anyway).
    const again = await run(h, "stash", h.keys.acmeWorkflow);
    expect(again.statusCode, again.body).toBe(200);
    expect(JSON.parse(again.json().result as string)).toMatchObject({ module: SECRET_ACME.replace("sk-", "SK:"), env: null });
    for (let i = 0; i < 3; i++) {
      const other = await run(h, "stash", h.keys.globexWorkflow);
      expect(other.statusCode, other.body).toBe(200);
      expect(JSON.parse(other.json().result as string)).toEqual({ module: null, global: null, env: null });
      expect(other.body).not.toContain(SECRET_ACME.slice(3));
      expect(other.body).not.toContain(SECRET_DEFAULT.slice(3));
    }
  });
});
