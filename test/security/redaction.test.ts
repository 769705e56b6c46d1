/**
 * Nothing we sent comes back in text (trust model §9.4). A hostile token endpoint on 127.0.0.1 quotes
 * back everything it received (form body, Authorization header) in its error answers, for refresh,
 * code exchange, client credentials and revocation. The stored last_error, the events, the status
 * API and CLI output, the server log and the thrown errors must hold none of the sent values, while
 * the provider's own words are kept (positive control: the request reached the listener, and the
 * stored text carries the provider's marker with [REDACTED] where the values were).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { createLogger } from "../../src/logger.js";
import { disconnect, getOAuthStatus, listOAuthEvents, refreshConnection, setOAuthProvider } from "../../src/oauth/service.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";
import { getAs, oauthDeps, resolverFor, TEST_OAUTH } from "../oauth/helpers/setup.js";
import { type EchoProvider, leaked, type Received, sentForms, startEchoProvider } from "./helpers/echo-provider.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");

/** A client secret with every character that changes under URL, form and Basic encoding. */
const CLIENT_SECRET = "cs+/:%&=Secret_Value-0123'~";
const CLIENT_ID = "echo-client";
const MARKER = "PROVIDER-SAYS";

let seq = 0;
const unique = (prefix: string) => `${prefix}${++seq}+/=${Math.random().toString(36).slice(2, 12)}`;

/** The provider's error answer: its marker plus `quote` (what it received), cut to fit the 200-character display. */
const echo = (quote: (r: Received) => string, status = 400, error = "invalid_request") => (r: Received) => ({ status, body: { error, error_description: `${MARKER} ${quote(r)}` } });

interface Booted {
  bf: Bifrost;
  app: FastifyInstance;
  env: Record<string, string>;
  platformKey: string;
  logs: string[];
  close(): Promise<void>;
}

async function boot(backend: (typeof BACKENDS)[number]): Promise<Booted> {
  const tmp = tempDir("bifrost-redaction-");
  const env: Record<string, string> = { BIFROST_HOME: tmp.dir, BIFROST_KEYRING: generateKeyringJson() };
  let drop = async () => undefined as void;
  if (backend.name === "postgres") {
    const db = await createTestDatabase();
    env.DATABASE_URL = db.url;
    drop = db.drop;
  }
  const bf = await openBifrost({ env: { ...env }, allowCreateDevKeyring: false, warn: () => undefined });
  const logs: string[] = [];
  const logger = createLogger({ level: "trace", destination: { write: (s: string) => void logs.push(s) } });
  const app = await createApp({ bifrost: bf, logger, oauth: TEST_OAUTH });
  const platformKey = (await createApiKey(bf, { role: "platform_admin" })).key;
  return {
    bf,
    app,
    env,
    platformKey,
    logs,
    async close() {
      await app.close();
      await bf.close();
      await drop();
      tmp.cleanup();
    },
  };
}

