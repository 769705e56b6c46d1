/**
 * Test connection (POST /api/integrations/:name/test-connection): a real node:http server on 127.0.0.1
 * sees the org's OAuth bearer token (client_credentials minted through the OAuth core); the answer has
 * status, latency and a redacted, truncated body, never the Authorization header. Paths that would leave
 * the base URL are refused before any request; org-scoped keys may not call it; plain http needs the
 * loopback switch. Every auth form and method, as attacks on both databases: test/security/test-connection.test.ts.
 * The panel in Chromium: an API key in a header and a POST with a JSON body reach the API as chosen,
 * and the page shows the auth form used, never the key. Skips locally without Chromium or a built console.
 */
import { once } from "node:events";
import { existsSync } from "node:fs";
import http from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { findConsoleDir } from "../../src/server/console/routes.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { bootTest } from "../helpers/backends.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";
import { type Listener, startListener } from "../security/outbound-listener.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createApp } from "../../src/server/index.js";
import { testConnectionUrl } from "../../src/server/test-connection.js";
import { createIntegration } from "../../src/services/integrations.js";
import { sqliteBackend } from "../helpers/backends.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { envelope, type Harness, SECRET_ACME, setup } from "../server/harness.js";

const CLIENT_SECRET = "cs-test-connection-SECRET-5521";

describe("console test connection", () => {
  let h: Harness;
  let upstream: http.Server;
  let base = "";
  const seen: Array<{ path: string; authorization: string | undefined }> = [];
  let issued = "";

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const path = req.url ?? "/";
      seen.push({ path, authorization: req.headers.authorization });
      req.resume();
      req.on("end", () => {
        if (path === "/token") {
          issued = `AT-testconn-${Math.random().toString(36).slice(2)}`;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: issued, token_type: "Bearer", expires_in: 3600 }));
        } else if (path.startsWith("/api/ping")) {
          // Echo the token and a config secret: the console must only ever see them redacted.
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, path, you_sent: req.headers.authorization ?? null, leak: SECRET_ACME }));
        } else if (path.startsWith("/api/big")) {
          res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(10_000));
        } else if (path.startsWith("/plain/")) {
          res.writeHead(404, { "content-type": "text/plain" }).end(`no such thing; auth=${req.headers.authorization ?? "none"}`);
        } else if (path.startsWith("/api/redirect")) {
          res.writeHead(302, { location: "https://evil.example.com/" }).end();
        } else {
          res.writeHead(404).end();
        }
      });
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await setup(sqliteBackend, { oauth: { allowHttpLoopback: true, publicUrl: "http://127.0.0.1:9" } });
    await setOAuthProvider(h.bf, "HaloPSA", { flow: "client_credentials", client_id: "tc-client", client_secret: CLIENT_SECRET, token_url: `${base}/token` });
    const r = await h.call("PATCH", "/api/integrations/HaloPSA/mappings/acme/config", h.keys.platform, { base_url: `${base}/api` });
    expect(r.statusCode, r.body).toBe(200);
    // acme's base URL gets the integration-level (client credentials) token only because it is trusted.
    const halo = (await h.bf.store.getIntegrationByName("HaloPSA"))!;
    await h.bf.store.updateIntegration(halo.id, { trustedOrigins: [base], updatedAt: new Date().toISOString() });
    await createIntegration(h.bf, { name: "Plain", configSchema: [{ key: "base_url", type: "string", required: true }], defaults: { base_url: `${base}/plain` } });
  });
  afterAll(async () => {
    await h?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  const test = (body: unknown, key = h.keys.platform, name = "HaloPSA") => h.call("POST", `/api/integrations/${name}/test-connection`, key, body);

  it("calls base_url + path with the org's OAuth bearer token and returns status, latency and the redacted body", async () => {
    const res = await test({ org: "acme", path: "/ping?x=1" });
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({ integration: "HaloPSA", org: "acme", method: "GET", auth: { choice: "oauth", kind: "oauth", config_keys: [], source: "default" }, status: 200, truncated: false, url: `${base}/api/ping?x=1` });
    expect(out.headers).toMatchObject({ "content-type": "application/json" });
    expect(typeof out.latency_ms).toBe("number");
    expect(out.latency_ms).toBeGreaterThanOrEqual(0);
    const hit = seen.find((s) => s.path === "/api/ping?x=1")!;
    expect(issued).not.toBe("");
    expect(hit.authorization).toBe(`Bearer ${issued}`);
    // The body is redacted: neither the token nor the org's secret nor the client secret gets out.
    expect(JSON.parse(out.body)).toMatchObject({ ok: true, you_sent: "Bearer [REDACTED]", leak: "[REDACTED]" });
    expect(res.body).not.toContain(issued);
    expect(res.body).not.toContain(SECRET_ACME);
    expect(res.body).not.toContain(CLIENT_SECRET);
    expect(res.body.toLowerCase()).not.toContain("authorization");
  });

  it("truncates the body to 2 KB; no auth when the integration has no OAuth provider; upstream errors are shown, not thrown", async () => {
    const big = (await test({ org: "acme", path: "/big" })).json();
    expect(big).toMatchObject({ status: 200, truncated: true, bytes: 10_000 });
    expect(big.body).toHaveLength(2048);
    const plain = await test({ path: "/missing" }, h.keys.platform, "Plain");
    expect(plain.statusCode, plain.body).toBe(200);
    expect(plain.json()).toMatchObject({ org: null, auth: { choice: "none", kind: "none", source: "default" }, status: 404, body: "no such thing; auth=none" });
  });

  it("refuses paths that would leave the base URL, before any request", async () => {
    const before = seen.length;
    for (const path of ["//evil.com/x", "http://evil.com/", "https://evil.com", "/../x", "/a/../../x", "/%2e%2e/x", "/a%2fb", "/\\evil.com", "/a b", "ping", "/x#frag"]) {
      const e = envelope(await test({ org: "acme", path }), 422, "BIFROST_VALIDATION");
      expect(e.details?.path, path).toBe("path");
    }
    expect(seen.length).toBe(before);
    expect(() => testConnectionUrl("https://h.example.com/api/", "/v1/x?y=1")).not.toThrow();
    expect(testConnectionUrl("https://h.example.com/api/", "/v1/x?y=1").toString()).toBe("https://h.example.com/api/v1/x?y=1");
  });

  it("redirects are not followed; unknown org → 404; org_admin keys → 403; bad body → 422", async () => {
    // The redirect is answered as it is (status and Location shown), never followed.
    const r = await test({ org: "acme", path: "/redirect" });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ status: 302, headers: { location: "https://evil.example.com/" } });
    envelope(await test({ org: "nope", path: "/ping" }), 404, "BIFROST_NOT_FOUND");
    envelope(await test({ org: "acme", path: "/ping" }, h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
    envelope(await test({ org: "acme" }), 422, "BIFROST_VALIDATION");
  });

  it("plain http is refused unless BIFROST_ALLOW_HTTP_LOOPBACK allows loopback", async () => {
    const strict = await createApp({ bifrost: h.bf, oauth: { allowHttpLoopback: false } });
    try {
      const res = await strict.inject({ method: "POST", url: "/api/integrations/Plain/test-connection", headers: { authorization: `Bearer ${h.keys.platform}` }, payload: { path: "/x" } });
      const e = envelope(res, 422, "BIFROST_OUTBOUND_REFUSED");
      expect(e.message).toMatch(/https/);
    } finally {
      await strict.close();
    }
  });
});

