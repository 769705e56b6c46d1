/**
 * Every outbound surface that touches storage, as attacks on SQLite and PostgreSQL: OAuth token
 * endpoint, discovery (RFC 8414), test connection, webhooks, and the integration trust fields
 * (`trusted_origins`, `private_network`) through the API and yaml. Each surface has a positive control
 * through a loopback listener that records requests; the attacks prove the listener received nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { recordEvent } from "../../src/oauth/events.js";
import { resolveOptions } from "../../src/oauth/options.js";
import { setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { deliverWebhooks } from "../../src/oauth/webhooks.js";
import { applyText } from "../../src/services/apply.js";
import { exportDocument } from "../../src/services/export.js";
import { createIntegration, getIntegration, updateIntegration } from "../../src/services/integrations.js";
import { BACKENDS } from "../helpers/backends.js";
import { getAs, oauthDeps, resolverFor } from "../oauth/helpers/setup.js";
import { envelope, type Harness, setup } from "../server/harness.js";
import { type Listener, startListener } from "./outbound-listener.js";

const CLIENT_SECRET = "outbound-client-secret-9f2";
const TOKEN = { access_token: "AT-outbound-1", token_type: "Bearer", expires_in: 3600 };

async function fails(p: Promise<unknown>): Promise<BifrostError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BifrostError);
  return err as BifrostError;
}

for (const backend of BACKENDS) {
  describe(`outbound surfaces (${backend.name})`, () => {
    let h: Harness;
    let l: Listener;
    let canary: Listener;
    let n = 0;

    beforeAll(async () => {
      l = await startListener();
      canary = await startListener();
      h = await setup(backend, { oauth: { allowHttpLoopback: true, publicUrl: "http://127.0.0.1:9" } });
    });
    afterAll(async () => {
      await h?.close();
      await l?.close();
      await canary?.close();
    });
    beforeEach(() => {
      l.received.length = 0;
      canary.received.length = 0;
    });

    /** A client-credentials integration whose token URL is given (default: the listener). */
    async function ccIntegration(tokenUrl: (path: string) => string, extra: { privateNetwork?: boolean } = {}): Promise<{ name: string; path: string }> {
      const name = `Out${++n}`;
      const path = `/token/${name}`;
      await createIntegration(h.bf, { name, ...extra });
      await setOAuthProvider(h.bf, name, { flow: "client_credentials", client_id: "cid", client_secret: CLIENT_SECRET, token_url: tokenUrl(path) });
      l.answers.set(path, { body: TOKEN });
      return { name, path };
    }

    it("OAuth token endpoint: positive control over http to loopback with the switch; without it nothing is sent", async () => {
      const { name } = await ccIntegration((p) => `${l.base}${p}`);
      const ok = await getAs(resolverFor(h.bf, { allowHttpLoopback: true }), name, null);
      expect(ok?.oauth?.accessToken).toBe(TOKEN.access_token);
      expect(l.received).toHaveLength(1);
      const { name: other } = await ccIntegration((p) => `${l.base}${p}`);
      const e = await fails(getAs(resolverFor(h.bf, { allowHttpLoopback: false }), other, null));
      expect(e.code).toBe("BIFROST_OAUTH_URL_REFUSED");
      expect(e.message).toMatch(/plain http/);
      expect(l.received).toHaveLength(1);
    });

    it("OAuth token endpoint: private, metadata, documentation and embedded-IPv4 literals are refused before connecting; private_network opens private ranges only", async () => {
      for (const url of ["https://10.0.0.7/token", "https://[fd12::7]/token", "https://192.0.2.7/token", "https://[::ffff:10.0.0.7]/token", "https://[64:ff9b::a00:7]/token", "https://[2002:a00:7::]/token"]) {
        const { name } = await ccIntegration(() => url);
        const e = await fails(getAs(resolverFor(h.bf), name, null));
        expect(e.code, url).toBe("BIFROST_OAUTH_URL_REFUSED");
        expect(e.message, url).toMatch(/refused/);
      }
      // private_network is applied to the integration's OAuth requests: metadata and link-local stay refused.
      const plain = await ccIntegration(() => "https://100.100.100.200/token");
      expect((await fails(getAs(resolverFor(h.bf), plain.name, null))).message).toMatch(/metadata/);
      for (const url of ["https://100.100.100.200/token", "https://169.254.169.254/token", "https://[fd00:ec2::254]/token", "https://[fe80::1]/token"]) {
        const { name } = await ccIntegration(() => url, { privateNetwork: true });
        const e = await fails(getAs(resolverFor(h.bf), name, null));
        expect(e.code, url).toBe("BIFROST_OAUTH_URL_REFUSED");
        expect(e.message, url).toMatch(/metadata|link-local/);
      }
      // Without the flag a private address is refused with the fix; with it, the same address passes the policy (unit level: no traffic leaves loopback).
      const priv = await ccIntegration(() => "https://10.0.0.8/token");
      expect((await fails(getAs(resolverFor(h.bf), priv.name, null))).message).toMatch(/private_network: true/);
      expect(l.received).toHaveLength(0);
    });

    it("OAuth token endpoint: a redirect to a private address or to the canary is never followed", async () => {
      const { name, path } = await ccIntegration((p) => `${l.base}${p}`);
      l.answers.set(path, { status: 307, headers: { location: `${canary.base}/steal` } });
      const e = await fails(getAs(resolverFor(h.bf), name, null));
      expect(e.code).toBe("BIFROST_OAUTH_URL_REFUSED");
      expect(e.message).toMatch(/redirect/);
      const b = await ccIntegration((p) => `${l.base}${p}`);
      l.answers.set(b.path, { status: 302, headers: { location: "https://10.0.0.9/token" } });
      expect((await fails(getAs(resolverFor(h.bf), b.name, null))).message).toMatch(/redirect/);
      expect(canary.received).toHaveLength(0);
      expect(l.received).toHaveLength(2);
    });

    it("OAuth URLs with plain http to a non-loopback host are refused at write time (API, service, yaml); nothing is stored", async () => {
      await createIntegration(h.bf, { name: "WriteTime" });
      for (const [field, url] of [
        ["token_url", "http://login.example.com/token"],
        ["authorization_url", "http://login.example.com/authorize"],
        ["issuer", "http://login.example.com"],
        ["token_url", "javascript:alert(1)"],
      ] as const) {
        const block = { flow: "authorization_code", client_id: "cid", client_secret: CLIENT_SECRET, authorization_url: "https://login.example.com/authorize", token_url: "https://login.example.com/token", [field]: url };
        const e = await fails(setOAuthProvider(h.bf, "WriteTime", block));
        expect(["BIFROST_OAUTH_URL_REFUSED", "BIFROST_OAUTH_CONFIG_INVALID"], `${field}=${url}`).toContain(e.code);
        const res = await h.call("PUT", "/api/integrations/WriteTime/oauth", h.keys.platform, block);
        expect(res.statusCode, res.body).toBe(422);
      }
      expect(await h.bf.store.getOAuthProvider((await h.bf.store.getIntegrationByName("WriteTime"))!.id)).toBeNull();
      const yaml = `integrations:\n  - name: WriteTime\n    oauth:\n      flow: client_credentials\n      client_id: cid\n      client_secret: s3cret-value\n      token_url: http://login.example.com/token\n`;
      const e = await fails(applyText(h.bf, yaml, "bifrost.yaml"));
      expect(e.message).toMatch(/token_url/);
      expect(e.message).toMatch(/plain http/);
    });

    it("discovery: a javascript:, plain-http or metadata authorization_endpoint (and a plain-http token_endpoint) is refused with a clear error; the positive control starts the flow", async () => {
      const deps = oauthDeps(h.bf);
      const discovered = async (endpoints: Record<string, string>): Promise<string> => {
        const name = `Disc${++n}`;
        const issuer = `${l.base}/as/${name}`;
        l.answers.set(`/.well-known/oauth-authorization-server/as/${name}`, { body: { issuer, token_endpoint: `${l.base}/token/${name}`, response_types_supported: ["code"], ...endpoints } });
        await createIntegration(h.bf, { name });
        await setOAuthProvider(h.bf, name, { flow: "authorization_code", client_id: "cid", client_secret: CLIENT_SECRET, issuer });
        return name;
      };
      const good = await discovered({ authorization_endpoint: `${l.base}/authorize` });
      const started = await startAuthorization(deps, { integration: good, initiatorKeyId: null });
      expect(started.authorizationUrl.startsWith(`${l.base}/authorize?`)).toBe(true);
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ authorization_endpoint: "javascript:alert(document.cookie)" }, /authorization_endpoint.*javascript:/],
        [{ authorization_endpoint: "http://login.example.com/authorize" }, /authorization_endpoint.*plain http/],
        [{ authorization_endpoint: "https://169.254.169.254/authorize" }, /authorization_endpoint.*metadata/],
        [{ authorization_endpoint: `${l.base}/authorize`, token_endpoint: "http://login.example.com/token" }, /token_endpoint.*plain http/],
        [{ authorization_endpoint: `${l.base}/authorize`, revocation_endpoint: "https://user:pw@login.example.com/revoke" }, /revocation_endpoint.*credentials/],
      ];
      for (const [endpoints, why] of cases) {
        const name = await discovered(endpoints);
        const e = await fails(startAuthorization(deps, { integration: name, initiatorKeyId: null }));
        expect(e.code).toBe("BIFROST_OAUTH_URL_REFUSED");
        expect(e.message).toMatch(why);
        expect(e.message).toContain(name);
      }
      // The listener saw discovery requests only: no authorization or token request was made.
      expect(l.received.every((r) => r.path.startsWith("/.well-known/"))).toBe(true);
    });

    it("test connection: positive control to a loopback base_url; metadata, link-local, mapped and plain-http targets are refused and the listener receives nothing", async () => {
      const probe = async (baseUrl: string, extra: { privateNetwork?: boolean } = {}): Promise<string> => {
        const name = `Probe${++n}`;
        await createIntegration(h.bf, { name, configSchema: [{ key: "base_url", type: "string", required: true }], defaults: { base_url: baseUrl }, ...extra });
        return name;
      };
      l.answers.set("/api/ping", { body: { ok: true } });
      const good = await probe(`${l.base}/api`);
      const ok = await h.call("POST", `/api/integrations/${good}/test-connection`, h.keys.platform, { path: "/ping" });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(l.received).toHaveLength(1);
      l.received.length = 0;
      for (const [base, extra] of [
        ["https://169.254.169.254/latest", {}],
        ["https://[::ffff:a9fe:a9fe]/latest", {}],
        ["https://100.100.100.200/latest", { privateNetwork: true }],
        ["https://[fe80::1]/api", { privateNetwork: true }],
        ["https://10.0.0.5/api", {}],
        ["https://198.18.0.1/api", {}],
        ["http://halo.example.com/api", {}],
        [`https://[64:ff9b::7f00:1]:${l.port}/api`, {}],
      ] as const) {
        const name = await probe(base, extra);
        const res = await h.call("POST", `/api/integrations/${name}/test-connection`, h.keys.platform, { path: "/ping" });
        const e = envelope(res, 422, "BIFROST_OUTBOUND_REFUSED");
        expect(e.message, base).toMatch(/Test connection failed/);
      }
      expect(l.received).toHaveLength(0);
      // A redirect from the legitimate server towards the canary is answered as it is, not followed.
      l.answers.set("/api/moved", { status: 302, headers: { location: `${canary.base}/steal` } });
      const moved = await h.call("POST", `/api/integrations/${good}/test-connection`, h.keys.platform, { path: "/moved" });
      expect(moved.json()).toMatchObject({ status: 302, headers: { location: `${canary.base}/steal` } });
      expect(l.received).toHaveLength(1);
      expect(canary.received).toHaveLength(0);
    });

    it("webhooks: plain-http (without the switch or to a non-loopback host), metadata and redirecting receivers get nothing; the positive control delivers", async () => {
      const integration = (await h.bf.store.getIntegrationByName("HaloPSA"))!;
      await recordEvent(h.bf.store, h.bf.clock, { type: "needs_reauth", integrationId: integration.id, orgId: null, payload: { reason: "invalid_grant" } });
      const hooks = { url: `${l.base}/hook`, secret: "whsec-outbound" };
      l.answers.set("/hook", { status: 204, body: "" });
      const strict = resolveOptions({ allowHttpLoopback: false, backoffBaseMs: 1, backoffMaxMs: 2 });
      expect(await deliverWebhooks(h.bf, strict, { ...hooks, batch: 100 }, "a")).toBe(0);
      await new Promise((r) => setTimeout(r, 10));
      expect(await deliverWebhooks(h.bf, strict, { ...hooks, url: "https://169.254.169.254/hook", batch: 100 }, "a")).toBe(0);
      await new Promise((r) => setTimeout(r, 10));
      expect(await deliverWebhooks(h.bf, resolveOptions({ allowHttpLoopback: true, backoffBaseMs: 1, backoffMaxMs: 2 }), { ...hooks, url: "http://hooks.example.com/hook", batch: 100 }, "a")).toBe(0);
      expect(l.received).toHaveLength(0);
      // A receiver that redirects to the canary: not followed, not delivered.
      l.answers.set("/moved", { status: 307, headers: { location: `${canary.base}/hook` } });
      await new Promise((r) => setTimeout(r, 10));
      expect(await deliverWebhooks(h.bf, resolveOptions({ allowHttpLoopback: true, backoffBaseMs: 1, backoffMaxMs: 2 }), { ...hooks, url: `${l.base}/moved`, batch: 100 }, "a")).toBe(0);
      expect(canary.received).toHaveLength(0);
      l.received.length = 0;
      await new Promise((r) => setTimeout(r, 10));
      const loose = resolveOptions({ allowHttpLoopback: true, backoffBaseMs: 1, backoffMaxMs: 2 });
      const delivered = await deliverWebhooks(h.bf, loose, { ...hooks, batch: 100 }, "a");
      expect(delivered).toBeGreaterThan(0);
      expect(l.received).toHaveLength(delivered);
      expect(l.received.some((r) => JSON.parse(r.body).type === "needs_reauth")).toBe(true);
      expect(l.received[0]?.headers["x-bifrost-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    });

    it("trusted_origins and private_network: normalized, validated, shown, platform-only (org_admin 403, nothing changed)", async () => {
      const res = await h.call("POST", "/api/integrations", h.keys.platform, { name: "Trusty", trusted_origins: ["https://EU.Api.Example.com:443", "https://eu.api.example.com/", "https://api.example.com:8443"], private_network: true });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ trusted_origins: ["https://eu.api.example.com", "https://api.example.com:8443"], private_network: true });
      for (const [bad, why] of [
        [["https://*.example.com"], /wildcard/],
        [["https://api.example.com/v1"], /no path/],
        [["https://api.example.com/?x=1"], /no path, query/],
        [["https://user:pw@api.example.com"], /credentials/],
        [["http://api.example.com"], /plain http/],
        [["ftp://api.example.com"], /origin is https/],
        [["api.example.com"], /not a valid origin/],
        [[" https://api.example.com"], /whitespace/],
        ["https://api.example.com", /array|list/],
      ] as const) {
        const r = await h.call("PATCH", "/api/integrations/Trusty", h.keys.platform, { trusted_origins: bad });
        expect(r.statusCode, JSON.stringify(bad)).toBe(422);
        expect(r.json().message, JSON.stringify(bad)).toMatch(why);
      }
      const badFlag = await h.call("PATCH", "/api/integrations/Trusty", h.keys.platform, { private_network: "yes" });
      expect(badFlag.statusCode).toBe(422);
      // Org admins may not write either field (nor create integrations).
      envelope(await h.call("PATCH", "/api/integrations/Trusty", h.keys.acmeAdmin, { trusted_origins: ["https://evil.example.com"] }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("PATCH", "/api/integrations/Trusty", h.keys.acmeAdmin, { private_network: false }), 403, "BIFROST_FORBIDDEN");
      envelope(await h.call("POST", "/api/integrations", h.keys.acmeAdmin, { name: "Evil", trusted_origins: ["https://evil.example.com"] }), 403, "BIFROST_FORBIDDEN");
      const after = await getIntegration(h.bf, "Trusty");
      expect(after.trustedOrigins).toEqual(["https://eu.api.example.com", "https://api.example.com:8443"]);
      expect(after.privateNetwork).toBe(true);
      // The read view shows them; http to loopback only with the switch.
      const shown = await h.call("GET", "/api/integrations/Trusty", h.keys.acmeAdmin);
      expect(shown.json()).toMatchObject({ trusted_origins: ["https://eu.api.example.com", "https://api.example.com:8443"], private_network: true });
      const prev = process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
      try {
        process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
        const r = await updateIntegration(h.bf, "Trusty", { trustedOrigins: [`http://127.0.0.1:${l.port}`] });
        expect(r.integration.trustedOrigins).toEqual([`http://127.0.0.1:${l.port}`]);
        delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
        await expect(updateIntegration(h.bf, "Trusty", { trustedOrigins: [`http://127.0.0.1:${l.port}`, "https://a.example.com"] })).rejects.toMatchObject({ code: "BIFROST_VALIDATION" });
      } finally {
        if (prev === undefined) delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
        else process.env.BIFROST_ALLOW_HTTP_LOOPBACK = prev;
      }
      expect((await getIntegration(h.bf, "Trusty")).trustedOrigins).toEqual([`http://127.0.0.1:${l.port}`]);
    });

    it("yaml: trusted_origins and private_network apply, export and re-apply exactly; a bad origin names file, path and line", async () => {
      const yaml = `integrations:\n  - name: YamlTrust\n    trusted_origins:\n      - https://API.example.com\n      - https://eu.example.com:8443\n    private_network: true\n`;
      await applyText(h.bf, yaml, "bifrost.yaml");
      const v = await getIntegration(h.bf, "YamlTrust");
      expect(v.trustedOrigins).toEqual(["https://api.example.com", "https://eu.example.com:8443"]);
      expect(v.privateNetwork).toBe(true);
      const doc = await exportDocument(h.bf);
      const item = doc.integrations.find((i) => i.name === "YamlTrust")!;
      expect(item).toMatchObject({ trusted_origins: ["https://api.example.com", "https://eu.example.com:8443"], private_network: true });
      const reapplied = await applyText(h.bf, JSON.stringify({ integrations: [item] }), "export.json");
      expect(reapplied.changes.filter((c) => c.name === "YamlTrust").map((c) => c.action)).toEqual(["unchanged"]);
      expect((await exportDocument(h.bf)).integrations.find((i) => i.name === "YamlTrust")).toEqual(item);
      const bad = `integrations:\n  - name: YamlTrust\n    trusted_origins:\n      - https://api.example.com\n      - https://*.example.com\n`;
      const e = await fails(applyText(h.bf, bad, "bifrost.yaml"));
      expect(e.code).toBe("BIFROST_APPLY_FILE");
      expect(e.message).toContain("integrations[0].trusted_origins[1]");
      expect(e.message).toMatch(/wildcard/);
      expect(e.details).toMatchObject({ line: 5 });
      const flag = await fails(applyText(h.bf, `integrations:\n  - name: YamlTrust\n    private_network: "yes"\n`, "bifrost.yaml"));
      expect(flag.message).toMatch(/private_network/);
      expect((await getIntegration(h.bf, "YamlTrust")).trustedOrigins).toEqual(["https://api.example.com", "https://eu.example.com:8443"]);
    });
  });
}
