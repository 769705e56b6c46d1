/**
 * Every list route pages the same way (limit, cursor, q → next_cursor), on every backend: a walk with a
 * small page visits each row exactly once in the documented order, also when rows share a sort value
 * (the unique tie-breaker), bad limit or cursor answers 422 naming it, and org-scoped keys see only
 * their organization's rows whatever cursor they send.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/core/page.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { type Seed, seedConnections } from "../helpers/connections-seed.js";

const ORGS = 1000;
const bytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

for (const backend of BACKENDS) {
  describe(`paginated list routes (${backend.name})`, () => {
    let bf: Bifrost;
    let app: FastifyInstance;
    let seed: Seed;
    let cleanup: () => Promise<void>;
    const keys = { platform: "", ownAdmin: "", workflow: "" };
    let own: { id: string; slug: string; name: string };
    const extraIntegrations: string[] = [];
    const events: Array<{ id: string; at: string; org: string }> = [];
    const links: Array<{ id: string; at: string }> = [];

    async function get(url: string, key: string) {
      return app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
    }

    async function walk(path: string, listKey: string, params: Record<string, string>, key = keys.platform) {
      const rows: Array<Record<string, unknown>> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const qs = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
        const res = await get(`${path}${path.includes("?") ? "&" : "?"}${qs}`, key);
        expect(res.statusCode, `${path} ${res.body.slice(0, 300)}`).toBe(200);
        const body = res.json() as Record<string, unknown> & { next_cursor: string | null };
        const page = body[listKey] as Array<Record<string, unknown>>;
        expect(page.length).toBeLessThanOrEqual(Number(params.limit));
        expect(body.next_cursor === null || page.length === Number(params.limit)).toBe(true);
        rows.push(...page);
        cursor = body.next_cursor;
        expect(++pages).toBeLessThan(500);
      } while (cursor !== null);
      return rows;
    }

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      seed = await seedConnections(bf, ORGS);
      own = seed.orgs[4]!;
      const halo = (await bf.store.getIntegrationByName("Halo"))!;
      await bf.store.transaction(async (tx) => {
        const base = Date.parse("2026-01-01T00:00:00.000Z");
        for (let i = 0; i < 120; i++) {
          const name = `Int${(i * 37) % 120}_${i % 3 === 0 ? "psa" : "rmm"}`;
          const at = new Date(base).toISOString();
          await tx.insertIntegration({ id: bf.clock.id(), name, description: i % 10 === 0 ? "Ticketing bridge" : null, configSchema: [], trustedOrigins: [], privateNetwork: false, createdAt: at, updatedAt: at });
          extraIntegrations.push(name);
        }
        // Events and links: three share each timestamp, so only the id breaks the tie.
        for (let i = 0; i < 150; i++) {
          const org = seed.orgs[i % 10]!;
          const at = new Date(base + Math.floor(i / 3) * 1000).toISOString();
          const id = bf.clock.id();
          await tx.insertOAuthEvent({ id, type: i % 4 === 0 ? "needs_reauth" : "connected", integrationId: halo.id, orgId: org.id, payload: {}, createdAt: at });
          events.push({ id, at, org: org.slug });
        }
        for (let i = 0; i < 110; i++) {
          const org = i % 2 === 0 ? own : seed.orgs[5]!;
          const at = new Date(base + Math.floor(i / 3) * 1000).toISOString();
          const id = bf.clock.id();
          await tx.insertConnectLink({ id, tokenHash: `hash-${id}`, integrationId: halo.id, orgId: org.id, createdBy: null, createdAt: at, expiresAt: new Date(base + 86_400_000 * 365 * 5).toISOString(), usedAt: null, revokedAt: null, expiryRecordedAt: null });
          links.push({ id, at });
        }
      });
      keys.platform = (await createApiKey(bf, { role: "platform_admin", name: "admin" })).key;
      keys.ownAdmin = (await createApiKey(bf, { role: "org_admin", org: own.slug, name: "own-admin" })).key;
      keys.workflow = (await createApiKey(bf, { role: "workflow", org: own.slug, name: "own-workflow" })).key;
      for (let i = 0; i < 60; i++) await createApiKey(bf, { role: "workflow", org: seed.orgs[i]!.slug, name: `bulk-${i}` });
      app = await createApp({ bifrost: bf });
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    it("organizations: limit 37 visits 1,000 organizations once, by slug; q filters; org admins see only their own", async () => {
      const expected = seed.orgs.map((o) => o.slug).sort(bytes);
      const rows = await walk("/api/organizations", "organizations", { limit: "37" });
      expect(rows.map((r) => r.slug)).toEqual(expected);
      const contoso = await walk("/api/organizations", "organizations", { limit: "37", q: "CONTOSO" });
      expect(contoso.map((r) => r.slug)).toEqual(seed.orgs.filter((o) => o.name.includes("Contoso")).map((o) => o.slug).sort(bytes));
      // Positive control: the platform key reads another organization; the org admin never does, whatever the cursor.
      expect(rows.some((r) => r.slug === seed.orgs[5]!.slug)).toBe(true);
      expect((await walk("/api/organizations", "organizations", { limit: "37" }, keys.ownAdmin)).map((r) => r.slug)).toEqual([own.slug]);
      const crafted = await get(`/api/organizations?cursor=${encodeCursor("orgs", [""])}`, keys.ownAdmin);
      expect((crafted.json() as { organizations: Array<{ slug: string }> }).organizations.map((o) => o.slug)).toEqual([own.slug]);
    });

    it("integrations, the console overview and the workflow list walk every integration once, by name", async () => {
      const names = ["Halo", "Ninja", "Plain", ...extraIntegrations].sort(bytes);
      expect((await walk("/api/integrations", "integrations", { limit: "37" })).map((r) => r.name)).toEqual(names);
      expect((await walk("/api/console/integrations", "integrations", { limit: "37" })).map((r) => r.name)).toEqual(names);
      const wf = await walk("/api/workflow/integrations", "integrations", { limit: "37" }, keys.workflow);
      expect(wf.map((r) => r.name)).toEqual(names);
      expect(wf.find((r) => r.name === "Halo")).toMatchObject({ mapped: true, entity_id: "T-4" });
      expect((await walk("/api/integrations", "integrations", { limit: "5", q: "ticketing" })).map((r) => r.name)).toEqual(extraIntegrations.filter((_n, i) => i % 10 === 0).sort(bytes));
      expect((await walk("/api/integrations", "integrations", { limit: "5", q: "_PSA" })).length).toBe(40);
    });

    it("mappings walk every mapped organization once, by slug; org admins see their own only", async () => {
      const mapped = seed.connections.filter((c) => c.integration === "Halo" && c.mapped).map((c) => c.org as string).sort(bytes);
      const rows = await walk("/api/integrations/Halo/mappings", "mappings", { limit: "37" });
      expect(rows.map((r) => r.org)).toEqual(mapped);
      expect((await walk("/api/integrations/Halo/mappings", "mappings", { limit: "37", q: "fabrikam" })).every((r) => String(r.entity_name).startsWith("Fabrikam"))).toBe(true);
      const mine = await walk("/api/integrations/Halo/mappings", "mappings", { limit: "37" }, keys.ownAdmin);
      expect(mine.map((r) => r.org)).toEqual([own.slug]);
    });

    it("keys walk oldest first once; events (also with after) and links walk once with ties broken by id", async () => {
      const allKeys = await walk("/api/keys", "api_keys", { limit: "7" });
      expect(allKeys.length).toBe(63);
      expect(new Set(allKeys.map((k) => k.id)).size).toBe(63);
      const bulk1 = await walk("/api/keys", "api_keys", { limit: "7", q: "BULK-1" });
      expect(bulk1.map((k) => String(k.name)).sort(bytes)).toEqual(["bulk-1", ...Array.from({ length: 10 }, (_v, i) => `bulk-1${i}`)].sort(bytes));
      // Oldest first, ties by id.
      const order = allKeys.map((k) => [String(k.created_at), String(k.id)] as const);
      expect(order).toEqual([...order].sort((a, b) => bytes(a[0], b[0]) || bytes(a[1], b[1])));

      const byKey = (a: { at: string; id: string }, b: { at: string; id: string }) => bytes(a.at, b.at) || bytes(a.id, b.id);
      const expectedEvents = [...events].sort(byKey);
      const ev = await walk("/api/events", "events", { limit: "37", integration: "Halo" });
      expect(ev.map((e) => e.id)).toEqual(expectedEvents.map((e) => e.id));
      const after = expectedEvents[59]!.at;
      const evAfter = await walk("/api/events", "events", { limit: "11", integration: "Halo", after });
      expect(evAfter.map((e) => e.id)).toEqual(expectedEvents.filter((e) => e.at > after).map((e) => e.id));
      expect((await walk("/api/events", "events", { limit: "11", integration: "Halo", q: "REAUTH" })).length).toBe(events.filter((_e, i) => i % 4 === 0).length);
      const ownEvents = await walk("/api/events", "events", { limit: "5", integration: "Halo" }, keys.ownAdmin);
      expect(ownEvents.map((e) => e.id)).toEqual(expectedEvents.filter((e) => e.org === own.slug).map((e) => e.id));

      const expectedLinks = [...links].sort((a, b) => -byKey(a, b));
      const ls = await walk("/api/integrations/Halo/oauth/links", "links", { limit: "37" });
      expect(ls.map((l) => l.id)).toEqual(expectedLinks.map((l) => l.id));
      const ownLinks = await walk("/api/integrations/Halo/oauth/links", "links", { limit: "9" }, keys.ownAdmin);
      expect(ownLinks.length).toBe(55);
      expect(ownLinks.every((l) => l.org === own.slug)).toBe(true);
    });

    it("OAuth status pages walk every mapped connection once; catalog and workflows page too", async () => {
      const status = await walk("/api/oauth/status", "connections", { limit: "200" });
      const mappedHalo = seed.connections.filter((c) => c.integration === "Halo" && c.mapped).length;
      // Mapped Halo orgs plus the two integration-level rows (Ninja has no mappings).
      expect(status.length).toBe(mappedHalo + 2);
      expect(new Set(status.map((c) => `${String(c.integration)}/${String(c.org)}`)).size).toBe(status.length);
      const one = await walk("/api/integrations/Halo/oauth/status", "connections", { limit: "200" });
      expect(one.length).toBe(mappedHalo + 1);
      expect((await walk("/api/oauth/status", "connections", { limit: "37" }, keys.ownAdmin)).map((c) => c.org)).toEqual([own.slug]);

      const catalog = (await get("/api/catalog?limit=500", keys.platform)).json() as { providers: Array<{ id: string }>; next_cursor: string | null };
      expect(catalog.next_cursor).toBeNull();
      expect((await walk("/api/catalog", "providers", { limit: "3" })).map((p) => p.id)).toEqual(catalog.providers.map((p) => p.id));
      const wf = (await get("/api/workflows?limit=10", keys.platform)).json() as { workflows: string[]; next_cursor: string | null };
      expect(wf).toEqual({ workflows: [], next_cursor: null });
    });

    it("a bad limit or cursor answers 422 naming the parameter on every list route, and changes nothing", async () => {
      const routes = [
        "/api/organizations",
        "/api/integrations",
        "/api/keys",
        "/api/integrations/Halo/mappings",
        "/api/integrations/Halo/oauth/status",
        "/api/oauth/status",
        "/api/events",
        "/api/catalog",
        "/api/workflows",
        "/api/integrations/Halo/oauth/links",
        "/api/console/integrations",
        "/api/audit",
        "/api/connections",
        "/api/console/integrations/Halo/organizations",
      ];
      for (const route of routes) {
        for (const limit of ["0", "x", "-3", "100000"]) {
          const res = await get(`${route}?limit=${limit}`, keys.platform);
          expect(res.statusCode, `${route} limit=${limit}`).toBe(422);
          expect((res.json() as { details: { path: string } }).details.path.replace(/^query\./, "")).toBe("limit");
        }
        // A cursor of another list (or not a cursor at all).
        for (const cursor of ["not*a*cursor", encodeCursor("someone-else", ["x"])]) {
          const res = await get(`${route}?cursor=${encodeURIComponent(cursor)}`, keys.platform);
          expect(res.statusCode, `${route} cursor=${cursor}`).toBe(422);
          expect((res.json() as { details: { path: string } }).details.path.replace(/^query\./, "")).toBe("cursor");
        }
      }
      const wf = await get("/api/workflow/integrations?limit=0", keys.workflow);
      expect(wf.statusCode).toBe(422);
      expect((await walk("/api/organizations", "organizations", { limit: "500" })).length).toBe(ORGS);
    });
  });
}
