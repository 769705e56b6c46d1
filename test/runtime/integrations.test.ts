import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, ForbiddenError, IntegrationNotFoundError, NoExecutionContextError, ValidationError, WorkflowError } from "../../src/core/errors.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { StoreResolver } from "../../src/host/store-resolver.js";
import type { Store } from "../../src/storage/store.js";
import { executeWorkflow } from "../../src/runtime/execute.js";
import { integrations } from "../../src/runtime/integrations.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { workflow } from "../../src/runtime/workflow.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";

/** Wrap a store so every method call is counted. */
function counting(store: Store): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: workflow runtime`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let acme: ExecutionOrg;
    let globex: ExecutionOrg;

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      await createOrg(bf, { slug: "acme", name: "Acme Corp" });
      await createOrg(bf, { slug: "globex", name: "Globex" });
      await createIntegration(bf, {
        name: "HaloPSA",
        configSchema: [
          { key: "base_url", type: "string", required: true },
          { key: "api_key", type: "secret", required: true },
          { key: "timeout", type: "int" },
          { key: "flags", type: "json" },
        ],
        defaults: { base_url: "https://halo.example.com/api", timeout: 30, api_key: "default-secret-1", flags: { a: 1 } },
      });
      await setMapping(bf, "HaloPSA", "acme", { entityId: "customer-123", entityName: "Acme (Halo)", config: { base_url: "https://acme.halo.example.com/api" } });
      await createIntegration(bf, { name: "Broken", configSchema: [{ key: "url", type: "string", required: true }] });
      acme = (await bf.resolver.findOrg("acme"))!;
      globex = (await bf.resolver.findOrg("globex"))!;
    });
    afterAll(async () => cleanup?.());

    const run = <O>(fn: () => Promise<O>, org: ExecutionOrg | null, platform = false, resolver = bf.resolver) =>
      executeWorkflow(workflow("t", fn), {}, { org, caller: { kind: "cli", platform }, resolver });

    it("the issue's example workflow returns the org's merged config and entity", async () => {
      const sync = workflow("sync_data", async (input: { since?: string }) => {
        const halo = await integrations.get("HaloPSA");
        if (!halo) return { error: "Integration not configured" };
        return { base: halo.config.get("base_url"), tenant: halo.entityId, timeout: halo.config.get("timeout"), since: input.since };
      });
      const a = await executeWorkflow(sync, { since: "2026-01-01" }, { org: acme, caller: { kind: "cli", platform: true }, resolver: bf.resolver });
      expect(a.result).toEqual({ base: "https://acme.halo.example.com/api", tenant: "customer-123", timeout: 30, since: "2026-01-01" });
      expect(a.org).toBe("acme");
      const g = await executeWorkflow(sync, {}, { org: globex, caller: { kind: "cli", platform: true }, resolver: bf.resolver });
      expect(g.result).toEqual({ base: "https://halo.example.com/api", tenant: null, timeout: 30 });
    });

    it("get() returns null for an unknown integration; require() throws", async () => {
      const r = await run(async () => ({ missing: await integrations.get("Nope") }), acme);
      expect(r.result).toEqual({ missing: null });
      await expect(run(() => integrations.require("Nope"), acme)).rejects.toThrowError(IntegrationNotFoundError);
    });

    it("secrets are plaintext inside the workflow only; config.toJSON() masks them", async () => {
      const r = await run(async () => {
        const h = await integrations.require("HaloPSA");
        return { secret: h.config.get("api_key") === "default-secret-1", config: h.config };
      }, acme);
      expect(r.result).toMatchObject({ secret: true, config: { api_key: { set: true } } });
      expect(JSON.stringify(r.result)).not.toContain("default-secret-1");
    });

    it("a workflow returning a secret has its result withheld", async () => {
      await expect(run(async () => (await integrations.require("HaloPSA")).config.get("api_key"), acme)).rejects.toThrowError(/returned a secret config value/);
    });

    it("errors that quote a secret are redacted", async () => {
      const err = await run(async () => {
        const h = await integrations.require("HaloPSA");
        throw new Error(`upstream rejected key ${h.config.get("api_key") as string}`);
      }, acme).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowError);
      expect((err as Error).message).toBe('Workflow "t" failed: upstream rejected key [REDACTED]');
    });

    it("values are typed and read-only; unknown keys are a typo error", async () => {
      const r = await run(async () => {
        const h = await integrations.require("HaloPSA");
        const flags = h.config.get<{ a: number }>("flags")!;
        let frozen = false;
        try {
          (flags as { a: number }).a = 2;
        } catch {
          frozen = true;
        }
        let typo = "";
        try {
          h.config.get("base_ur1");
        } catch (e) {
          typo = (e as ValidationError).message;
        }
        return { timeoutType: typeof h.config.get("timeout"), frozen, typo };
      }, acme);
      expect(r.result).toEqual({ timeoutType: "number", frozen: true, typo: expect.stringContaining('no config key "base_ur1"') });
    });

    it("a missing required key throws ConfigError naming integration, org and keys", async () => {
      const err = await run(() => integrations.get("Broken"), acme).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/"Broken" is missing required config key\(s\) url for organization "acme"/);
    });

    it("a cold get() is one store read; repeated gets in one execution hit the cache", async () => {
      const { store, calls } = counting(bf.store);
      const resolver = new StoreResolver(store, bf.box);
      await run(async () => {
        await integrations.get("HaloPSA");
        await integrations.get("HaloPSA");
        await Promise.all([integrations.get("HaloPSA"), integrations.get("HaloPSA")]);
      }, acme, false, resolver);
      expect(calls).toEqual(["resolve"]);
      await run(() => integrations.get("HaloPSA"), acme, false, resolver);
      expect(calls).toEqual(["resolve", "resolve"]);
      // The executions' secret.read entries are queued and written in one batch.
      await resolver.flushAudit();
      expect(calls).toEqual(["resolve", "resolve", "insertAuditEntries"]);
    });

    it("list() shows every integration with this org's mapping", async () => {
      const r = await run(() => integrations.list(), acme);
      expect(r.result).toEqual([
        { name: "Broken", mapped: false, entityId: null, entityName: null },
        { name: "HaloPSA", mapped: true, entityId: "customer-123", entityName: "Acme (Halo)" },
      ]);
    });

    it("another org only with a platform-level credential", async () => {
      await expect(run(() => integrations.get("HaloPSA", { org: "acme" }), globex)).rejects.toThrowError(ForbiddenError);
      const r = await run(async () => (await integrations.get("HaloPSA", { org: "acme" }))?.entityId, globex, true);
      expect(r.result).toBe("customer-123");
    });

    it("concurrent executions never see each other's org", async () => {
      const probe = workflow("probe", async (input: { delay: number }) => {
        await new Promise((r) => setTimeout(r, input.delay));
        return (await integrations.require("HaloPSA")).entityId;
      });
      const runs = Array.from({ length: 40 }, (_, i) =>
        executeWorkflow(probe, { delay: (i * 7) % 5 }, { org: i % 2 ? acme : globex, caller: { kind: "cli", platform: false }, resolver: bf.resolver }),
      );
      const results = await Promise.all(runs);
      results.forEach((r, i) => expect(r.result).toBe(i % 2 ? "customer-123" : null));
    });

    it("outside an execution the SDK says how to run a workflow", async () => {
      await expect(integrations.get("HaloPSA")).rejects.toThrowError(NoExecutionContextError);
      await expect(integrations.get("HaloPSA")).rejects.toThrowError(/bifrost run FILE --org SLUG/);
    });
  });
}
