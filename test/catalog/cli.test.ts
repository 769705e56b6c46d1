import { describe, expect, it } from "vitest";
import { runCliInProcess } from "../helpers/cli.js";

describe("bifrost catalog", () => {
  it("list --json returns every provider; --q narrows it", async () => {
    const all = await runCliInProcess(["catalog", "list", "--json"]);
    expect(all.status).toBe(0);
    const providers = (JSON.parse(all.stdout) as { providers: Array<{ id: string }> }).providers;
    expect(providers.length).toBeGreaterThanOrEqual(60);
    const q = await runCliInProcess(["catalog", "list", "--q", "shop", "--json"]);
    expect((JSON.parse(q.stdout) as { providers: Array<{ id: string }> }).providers.map((p) => p.id)).toEqual(["shopify"]);
    const human = await runCliInProcess(["catalog", "list", "--q", "xero"]);
    expect(human.stdout).toMatch(/xero\s+Xero\s+Accounting/);
  });

  it("show prints the entry; --json is the entry itself", async () => {
    const r = await runCliInProcess(["catalog", "show", "quickbooks-online", "--json"]);
    expect(r.status).toBe(0);
    const p = (JSON.parse(r.stdout) as { provider: { oauth: { entity_id_source: unknown } } }).provider;
    expect(p.oauth.entity_id_source).toEqual({ type: "url_param", key: "realmId" });
    const human = await runCliInProcess(["catalog", "show", "microsoft-graph"]);
    expect(human.stdout).toContain("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
    expect(human.stdout).toContain("`{tenant}` = `organizations`");
  });

  it("show with an unknown id fails with a coded error naming close matches", async () => {
    const r = await runCliInProcess(["catalog", "show", "hubspt", "--json"]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("BIFROST_PROVIDER_UNKNOWN");
    expect(r.stdout + r.stderr).toContain('"hubspot"');
  });
});
