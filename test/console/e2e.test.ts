/**
 * End-to-end: the built console in Debian's Chromium (playwright-core) against a real server on
 * 127.0.0.1 with SQLite and the in-process oidc-provider. Sign in, create an integration with a
 * schema, defaults with a secret (never shown, stored as ciphertext), server errors next to the field,
 * map two orgs (inline + bulk) with overrides, connect OAuth in the popup, refresh, disconnect, CSRF.
 * Screenshots go to test-output/console/. Without /usr/bin/chromium: fails in CI, skips locally.
 */
import { existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findConsoleDir } from "../../src/server/console/routes.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createOrg } from "../../src/services/organizations.js";
import { bootTest } from "../helpers/backends.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, startAuthServer } from "../oauth/helpers/auth-server.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT = join(process.cwd(), "test-output", "console");
const SECRET = "sk-live-PLAINTEXT-e2e-93f1c0d7";
const haveChromium = existsSync(CHROMIUM);
const haveConsole = findConsoleDir() !== null;

if (!haveChromium || !haveConsole) {
  const why = !haveChromium ? `${CHROMIUM} is missing (apt-get install -y chromium)` : "the console is not built (npm run build)";
  if (process.env.CI) {
    describe("console e2e", () => {
      it(`REQUIRED in CI: ${why}`, () => {
        throw new Error(`Console e2e cannot run: ${why}.`);
      });
    });
  } else {
    console.warn(`Console e2e SKIPPED: ${why}.`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!haveChromium || !haveConsole)("console e2e (Chromium, SQLite, oidc-provider)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let server: { url: string; close(): Promise<void> };
  let as: AuthServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let platformKey: string;
  const bodies: string[] = [];
  let upstream: http.Server;
  let upstreamUrl = "";
  const upstreamSeen: string[] = [];

  const shot = async (name: string, p: Page = page) => {
    await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  };
  const row = (org: string) => page.locator(`tr[data-org="${org}"]`);
  const integrationId = async () => (await bf.store.getIntegrationByName("HaloPSA"))!.id;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // The API "Test connection" calls: plain http on 127.0.0.1 (TEST_OAUTH allows loopback http).
    upstream = http.createServer((req, res) => {
      upstreamSeen.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ pong: true, path: req.url }));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
    await createOrg(bf, { slug: "acme", name: "Acme Corp" });
    await createOrg(bf, { slug: "globex", name: "Globex" });
    platformKey = (await createApiKey(bf, { role: "platform_admin", name: "e2e" })).key;
    as = await startAuthServer({ integrations: ["HaloPSA"] });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The test client knows the fixed PUBLIC_URL redirect; register this server's callback too.
    const client = (await as.provider.Client.find(CLIENT_ID)) as unknown as { redirectUris: string[] };
    client.redirectUris.push(`${url}/api/oauth/callback/HaloPSA`);
    server = await startServer({ bifrost: bf, port, host: "127.0.0.1", background: false, logger: createLogger({ level: "silent" }), oauth: { ...TEST_OAUTH, publicUrl: url } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on("response", (res) => {
      if (res.url().startsWith(url)) void res.text().then((b) => bodies.push(b), () => undefined);
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await as?.close();
    await cleanup?.();
  });

  it("signs in with an API key (the key is not kept in the page) and lands on the integrations list", async () => {
    await page.goto(server.url);
    await page.getByLabel("API key").fill("bf_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator(".form-error, .field-error").first().textContent()).toMatch(/not valid/);
    await page.getByLabel("API key").fill(platformKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations" }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "bifrost_session")!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Lax");
    expect(session.value).not.toContain(platformKey);
    expect(await page.content()).not.toContain(platformKey);
  });

  it("creates an integration and its schema, validating as you type", async () => {
    await page.getByRole("button", { name: "New integration" }).click();
    await page.getByLabel("Name").fill("HaloPSA");
    await page.getByLabel("Description").fill("PSA tickets");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "HaloPSA", level: 1 }).waitFor();
    const keys: Array<[string, string, boolean]> = [
      ["base_url", "string", true],
      ["timeout", "int", false],
      ["api_secret", "secret", false],
      ["flags", "json", false],
    ];
    for (const [i, [key, type, required]] of keys.entries()) {
      await page.getByRole("button", { name: "Add key" }).click();
      await page.locator(`#sk-${i}`).fill(i === 0 ? "1bad" : key);
      if (i === 0) {
        await expect.poll(() => page.locator(".schema-row").first().locator(".field-error").textContent()).toMatch(/Letters, digits/);
        expect(await page.getByRole("button", { name: "Save schema" }).isDisabled()).toBe(true);
        await page.locator("#sk-0").fill(key);
      }
      await page.locator(`#st-${i}`).selectOption(type);
      if (required) await page.locator(`#sr-${i}`).check();
    }
    await page.getByRole("button", { name: "Save schema" }).click();
    await page.getByText("Schema saved").waitFor();
    const integ = await bf.store.getIntegrationByName("HaloPSA");
    expect(integ!.configSchema.map((k) => [k.key, k.type])).toEqual(keys.map(([k, t]) => [k, t]));
  });

  it("sets defaults including a secret: write-only in the page, ciphertext in the store", async () => {
    await page.locator("#default-base_url").fill("https://halo.example.com/api");
    await page.locator("#default-timeout").fill("30");
    await page.locator("#default-api_secret").fill(SECRET);
    await page.locator("#default-flags").fill('{"beta": tru');
    await expect.poll(() => page.locator("#default-flags ~ .field-error").textContent()).toMatch(/Not valid JSON/);
    expect(await page.getByRole("button", { name: "Save defaults" }).isDisabled()).toBe(true);
    await page.locator("#default-flags").fill('{"beta": true}');
    await page.getByRole("button", { name: "Save defaults" }).click();
    await page.locator(".config-form .secret-state").first().waitFor();
    const state = await page.locator(".config-form .secret-state").first().textContent();
    expect(state).toMatch(/^set · \S+$/);
    expect(await page.content()).not.toContain(SECRET);
    expect(await page.locator("#default-api_secret").count()).toBe(0);
    const rows = await bf.store.listConfigValues(await integrationId(), null);
    const secretRow = rows.find((r) => r.key === "api_secret")!;
    expect(secretRow.value.startsWith("v1.")).toBe(true);
    expect(secretRow.value).not.toContain(SECRET);
    expect(rows.map((r) => r.key).sort()).toEqual(["api_secret", "base_url", "flags", "timeout"]);
  });

  it("wrong input shows the server's message next to the field and saves nothing", async () => {
    await page.locator("#default-base_url").fill("https://changed.example.com");
    await page.locator("#default-timeout").fill("1.5");
    await page.getByRole("button", { name: "Save defaults" }).click();
    const err = page.locator("#default-timeout-error");
    await err.waitFor();
    expect(await err.textContent()).toMatch(/timeout/);
    const rows = await bf.store.listConfigValues(await integrationId(), null);
    expect(JSON.parse(rows.find((r) => r.key === "base_url")!.value)).toBe("https://halo.example.com/api");
    await page.locator("#default-base_url").fill("https://halo.example.com/api");
    await page.locator("#default-timeout").fill("30");
  });

  it("configures the OAuth provider with a write-only client secret and shows the callback URL", async () => {
    await page.getByRole("link", { name: "OAuth provider" }).click();
    await page.waitForURL(/#\/integrations\/HaloPSA\/provider$/);
    expect(await page.locator("#callback-url").inputValue()).toBe(`${server.url}/api/oauth/callback/HaloPSA`);
    await page.locator("#oa-client_id").fill(CLIENT_ID);
    await page.locator("#oa-issuer").fill(as.issuer);
    await page.locator("#oa-scopes").fill("openid offline_access api:read");
    await page.locator("#oa-secret").fill(CLIENT_SECRET);
    await page.getByRole("button", { name: "Save provider" }).click();
    await expect.poll(async () => page.locator("#oauth-h ~ form .secret-state").textContent(), { timeout: 10_000 }).toMatch(/^set · /);
    expect(await page.content()).not.toContain(CLIENT_SECRET);
  });

  it("maps two orgs (inline and bulk) with overrides", async () => {
    await page.getByRole("link", { name: "Mappings", exact: true }).click();
    await page.locator('[data-testid="mappings-table"][data-ready="true"]').waitFor();
    await row("acme").getByLabel("Entity id for acme").fill("T-1");
    await row("acme").getByLabel("Entity name for acme").fill("Acme (Halo)");
    await row("acme").getByRole("button", { name: "Map" }).click();
    await expect.poll(() => row("acme").locator('td[data-label="Overrides"]').textContent()).toBe("0");

    await page.getByRole("button", { name: "Bulk map…" }).click();
    await page.getByLabel(/One row per line/).fill("org,entity_id,entity_name\nglobex,G-2,Globex Inc\nnope,N-1,Nobody");
    await page.getByRole("button", { name: /Save 2 mappings/ }).click();
    await expect.poll(() => page.locator("dialog .field-error").textContent()).toMatch(/Line 3: Row 2 \(nope\)/);
    expect(await bf.store.listMappings({ integrationId: await integrationId() })).toHaveLength(1);
    await page.getByLabel(/One row per line/).fill("globex,G-2,Globex Inc");
    await page.getByRole("button", { name: /Save 1 mapping/ }).click();
    await expect.poll(async () => row("globex").getByLabel("Entity id for globex").inputValue()).toBe("G-2");

    await row("acme").getByRole("button", { name: "Edit overrides for acme" }).click();
    await page.locator("#ov-acme-timeout").fill("60");
    await page.getByRole("button", { name: "Save overrides" }).click();
    await expect.poll(() => row("acme").locator('td[data-label="Overrides"]').textContent()).toBe("1");
    await row("globex").getByRole("button", { name: "Edit overrides for globex" }).click();
    await page.locator("#ov-globex-base_url").fill("https://globex.halo.example.com/api");
    await page.locator("#ov-globex-api_secret").fill("sk-globex-override-PLAIN");
    await page.getByRole("button", { name: "Save overrides" }).click();
    await expect.poll(() => row("globex").locator('td[data-label="Overrides"]').textContent()).toBe("2");
    expect(await page.content()).not.toContain("sk-globex-override-PLAIN");
    // Reset to default in the dialog removes the override.
    await row("acme").getByRole("button", { name: "Edit overrides for acme" }).click();
    // The dialog reads the mapping's config after it opens: wait for it.
    await expect.poll(() => page.locator("dialog").textContent()).toMatch(/Default: 30/);
    await page.getByRole("button", { name: "Reset timeout to default" }).click();
    await page.getByRole("button", { name: "Save overrides" }).click();
    await expect.poll(() => row("acme").locator('td[data-label="Overrides"]').textContent()).toBe("0");
    await row("acme").getByRole("button", { name: "Edit overrides for acme" }).click();
    await page.locator("#ov-acme-timeout").fill("45");
    await page.getByRole("button", { name: "Save overrides" }).click();
    await expect.poll(() => row("acme").locator('td[data-label="Overrides"]').textContent()).toBe("1");
    const globex = (await bf.store.getOrgBySlug("globex"))!;
    const ov = await bf.store.listConfigValues(await integrationId(), globex.id);
    expect(ov.find((v) => v.key === "api_secret")!.value.startsWith("v1.")).toBe(true);
    await shot("integration-detail-1280");
  });

  it("connects OAuth in a popup, sees connected, forces a refresh, disconnects", async () => {
    expect(await row("acme").locator(".badge").textContent()).toBe("not connected");
    const [popup] = await Promise.all([page.waitForEvent("popup"), row("acme").getByRole("button", { name: "Connect acme" }).click()]);
    await popup.waitForURL(/\/api\/oauth\/callback\/HaloPSA/, { timeout: 20_000 });
    await popup.getByRole("heading", { name: "Connected" }).waitFor();
    expect(await popup.evaluate("window.opener === null")).toBe(true);
    await shot("oauth-callback-popup", popup);
    await popup.close();
    await expect.poll(() => row("acme").locator(".badge").textContent(), { timeout: 10_000 }).toBe("connected");
    const before = as.tokenRequests("refresh_token");
    await row("acme").getByRole("button", { name: "Refresh acme" }).click();
    await expect.poll(() => as.tokenRequests("refresh_token")).toBe(before + 1);
    await expect.poll(() => row("acme").locator(".badge").textContent()).toBe("connected");
    await shot("integration-detail-connected");
    const tokens = await bf.store.listOAuthTokens({ integrationId: await integrationId() });
    expect(tokens).toHaveLength(1);
    await row("acme").getByRole("button", { name: "Disconnect acme" }).click();
    await expect.poll(() => row("acme").locator(".badge").textContent()).toBe("not connected");
    expect(await bf.store.listOAuthTokens({ integrationId: await integrationId() })).toHaveLength(0);
  });

  it("Copy connect link: the link works without a session or JavaScript, connects the org once, then answers 410", async () => {
    await row("globex").getByRole("button", { name: "Copy connect link for globex" }).click();
    const field = row("globex").getByLabel("Connect link for globex", { exact: true });
    await field.waitFor();
    const url = await field.inputValue();
    expect(url).toMatch(/\/connect\/[A-Za-z0-9_-]{43}$/);
    expect(url.startsWith(`${server.url}/connect/`)).toBe(true);
    const customer = await browser.newContext({ javaScriptEnabled: false });
    try {
      const p = await customer.newPage();
      await p.goto(url);
      expect(await p.getByRole("heading").textContent()).toBe("Connect HaloPSA");
      expect(await p.locator("body").textContent()).toContain("Globex");
      await shot("connect-link-page", p);
      await p.getByRole("button", { name: "Continue to HaloPSA" }).click();
      await p.waitForURL(/\/api\/oauth\/callback\/HaloPSA/, { timeout: 20_000 });
      await p.getByRole("heading", { name: "Connected" }).waitFor();
      const globex = (await bf.store.getOrgBySlug("globex"))!;
      expect((await bf.store.listOAuthTokens({ integrationId: await integrationId() })).map((t) => t.orgId)).toEqual([globex.id]);
      const again = await p.goto(url);
      expect(again?.status()).toBe(410);
    } finally {
      await customer.close();
    }
    await page.reload();
    await expect.poll(() => row("globex").locator(".badge").textContent(), { timeout: 10_000 }).toBe("connected");
    await row("globex").getByRole("button", { name: "Disconnect globex" }).click();
    await expect.poll(() => row("globex").locator(".badge").textContent()).toBe("not connected");
  });

  it("bulk dialog suggests orgs for pasted entities (exact, then similar), to accept or edit before saving", async () => {
    await page.getByRole("button", { name: "Bulk map…" }).click();
    await page.getByText("Suggest organizations for entities…").click();
    await page.getByLabel(/Entities, one per line/).fill("E-9,acme corp\nE-8,Globex Intl\nE-7,Wayne Enterprises");
    await page.getByRole("button", { name: "Suggest", exact: true }).click();
    const rows = page.locator("table.suggestions tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.getByLabel("Organization for acme corp").inputValue()).toBe("acme");
    expect(await rows.nth(0).locator(".badge").textContent()).toBe("exact");
    expect(await page.getByLabel("Organization for Globex Intl").inputValue()).toBe("globex");
    expect(await rows.nth(1).locator(".badge").textContent()).toMatch(/^\d+%$/);
    expect(await page.getByLabel("Organization for Wayne Enterprises").inputValue()).toBe("");
    await shot("bulk-suggestions-1280");
    // Edit: drop the Globex suggestion, accept the exact one.
    await page.getByLabel("Organization for Globex Intl").fill("");
    expect(await page.getByLabel("Accept suggestion for acme corp").isChecked()).toBe(true);
    await page.getByRole("button", { name: "Add 1 accepted row" }).click();
    expect(await page.getByLabel(/One row per line/).inputValue()).toBe("acme,E-9,acme corp\n");
    await page.getByRole("button", { name: "Cancel" }).click();
    expect((await bf.store.listMappings({ integrationId: await integrationId() })).map((m) => m.entityId).sort()).toEqual(["G-2", "T-1"]);
  });

  it("tests the connection: the server calls base_url + path for the org and shows status, latency and body", async () => {
    await row("acme").getByRole("button", { name: "Edit overrides for acme" }).click();
    await page.locator("#ov-acme-base_url").fill(`${upstreamUrl}/api`);
    await page.getByRole("button", { name: "Save overrides" }).click();
    await expect.poll(() => row("acme").locator('td[data-label="Overrides"]').textContent()).toBe("2");
    await page.getByRole("link", { name: "Overview", exact: true }).click();
    await page.locator('[data-testid="integration-overview"][data-ready="true"]').waitFor();
    await page.locator("#tc-org").fill("acme");
    await page.locator("#tc-path").fill("//evil.example.com/x");
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.locator("#tc-path-error").textContent()).toMatch(/must not start with \/\//);
    await page.locator("#tc-path").fill("/ping?n=1");
    // acme disconnected OAuth above: the default (its OAuth token) has no credential to send.
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.locator(".form-error").textContent()).toMatch(/no credentials for organization "acme"; set OAuth/);
    expect(upstreamSeen).toEqual([]);
    await page.locator("#tc-auth").selectOption("none");
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.getByTestId("tc-status").textContent()).toBe("HTTP 200");
    expect(await page.getByTestId("tc-auth-used").textContent()).toBe("none");
    expect(await page.getByTestId("tc-latency").textContent()).toMatch(/^\d+ ms$/);
    expect(await page.locator(".test-body").textContent()).toContain('"pong":true');
    expect(upstreamSeen).toEqual(["/api/ping?n=1"]);
    await page.locator(".test-result").scrollIntoViewIfNeeded();
    await shot("test-connection-1280");
  });

  it("lists integrations with counts; orgs, events and keys pages render; 390 px layout", async () => {
    await page.goto(`${server.url}/#/integrations`);
    const r = page.locator("tbody tr", { hasText: "HaloPSA" });
    await r.waitFor();
    expect(await r.locator('td[data-label="Config keys"]').textContent()).toBe("base_url, timeout, api_secret, flags");
    expect(await r.locator('td[data-label="OAuth flow"]').textContent()).toBe("authorization_code");
    await page.getByLabel("Search integrations").fill("nomatch");
    await page.getByText("No integration matches.").waitFor();
    await page.getByLabel("Search integrations").fill("halo");
    await shot("integrations-1280");
    await page.goto(`${server.url}/#/orgs/acme`);
    await page.getByRole("heading", { name: /Acme Corp/ }).waitFor();
    await page.getByText("T-1 · Acme (Halo)").waitFor();
    await page.goto(`${server.url}/#/orgs`);
    await page.getByRole("button", { name: "Rename globex" }).click();
    await page.getByLabel("New name for globex").fill("Globex International");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("link", { name: "Globex International" }).waitFor();
    await page.getByLabel("Slug").fill("Bad Slug!");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.locator(".field-error").first().waitFor();
    await shot("organizations-1280");
    await page.goto(`${server.url}/#/events`);
    await page.locator("tbody .badge", { hasText: "connected" }).first().waitFor();
    await page.locator("tbody .badge", { hasText: "disconnected" }).first().waitFor();
    await shot("events-1280");
    await page.goto(`${server.url}/#/keys`);
    await page.getByLabel("Organization").fill("acme");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = await page.getByRole("textbox", { name: "New API key" }).inputValue();
    expect(shown).toMatch(/^bfk?_/);
    await shot("api-keys-1280");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(shown);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/integrations/HaloPSA/mappings`);
    await row("acme").waitFor();
    const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
    expect(overflow).toBeLessThanOrEqual(1);
    await shot("integration-detail-390");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("CSRF: a cookie-authenticated POST without the token is refused with the envelope", async () => {
    const res = await context.request.post(`${server.url}/api/organizations`, { data: { slug: "csrf-probe" } });
    expect(res.status()).toBe(403);
    expect(await res.json()).toMatchObject({ statusCode: 403, code: "BIFROST_FORBIDDEN", message: expect.stringMatching(/CSRF/) });
    expect(await bf.store.getOrgBySlug("csrf-probe")).toBeNull();
  });

  it("never sent a secret in plaintext to the browser; sign-out ends the session", async () => {
    for (const b of bodies) {
      expect(b).not.toContain(SECRET);
      expect(b).not.toContain(CLIENT_SECRET);
      expect(b).not.toContain("sk-globex-override-PLAIN");
    }
    expect(bodies.length).toBeGreaterThan(20);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#api-key").waitFor();
    const res = await context.request.get(`${server.url}/api/session`);
    expect(res.status()).toBe(401);
  });

  it("the browser gets the console's script compressed (br or gzip) with immutable caching and the console's CSP", async () => {
    const fresh = await browser.newContext();
    try {
      const p = await fresh.newPage();
      const [script, doc] = await Promise.all([p.waitForResponse((r) => /\/assets\/[^/]+\.js$/.test(new URL(r.url()).pathname)), p.goto(server.url)]);
      const h = await script.allHeaders();
      expect(["br", "gzip"]).toContain(h["content-encoding"]);
      expect(h["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect((await doc!.allHeaders())["content-security-policy"]).toContain("script-src 'self'");
      await p.locator("#api-key").waitFor();
    } finally {
      await fresh.close();
    }
  });
});
