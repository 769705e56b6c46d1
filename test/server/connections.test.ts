/**
 * The paginated connections lists at 1,000 organizations, on every backend: a walk with limit 37
 * visits every row exactly once in the documented order (also filtered, in every sort), bad input is
 * a 422 naming the parameter, org admins see only their own organization (also with a cursor made
 * for another org's rows), and no answer ever carries a token.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/core/page.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { tokenSecretContext } from "../../src/oauth/tokens.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { type Seed, type SeedConnection, seedConnections, sortConnections } from "../helpers/connections-seed.js";

const ORGS = 1000;
const DAY = 86_400_000;

for (const backend of BACKENDS) {
  describe(`connections lists at scale (${backend.name})`, () => {
    let bf: Bifrost;
    let app: FastifyInstance;
    let seed: Seed;
    let cleanup: () => Promise<void>;
    const keys = { platform: "", ownAdmin: "", workflow: "" };
    /** Every body answered in this suite (scanned for tokens at the end). */
    const bodies: string[] = [];
    let own: { id: string; slug: string };

    async function get(url: string, key: string) {
      const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
      bodies.push(res.body);
      return res;
    }

    /** Follow next_cursor to the end; returns every row in answer order and the totals seen. */
    async function walk<K extends string>(path: string, listKey: K, params: Record<string, string>, key = keys.platform) {
      const rows: Array<Record<string, unknown>> = [];
      const totals = new Set<number>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const qs = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
        const res = await get(`${path}?${qs}`, key);
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json() as Record<string, unknown> & { next_cursor: string | null; total: number };
        const page = body[listKey] as Array<Record<string, unknown>>;
        expect(page.length).toBeLessThanOrEqual(Number(params.limit ?? 100));
        rows.push(...page);
        totals.add(body.total);
        cursor = body.next_cursor;
        pages++;
        expect(pages).toBeLessThan(2000);
      } while (cursor !== null);
      return { rows, totals: [...totals], pages };
    }

    const id = (r: { integration?: unknown; org?: unknown }) => `${String(r.integration)}/${String(r.org)}`;

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      seed = await seedConnections(bf, ORGS);
      own = seed.orgs[7]!;
      keys.platform = (await createApiKey(bf, { role: "platform_admin" })).key;
      keys.ownAdmin = (await createApiKey(bf, { role: "org_admin", org: own.slug })).key;
      keys.workflow = (await createApiKey(bf, { role: "workflow", org: own.slug })).key;
      app = await createApp({ bifrost: bf });
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    it("a walk with limit 37 visits every connection exactly once, in integration then org order", async () => {
      const expected = sortConnections(seed.connections);
      expect(expected.length).toBe(2 * ORGS + 2);
      const { rows, totals, pages } = await walk("/api/connections", "connections", { limit: "37" });
      expect(pages).toBe(Math.ceil(expected.length / 37));
      expect(totals).toEqual([expected.length]);
      expect(new Set(rows.map(id)).size).toBe(rows.length);
      expect(rows).toEqual(expected);
    });

    it("every sort order, ascending and descending, is the documented one and stable across pages", async () => {
      for (const sort of ["integration", "org", "state", "expires_at", "last_refresh_at"] as const) {
        for (const order of ["asc", "desc"] as const) {
          const { rows } = await walk("/api/connections", "connections", { limit: "401", sort, order });
          expect(rows.map(id), `${sort} ${order}`).toEqual(sortConnections(seed.connections, sort, order).map(id));
        }
      }
    });

    it("filters (state, unmapped, expiring_within_days, q, integration, org) walk to exactly the matching rows", async () => {
      const horizon = (days: number) => new Date(Date.now() + days * DAY).toISOString();
      const cases: Array<{ params: Record<string, string>; keep: (r: SeedConnection) => boolean }> = [
        { params: { state: "needs_reauth,error" }, keep: (r) => r.state === "needs_reauth" || r.state === "error" },
        // Mapped connected orgs also hold an org-level token in state error that their mapping's token outranks.
        { params: { state: "error" }, keep: (r) => r.state === "error" },
        { params: { state: "not_connected,connected", expiring_within_days: "7" }, keep: (r) => r.state === "connected" && r.expires_at !== null && r.expires_at <= horizon(7) },
        { params: { state: "refreshing,connected", expiring_within_days: "30", sort: "expires_at", order: "desc" }, keep: (r) => r.state === "connected" && r.expires_at !== null && r.expires_at <= horizon(30) },
        { params: { unmapped: "true" }, keep: (r) => r.org !== null && (!r.mapped || r.entity_id === null) },
        { params: { expiring_within_days: "7" }, keep: (r) => r.state === "connected" && r.expires_at !== null && r.expires_at <= horizon(7) },
        { params: { q: "CONTOSO" }, keep: (r) => (r.org_name ?? "").toLowerCase().includes("contoso") },
        { params: { q: "fabrikam" }, keep: (r) => (r.entity_name ?? "").toLowerCase().includes("fabrikam") },
        { params: { q: "b-2-" }, keep: (r) => (r.org ?? "").includes("b-2-") },
        { params: { integration: "Ninja", state: "connected", sort: "expires_at" }, keep: (r) => r.integration === "Ninja" && r.state === "connected" },
        { params: { integration: "Halo", unmapped: "true", q: "org 1" }, keep: (r) => r.integration === "Halo" && r.org !== null && (!r.mapped || r.entity_id === null) && (r.org_name ?? "").toLowerCase().includes("org 1") },
        { params: { org: seed.orgs[12]!.slug }, keep: (r) => r.org === seed.orgs[12]!.slug },
      ];
      for (const c of cases) {
        const expected = sortConnections(seed.connections.filter(c.keep), (c.params.sort ?? "integration") as "integration", (c.params.order ?? "asc") as "asc");
        expect(expected.length, JSON.stringify(c.params)).toBeGreaterThan(0);
        const { rows, totals } = await walk("/api/connections", "connections", { limit: "37", ...c.params });
        expect(rows, JSON.stringify(c.params)).toEqual(expected);
        expect(totals).toEqual([expected.length]);
      }
    });

    it("a walk stays exact while organizations are added behind and ahead of the cursor", async () => {
      const before = sortConnections(seed.connections, "org").map(id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let added = 0;
      do {
        const res = await get(`/api/connections?sort=org&limit=250${cursor ? `&cursor=${cursor}` : ""}`, keys.platform);
        const body = res.json() as { connections: SeedConnection[]; next_cursor: string | null };
        seen.push(...body.connections.map(id));
        cursor = body.next_cursor;
        if (added === 0) {
          // One slug sorts before every page already read, one after: the first never appears, the second once.
          const now = new Date().toISOString();
          await bf.store.insertOrg({ id: bf.clock.id(), slug: "0-early", name: "Early", createdAt: now, updatedAt: now });
          await bf.store.insertOrg({ id: bf.clock.id(), slug: "zzzz-late", name: "Late", createdAt: now, updatedAt: now });
          added = 2;
        }
      } while (cursor !== null);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((s) => !s.includes("0-early") && !s.includes("zzzz-late"))).toEqual(before);
      expect(seen.filter((s) => s.includes("zzzz-late")).sort()).toEqual(["Halo/zzzz-late", "Ninja/zzzz-late"]);
      expect(seen.some((s) => s.includes("0-early"))).toBe(false);
      for (const slug of ["0-early", "zzzz-late"]) await bf.store.deleteOrg((await bf.store.getOrgBySlug(slug))!.id);
    });

    it("the integration organizations list walks every organization once, with mapping, overrides and state", async () => {
      const expected = [...seed.orgs]
        .sort((a, b) => (a.slug < b.slug ? -1 : 1))
        .map((o) => {
          const c = seed.connections.find((r) => r.integration === "Halo" && r.org === o.slug)!;
          return {
            org: o.slug,
            org_name: o.name,
            mapped: c.mapped,
            entity_id: c.entity_id,
            entity_name: c.entity_name,
            override_count: seed.haloOverrides.get(o.slug),
            state: c.state,
            expires_at: c.expires_at,
            last_refresh_at: c.last_refresh_at,
            last_error: c.last_error,
          };
        });
      const all = await walk("/api/console/integrations/Halo/organizations", "organizations", { limit: "37" });
      expect(all.rows).toEqual(expected);
      expect(all.totals).toEqual([ORGS]);
      const unmapped = await walk("/api/console/integrations/Halo/organizations", "organizations", { limit: "37", unmapped: "true", state: "not_connected" });
      expect(unmapped.rows).toEqual(expected.filter((r) => (!r.mapped || r.entity_id === null) && r.state === "not_connected"));
      // Without an OAuth provider every state is null; overrides and mappings still show.
      const plain = await walk("/api/console/integrations/Plain/organizations", "organizations", { limit: "500", q: "contoso" });
      expect(plain.rows.length).toBe(seed.orgs.filter((o) => o.name.includes("Contoso")).length);
      expect(plain.rows.every((r) => r.state === null)).toBe(true);
      expect(plain.rows.filter((r) => r.mapped).length).toBe(seed.orgs.filter((o, i) => o.name.includes("Contoso") && i % 5 === 0).length);
    });

    it("an integration's summary and its state-filtered organizations lists count exactly the seeded organizations", async () => {
      const halo = seed.connections.filter((r) => r.integration === "Halo" && r.org !== null);
      const byState = (rows: readonly SeedConnection[]) => {
        const out = { not_connected: 0, connected: 0, refreshing: 0, needs_reauth: 0, error: 0 };
        for (const r of rows) out[r.state]++;
        return out;
      };
      const summary = await get("/api/console/integrations/Halo/summary", keys.platform);
      expect(summary.statusCode, summary.body).toBe(200);
      expect(summary.json()).toEqual({
        integration: "Halo",
        organizations: ORGS,
        mapped: halo.filter((r) => r.mapped).length,
        unmapped: halo.filter((r) => !r.mapped || r.entity_id === null).length,
        states: byState(halo),
      });
      // Each state filter of the organizations list walks to exactly the seeded rows (mapping token first).
      for (const state of ["connected", "refreshing", "needs_reauth", "error", "needs_reauth,error"]) {
        const keep = state.split(",");
        const expected = halo.filter((r) => keep.includes(r.state)).map((r) => r.org).sort((a, b) => (a! < b! ? -1 : 1));
        expect(expected.length, state).toBeGreaterThan(0);
        const { rows, totals } = await walk("/api/console/integrations/Halo/organizations", "organizations", { limit: "97", state });
        expect(rows.map((r) => r.org), state).toEqual(expected);
        expect(totals).toEqual([expected.length]);
      }
      const ninja = seed.connections.filter((r) => r.integration === "Ninja" && r.org !== null);
      expect((await get("/api/console/integrations/Ninja/summary", keys.platform)).json()).toEqual({ integration: "Ninja", organizations: ORGS, mapped: 0, unmapped: ORGS, states: byState(ninja) });
      // Without an OAuth provider: no state counts; its mappings (every fifth org, all with entity ids) still count.
      const plainMapped = seed.orgs.filter((_, i) => i % 5 === 0).length;
      expect((await get("/api/console/integrations/Plain/summary", keys.platform)).json()).toEqual({ integration: "Plain", organizations: ORGS, mapped: plainMapped, unmapped: ORGS - plainMapped, states: null });

      // The integrations overview counts mapped organizations by state.
      const overview = await walk("/api/console/integrations", "integrations", { limit: "500" });
      const haloOverview = overview.rows.find((r) => r.name === "Halo");
      const mapped = halo.filter((r) => r.mapped);
      expect(haloOverview).toMatchObject({
        mapped_orgs: mapped.length,
        connected_orgs: mapped.filter((r) => r.state === "connected" || r.state === "refreshing").length,
        needs_reauth_orgs: mapped.filter((r) => r.state === "needs_reauth").length,
        error_orgs: mapped.filter((r) => r.state === "error").length,
      });

      // An org admin counts its own organization only (connected through its mapping; the shadowed org-level error does not count).
      const mine = halo.find((r) => r.org === own.slug)!;
      expect(mine.state).toBe("connected");
      const scoped = await get("/api/console/integrations/Halo/summary", keys.ownAdmin);
      expect(scoped.json()).toEqual({ integration: "Halo", organizations: 1, mapped: 1, unmapped: mine.entity_id === null ? 1 : 0, states: byState([mine]) });
      const scopedOverview = await walk("/api/console/integrations", "integrations", { limit: "500" }, keys.ownAdmin);
      expect(scopedOverview.rows.find((r) => r.name === "Halo")).toMatchObject({ mapped_orgs: 1, connected_orgs: 1, needs_reauth_orgs: 0, error_orgs: 0 });
      expect((await get("/api/console/integrations/Nope/summary", keys.platform)).statusCode).toBe(404);
      expect((await get("/api/console/integrations/Halo/summary", keys.workflow)).statusCode).toBe(403);
    });

    it("bad limit, cursor, state, sort or days answer 422 naming the parameter", async () => {
      const cases: Array<[string, string]> = [
        ["limit=0", "limit"],
        ["limit=501", "limit"],
        ["limit=abc", "limit"],
        ["limit=-1", "limit"],
        ["cursor=%%%", "cursor"],
        ["cursor=bm90LWpzb24", "cursor"],
        [`cursor=${encodeCursor("connections:org:asc", ["a", "Halo"])}`, "cursor"],
        [`cursor=${encodeCursor("connections:integration:asc", ["Halo", 5])}`, "cursor"],
        ["state=connected,bogus", "state"],
        ["sort=secret", "sort"],
        ["order=up", "order"],
        ["expiring_within_days=-2", "expiring_within_days"],
        ["unmapped=maybe", "unmapped"],
      ];
      for (const [qs, param] of cases) {
        const res = await get(`/api/connections?${qs}`, keys.platform);
        expect(res.statusCode, qs).toBe(422);
        const body = res.json() as { code: string; message: string; details: { path: string } };
        expect(body.code).toBe("BIFROST_VALIDATION");
        expect(body.details.path.replace(/^query\./, ""), qs).toBe(param);
        expect(body.message).toContain(param);
      }
      const orgs = await get(`/api/console/integrations/Halo/organizations?cursor=${encodeCursor("connections:integration:asc", ["Halo", ""])}`, keys.platform);
      expect(orgs.statusCode).toBe(422);
      expect((orgs.json() as { details: { path: string } }).details.path).toBe("cursor");
    });

    it("org admins see only their organization's rows; another org's slug or a cursor made for its rows leaks nothing", async () => {
      const other = seed.orgs[8]!;
      // Positive control: the platform key sees the other organization's rows.
      const control = await get(`/api/connections?org=${other.slug}`, keys.platform);
      expect((control.json() as { connections: SeedConnection[] }).connections.map((r) => r.org)).toEqual([other.slug, other.slug]);

      const mine = await walk("/api/connections", "connections", { limit: "1" }, keys.ownAdmin);
      expect(mine.rows.map(id)).toEqual([`Halo/${own.slug}`, `Ninja/${own.slug}`]);
      expect(mine.totals).toEqual([2]);
      // Filters never widen the scope.
      const filtered = await walk("/api/connections", "connections", { limit: "500", state: "not_connected,connected,refreshing,needs_reauth,error", q: "o" }, keys.ownAdmin);
      expect(filtered.rows.every((r) => r.org === own.slug)).toBe(true);

      const named = await get(`/api/connections?org=${other.slug}`, keys.ownAdmin);
      expect(named.statusCode).toBe(404);
      expect(named.body).not.toContain(other.name);

      // A cursor positioned just before the other org's rows (every sort): only the admin's own rows can follow.
      const crafted = [
        ["org", encodeCursor("connections:org:asc", [other.slug.slice(0, -1), "Halo"])],
        ["integration", encodeCursor("connections:integration:asc", ["Halo", ""])],
        ["state", encodeCursor("connections:state:asc", ["a", "", ""])],
      ] as const;
      for (const [sort, cursor] of crafted) {
        const res = await get(`/api/connections?sort=${sort}&cursor=${cursor}`, keys.ownAdmin);
        expect(res.statusCode).toBe(200);
        const body = res.json() as { connections: SeedConnection[]; total: number };
        expect(body.connections.every((r) => r.org === own.slug)).toBe(true);
        expect(body.total).toBe(2);
        expect(res.body).not.toContain(other.slug);
      }
      const orgs = await walk("/api/console/integrations/Halo/organizations", "organizations", { limit: "10" }, keys.ownAdmin);
      expect(orgs.rows.map((r) => r.org)).toEqual([own.slug]);
      const orgsCrafted = await get(`/api/console/integrations/Halo/organizations?cursor=${encodeCursor("integration-orgs", [""])}`, keys.ownAdmin);
      expect((orgsCrafted.json() as { organizations: Array<{ org: string }> }).organizations.map((r) => r.org)).toEqual([own.slug]);

      const wf = await get("/api/connections", keys.workflow);
      expect(wf.statusCode).toBe(403);
    });

    it("no answer carries a token (the tokens are in the store)", async () => {
      // Positive control: the integration-level token is stored and decrypts to the seeded value.
      const ninja = (await bf.store.getIntegrationByName("Ninja"))!;
      const [row] = await bf.store.findOAuthTokens(ninja.id, ["i"]);
      expect(bf.box.decrypt(row!.accessToken!, tokenSecretContext(row!, "access_token"))).toBe("AT-ninja-integration-level-PLAINTEXT");
      expect(seed.plaintexts).toContain("AT-ninja-integration-level-PLAINTEXT");

      await walk("/api/connections", "connections", { limit: "500" });
      const all = bodies.join("\n");
      expect(all).toContain('"state":"connected"');
      expect(all).not.toMatch(/PLAINTEXT/);
      for (const c of seed.ciphertexts) expect(all).not.toContain(c);
      expect(all).not.toContain("client-secret");
    });
  });
}
