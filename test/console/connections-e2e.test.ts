/**
 * End-to-end at scale: the built console in Debian's Chromium (playwright-core) against a real server
 * on 127.0.0.1 with SQLite holding 1,000 organizations (seeded through the store in one transaction:
 * connected tokens, needs re-auth, errors, expiring, unmapped) and a local node:http token endpoint
 * that records every refresh grant it answers. Search, filters, sorting and paging of the Connections
 * page, bulk refresh (seen at the token endpoint and in the store), bulk connect links (the link page
 * answers for each), the Mappings tab's actions by state, the per-connection page, and no page
 * rendering more than 100 table rows. Without /usr/bin/chromium or a built console: fails in CI,
 * skips locally (like e2e.test.ts).
 */
import { existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createLogger } from "../../src/logger.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { emptyToken, tokenSecretContext } from "../../src/oauth/tokens.js";
import { findConsoleDir } from "../../src/server/console/routes.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { createIntegration } from "../../src/services/integrations.js";
import type { OAuthTokenState, StoredOAuthToken } from "../../src/storage/store.js";
import { bootTest } from "../helpers/backends.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT = join(process.cwd(), "test-output", "console");
const haveChromium = existsSync(CHROMIUM);
const haveConsole = findConsoleDir() !== null;
const ORGS = 1000;
const DAY = 86_400_000;

if ((!haveChromium || !haveConsole) && process.env.CI) {
  describe("console connections e2e", () => {
    it("REQUIRED in CI: Chromium and the built console", () => {
      throw new Error(`Console connections e2e cannot run: ${!haveChromium ? `${CHROMIUM} is missing` : "the console is not built (npm run build)"}.`);
    });
  });
}

const slugOf = (i: number) => `org-${String(i).padStart(4, "0")}`;
/** The one organization a search finds. */
const UNIQUE = 515;

/** Which state organization i's Halo connection is in (null = no token row: not connected). */
function stateOf(i: number): { state: OAuthTokenState; expiresInMs: number | null; error: string | null } | null {
  if (i % 150 === 7) return { state: "needs_reauth", expiresInMs: -2 * DAY, error: "invalid_grant: the provider rejected the refresh token" };
  if (i % 50 === 3) return { state: "error", expiresInMs: 30 * DAY, error: "transient: HTTP 503" };
  if (i % 20 === 2) return { state: "connected", expiresInMs: DAY / 2, error: null }; // expiring within a day
  if (i % 3 === 1) return { state: "connected", expiresInMs: 30 * DAY, error: null };
  return null;
}

