import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/services/api-keys.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setConfig } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import { PG_URL } from "../helpers/backends.js";
import { type PgEnv, pgEnv, type ServerProcess, spawnServe, waitFor } from "./helpers.js";

/**
 * Cross-process cache invalidation on PostgreSQL (LISTEN/NOTIFY). "Process" A and B are separate
 * Bifrost instances with their own pools and LISTEN connections (the store of a process), plus a
 * real `bifrost serve` child for the HTTP checks. A long TTL (60 s) proves that what clears A's
 * cache is the notification, not the TTL.
 */
describe.skipIf(!PG_URL)("cache invalidation across processes (postgres)", () => {
  let pgx: PgEnv;
  let a: Bifrost;
  let b: Bifrost;
  let child: ServerProcess;
  let acme: ExecutionOrg;
  let key = "";
  let keyId = "";

  beforeAll(async () => {
    pgx = await pgEnv();
    b = await pgx.open({ BIFROST_CACHE_TTL_MS: "60000" });
    await createOrg(b, { slug: "acme" });
    await createIntegration(b, { name: "Crm", configSchema: [{ key: "region", type: "string", required: true }, { key: "api_secret", type: "secret", required: true }] });
    await setConfig(b, "Crm", null, { region: "eu", api_secret: "s-0" });
    const created = await createApiKey(b, { role: "workflow", org: "acme" });
    key = created.key;
    keyId = created.apiKey.id;
    process.env.BIFROST_CACHE_TTL_MS = "60000";
    a = await pgx.open();
    await a.store.changes!.ready();
    await b.store.changes!.ready();
    acme = (await a.resolver.findOrg("acme"))!;
    child = await spawnServe({ ...pgx.env, BIFROST_CACHE_TTL_MS: "60000" });
  }, 30_000);

  afterAll(async () => {
    delete process.env.BIFROST_CACHE_TTL_MS;
    await child?.stop();
    await pgx?.cleanup();
  });

  it("A caches; an override written by B is seen by A's next get() within 1 s", async () => {
    expect((await a.resolver.resolve("Crm", acme))!.config.get("region")).toBe("eu");
    expect(a.store.changes!.table("resolved").size).toBe(1);
    const t0 = Date.now();
    await setConfig(b, "Crm", "acme", { region: "us" });
    expect(await waitFor(async () => (await a.resolver.resolve("Crm", acme))!.config.get("region") === "us", 1_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it("a secret rotated in B is never served stale by A once the notification arrived", async () => {
    for (let i = 1; i <= 20; i++) {
      expect((await a.resolver.resolve("Crm", acme))!.config.get("api_secret")).toBe(`s-${i - 1}`);
      const epoch = a.store.changes!.epoch;
      await setConfig(b, "Crm", null, { api_secret: `s-${i}` });
      // B's transaction has committed: wait only for the notification, then A must serve the new secret.
      expect(await waitFor(() => a.store.changes!.epoch > epoch, 1_000, 2)).toBe(true);
      expect((await a.resolver.resolve("Crm", acme))!.config.get("api_secret")).toBe(`s-${i}`);
    }
  });

  it("HTTP: a server process caches the resolved route; B's override is served within 1 s", async () => {
    const get = async () => {
      const res = await fetch(`${child.url}/api/integrations/Crm/resolved`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as { config: Record<string, unknown> } };
    };
    expect((await get()).status).toBe(200);
    await setConfig(b, "Crm", "acme", { region: "ap" });
    expect(await waitFor(async () => (await get()).body.config.region === "ap", 1_000)).toBe(true);
  });

  it("HTTP: a key revoked in B is refused by the server process within 1 s", async () => {
    const get = () => fetch(`${child.url}/api/integrations/Crm/resolved`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    expect(await get()).toBe(200);
    expect(await get()).toBe(200); // served from the key cache
    const t0 = Date.now();
    expect(await revokeApiKey(b, keyId)).toBe(true);
    expect(await waitFor(async () => (await get()) === 401, 1_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it("a dropped LISTEN connection turns caching off, clears it and reconnects", async () => {
    const feed = a.store.changes!;
    await a.resolver.resolve("Crm", acme);
    expect(feed.enabled).toBe(true);
    await b.store.transaction(async () => undefined);
    const pgAdmin = (await import("pg")).default;
    const c = new pgAdmin.Client({ connectionString: pgx.url });
    await c.connect();
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bifrost-changes' AND datname = current_database()");
    await c.end();
    expect(await waitFor(() => !feed.enabled, 2_000)).toBe(true);
    expect(feed.table("resolved").size).toBe(0);
    expect(await waitFor(() => feed.enabled, 5_000)).toBe(true);
    // Listening again: a change by B still reaches A.
    await setConfig(b, "Crm", "acme", { region: "sa" });
    expect(await waitFor(async () => (await a.resolver.resolve("Crm", acme))!.config.get("region") === "sa", 1_000)).toBe(true);
  }, 15_000);
});
