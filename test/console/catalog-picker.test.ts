/**
 * The catalog picker of the "New integration" dialog in Chromium: search, pick Zendesk, give the client
 * id/secret and the {subdomain} placeholder; the integration gets the entry's schema and OAuth provider.
 * Skips locally without /usr/bin/chromium or a built console (like e2e.test.ts).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createLogger } from "../../src/logger.js";
import { getOAuthProvider } from "../../src/oauth/service.js";
import { findConsoleDir } from "../../src/server/console/routes.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { bootTest } from "../helpers/backends.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";

const CHROMIUM = "/usr/bin/chromium";
const CLIENT_SECRET = "zd-picker-secret-PLAINTEXT-51";

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

describe.skipIf(!existsSync(CHROMIUM) || findConsoleDir() === null)("console catalog picker (Chromium)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let key: string;

  beforeAll(async () => {
    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
    key = (await createApiKey(bf, { role: "platform_admin", name: "picker" })).key;
    const port = await freePort();
    server = await startServer({ bifrost: bf, port, host: "127.0.0.1", background: false, logger: createLogger({ level: "silent" }), oauth: { ...TEST_OAUTH, publicUrl: `http://127.0.0.1:${port}` } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cleanup?.();
  });

  it("searches the catalog, picks an entry and creates the integration with its schema and OAuth provider", async () => {
    await page.goto(server.url);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations" }).waitFor();
    await page.getByRole("button", { name: "New integration" }).click();
    await page.getByLabel("Provider (optional)").fill("zendesk");
    await page.getByRole("option", { name: /Zendesk Support/ }).click();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("ZendeskSupport");
    await page.getByLabel(/OAuth client id/).fill("zd-client");
    await page.getByLabel("OAuth client secret").fill(CLIENT_SECRET);
    await page.getByLabel(/\{subdomain\}/).fill("acmehelp");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "ZendeskSupport", level: 1 }).waitFor();
    const integ = (await bf.store.getIntegrationByName("ZendeskSupport"))!;
    expect(integ.configSchema.map((s) => s.key)).toEqual(["subdomain"]);
    const p = await getOAuthProvider(bf, "ZendeskSupport");
    expect(p?.token_url).toBe("https://{subdomain}.zendesk.com/oauth/tokens");
    expect(p?.url_defaults).toEqual({ subdomain: "acmehelp" });
    expect(p?.client_id).toBe("zd-client");
    expect(await page.content()).not.toContain(CLIENT_SECRET);
  });
});