describe.skipIf(!haveChromium || !haveConsole)("console Connections at 1,000 organizations (Chromium, SQLite)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let platformKey = "";
  let tokenEndpoint: http.Server;
  /** The refresh tokens the token endpoint received, in order. */
  const refreshGrants: string[] = [];
  /** The access tokens it issued. */
  const issued: string[] = [];
  const seededRefresh = new Map<string, string>();

  const table = () => page.locator('[data-testid="connections-table"]');
  const rows = () => page.locator('[data-testid="connections-table"] tbody tr');
  const ready = (testId: string) => page.locator(`[data-testid="${testId}"][data-ready="true"]`).waitFor();
  /** Every table on the page has at most 100 body rows. */
  const assertAtMost100 = async () => {
    const counts = (await page.evaluate("[...document.querySelectorAll('table')].map((t) => t.querySelectorAll('tbody tr').length)")) as number[];
    for (const n of counts) expect(n).toBeLessThanOrEqual(100);
  };
  const keysShown = async () => (await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-key")))) as string[];
  /** Open the Connections page on these filters and wait until its rows are those of the filters. */
  const openConnections = async (query: string, state?: string) => {
    await page.goto(`${server.url}/#/connections${query ? `?${query}` : ""}`);
    await expect.poll(() => page.evaluate("location.hash")).toBe(`#/connections${query ? `?${query}` : ""}`);
    await ready("connections-table");
    if (state) await expect.poll(() => rows().evaluateAll((trs, s) => trs.length > 0 && trs.every((tr) => tr.getAttribute("data-state") === s), state)).toBe(true);
  };
  const haloId = async () => (await bf.store.getIntegrationByName("Halo"))!.id;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // The provider's token endpoint: records the refresh token of every refresh grant, answers a new token pair.
    tokenEndpoint = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        if (form.get("grant_type") === "refresh_token") refreshGrants.push(form.get("refresh_token") ?? "");
        const access = `AT-refreshed-${issued.length}-${Math.random().toString(36).slice(2)}`;
        issued.push(access);
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify({ access_token: access, token_type: "Bearer", expires_in: 3600, refresh_token: `RT-rotated-${issued.length}` }));
      });
    });
    await new Promise<void>((r) => tokenEndpoint.listen(0, "127.0.0.1", () => r()));
    const tokenBase = `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}`;

    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
    await createIntegration(bf, { name: "Halo", configSchema: [{ key: "region", type: "string" }] });
    await setOAuthProvider(bf, "Halo", { flow: "authorization_code", client_id: "halo-client", client_secret: "halo-client-secret", authorization_url: `${tokenBase}/authorize`, token_url: `${tokenBase}/token` });
    const halo = await haloId();
    const at = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await bf.store.transaction(async (tx) => {
      const now = iso(at);
      for (let i = 0; i < ORGS; i++) {
        const org = { id: bf.clock.id(), slug: i === UNIQUE ? "acme-industries" : slugOf(i), name: i === UNIQUE ? "Acme Industries" : `Org ${i}` };
        await tx.insertOrg({ ...org, createdAt: now, updatedAt: now });
        // Four in five mapped (those with an entity id); the rest unmapped.
        const mappingId = i % 5 !== 4 ? bf.clock.id() : null;
        if (mappingId) await tx.insertMapping({ id: mappingId, integrationId: halo, orgId: org.id, entityId: `T-${i}`, entityName: `Tenant ${i}`, createdAt: now, updatedAt: now });
        const s = stateOf(i);
        if (!s) continue;
        const row: StoredOAuthToken = {
          ...emptyToken(bf.clock, halo, { orgId: org.id, mappingId }),
          state: s.state,
          expiresAt: s.expiresInMs === null ? null : iso(at + s.expiresInMs),
          obtainedAt: iso(at - DAY),
          lastRefreshAt: iso(at - DAY - i * 1000),
          lastError: s.error,
        };
        row.accessToken = bf.box.encrypt(`AT-seed-${i}`, tokenSecretContext(row, "access_token"));
        row.refreshToken = bf.box.encrypt(`RT-seed-${i}`, tokenSecretContext(row, "refresh_token"));
        seededRefresh.set(org.slug, `RT-seed-${i}`);
        await tx.insertOAuthTokenIfAbsent(row);
      }
    });
    platformKey = (await createApiKey(bf, { role: "platform_admin", name: "e2e" })).key;
    server = await startServer({ bifrost: bf, port: 0, host: "127.0.0.1", background: false, logger: createLogger({ level: "silent" }), oauth: { ...TEST_OAUTH, publicUrl: "http://127.0.0.1:9" } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(server.url);
    await page.getByLabel("API key").fill(platformKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations" }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    tokenEndpoint?.closeAllConnections();
    await new Promise<void>((r) => (tokenEndpoint ? tokenEndpoint.close(() => r()) : r()));
    await cleanup?.();
  });

  it("lists 1,001 connections 100 at a time with the total, Next / Previous, and sorts by a column header", async () => {
    await page.getByRole("link", { name: "Connections" }).click();
    await ready("connections-table");
    expect(await rows().count()).toBe(100);
    expect(await page.getByTestId("pager-range").textContent()).toBe("1–100 of 1,001");
    // The integration-level row sorts first (default: integration, then org slug).
    expect((await keysShown()).slice(0, 3)).toEqual(["Halo/-", "Halo/acme-industries", "Halo/org-0000"]);
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("101–200 of 1,001");
    await ready("connections-table");
    expect(await rows().count()).toBe(100);
    await assertAtMost100();
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100 of 1,001");
    // Sort by organization (ascending first), then flip it.
    await table().getByRole("button", { name: "Organization" }).click();
    await expect.poll(() => table().locator("th[aria-sort=ascending]").textContent()).toContain("Organization");
    await table().getByRole("button", { name: "Organization" }).click();
    await expect.poll(async () => (await keysShown())[0]).toBe("Halo/org-0999");
    expect(await table().locator("th[aria-sort=descending]").textContent()).toContain("Organization");
    expect(page.url()).toContain("sort=org&order=desc");
    await assertAtMost100();
    await page.screenshot({ path: join(OUT, "connections-1280.png"), fullPage: true });
    // Narrow screens: rows become cards, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      expect((await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(OUT, "connections-390.png") });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("search finds the one organization; filters show exactly the needs-re-auth, expiring and unmapped rows", async () => {
    await openConnections("");
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100 of 1,001");
    await page.getByTestId("connections-search").fill("acme indus");
    await expect.poll(() => keysShown()).toEqual(["Halo/acme-industries"]);
    await ready("connections-table");
    expect(await page.getByTestId("pager-range").textContent()).toBe("1–1 of 1");
    await page.getByTestId("connections-search").fill("");
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100 of 1,001");

    const needs = Array.from({ length: ORGS }, (_, i) => i).filter((i) => stateOf(i)?.state === "needs_reauth");
    expect(needs.length).toBe(7);
    await page.getByRole("checkbox", { name: "Needs re-auth" }).check();
    await expect.poll(() => keysShown()).toEqual(needs.map((i) => `Halo/${slugOf(i)}`));
    expect(await rows().evaluateAll((trs) => trs.every((tr) => tr.getAttribute("data-state") === "needs_reauth"))).toBe(true);
    expect(await rows().first().textContent()).toContain("invalid_grant");
    await page.getByRole("checkbox", { name: "Needs re-auth" }).uncheck();

    // Connected and expiring within 1 day: the i % 20 === 2 rows (50), not the 30-day ones.
    const expiring = Array.from({ length: ORGS }, (_, i) => i).filter((i) => stateOf(i)?.state === "connected" && (stateOf(i)?.expiresInMs ?? Infinity) < DAY);
    await page.getByLabel("Expiring within (days)").fill("1");
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe(`1–${expiring.length} of ${expiring.length}`);
    expect(await keysShown()).toEqual(expiring.map((i) => `Halo/${slugOf(i)}`));
    await page.getByLabel("Expiring within (days)").fill("");

    await page.getByRole("checkbox", { name: "Unmapped only" }).check();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100 of 200");
    expect((await rows().allTextContents()).every((t) => t.includes("not mapped"))).toBe(true);
    await page.getByRole("checkbox", { name: "Unmapped only" }).uncheck();
    await assertAtMost100();
  });

  it("bulk refresh of selected connected rows: one refresh grant each at the token endpoint, new tokens in the store, a result per row", async () => {
    await openConnections("state=connected&sort=org", "connected");
    const picked = (await keysShown()).slice(0, 3);
    expect(picked).toEqual(["Halo/org-0001", "Halo/org-0002", "Halo/org-0004"]);
    for (const k of picked) await page.getByRole("checkbox", { name: `Select ${k}` }).check();
    expect(await page.getByTestId("selected-count").textContent()).toBe("3 selected");
    const before = refreshGrants.length;
    await page.getByRole("button", { name: "Refresh (3)" }).click();
    await expect.poll(() => page.getByTestId("bulk-result").textContent()).toContain("3 refreshed");
    const got = refreshGrants.slice(before);
    expect(got.sort()).toEqual(picked.map((k) => seededRefresh.get(k.split("/")[1]!)).sort());
    for (const k of picked) {
      expect(await page.getByTestId("bulk-result").locator(`li[data-key="${k}"]`).textContent()).toBe(`${k}: refreshed`);
      const org = (await bf.store.getOrgBySlug(k.split("/")[1]!))!;
      const [tok] = await bf.store.listOAuthTokens({ integrationId: await haloId(), orgId: org.id });
      expect(tok!.state).toBe("connected");
      expect(issued).toContain(bf.box.decrypt(tok!.accessToken!, tokenSecretContext(tok!, "access_token")));
    }
    // A row not selected was not refreshed.
    const other = (await bf.store.getOrgBySlug("org-0007"))!;
    const [untouched] = await bf.store.listOAuthTokens({ integrationId: await haloId(), orgId: other.id });
    expect(bf.box.decrypt(untouched!.accessToken!, tokenSecretContext(untouched!, "access_token"))).toBe("AT-seed-7");
  });

  it("copy connect links for selected unconnected rows: one `org → URL` line each, and each link's page answers", async () => {
    await openConnections("state=not_connected&sort=org", "not_connected");
    const picked = (await keysShown()).filter((k) => k.startsWith("Halo/org-")).slice(0, 2);
    for (const k of picked) await page.getByRole("checkbox", { name: `Select ${k}` }).check();
    // Nothing to refresh or disconnect among unconnected rows.
    expect(await page.getByRole("button", { name: "Refresh (0)" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Disconnect (0)" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Copy connect links (2)" }).click();
    const block = page.getByTestId("bulk-links");
    await block.waitFor();
    const lines = (await block.inputValue()).split("\n");
    expect(lines.map((l) => l.split(" → ")[0])).toEqual(picked.map((k) => k.split("/")[1]));
    for (const line of lines) {
      const [slug, url] = line.split(" → ") as [string, string];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:9\/connect\/[A-Za-z0-9_-]{43}$/);
      // The link is under BIFROST_PUBLIC_URL; ask this server for the same path.
      const res = await fetch(`${server.url}${new URL(url).pathname}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("Connect Halo");
      expect(html).toContain(`Org ${Number(slug.slice(4))}`);
    }
  });

  it("bulk disconnect asks with the count, then removes exactly the selected tokens", async () => {
    await openConnections("state=error&sort=org", "error");
    const picked = (await keysShown()).slice(0, 2);
    for (const k of picked) await page.getByRole("checkbox", { name: `Select ${k}` }).check();
    await page.getByRole("button", { name: "Disconnect (2)" }).click();
    await page.getByRole("heading", { name: "Disconnect 2 connections?" }).waitFor();
    await page.getByRole("button", { name: "Disconnect 2", exact: true }).click();
    await expect.poll(() => page.getByTestId("bulk-result").textContent()).toContain("2 disconnected");
    for (const k of picked) {
      const org = (await bf.store.getOrgBySlug(k.split("/")[1]!))!;
      expect(await bf.store.listOAuthTokens({ integrationId: await haloId(), orgId: org.id })).toHaveLength(0);
    }
    await expect.poll(async () => (await keysShown()).some((k) => picked.includes(k))).toBe(false);
  });

  it("the per-connection page shows token metadata (never the token), the actions that fit, and the refresh history", async () => {
    await page.goto(`${server.url}/#/connections/Halo/org-0007`);
    const detail = page.getByTestId("connection-detail");
    await detail.waitFor();
    const text = await detail.textContent();
    expect(text).toContain("needs re-auth");
    expect(text).toContain("invalid_grant");
    expect(text).toContain("stored"); // has a refresh token
    expect(await detail.getByRole("button", { name: "Reconnect org-0007" }).count()).toBe(1);
    expect(await detail.getByRole("button", { name: "Copy connect link for org-0007" }).count()).toBe(1);
    expect(await detail.getByRole("button", { name: "Refresh org-0007" }).count()).toBe(0);
    expect(await page.content()).not.toContain("RT-seed-7");
    // A connection refreshed in the bulk test: its refresh is in the history.
    await page.goto(`${server.url}/#/connections/Halo/org-0001`);
    await page.getByRole("table", { name: "Refresh history" }).locator("tbody tr", { hasText: "oauth.refresh" }).first().waitFor();
    expect(await page.getByTestId("connection-detail").getByRole("button", { name: "Refresh org-0001" }).count()).toBe(1);
    await page.screenshot({ path: join(OUT, "connection-detail-1280.png"), fullPage: true });
    // Disconnected in the bulk test: the event is listed, nothing failed to load.
    await page.goto(`${server.url}/#/connections/Halo/org-0003`);
    await page.getByRole("table", { name: "Recent events" }).locator("tbody tr", { hasText: "disconnected" }).waitFor();
    expect(await page.getByTestId("connection-detail").textContent()).toContain("not connected");
    expect(await page.locator(".form-error").count()).toBe(0);
    // The integration-level connection: never connected, Connect only (no link: it is for one organization).
    await page.goto(`${server.url}/#/connections/Halo/-`);
    await page.getByRole("heading", { name: "Halo (integration level)" }).waitFor();
    const level = page.getByTestId("connection-detail");
    await level.waitFor();
    expect(await level.getByRole("button").allTextContents()).toEqual(["Connect"]);
  });

  it("the Mappings tab pages 1,000 organizations, searches on the server, and offers only the actions that fit", async () => {
    await page.goto(`${server.url}/#/integrations/Halo/mappings`);
    await ready("mappings-table");
    expect(await page.locator('[data-testid="mappings-table"] tbody tr').count()).toBe(100);
    expect(await page.getByTestId("pager-range").textContent()).toBe("1–100 of 1,000");
    await assertAtMost100();
    await page.getByTestId("mappings-search").fill("org-0005");
    await expect.poll(() => page.locator('[data-testid="mappings-table"] tbody tr').count()).toBe(1);
    const unconnected = page.locator('tr[data-org="org-0005"]');
    expect(await unconnected.getByRole("button", { name: "Connect org-0005" }).count()).toBe(1);
    expect(await unconnected.getByRole("button", { name: "Copy connect link for org-0005" }).count()).toBe(1);
    expect(await unconnected.getByRole("button", { name: "Refresh org-0005" }).count()).toBe(0);
    expect(await unconnected.getByRole("button", { name: "Disconnect org-0005" }).count()).toBe(0);
    await page.getByTestId("mappings-search").fill("org-0004");
    const connected = page.locator('tr[data-org="org-0004"]');
    await connected.waitFor();
    expect(await connected.getByRole("button", { name: "Refresh org-0004" }).count()).toBe(1);
    expect(await connected.getByRole("button", { name: "Disconnect org-0004" }).count()).toBe(1);
    expect(await connected.getByRole("button", { name: "Copy connect link for org-0004" }).count()).toBe(0);
    await page.getByTestId("mappings-search").fill("");
    await page.getByLabel("Unmapped only").check();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100 of 200");
    await page.goto(`${server.url}/#/integrations/Halo`);
    await ready("integration-overview");
    const overview = await page.getByTestId("integration-overview").textContent();
    expect(overview).toContain("800 of 1000");
    expect(overview).toContain("Need re-auth7");
  });

  it("an org admin's Connections page lists its own organization only", async () => {
    const key = (await createApiKey(bf, { role: "org_admin", org: "org-0010", name: "e2e-org-admin" })).key;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const p = await context.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(server.url);
      await p.getByLabel("API key").fill(key);
      await p.getByRole("button", { name: "Sign in" }).click();
      await p.getByRole("heading", { name: "Integrations" }).waitFor();
      await p.goto(`${server.url}/#/connections`);
      await p.locator('[data-testid="connections-table"][data-ready="true"]').waitFor();
      expect(await p.locator('[data-testid="connections-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-key")))).toEqual(["Halo/org-0010"]);
      expect(await p.getByTestId("pager-range").textContent()).toBe("1–1 of 1");
    } finally {
      await context.close();
    }
  });

  it("the Organizations page searches on the server and pages 100 at a time", async () => {
    await page.goto(`${server.url}/#/orgs`);
    await ready("orgs-table");
    expect(await page.locator('[data-testid="orgs-table"] tbody tr').count()).toBe(100);
    await assertAtMost100();
    await page.getByTestId("orgs-search").fill("Acme Ind");
    await expect.poll(() => page.locator('[data-testid="orgs-table"] tbody tr').allTextContents()).toEqual([expect.stringContaining("Acme Industries")]);
    await page.getByTestId("orgs-search").fill("");
    await ready("orgs-table");
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toMatch(/^101–200/);
    await assertAtMost100();
  });

  it("the Integrations and API keys pages show 100 rows per page, page to the rest and search on the server", async () => {
    // 120 more integrations and 120 more API keys, through the store in one transaction.
    const at = Date.parse("2026-01-01T00:00:00Z");
    await bf.store.transaction(async (tx) => {
      for (let i = 0; i < 120; i++) {
        const when = new Date(at + i * 1000).toISOString();
        const name = i === 60 ? "Zephyr-Billing" : `int-${String(i).padStart(3, "0")}`;
        await tx.insertIntegration({ id: bf.clock.id(), name, description: i === 60 ? "Invoices and payments" : `Seeded integration ${i}`, configSchema: [], trustedOrigins: [], privateNetwork: false, createdAt: when, updatedAt: when });
        const keyName = i === 70 ? "deploy-robot" : `seed-key-${String(i).padStart(3, "0")}`;
        await tx.insertApiKey({ id: bf.clock.id(), name: keyName, prefix: `seed${String(i).padStart(8, "0")}`, secretHash: `unused-${i}`, role: "platform_admin", orgId: null, createdAt: when, lastUsedAt: null, revokedAt: null });
      }
    });
    const intRows = () => page.locator('[data-testid="integrations-table"] tbody tr');
    await page.goto(`${server.url}/#/integrations`);
    await ready("integrations-table");
    expect(await intRows().count()).toBe(100);
    expect(await page.getByTestId("pager-range").textContent()).toBe("1–100");
    await assertAtMost100();
    // Names sort by bytes: "Halo", "Zephyr-Billing", then the lowercase int-NNN.
    expect(await intRows().first().getAttribute("data-integration")).toBe("Halo");
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("101–121");
    await ready("integrations-table");
    expect(await intRows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-integration")))).toEqual(Array.from({ length: 21 }, (_, k) => `int-${String(k + 98 + (k + 98 >= 60 ? 1 : 0)).padStart(3, "0")}`));
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe("1–100");
    // The counts per row still come from the server: Halo has 800 mappings.
    expect(await page.locator('tr[data-integration="Halo"] td[data-label="Connected orgs"]').textContent()).toMatch(/ \/ 800$/);
    // Search matches the description on the server; delete from the searched list.
    await page.getByTestId("integrations-search").fill("invoices and");
    await expect.poll(() => intRows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-integration")))).toEqual(["Zephyr-Billing"]);
    expect(await page.getByTestId("pager-range").textContent()).toBe("1–1");
    await page.getByRole("button", { name: "Delete Zephyr-Billing" }).click();
    await page.getByRole("button", { name: "Delete integration" }).click();
    await page.getByText("No integration matches.").waitFor();
    expect(await bf.store.getIntegrationByName("Zephyr-Billing")).toBeNull();
    await page.screenshot({ path: join(OUT, "integrations-paged-1280.png"), fullPage: true });

    const keyRows = () => page.locator('[data-testid="keys-table"] tbody tr');
    await page.goto(`${server.url}/#/keys`);
    await ready("keys-table");
    expect(await keyRows().count()).toBe(100);
    await assertAtMost100();
    const total = (await bf.store.listApiKeys()).length;
    expect(total).toBeGreaterThan(120);
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => page.getByTestId("pager-range").textContent()).toBe(`101–${total}`);
    await ready("keys-table");
    expect(await keyRows().count()).toBe(total - 100);
    // Search by name finds the one key; revoke it from the searched list.
    await page.getByTestId("keys-search").fill("deploy-rob");
    await expect.poll(() => keyRows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-prefix")))).toEqual(["seed00000070"]);
    await keyRows().first().getByRole("button", { name: "Revoke seed00000070" }).click();
    await page.getByRole("button", { name: "Revoke key" }).click();
    await expect.poll(() => keyRows().first().locator('td[data-label="Status"]').textContent()).toBe("revoked");
    expect((await bf.store.listApiKeys()).find((k) => k.prefix === "seed00000070")!.revokedAt).not.toBeNull();
    // Creating a key still shows it once and lists it (search for its name).
    await page.getByLabel("Role").selectOption("platform_admin");
    await page.getByLabel("Name", { exact: true }).fill("paged-new-key");
    await page.getByRole("button", { name: "Create key" }).click();
    expect(await page.getByRole("textbox", { name: "New API key" }).inputValue()).toMatch(/^bfk_/);
    await page.getByTestId("keys-search").fill("paged-new");
    await expect.poll(() => keyRows().allTextContents()).toEqual([expect.stringContaining("paged-new-key")]);
  });

  it("the bulk dialog's entity suggestions show 100 rows per page and add every accepted row", async () => {
    await page.goto(`${server.url}/#/integrations/Halo/mappings`);
    await ready("mappings-table");
    await page.getByRole("button", { name: "Bulk map…" }).click();
    await page.getByText("Suggest organizations for entities…").click();
    const entities = Array.from({ length: 150 }, (_, i) => `E-${i},Org ${i}`);
    await page.getByLabel(/Entities, one per line/).fill(entities.join("\n"));
    await page.getByRole("button", { name: "Suggest", exact: true }).click();
    const rows = page.locator("table.suggestions tbody tr");
    await expect.poll(() => rows.count()).toBe(100);
    expect(await page.getByTestId("suggestions-range").textContent()).toBe("1–100 of 150");
    await assertAtMost100();
    await page.getByRole("dialog").getByRole("button", { name: "Next" }).click();
    await expect.poll(() => page.getByTestId("suggestions-range").textContent()).toBe("101–150 of 150");
    expect(await rows.count()).toBe(50);
    expect(await page.getByLabel("Organization for Org 149").inputValue()).toBe("org-0149");
    // A choice on the second page counts: drop one suggestion there.
    await page.getByLabel("Accept suggestion for Org 120").uncheck();
    await page.getByRole("button", { name: "Add 149 accepted rows" }).click();
    const lines = (await page.getByLabel(/One row per line/).inputValue()).trim().split("\n");
    expect(lines).toHaveLength(149);
    expect(lines[0]).toBe("org-0000,E-0,Org 0");
    expect(lines).not.toContain("org-0120,E-120,Org 120");
    await page.getByRole("button", { name: "Cancel" }).click();
  });
});