for (const backend of BACKENDS) {
  describe(`provider text is redacted of every value we sent (${backend.name})`, () => {
    let ep: EchoProvider;
    let b: Booted;
    /** Everything produced about the responses: API bodies, thrown errors, CLI output. Checked at the end too. */
    const shown: string[] = [];

    const call = async (method: string, url: string, body?: unknown) => {
      const res = await b.app.inject({
        method: method as "GET",
        url,
        headers: { authorization: `Bearer ${b.platformKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      shown.push(res.body);
      return res;
    };

    const provider = (name: string, extra: Record<string, unknown> = {}) => ({
      flow: "authorization_code",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      authorization_url: `${ep.base}/${name}/authorize`,
      token_url: `${ep.base}/${name}/token`,
      revocation_url: `${ep.base}/${name}/revoke`,
      scopes: ["read"],
      ...extra,
    });

    /** An authorization-code integration connected for org `acme` through the callback route (the listener issues `rt`). */
    async function connected(name: string, rt: string, extra: Record<string, unknown> = {}): Promise<void> {
      await createIntegration(b.bf, { name });
      await setOAuthProvider(b.bf, name, provider(name, extra));
      ep.answer.set(`/${name}/token`, () => ({ status: 200, body: { access_token: unique("AT-"), token_type: "Bearer", expires_in: 3600, refresh_token: rt } }));
      const started = await call("POST", `/api/integrations/${name}/oauth/authorize`, { org: "acme" });
      expect(started.statusCode, started.body).toBe(200);
      const state = new URL((started.json() as { authorization_url: string }).authorization_url).searchParams.get("state") as string;
      const cb = await b.app.inject({ method: "GET", url: `/api/oauth/callback/${name}?${new URLSearchParams({ code: unique("code-"), state })}` });
      expect(cb.statusCode, cb.body).toBe(200);
    }

    /** Every stored and shown text about `name`: status (API), events (API), stored rows, the log. */
    async function everything(name: string): Promise<string> {
      const status = await call("GET", `/api/integrations/${name}/oauth/status`);
      const events = await call("GET", `/api/events?integration=${name}`);
      const integ = (await b.bf.store.getIntegrationByName(name))!;
      const rows = await b.bf.store.listOAuthTokens({ integrationId: integ.id });
      const stored = JSON.stringify(rows.map((r) => ({ lastError: r.lastError, extra: r.extra, scopes: r.scopes })));
      return [status.body, events.body, stored, b.logs.join("")].join("\n");
    }

    const requestsTo = (path: string) => ep.received.filter((r) => r.path === path);

    beforeAll(async () => {
      ep = await startEchoProvider();
      b = await boot(backend);
      await createOrg(b.bf, { slug: "acme" });
    });
    afterAll(async () => {
      await b?.close();
      await ep?.close();
    });

    it("refresh: the provider quotes the form body and the Basic header → none of it is stored, shown, logged or thrown", async () => {
      await connected("EchoRefresh", unique("rt-"));
      ep.answer.set("/EchoRefresh/token", echo((r) => `body=${r.body} auth=${r.authorization}`));
      const res = await call("POST", "/api/integrations/EchoRefresh/oauth/refresh", { org: "acme" });
      expect(res.statusCode).toBe(502);
      const thrown = await refreshConnection(oauthDeps(b.bf), { integration: "EchoRefresh", org: "acme" }).then(
        () => null,
        (e: unknown) => e as BifrostError,
      );
      expect(thrown).toBeInstanceOf(BifrostError);
      shown.push(thrown!.message, JSON.stringify(thrown!.toJSON()));

      const reqs = requestsTo("/EchoRefresh/token");
      expect(reqs.length).toBe(3); // the code exchange and two refreshes reached the listener
      const forms = sentForms(reqs);
      expect(forms.length).toBeGreaterThan(5);
      const text = await everything("EchoRefresh");
      expect(leaked(`${text}\n${res.body}\n${thrown!.message}`, forms)).toEqual([]);
      // Positive control: the provider's words are kept, with the values cut out.
      const status = (JSON.parse((await call("GET", "/api/integrations/EchoRefresh/oauth/status")).body) as { connections: Array<{ org: string | null; last_error: string }> }).connections.find((c) => c.org === "acme");
      expect(status!.last_error).toContain(MARKER);
      expect(status!.last_error).toContain("grant_type=refresh_token");
      expect(status!.last_error).toContain("[REDACTED]");
      expect(thrown!.message).toContain(MARKER);
      const events = await listOAuthEvents(b.bf, { integration: "EchoRefresh", type: "refresh_failed" });
      expect(JSON.stringify(events[0]?.payload)).toContain(MARKER);
    });

    it("code exchange: the provider quotes code, code_verifier and the Basic header → the callback page and state hold none of them", async () => {
      const name = "EchoCode";
      await createIntegration(b.bf, { name });
      await setOAuthProvider(b.bf, name, provider(name));
      ep.answer.set(`/${name}/token`, echo((r) => `code=${r.params.get("code")} v=${r.params.get("code_verifier")} auth=${r.authorization}`));
      const started = await call("POST", `/api/integrations/${name}/oauth/authorize`, { org: "acme" });
      const state = new URL((started.json() as { authorization_url: string }).authorization_url).searchParams.get("state") as string;
      const cb = await b.app.inject({ method: "GET", url: `/api/oauth/callback/${name}?${new URLSearchParams({ code: unique("code-"), state })}` });
      shown.push(cb.body);
      expect(cb.statusCode).toBe(502);
      const reqs = requestsTo(`/${name}/token`);
      expect(reqs.length).toBe(1);
      expect(reqs[0]!.params.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const forms = sentForms(reqs);
      expect(leaked(`${cb.body}\n${await everything(name)}`, forms)).toEqual([]);
      expect(cb.body).toContain(MARKER);
      expect(cb.body).toContain("[REDACTED]");
    });

    it("client credentials (client_secret_post): the provider quotes client_secret → get() throws without it; last_error keeps the marker", async () => {
      const name = "EchoCC";
      await createIntegration(b.bf, { name });
      await setOAuthProvider(b.bf, name, { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${ep.base}/${name}/token`, token_auth_method: "client_secret_post" });
      ep.answer.set(`/${name}/token`, echo((r) => `secret=${r.params.get("client_secret")} raw=${r.body.slice(0, 120)}`, 400, "temporarily_unavailable"));
      const err = (await getAs(resolverFor(b.bf), name, null).then(
        () => null,
        (e: unknown) => e,
      )) as BifrostError;
      expect(err).toBeInstanceOf(BifrostError);
      expect(err.code).toBe("BIFROST_OAUTH_PROTOCOL");
      shown.push(err.message, JSON.stringify(err.toJSON()));
      const reqs = requestsTo(`/${name}/token`);
      expect(reqs.length).toBe(1);
      expect(reqs[0]!.params.get("client_secret")).toBe(CLIENT_SECRET);
      const forms = sentForms(reqs);
      expect(forms).toContain(CLIENT_SECRET);
      const text = await everything(name);
      expect(leaked(`${text}\n${err.message}`, forms)).toEqual([]);
      expect(text).toContain(MARKER);
      expect(err.message).toContain(MARKER);
    });

    it("revocation: the provider quotes the revoked token and the Basic header → disconnect's revocation_error and the event hold none of it", async () => {
      const name = "EchoRevoke";
      await connected(name, unique("rt-"));
      ep.answer.set(`/${name}/revoke`, echo((r) => `token=${r.params.get("token")} auth=${r.authorization}`));
      const res = await call("DELETE", `/api/integrations/${name}/oauth/connection?org=acme`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { disconnected: boolean; revoked: boolean; revocation_error: string };
      expect(body.disconnected).toBe(true);
      expect(body.revocation_error).toContain(MARKER);
      const reqs = requestsTo(`/${name}/revoke`);
      expect(reqs.length).toBe(1);
      expect(reqs[0]!.params.get("token")).toMatch(/^rt-/);
      const forms = sentForms(reqs);
      expect(leaked(`${res.body}\n${await everything(name)}`, forms)).toEqual([]);
      const events = await listOAuthEvents(b.bf, { integration: name, type: "disconnected" });
      expect(JSON.stringify(events[0]?.payload)).toContain("[REDACTED]");
    });

    // ----- further attacks on the forms a value comes back in ----------------------------------

    it("attack: the refresh token echoed base64-encoded, base64url-encoded and URL-encoded with lower-case hex → redacted", async () => {
      const name = "EchoForms";
      const rt = `rt-${unique("")}/?&+x`;
      await connected(name, rt);
      ep.answer.set(`/${name}/token`, echo((r) => {
        const v = r.params.get("refresh_token") as string;
        return `b64=${Buffer.from(v).toString("base64")} b64u=${Buffer.from(v).toString("base64url")} pct=${encodeURIComponent(v).toLowerCase()}`;
      }));
      const err = await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" }).catch((e: unknown) => e as BifrostError);
      const text = `${(err as BifrostError).message}\n${await everything(name)}`;
      const v = rt;
      for (const f of [v, Buffer.from(v).toString("base64"), Buffer.from(v).toString("base64url"), encodeURIComponent(v).toLowerCase()]) expect(text).not.toContain(f);
      expect(text).toContain(`${MARKER} b64=[REDACTED]`);
    });

    it("attack: the provider quotes only the first 20 characters of the refresh token → no run of it survives", async () => {
      const name = "EchoPrefix";
      const rt = `rt-${"Q".repeat(3)}${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
      await connected(name, rt);
      ep.answer.set(`/${name}/token`, echo((r) => `token '${(r.params.get("refresh_token") as string).slice(0, 20)}…' is not valid`));
      await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" }).catch(() => undefined);
      const text = await everything(name);
      expect(text).not.toContain(rt.slice(0, 12));
      expect(text).not.toContain(rt.slice(4, 16));
      expect(text).toContain("is not valid");
    });

    it("attack: the provider quotes the decoded Basic credentials (id:secret) → the secret is gone, the client id stays visible", async () => {
      const name = "EchoBasic";
      await connected(name, unique("rt-"));
      ep.answer.set(`/${name}/token`, echo((r) => `client ${Buffer.from((r.authorization ?? "").slice(6), "base64").toString("utf8")} rejected`, 401, "invalid_client"));
      const err = await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" }).catch((e: unknown) => e as BifrostError);
      expect((err as BifrostError).code).toBe("BIFROST_OAUTH_CLIENT_REJECTED");
      const text = `${(err as BifrostError).message}\n${await everything(name)}`;
      expect(leaked(text, sentForms(requestsTo(`/${name}/token`)))).toEqual([]);
      expect(text).not.toContain(encodeURIComponent(CLIENT_SECRET));
      expect((err as BifrostError).message).toContain("client echo%2Dclient:[REDACTED] rejected");
    });

    it("attack: the client secret in the provider's error code and HTML-escaped in its description → redacted in both", async () => {
      const name = "EchoCodeField";
      await connected(name, unique("rt-"));
      const html = CLIENT_SECRET.replace(/&/g, "&amp;").replace(/'/g, "&#39;");
      ep.answer.set(`/${name}/token`, () => ({ status: 400, body: { error: `bad_${CLIENT_SECRET}`, error_description: `${MARKER} got ${html}` } }));
      const err = (await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" }).catch((e: unknown) => e)) as BifrostError;
      const text = `${err.message}\n${await everything(name)}`;
      for (const f of [CLIENT_SECRET, html, CLIENT_SECRET.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`)]) expect(text).not.toContain(f);
      expect(err.message).toContain("bad_[REDACTED]");
    });

    it("attack: the secret placed to straddle the 200-character display cut → no prefix of it is kept", async () => {
      const name = "EchoCut";
      const rt = `rt-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
      await connected(name, rt);
      ep.answer.set(`/${name}/token`, echo((r) => `${"x".repeat(200 - MARKER.length - 1 - 10)}${r.params.get("refresh_token")}`));
      await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" }).catch(() => undefined);
      const text = await everything(name);
      expect(text).not.toContain(rt.slice(0, 10));
      expect(text).toContain("xxxxxxxx");
    });

    it("attack: a successful token response that carries the old refresh token and the client secret in extra fields → stored extra and scope are redacted", async () => {
      const name = "EchoExtra";
      const rt = unique("rt-");
      await connected(name, rt);
      ep.answer.set(`/${name}/token`, (r) => ({
        status: 200,
        body: { access_token: unique("AT-"), token_type: "Bearer", expires_in: 3600, scope: `read ${r.params.get("refresh_token")}`, instance_url: "https://instance.example", debug: { seen: r.params.get("refresh_token"), auth: r.authorization } },
      }));
      const view = await refreshConnection(oauthDeps(b.bf), { integration: name, org: "acme" });
      expect(view.state).toBe("connected");
      const text = await everything(name);
      expect(leaked(text, sentForms(requestsTo(`/${name}/token`).slice(1)))).toEqual([]);
      const integ = (await b.bf.store.getIntegrationByName(name))!;
      const [row] = await b.bf.store.listOAuthTokens({ integrationId: integ.id });
      expect(row!.extra.instance_url).toBe("https://instance.example");
      expect(row!.scopes).toContain("read");
    });

    it("bifrost oauth status --json and bifrost events --json (CLI) show none of the sent values", async () => {
      if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests.");
      const run = (args: string[]) => {
        const env: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && k !== "DATABASE_URL" && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
        const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...b.env } });
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
        return new Promise<{ status: number | null; out: string }>((done) => child.on("close", (status) => done({ status, out })));
      };
      const status = await run(["oauth", "status", "EchoRefresh", "--json"]);
      expect(status.status, status.out).toBe(0);
      const events = await run(["events", "--json"]);
      expect(events.status, events.out).toBe(0);
      shown.push(status.out, events.out);
      expect(status.out).toContain(MARKER);
      const all = sentForms(ep.received);
      expect(leaked(`${status.out}\n${events.out}`, all)).toEqual([]);
    });

    it("everything shown in this suite (API bodies, errors, CLI output, log) holds no value any request sent", async () => {
      const all = sentForms(ep.received);
      expect(all.length).toBeGreaterThan(20);
      const text = [...shown, b.logs.join(""), JSON.stringify(await getOAuthStatus(b.bf)), JSON.stringify(await listOAuthEvents(b.bf))].join("\n");
      expect(leaked(text, all)).toEqual([]);
    });

    it("disconnect of a connection whose provider has no revocation answer keeps working (control)", async () => {
      const name = "EchoNoRevoke";
      await connected(name, unique("rt-"));
      ep.answer.set(`/${name}/revoke`, () => ({ status: 200, body: "" }));
      const res = await disconnect(oauthDeps(b.bf), { integration: name, org: "acme" });
      expect(res).toEqual({ disconnected: true, revoked: true, revocationError: null });
    });
  });
}
