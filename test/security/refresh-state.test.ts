/**
 * Refresh bookkeeping that an attacker or a broken network can steer (trust model §9.4):
 * - backoff state (failure_count, next_attempt_at) resets when the provider config changes through the
 *   API, yaml apply or the service, so a fixed misconfiguration is retried at once — and only then;
 * - "interrupted_refresh" is reported only when the earlier attempt may really have reached the
 *   provider (timeout after connecting), never after one that could not connect (connection refused,
 *   refused address).
 * Against a recording listener on 127.0.0.1, on SQLite and PostgreSQL.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { INTERRUPTED_REFRESH_ERROR, REVOKED_ERROR } from "../../src/oauth/refresh.js";
import { completeAuthorization, getOAuthStatus, listOAuthEvents, refreshConnection, setOAuthProvider, startAuthorization } from "../../src/oauth/service.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { applyText } from "../../src/services/apply.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { getAs, oauthDeps, resolverFor, TEST_OAUTH } from "../oauth/helpers/setup.js";
import { type EchoProvider, startEchoProvider } from "./helpers/echo-provider.js";

/** Backoff long enough that only a reset lets the next call through (no timing involved). */
const LONG_BACKOFF = { backoffBaseMs: 3_600_000, backoffMaxMs: 3_600_000 };
const tokens = () => ({ status: 200, body: { access_token: `AT-${Math.random().toString(36).slice(2)}`, token_type: "Bearer", expires_in: 3600, refresh_token: `RT-${Math.random().toString(36).slice(2)}` } });

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = http.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const backend of BACKENDS) {
  describe(`backoff reset and interrupted-refresh classification (${backend.name})`, () => {
    let ep: EchoProvider;
    let bf: Bifrost;
    let app: FastifyInstance;
    let key: string;
    let cleanup: () => Promise<void>;

    const count = (path: string) => ep.received.filter((r) => r.path === path).length;
    const row = async (name: string) => {
      const integ = (await bf.store.getIntegrationByName(name))!;
      return (await bf.store.listOAuthTokens({ integrationId: integ.id }))[0]!;
    };
    const cc = (name: string, extra: Record<string, unknown> = {}) => ({ flow: "client_credentials", client_id: "c", client_secret: "first-secret-value", token_url: `${ep.base}/${name}/token`, ...extra });
    const failGet = (name: string) => getAs(resolverFor(bf, LONG_BACKOFF), name, null).then(() => null, (e: unknown) => e as BifrostError);

    /** A client-credentials integration whose first call failed with invalid_client: now backing off. */
    async function backingOff(name: string): Promise<void> {
      await createIntegration(bf, { name });
      await setOAuthProvider(bf, name, cc(name));
      ep.answer.set(`/${name}/token`, () => ({ status: 401, body: { error: "invalid_client" } }));
      expect((await failGet(name))?.code).toBe("BIFROST_OAUTH_CLIENT_REJECTED");
      const r = await row(name);
      expect(r.failureCount).toBe(1);
      expect(r.nextAttemptAt).not.toBeNull();
      // While backing off, a second call does not reach the provider.
      await failGet(name);
      expect(count(`/${name}/token`)).toBe(1);
    }

    beforeAll(async () => {
      ep = await startEchoProvider();
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      app = await createApp({ bifrost: bf, oauth: TEST_OAUTH });
      key = (await createApiKey(bf, { role: "platform_admin" })).key;
      await createOrg(bf, { slug: "acme" });
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
      await ep?.close();
    });

    it("a new client secret (service) resets the backoff: the next call reaches the provider at once and connects", async () => {
      const name = "BackoffSecret";
      await backingOff(name);
      ep.answer.set(`/${name}/token`, () => tokens());
      await setOAuthProvider(bf, name, cc(name, { client_secret: "fixed-secret-value" }));
      const r = await row(name);
      expect(r.failureCount).toBe(0);
      expect(r.nextAttemptAt).toBeNull();
      const got = await getAs(resolverFor(bf, LONG_BACKOFF), name, null);
      expect(got?.oauth?.accessToken).toMatch(/^AT-/);
      expect(count(`/${name}/token`)).toBe(2);
      expect(decodeURIComponent(Buffer.from(ep.received.at(-1)!.authorization!.slice(6), "base64").toString("utf8"))).toBe("c:fixed-secret-value");
    });

    it("changed settings through PUT /api/integrations/:name/oauth reset the backoff", async () => {
      const name = "BackoffApi";
      await backingOff(name);
      ep.answer.set(`/${name}/token2`, () => tokens());
      const res = await app.inject({
        method: "PUT",
        url: `/api/integrations/${name}/oauth`,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        payload: JSON.stringify(cc(name, { token_url: `${ep.base}/${name}/token2` })),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect((await row(name)).nextAttemptAt).toBeNull();
      expect((await getAs(resolverFor(bf, LONG_BACKOFF), name, null))?.oauth?.accessToken).toMatch(/^AT-/);
      expect(count(`/${name}/token2`)).toBe(1);
    });

    it("changed settings through yaml apply reset the backoff", async () => {
      const name = "BackoffYaml";
      await backingOff(name);
      ep.answer.set(`/${name}/token`, () => tokens());
      const yaml = `integrations:\n  - name: ${name}\n    oauth:\n      flow: client_credentials\n      client_id: c\n      client_secret: first-secret-value\n      token_url: ${ep.base}/${name}/token\n      scopes: [read]\n`;
      await applyText(bf, yaml, "bifrost.yaml");
      expect((await row(name)).failureCount).toBe(0);
      expect((await getAs(resolverFor(bf, LONG_BACKOFF), name, null))?.oauth?.accessToken).toMatch(/^AT-/);
      expect(count(`/${name}/token`)).toBe(2);
    });

    it("control: writing the same provider again (masked secret echo) keeps the backoff — no extra request", async () => {
      const name = "BackoffSame";
      await backingOff(name);
      const before = await row(name);
      await setOAuthProvider(bf, name, cc(name));
      const view = (await app.inject({ method: "GET", url: `/api/integrations/${name}/oauth`, headers: { authorization: `Bearer ${key}` } })).json() as { oauth: { client_secret: unknown } };
      await setOAuthProvider(bf, name, cc(name, { client_secret: view.oauth.client_secret }));
      const after = await row(name);
      expect(after.failureCount).toBe(before.failureCount);
      expect(after.nextAttemptAt).toBe(before.nextAttemptAt);
      await failGet(name);
      expect(count(`/${name}/token`)).toBe(1);
    });

    /** An authorization-code connection for acme, issued by the listener; returns the token path. */
    async function connected(name: string): Promise<string> {
      const path = `/${name}/token`;
      await createIntegration(bf, { name });
      await setOAuthProvider(bf, name, { flow: "authorization_code", client_id: "c", client_secret: "s-secret-1", authorization_url: `${ep.base}/${name}/authorize`, token_url: `${ep.base}${path}` });
      ep.answer.set(path, () => tokens());
      const started = await startAuthorization(oauthDeps(bf), { integration: name, org: "acme", initiatorKeyId: null });
      await completeAuthorization(oauthDeps(bf), { integration: name, query: { code: "the-code-123", state: started.state } });
      return path;
    }
    const refreshErr = (name: string, extra: Record<string, unknown> = {}) =>
      refreshConnection(oauthDeps(bf, extra), { integration: name, org: "acme" }).then(
        () => null,
        (e: unknown) => e as BifrostError,
      );
    const acme = async (name: string) => (await getOAuthStatus(bf, { integration: name })).find((c) => c.org === "acme")!;

    it("an attempt that never connected (connection refused, refused address) does not make the next invalid_grant 'interrupted'", async () => {
      const name = "NeverSent";
      const path = await connected(name);
      const port = await closedPort();
      await setOAuthProvider(bf, name, { flow: "authorization_code", client_id: "c", client_secret: "s-secret-1", authorization_url: `${ep.base}/${name}/authorize`, token_url: `http://127.0.0.1:${port}/token` });
      const refused = await refreshErr(name);
      expect(refused?.code).toBe("BIFROST_OAUTH_TRANSIENT");
      expect(refused?.details?.reason).toBe("unreachable");
      expect((await acme(name)).refreshInterrupted).toBe(false);
      // A refused address (loopback without the development switch): refused before any connection.
      await setOAuthProvider(bf, name, { flow: "authorization_code", client_id: "c", client_secret: "s-secret-1", authorization_url: `${ep.base}/${name}/authorize`, token_url: `https://127.0.0.1:${port}/token` });
      const policy = await refreshErr(name, { allowHttpLoopback: false });
      expect(policy?.code).toBe("BIFROST_OAUTH_URL_REFUSED");
      expect(policy?.details?.reason).toBe("address");
      expect((await acme(name)).refreshInterrupted).toBe(false);
      // Back to the listener, which now rejects the grant: a genuine invalid_grant.
      await setOAuthProvider(bf, name, { flow: "authorization_code", client_id: "c", client_secret: "s-secret-1", authorization_url: `${ep.base}/${name}/authorize`, token_url: `${ep.base}${path}` });
      ep.answer.set(path, () => ({ status: 400, body: { error: "invalid_grant" } }));
      const dead = await refreshErr(name);
      expect(dead?.code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
      expect(dead?.details?.interrupted).toBe(false);
      const c = await acme(name);
      expect(c.state).toBe("needs_reauth");
      expect(c.lastError).toBe(REVOKED_ERROR);
      const events = await listOAuthEvents(bf, { integration: name, type: "needs_reauth" });
      expect(events.map((e) => e.payload.reason)).toEqual(["invalid_grant"]);
      expect(count(path)).toBe(2); // the code exchange and the final refresh; the failed attempts never arrived
    });

    it("an attempt that reached the provider and got no answer (timeout) makes the next invalid_grant 'interrupted'", async () => {
      const name = "SentNoAnswer";
      const path = await connected(name);
      ep.answer.set(path, () => null);
      const timedOut = await refreshErr(name, { timeoutMs: 300 });
      expect(timedOut?.code).toBe("BIFROST_OAUTH_TRANSIENT");
      expect(timedOut?.details?.reason).toBe("timeout");
      expect((await acme(name)).refreshInterrupted).toBe(true);
      ep.answer.set(path, () => ({ status: 400, body: { error: "invalid_grant" } }));
      const dead = await refreshErr(name);
      expect(dead?.code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
      expect(dead?.details?.interrupted).toBe(true);
      expect((await acme(name)).lastError).toBe(INTERRUPTED_REFRESH_ERROR);
      const events = await listOAuthEvents(bf, { integration: name, type: "needs_reauth" });
      expect(events.map((e) => e.payload.reason)).toEqual(["interrupted_refresh"]);
      expect(count(path)).toBe(3); // exchange, the unanswered refresh (it did arrive), the rejected one
    });
  });
}