const CHROMIUM = "/usr/bin/chromium";
const PANEL_KEY = "ak-panel-SECRET-4e0b19d2";

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

describe.skipIf(!existsSync(CHROMIUM) || findConsoleDir() === null)("console test connection panel (Chromium)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let l: Listener;
  let key = "";

  beforeAll(async () => {
    l = await startListener();
    l.answers.set("/api/tickets", { status: 201, body: { created: true, id: 7 } });
    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
    key = (await createApiKey(bf, { role: "platform_admin", name: "panel" })).key;
    await createOrg(bf, { slug: "acme", name: "Acme" });
    await createIntegration(bf, {
      name: "Keyed",
      configSchema: [
        { key: "base_url", type: "string", required: true },
        { key: "api_key", type: "secret", required: false },
      ],
      defaults: { base_url: `${l.base}/api` },
    });
    await setMapping(bf, "Keyed", "acme", { config: { api_key: PANEL_KEY } });
    const port = await freePort();
    server = await startServer({ bifrost: bf, port, host: "127.0.0.1", background: false, logger: createLogger({ level: "silent" }), oauth: { ...TEST_OAUTH, publicUrl: `http://127.0.0.1:${port}` } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await l?.close();
    await cleanup?.();
  });

  it("sends a POST with a JSON body and the org's API key in the header chosen; shows the auth used, status and body, never the key", async () => {
    await page.goto(server.url);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations" }).waitFor();
    await page.goto(`${server.url}/#/integrations/Keyed`);
    await page.getByRole("heading", { name: "Test connection" }).waitFor();
    // The auth select lists what the integration can use: no OAuth provider, an api_key key.
    await expect.poll(async () => (await page.locator("#tc-auth option").allTextContents()).join(" | ")).toBe(
      "Default (No auth) | API key in a header (api_key) | API key in the query (api_key) | No auth",
    );
    expect(await page.locator("#tc-body").count()).toBe(0);
    await page.locator("#tc-org").fill("acme");
    await page.locator("#tc-auth").selectOption("api-key:header:NAME");
    await page.locator("#tc-auth-name").fill("bad name");
    await page.locator("#tc-path").fill("/tickets");
    await page.getByRole("button", { name: "Test connection" }).click();
    // Refused before sending, next to the auth field.
    await expect.poll(() => page.locator("#tc-auth-error").textContent()).toMatch(/not a valid header name|not one of/);
    expect(l.received).toEqual([]);
    await page.locator("#tc-auth-name").fill("X-Api-Key");
    await page.locator("#tc-method").selectOption("POST");
    await page.locator("#tc-body").fill('{"summary": "printer on fire", "priority": 2}');
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => page.getByTestId("tc-status").textContent()).toBe("HTTP 201");
    expect(await page.getByTestId("tc-auth-used").textContent()).toBe("api-key:header:X-Api-Key (api_key)");
    expect(await page.locator(".test-body").textContent()).toContain('"created":true');
    expect(l.received.map((r) => [r.method, r.path, r.headers["x-api-key"], r.headers["content-type"], JSON.parse(r.body)])).toEqual([
      ["POST", "/api/tickets", PANEL_KEY, "application/json", { summary: "printer on fire", priority: 2 }],
    ]);
    expect(await page.content()).not.toContain(PANEL_KEY);
  });
});
