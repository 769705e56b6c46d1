import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { checkUrlAllowed } from "../../src/oauth/guarded-fetch.js";
import { oauthOptionsFromEnv } from "../../src/oauth/options.js";
import { getOAuthProvider, getOAuthStatus, refreshConnection, setOAuthProvider } from "../../src/oauth/service.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { getAs, resolverFor } from "./helpers/setup.js";
import { startTokenServer, tokenBody, type TokenServer } from "./helpers/token-server.js";

const CLIENT_SECRET = "raw-client-secret-Zq9!x7";

/**
 * Token-endpoint behaviour against a raw node:http server on 127.0.0.1 (client-credentials grant, the
 * same response pipeline as code exchange and refresh): quirk shims only with their explicit option,
 * 200-with-error, and the guarded fetch refusals (scheme/host, redirects, size cap, timeout).
 */
for (const backend of BACKENDS) {
  describe(`token endpoint quirks and guarded fetch (${backend.name})`, () => {
    let ts: TokenServer;
    let canary: TokenServer;
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let n = 0;

    beforeAll(async () => {
      ts = await startTokenServer();
      canary = await startTokenServer();
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
      await ts?.close();
      await canary?.close();
    });
    beforeEach(() => {
      ts.counts = {};
      canary.counts = {};
    });

    /** A fresh client-credentials integration whose token URL is `${ts.base}/<name>`. */
    async function integration(extra: Record<string, unknown> = {}, tokenUrl?: (path: string) => string): Promise<{ name: string; path: string }> {
      const name = `Raw${++n}`;
      const path = `/t/${name}`;
      await createIntegration(bf, { name });
      await setOAuthProvider(bf, name, { flow: "client_credentials", client_id: "raw-client", client_secret: CLIENT_SECRET, token_url: tokenUrl ? tokenUrl(path) : `${ts.base}${path}`, ...extra });
      return { name, path };
    }

    const resolver = (extra = {}) => resolverFor(bf, { timeoutMs: 800, ...extra });

    async function failGet(name: string, extra = {}): Promise<BifrostError> {
      const err = await getAs(resolver(extra), name, null).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BifrostError);
      return err as BifrostError;
    }

    /** No access token stored for the integration (the row may exist, with an error state). */
    async function nothingStored(name: string): Promise<void> {
      const integ = (await bf.store.getIntegrationByName(name))!;
      for (const t of await bf.store.listOAuthTokens({ integrationId: integ.id })) {
        expect(t.accessToken).toBeNull();
        expect(t.state).not.toBe("connected");
      }
    }

    function noSecrets(err: BifrostError, secrets: string[]): void {
      const text = `${err.message}\n${JSON.stringify(err.toJSON())}`;
      for (const s of [...secrets, CLIENT_SECRET]) expect(text).not.toContain(s);
    }

    // ----- quirks: each works only with its explicit option ------------------------------------

    it("form-encoded token response: refused without the quirk (protocol error, nothing stored)", async () => {
      const body = new URLSearchParams({ access_token: "FORM-AT-secret-1", token_type: "bearer", expires_in: "3600", scope: "read" }).toString();
      const { name, path } = await integration();
      ts.routes.set(path, { contentType: "application/x-www-form-urlencoded", body });
      const err = await failGet(name);
      expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
      expect(err.message).toMatch(/form_encoded_token_response/);
      noSecrets(err, ["FORM-AT-secret-1"]);
      await nothingStored(name);
      expect(ts.counts[path]).toBe(1);
    });

    it("form-encoded token response: accepted with quirks.form_encoded_token_response", async () => {
      const { name, path } = await integration({ quirks: { form_encoded_token_response: true } });
      ts.routes.set(path, { contentType: "application/x-www-form-urlencoded; charset=utf-8", body: new URLSearchParams({ access_token: "FORM-AT-ok", token_type: "bearer", expires_in: "3600", team: "T1" }).toString() });
      const r = await getAs(resolver(), name, null);
      expect(r?.oauth?.accessToken).toBe("FORM-AT-ok");
      expect(r?.oauth?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3000_000);
    });

    it("missing token_type: refused without the quirk, accepted with quirks.default_token_type", async () => {
      const off = await integration();
      ts.routes.set(off.path, { body: { access_token: "NO-TT-secret", expires_in: 3600 } });
      const err = await failGet(off.name);
      expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
      expect(err.message).toMatch(/token_type/);
      noSecrets(err, ["NO-TT-secret"]);
      await nothingStored(off.name);

      const on = await integration({ quirks: { default_token_type: "Bearer" } });
      ts.routes.set(on.path, { body: { access_token: "NO-TT-ok", expires_in: 3600 } });
      const r = await getAs(resolver(), on.name, null);
      expect(r?.oauth?.accessToken).toBe("NO-TT-ok");
      expect(r?.oauth?.tokenType).toBe("bearer");
    });

    it("expires_in as a string: refused without the quirk, accepted (as a number) with quirks.expires_in_as_string", async () => {
      const off = await integration();
      ts.routes.set(off.path, { body: { access_token: "STR-EXP-secret", token_type: "Bearer", expires_in: "3599" } });
      const err = await failGet(off.name);
      expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
      expect(err.message).toMatch(/expires_in_as_string/);
      noSecrets(err, ["STR-EXP-secret"]);
      await nothingStored(off.name);

      const on = await integration({ quirks: { expires_in_as_string: true } });
      ts.routes.set(on.path, { body: { access_token: "STR-EXP-ok", token_type: "Bearer", expires_in: "3599" } });
      const before = Date.now();
      const r = await getAs(resolver(), on.name, null);
      expect(r?.oauth?.accessToken).toBe("STR-EXP-ok");
      const exp = r!.oauth!.expiresAt!.getTime();
      expect(exp).toBeGreaterThanOrEqual(before + 3598_000);
      expect(exp).toBeLessThanOrEqual(Date.now() + 3600_000);
      // A non-numeric string stays refused even with the quirk.
      const bad = await integration({ quirks: { expires_in_as_string: true } });
      ts.routes.set(bad.path, { body: { access_token: "STR-EXP-bad", token_type: "Bearer", expires_in: "soon" } });
      expect((await failGet(bad.name)).code).toBe("BIFROST_OAUTH_PROTOCOL");
      await nothingStored(bad.name);
    });

    it("the quirk view is echoed and the options are independent (one quirk does not loosen another)", async () => {
      const { name, path } = await integration({ quirks: { default_token_type: "bearer" } });
      expect((await getOAuthProvider(bf, name))?.quirks).toEqual({ default_token_type: "bearer" });
      ts.routes.set(path, { body: { access_token: "MIX-secret", expires_in: "60" } });
      expect((await failGet(name)).code).toBe("BIFROST_OAUTH_PROTOCOL");
      await nothingStored(name);
    });

    it("extra response fields are kept with the token (never the tokens themselves)", async () => {
      const { name, path } = await integration();
      ts.routes.set(path, { body: tokenBody({ instance_url: "https://acme.my.example.com", team: { id: "T9" }, refresh_token_expires_in: 100 }) });
      await getAs(resolver(), name, null);
      const integ = (await bf.store.getIntegrationByName(name))!;
      const [row] = await bf.store.listOAuthTokens({ integrationId: integ.id });
      expect(row?.state).toBe("connected");
      expect(row?.extra).toEqual({ instance_url: "https://acme.my.example.com", team: { id: "T9" }, refresh_token_expires_in: 100 });
    });

    // ----- 200 with an error body -------------------------------------------------------------

    it("200 with {error: …} → protocol error, nothing stored, no secret in the message", async () => {
      const { name, path } = await integration();
      ts.routes.set(path, { status: 200, body: { error: "invalid_auth", error_description: `client ${CLIENT_SECRET} bad`, ok: false, access_token_hint: "LEAK-AT-1" } });
      const err = await failGet(name);
      expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
      noSecrets(err, ["LEAK-AT-1"]);
      await nothingStored(name);
      const st = (await getOAuthStatus(bf, { integration: name }))[0];
      expect(st?.state).toBe("error");
      expect(st?.lastError ?? "").not.toContain(CLIENT_SECRET);
    });

    // ----- guarded fetch refusals -------------------------------------------------------------

    it("http to a non-loopback host is refused with and without BIFROST_ALLOW_HTTP_LOOPBACK (no request)", async () => {
      const withOff = oauthOptionsFromEnv({});
      const withOn = oauthOptionsFromEnv({ BIFROST_ALLOW_HTTP_LOOPBACK: "1" });
      expect(withOn.allowHttpLoopback).toBe(true);
      expect(withOff.allowHttpLoopback).toBe(false);
      for (const url of ["http://example.com/token", "http://10.0.0.1/token", "http://127.0.0.1.nip.io/token", "http://[::ffff:127.0.0.1]/token"]) {
        expect(() => checkUrlAllowed(url, withOff)).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));
        expect(() => checkUrlAllowed(url, withOn)).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));
      }
      expect(() => checkUrlAllowed("ftp://127.0.0.1/x", withOn)).toThrow(expect.objectContaining({ code: "BIFROST_OAUTH_URL_REFUSED" }));
      expect(checkUrlAllowed(`${ts.base}/x`, withOn).host).toBe(new URL(ts.base).host);

      // A non-loopback http token URL is refused when it is written, before any grant can use it.
      await expect(integration({}, () => "http://bifrost-test.invalid/token")).rejects.toMatchObject({ code: "BIFROST_OAUTH_URL_REFUSED", message: expect.stringMatching(/plain http/) });
      // Loopback http only with the switch.
      const local = await integration();
      ts.routes.set(local.path, { body: tokenBody() });
      expect((await failGet(local.name, { allowHttpLoopback: false })).code).toBe("BIFROST_OAUTH_URL_REFUSED");
      expect(ts.total()).toBe(0);
      await nothingStored(local.name);
    });

    it("a 302 from the token endpoint to a loopback canary is not followed (canary sees 0 requests)", async () => {
      canary.routes.set("/steal", { body: tokenBody() });
      for (const status of [301, 302, 307, 308]) {
        const { name, path } = await integration();
        ts.routes.set(path, { status, headers: { location: `${canary.base}/steal` }, body: "" });
        const err = await failGet(name);
        expect(err.code).toBe("BIFROST_OAUTH_URL_REFUSED");
        expect(err.message).toMatch(/redirect/);
        await nothingStored(name);
      }
      expect(canary.total()).toBe(0);
    });

    it("an oversized body is refused (declared content-length and chunked)", async () => {
      for (const chunked of [false, true]) {
        const { name, path } = await integration();
        ts.routes.set(path, { bigBody: { bytes: 64 * 1024, chunked } });
        const err = await failGet(name, { maxResponseBytes: 8 * 1024 });
        expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
        expect(err.message).toMatch(/larger than 8192 bytes/);
        await nothingStored(name);
      }
    });

    it("a hung token endpoint times out; the lock is released and a later refresh succeeds", async () => {
      const { name, path } = await integration();
      ts.routes.set(path, { hang: true });
      const t0 = Date.now();
      const err = await failGet(name, { timeoutMs: 300 });
      expect(err.code).toBe("BIFROST_OAUTH_TRANSIENT");
      expect(err.message).toMatch(/timeout/);
      expect(Date.now() - t0).toBeLessThan(3000);
      await nothingStored(name);
      // The endpoint recovers: a forced refresh (which takes the same per-token lock) goes through promptly.
      ts.routes.set(path, { body: tokenBody() });
      const t1 = Date.now();
      const view = await refreshConnection({ store: bf.store, box: bf.box, clock: bf.clock, oauth: { allowHttpLoopback: true, timeoutMs: 2000 } }, { integration: name });
      expect(view.state).toBe("connected");
      expect(Date.now() - t1).toBeLessThan(2000);
      expect(ts.counts[path]).toBe(2);
      // And integrations.get() now returns that token without another request.
      const r = await getAs(resolver(), name, null);
      expect(r?.oauth?.accessToken).toMatch(/^AT-/);
      expect(ts.counts[path]).toBe(2);
    });
  });
}
