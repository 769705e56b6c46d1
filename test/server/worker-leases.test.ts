/**
 * Leases (host/workflow-pool.ts): a workflow worker reuses a resolved integration the host leased it for
 * as long as the host's own cache would serve it, without a round trip. Pinned here: reuse really
 * happens (the host resolver is asked once for many executions); every execution's secret read is still
 * recorded once, with its own execution id, API key and request id; a write in this process, a write
 * by another process (PostgreSQL) and the cache expiry each void the lease before the next execution; a
 * workflow that forges reads (in the shared read log or as messages) records nothing it was not leased.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openBifrost } from "../../src/host/bootstrap.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { ChangeFeed } from "../../src/cache/change-feed.js";
import { withChangeNotifications } from "../../src/storage/notifying.js";
import { listAudit } from "../../src/services/audit.js";
import { setConfig } from "../../src/services/mappings.js";
import { BACKENDS, tempDir, withFeed } from "../helpers/backends.js";
import { type Harness, setup } from "./harness.js";

const SDK = JSON.stringify(resolve(import.meta.dirname, "../../src/index.ts"));

const FILES: Record<string, string> = {
  "timeout.ts": `import { workflow, integrations } from ${SDK};
export default workflow("timeout", async () => {
  const halo = await integrations.require("HaloPSA");
  return { timeout: halo.config.get("timeout"), secret_length: String(halo.config.get("api_secret")).length };
});`,
  "read_then_spin.ts": `import { workflow, integrations } from ${SDK};
export default workflow("read_then_spin", async () => {
  await integrations.require("HaloPSA");
  for (;;) {}
}, { timeoutMs: 300 });`,
  // Claims reads the way a reuse is logged, for lease indexes it holds and for ones it does not: in the
  // shared read log (workerData) and as "read" messages.
  "forge.ts": `import { workflow, integrations, execution } from ${SDK};
import { parentPort, workerData } from "node:worker_threads";
export default workflow("forge", async () => {
  await integrations.require("HaloPSA");
  const executionId = execution()!.executionId;
  const log = (workerData as { readLog: Int32Array }).readLog;
  for (let index = 0; index < 40; index++) {
    const n = Atomics.add(log, 0, 1);
    if (n < log.length - 1) Atomics.store(log, n + 1, index);
    parentPort!.postMessage({ type: "read", executionId, index });
  }
  await new Promise((r) => setTimeout(r, 20));
  return "sent";
});`,
};

interface RunAnswer {
  execution_id: string;
  result: { timeout: number; secret_length: number };
}

describe.each(BACKENDS)("workflow worker leases on $name", (backend) => {
  let h: Harness;
  /** Host resolver calls for HaloPSA since the last reset. */
  let resolves = 0;
  const tmp = tempDir("bifrost-leases-");

  beforeAll(async () => {
    const dir = join(tmp.dir, "wf");
    mkdirSync(dir);
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    h = await setup(withFeed(backend), { workflowsDir: dir, workflowLimits: { concurrency: 1 } });
    // PostgreSQL caches only while its change feed listens (the server start does this).
    await h.bf.store.changes?.ready();
    const resolver = h.bf.resolver;
    const real = resolver.resolve.bind(resolver);
    resolver.resolve = (name, org) => {
      if (name === "HaloPSA") resolves++;
      return real(name, org);
    };
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });
  beforeEach(async () => {
    await setConfig(h.bf, "HaloPSA", "acme", { timeout: 60 });
    // Each test starts without a lease (as after any write).
    h.bf.store.changes?.invalidate();
    resolves = 0;
  });

  const run = (name: string, body: unknown = {}): Promise<LightMyRequestResponse> => h.call("POST", `/api/workflows/${name}/run`, h.keys.acmeWorkflow, body);
  const timeout = async (): Promise<RunAnswer> => {
    const res = await run("timeout");
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as RunAnswer;
  };
  const reads = async (executionId: string) => {
    await h.bf.resolver.flushAudit();
    return (await listAudit(h.bf, { action: "secret.read", integration: "HaloPSA", limit: 500 })).entries.filter((e) => e.execution_id === executionId);
  };

  it("reuses the leased integration across executions; each execution's secret read is recorded under its own request", async () => {
    const runs: RunAnswer[] = [];
    for (let i = 0; i < 5; i++) runs.push(await timeout());
    // One host resolve served all five (the first asked; the rest reused the lease).
    expect(resolves).toBe(1);
    for (const r of runs) expect(r.result).toEqual({ timeout: 60, secret_length: 24 });
    const requestIds = new Set<string>();
    for (const r of runs) {
      const entries = await reads(r.execution_id);
      expect(entries, `execution ${r.execution_id}`).toHaveLength(1);
      const [e] = entries;
      expect(e).toMatchObject({ target: { integration: "HaloPSA", org: "acme", keys: ["api_secret"] }, actor: { kind: "api_key" } });
      const actor = e?.actor as { key_prefix: string; key_name: string };
      expect(actor.key_name).toBe("workflow:acme");
      expect(h.keys.acmeWorkflow).toContain(actor.key_prefix);
      expect(e?.request_id).toEqual(expect.any(String));
      requestIds.add(String(e?.request_id));
    }
    expect(requestIds.size).toBe(5);
  });

  it("a write in this process voids the lease before the next execution", async () => {
    await timeout();
    await timeout();
    expect(resolves).toBe(1); // positive control: the second execution reused the lease
    const patch = await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.acmeAdmin, { timeout: 61 });
    expect(patch.statusCode, patch.body).toBe(200);
    expect((await timeout()).result.timeout).toBe(61);
    expect(resolves).toBe(2);
  });

  it.skipIf(backend.name !== "postgres")("a write committed by another process voids the lease (its notification moves the shared epoch)", async () => {
    await timeout();
    await timeout();
    expect(resolves).toBe(1); // positive control
    // Another server process: its writes notify (as src/storage/open.ts opens a store).
    const store = withChangeNotifications(PostgresStore.open(h.url!), ChangeFeed.listen(h.url!));
    const other = await openBifrost({ store, env: { BIFROST_KEYRING: h.keyringJson, BIFROST_HOME: "/nonexistent-bifrost-home" }, warn: () => undefined });
    try {
      const feed = h.bf.store.changes!;
      const epoch = feed.epoch;
      await setConfig(other, "HaloPSA", "acme", { timeout: 62 });
      // The notification arrives on this process's LISTEN connection.
      for (let i = 0; i < 250 && feed.epoch === epoch; i++) await new Promise((r) => setTimeout(r, 20));
      expect(feed.epoch).not.toBe(epoch);
      expect((await timeout()).result.timeout).toBe(62);
      expect(resolves).toBe(2);
    } finally {
      await other.close();
    }
  });

  it("a lease expires with the cache entry it mirrors", async () => {
    await timeout();
    await timeout();
    expect(resolves).toBe(1);
    const ttl = h.bf.store.changes?.ttlMs ?? 0;
    await new Promise((r) => setTimeout(r, ttl + 50));
    await timeout();
    expect(resolves).toBe(2);
  });

  it("the read of a leased integration is recorded also when its execution times out (the read log outlives the worker)", async () => {
    await timeout(); // acme's worker holds the lease
    const res = await run("read_then_spin");
    expect(res.statusCode, res.body).toBe(504);
    const id = (res.json() as { details: { execution_id: string } }).details.execution_id;
    expect(resolves).toBe(1); // the spinning execution reused the lease: no host resolve
    const entries = await reads(id);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.request_id).toEqual(expect.any(String));
  });

  it("a workflow that forges reads (read log and messages) records only the one read it made", async () => {
    const other = await h.call("POST", "/api/workflows/timeout/run", h.keys.globexWorkflow, {});
    expect(other.statusCode, other.body).toBe(200); // globex's worker holds a HaloPSA lease of its own
    await h.bf.resolver.flushAudit();
    const globexBefore = (await listAudit(h.bf, { action: "secret.read", org: "globex", limit: 500 })).entries.length;
    // First with a lease in hand (its earlier read was leased), then once more reusing it.
    for (let i = 0; i < 2; i++) {
      const res = await run("forge");
      expect(res.statusCode, res.body).toBe(200);
      const id = (res.json() as { execution_id: string }).execution_id;
      // Positive control and attack at once: its own read is there, once, however often it claims it.
      expect(await reads(id)).toHaveLength(1);
    }
    expect(resolves).toBe(2); // globex's run and acme's first
    expect((await listAudit(h.bf, { action: "secret.read", org: "globex", limit: 500 })).entries.length).toBe(globexBefore);
  });
});
