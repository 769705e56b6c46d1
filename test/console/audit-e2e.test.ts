/**
 * End-to-end: the console's Audit page in Debian's Chromium (playwright-core) against a real server on
 * 127.0.0.1 with SQLite. A platform admin sees every entry (actor, action, names) and filters by action;
 * an org admin sees only its organization's entries; no secret value reaches the page.
 * Without /usr/bin/chromium or a built console: fails in CI, skips locally (like e2e.test.ts).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { LOCAL_CLI_CONTEXT, withAuditContext } from "../../src/kernel/audit.js";
import { createLogger } from "../../src/logger.js";
import { findConsoleDir } from "../../src/server/console/routes.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { bootTest } from "../helpers/backends.js";

const CHROMIUM = "/usr/bin/chromium";
const SECRET_ACME = "sk-audit-e2e-acme-PLAINTEXT-5d1e";
const SECRET_GLOBEX = "sk-audit-e2e-globex-PLAINTEXT-8f2a";
const haveChromium = existsSync(CHROMIUM);
const haveConsole = findConsoleDir() !== null;

if ((!haveChromium || !haveConsole) && process.env.CI) {
  describe("console audit e2e", () => {
    it("REQUIRED in CI: Chromium and the built console", () => {
      throw new Error(`Console audit e2e cannot run: ${!haveChromium ? `${CHROMIUM} is missing` : "the console is not built (npm run build)"}.`);
    });
  });
}

describe.skipIf(!haveChromium || !haveConsole)("console Audit page (Chromium, SQLite)", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  const keys = { platform: "", acmeAdmin: "" };
  const bodies: string[] = [];

  beforeAll(async () => {
    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
    await withAuditContext(LOCAL_CLI_CONTEXT, async () => {
      await createOrg(bf, { slug: "acme", name: "Acme" });
      await createOrg(bf, { slug: "globex", name: "Globex" });
      await createIntegration(bf, { name: "Halo", configSchema: [{ key: "api_secret", type: "secret", required: false }] });
      await setMapping(bf, "Halo", "acme", { config: { api_secret: SECRET_ACME } });
      await setMapping(bf, "Halo", "globex", { config: { api_secret: SECRET_GLOBEX } });
      keys.platform = (await createApiKey(bf, { role: "platform_admin", name: "e2e-platform" })).key;
      keys.acmeAdmin = (await createApiKey(bf, { role: "org_admin", org: "acme", name: "e2e-acme" })).key;
    });
    server = await startServer({ bifrost: bf, port: 0, host: "127.0.0.1", background: false, logger: createLogger({ level: "silent" }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cleanup?.();
  });

  async function signIn(key: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on("response", (res) => {
      if (res.url().startsWith(server.url)) void res.text().then((b) => bodies.push(b), () => undefined);
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(server.url);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations" }).waitFor();
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByRole("heading", { name: "Audit" }).waitFor();
    return page;
  }
  const rows = (page: Page) => page.locator('table[aria-label="Audit entries"] tbody tr');

  it("a platform admin sees who did what to which names, filters by action, and no value reaches the page", async () => {
    const page = await signIn(keys.platform);
    await expect.poll(() => rows(page).count()).toBeGreaterThanOrEqual(6);
    const text = (await rows(page).allTextContents()).join("\n");
    expect(text).toContain("secret.write");
    expect(text).toContain("key.create");
    expect(text).toContain("local CLI");
    expect(text).toMatch(/acme/);
    expect(text).toMatch(/globex/);

    await page.locator("#au-action").selectOption("secret.write");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(async () => (await rows(page).allTextContents()).every((r) => r.includes("secret.write"))).toBe(true);
    expect(await rows(page).count()).toBe(2);
    expect((await rows(page).allTextContents()).join("\n")).toContain("api_secret");

    // Filter by integration.
    await page.locator("#au-action").selectOption("");
    await page.locator("#au-int").fill("Halo");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(async () => (await rows(page).allTextContents()).every((r) => r.includes("Halo"))).toBe(true);

    const html = await page.content();
    for (const s of [SECRET_ACME, SECRET_GLOBEX, keys.platform]) expect(html).not.toContain(s);
    await page.context().close();
  });

  it("an org admin sees its organization's entries only", async () => {
    const page = await signIn(keys.acmeAdmin);
    await expect.poll(() => rows(page).count()).toBeGreaterThanOrEqual(1);
    const text = (await rows(page).allTextContents()).join("\n");
    expect(text).toContain("acme");
    expect(text).not.toContain("globex");
    expect(await page.locator("#au-org").count()).toBe(0);
    await page.context().close();
    for (const b of bodies) {
      expect(b).not.toContain(SECRET_ACME);
      expect(b).not.toContain(SECRET_GLOBEX);
    }
  });
});
