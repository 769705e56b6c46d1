import { describe, expect, it } from "vitest";
import { parseProviderConfig } from "../../src/oauth/provider-config.js";
import { setOAuthProvider, getOAuthProvider } from "../../src/oauth/service.js";
import { expandUrl } from "../../src/oauth/templating.js";
import { createIntegration } from "../../src/services/integrations.js";
import { bootTest } from "../helpers/backends.js";

const HOST_T = "https://{entity_id}.zendesk.com/oauth/tokens";
const PATH_T = "https://login.example.com/{entity_id}/oauth2/v2.0/token";
const QUERY_T = "https://api.example.com/token?tenant={entity_id}";

const refused = (fn: () => unknown) => expect(fn).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));

describe("URL templating", () => {
  const hostile = ["evil.com#", "a@127.0.0.1", "..", "a/b", "acme.zendesk.com.evil.com", "x".repeat(64), "a b", "a%2Fb", "a:80", "a?x=1", "a\\b", "-a", "a-", "ünï", "a\nb", ".a", "a..b"];

  it.each(hostile)("refuses %j in the host position", (v) => {
    refused(() => expandUrl(HOST_T, { entityId: v, defaults: {} }, "token_url"));
    // The same value as a url_default is refused too.
    refused(() => expandUrl(HOST_T, { entityId: null, defaults: { entity_id: v } }, "token_url"));
  });

  it.each(hostile.filter((v) => v !== "acme.zendesk.com.evil.com"))("refuses %j in the path and query positions", (v) => {
    refused(() => expandUrl(PATH_T, { entityId: v, defaults: {} }, "token_url"));
    refused(() => expandUrl(QUERY_T, { entityId: v, defaults: {} }, "token_url"));
  });

  it("a dotted tenant domain is allowed in the path only, and never moves the host", () => {
    const out = expandUrl(PATH_T, { entityId: "acme.zendesk.com.evil.com", defaults: {} });
    expect(new URL(out).host).toBe("login.example.com");
    expect(expandUrl(PATH_T, { entityId: "contoso.onmicrosoft.com", defaults: {} })).toBe("https://login.example.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  });

  it("empty or missing values are refused when there is no default", () => {
    for (const entityId of ["", null]) {
      refused(() => expandUrl(HOST_T, { entityId, defaults: {} }));
      refused(() => expandUrl(PATH_T, { entityId, defaults: { entity_id: "" } }));
    }
    refused(() => expandUrl("https://{region}.example.com/token", { entityId: "acme", defaults: {} }));
  });

  it("a 63-character label is the longest accepted", () => {
    const l63 = `a${"b".repeat(61)}c`;
    expect(new URL(expandUrl(HOST_T, { entityId: l63, defaults: {} })).hostname).toBe(`${l63}.zendesk.com`);
    refused(() => expandUrl(HOST_T, { entityId: `${l63}d`, defaults: {} }));
  });

  it("resolves from the mapping's entity_id first, then url_defaults", () => {
    expect(expandUrl(HOST_T, { entityId: "acme", defaults: { entity_id: "common" } })).toBe("https://acme.zendesk.com/oauth/tokens");
    expect(expandUrl(HOST_T, { entityId: null, defaults: { entity_id: "common" } })).toBe("https://common.zendesk.com/oauth/tokens");
    expect(expandUrl(HOST_T, { entityId: "", defaults: { entity_id: "common" } })).toBe("https://common.zendesk.com/oauth/tokens");
    // Other placeholders come from url_defaults only, never from the entity id.
    expect(expandUrl("https://{region}.example.com/{entity_id}/token", { entityId: "t1", defaults: { region: "eu" } })).toBe("https://eu.example.com/t1/token");
    // A template without placeholders is returned unchanged.
    expect(expandUrl("https://x.example.com/token", { entityId: "evil.com#", defaults: {} })).toBe("https://x.example.com/token");
  });

  it("the host of any accepted result is always the configured one", () => {
    const samples = ["acme", "a1", "x-y", "A9z", "0", "zz-top-9", ...hostile, "a.b", "ok", "a#b", "a@b", "[::1]", "127.0.0.1", "evil.com/x"];
    for (const v of samples) {
      for (const [t, host] of [[HOST_T, `${v.toLowerCase()}.zendesk.com`], [PATH_T, "login.example.com"], [QUERY_T, "api.example.com"]] as const) {
        let out: string | null = null;
        try {
          out = expandUrl(t, { entityId: v, defaults: {} });
        } catch (err) {
          expect(err).toMatchObject({ code: "BIFROST_OAUTH_URL_REFUSED" });
          continue;
        }
        const u = new URL(out);
        expect(u.host).toBe(host);
        expect(u.hostname.endsWith(t === HOST_T ? ".zendesk.com" : ".example.com")).toBe(true);
        expect(u.username + u.password + u.hash).toBe("");
      }
    }
  });
});

describe("unsupported flows", () => {
  const base = { client_id: "c", client_secret: "s", token_url: "https://as.example.com/token", authorization_url: "https://as.example.com/authorize" };

  it.each(["implicit", "password", "token"])("flow %j is rejected with BIFROST_OAUTH_CONFIG_INVALID and a clear reason", (flow) => {
    let err: unknown;
    try {
      parseProviderConfig({ ...base, flow }, null);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "BIFROST_OAUTH_CONFIG_INVALID", statusCode: 422 });
    const msg = (err as Error).message;
    expect(msg).toContain(`"${flow}" is not supported`);
    expect(msg).toMatch(flow === "password" ? /password grant must not be used.*RFC 9700/ : /implicit grant is deprecated.*RFC 9700/);
    expect(msg).toMatch(/authorization_code/);
    expect(msg).not.toContain("s\"");
  });

  it("setOAuthProvider with implicit/password stores nothing", async () => {
    const t = await bootTest();
    try {
      await createIntegration(t.bf, { name: "Legacy" });
      for (const flow of ["implicit", "password"]) {
        await expect(setOAuthProvider(t.bf, "Legacy", { ...base, flow })).rejects.toMatchObject({ code: "BIFROST_OAUTH_CONFIG_INVALID" });
      }
      expect(await getOAuthProvider(t.bf, "Legacy")).toBeNull();
    } finally {
      await t.cleanup();
    }
  });
});
