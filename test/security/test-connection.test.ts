/**
 * Test connection with every auth form and method, as attacks on SQLite and PostgreSQL. A listener on
 * every interface records each connection and request; for each auth form the legitimate call
 * delivers the right credential (positive control), then: an org's base_url override to an untrusted
 * origin gets no integration-level credential, refused addresses get no connection at all, redirects
 * are answered and not followed, nothing we sent comes back in the answer, and bad method / auth /
 * body are refused with a 422 naming the field before anything is sent.
 */
import { once } from "node:events";
import http from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS } from "../helpers/backends.js";
import { envelope, type Harness, setup } from "../server/harness.js";
import { type Listener, startListener } from "./outbound-listener.js";

const BEARER = "bt-integration-SECRET-51c0ffee";
const USER = "tc-basic-user-8d21";
const PASSWORD = "pw-basic-SECRET-2b7e91";
const API_KEY = "ak-integration-SECRET-0b44d2";
const GLOBEX_KEY = "ak-globex-own-SECRET-77e1aa";
const INITECH_KEY = "ak-initech-own-SECRET-3c9d10";
const CLIENT_SECRET = "cs-testconn-SECRET-6f02";
const TOKEN = "AT-testconn-SECRET-91aa7b";
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
const NEVER_OUT = [BEARER, USER, PASSWORD, API_KEY, GLOBEX_KEY, INITECH_KEY, CLIENT_SECRET, TOKEN, BASIC];

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The API: listens on every interface (so a refused address of this host would reach it), records connections and requests, echoes what it got. */
async function startApi(): Promise<{ port: number; base: string; seen: Seen[]; connections: Socket[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const connections: Socket[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", path, headers: req.headers, body });
      if (path === "/token") minted++;
      if (path === "/api/stale" && req.headers.authorization === `Bearer ${TOKEN}`) {
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
      } else if (path === "/api/huge") {
        res.writeHead(200, { "content-type": "text/plain" }).end(`${API_KEY} `.repeat(40_000));
      } else if (path === "/token") {
        // The first token, then renewed ones (each contains TOKEN, so "TOKEN never in the answer" covers them).
        const access = minted === 1 ? TOKEN : `${TOKEN}-renewed-${minted}`;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: access, token_type: "Bearer", expires_in: 3600 }));
      } else if (path.startsWith("/api/moved")) {
        res.writeHead(302, { location: `${path.includes("away") ? canaryBase : ""}/api/echo?after=redirect` }).end();
      } else {
        // Echo every credential we were sent, in the body and in headers: the answer must show none of it.
        const raw = (req.headers.authorization ?? "").replace(/^\S+ /, "");
        // `raw`: the credential without its scheme word, so only the secret list (not the Bearer/Basic pattern) can hide it.
        const echo = { method: req.method, path, authorization: req.headers.authorization ?? null, raw, api_key: req.headers["x-api-key"] ?? null, body };
        res.writeHead(200, {
          "content-type": "application/json",
          "x-request-id": `req-${req.headers.authorization ?? req.headers["x-api-key"] ?? "anon"}`,
          "www-authenticate": `Bearer realm="echo", seen="${req.headers["x-api-key"] ?? ""}"`,
          "set-cookie": `sid=${req.headers["x-api-key"] ?? "x"}`,
        });
        res.end(req.method === "HEAD" ? undefined : JSON.stringify(echo));
      }
    });
  });
  server.on("connection", (s: Socket) => connections.push(s));
  server.listen(0, "0.0.0.0");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    seen,
    connections,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let canaryBase = "";
/** Tokens minted by the API's token endpoint (per backend run: reset in beforeAll). */
let minted = 0;

for (const backend of BACKENDS) {
  describe(`test connection: every auth form and method (${backend.name})`, () => {
    let h: Harness;
    let api: Awaited<ReturnType<typeof startApi>>;
    let canary: Listener;

    beforeAll(async () => {
      minted = 0;
      api = await startApi();
      canary = await startListener();
      canaryBase = canary.base;
      canary.answers.set("/api/echo", { body: { canary: true } });
      h = await setup(backend, { oauth: { allowHttpLoopback: true, publicUrl: "http://127.0.0.1:9" } });
      const schema = [
        { key: "base_url", type: "string", required: true },
        { key: "bearer_token", type: "secret", required: false },
        { key: "username", type: "string", required: false },
        { key: "password", type: "secret", required: false },
        { key: "api_key", type: "secret", required: false },
      ];
      await createIntegration(h.bf, { name: "Keys", configSchema: schema, defaults: { base_url: `${api.base}/api`, bearer_token: BEARER, username: USER, password: PASSWORD, api_key: API_KEY } });
      await setOAuthProvider(h.bf, "Keys", { flow: "client_credentials", client_id: "tc", client_secret: CLIENT_SECRET, token_url: `${api.base}/token` });
      await setMapping(h.bf, "Keys", "acme", {});
      // globex points its base_url at another origin; it set its own api_key, nothing else.
      await setMapping(h.bf, "Keys", "globex", { config: { base_url: `${canary.base}/api`, api_key: GLOBEX_KEY } });
      await createOrg(h.bf, { slug: "initech", name: "Initech" });
      await createIntegration(h.bf, { name: "Bare", configSchema: schema.slice(0, 2), defaults: { base_url: `${api.base}/api` } });
    });
    afterAll(async () => {
      await h?.close();
      await api?.close();
      await canary?.close();
    });
    beforeEach(() => {
      api.seen.length = 0;
      api.connections.length = 0;
      canary.received.length = 0;
    });

    const test = (body: Record<string, unknown>, name = "Keys") => h.call("POST", `/api/integrations/${name}/test-connection`, h.keys.platform, body);
    const noSecrets = (text: string) => {
      for (const s of NEVER_OUT) expect(text, s).not.toContain(s);
    };

    it("options: the auth forms the integration can use, its default and the methods", async () => {
      const r = await h.call("GET", "/api/integrations/Keys/test-connection", h.keys.platform);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({
        integration: "Keys",
        default_auth: "oauth",
        auth_choices: [
          { form: "oauth", kind: "oauth", config_keys: [] },
          { form: "bearer", kind: "bearer", config_keys: ["bearer_token"] },
          { form: "basic", kind: "basic", config_keys: ["username", "password"] },
          { form: "api-key:header:NAME", kind: "api-key", config_keys: ["api_key"] },
          { form: "api-key:query:NAME", kind: "api-key", config_keys: ["api_key"] },
          { form: "none", kind: "none", config_keys: [] },
        ],
        methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      });
      const bare = (await h.call("GET", "/api/integrations/Bare/test-connection", h.keys.platform)).json();
      expect(bare).toMatchObject({ default_auth: "none", auth_choices: [{ form: "bearer" }, { form: "none" }] });
      envelope(await h.call("GET", "/api/integrations/Keys/test-connection", h.keys.acmeAdmin), 403, "BIFROST_FORBIDDEN");
    });

    it("positive controls: each auth form delivers its credential to the trusted base URL; the answer names kind and keys and shows no value", async () => {
      const cases: Array<[string | undefined, (s: Seen) => void, Record<string, unknown>]> = [
        [undefined, (s) => expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`), { choice: "oauth", kind: "oauth", config_keys: [], source: "default" }],
        ["oauth", (s) => expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`), { choice: "oauth", kind: "oauth", source: "request" }],
        ["bearer", (s) => expect(s.headers.authorization).toBe(`Bearer ${BEARER}`), { choice: "bearer", kind: "bearer", config_keys: ["bearer_token"] }],
        ["basic", (s) => expect(s.headers.authorization).toBe(`Basic ${BASIC}`), { choice: "basic", kind: "basic", config_keys: ["username", "password"] }],
        ["api-key:header:X-Api-Key", (s) => expect([s.headers["x-api-key"], s.headers.authorization]).toEqual([API_KEY, undefined]), { choice: "api-key:header:X-Api-Key", kind: "api-key", config_keys: ["api_key"] }],
        ["api-key:query:token", (s) => expect([new URL(s.path, api.base).searchParams.get("token"), s.headers.authorization]).toEqual([API_KEY, undefined]), { choice: "api-key:query:token", kind: "api-key" }],
        ["none", (s) => expect([s.headers.authorization, s.headers["x-api-key"]]).toEqual([undefined, undefined]), { choice: "none", kind: "none", config_keys: [] }],
      ];
      for (const [auth, check, used] of cases) {
        api.seen.length = 0;
        const r = await test({ org: "acme", path: "/echo?n=1", ...(auth ? { auth } : {}) });
        expect(r.statusCode, `${auth}: ${r.body}`).toBe(200);
        const hit = api.seen.find((s) => s.path.startsWith("/api/echo"));
        expect(hit, auth).toBeDefined();
        check(hit as Seen);
        const out = r.json();
        expect(out, auth).toMatchObject({ org: "acme", method: "GET", status: 200, url: `${api.base}/api/echo?n=1`, auth: used });
        expect(out.headers["set-cookie"]).toBeUndefined();
        expect(out.headers["x-request-id"]).toMatch(/^req-/);
        noSecrets(r.body);
      }
      // The echoed credentials came back redacted, in the body and in the headers shown.
      const basic = (await test({ org: "acme", path: "/echo", auth: "basic" })).json();
      expect(JSON.parse(basic.body)).toMatchObject({ authorization: "Basic [REDACTED]", raw: "[REDACTED]" });
      const bearer = (await test({ org: "acme", path: "/echo", auth: "bearer" })).json();
      expect(JSON.parse(bearer.body)).toMatchObject({ authorization: "Bearer [REDACTED]", raw: "[REDACTED]" });
      const key = (await test({ org: "acme", path: "/echo", auth: "api-key:header:X-Api-Key" })).json();
      expect(JSON.parse(key.body).api_key).toBe("[REDACTED]");
      expect(key.headers["www-authenticate"]).toMatch(/seen="\[REDACTED\]"$/);
    });

    it("attack: an org's base_url override to another origin gets no integration-level credential of any kind; the org's own key may go there", async () => {
      for (const auth of ["oauth", "bearer", "basic"]) {
        const e = envelope(await test({ org: "globex", path: "/echo", auth }), 403, "BIFROST_CLIENT_UNTRUSTED_ORIGIN");
        expect(e.message, auth).toContain(canary.base);
        noSecrets(JSON.stringify(e));
      }
      expect(canary.received).toEqual([]);
      // Positive control: globex's own api_key goes to globex's own base URL, and nothing else does.
      const own = await test({ org: "globex", path: "/echo", auth: "api-key:header:X-Api-Key" });
      expect(own.statusCode, own.body).toBe(200);
      const query = await test({ org: "globex", path: "/echo", auth: "api-key:query:token" });
      expect(query.statusCode, query.body).toBe(200);
      expect(canary.received.map((r) => [r.path, r.headers["x-api-key"], r.headers.authorization])).toEqual([
        ["/api/echo", GLOBEX_KEY, undefined],
        [`/api/echo?token=${GLOBEX_KEY}`, undefined, undefined],
      ]);
      noSecrets(own.body + query.body);
    });

    it("attack: refused addresses (documentation, NAT64 of one, private, mapped loopback over http, metadata) get no connection, whatever the auth", async () => {
      // Positive controls: the API is reachable at this host's non-loopback address, and a test call to
      // a new origin (the org's own base URL on localhost, with its own key) opens a connection and delivers.
      const direct = connect(api.port, "192.0.2.2");
      await once(direct, "connect");
      direct.destroy();
      await expect.poll(() => api.connections.length).toBe(1);
      await setMapping(h.bf, "Keys", "initech", { config: { base_url: `http://localhost:${api.port}/api`, api_key: INITECH_KEY } });
      expect((await test({ org: "initech", path: "/echo", auth: "api-key:header:X-Api-Key" })).statusCode).toBe(200);
      expect(api.connections.length).toBe(2);
      expect(api.seen.map((s) => s.headers["x-api-key"])).toEqual([INITECH_KEY]);
      api.connections.length = 0;
      api.seen.length = 0;
      const targets = [`https://192.0.2.2:${api.port}/api`, `http://192.0.2.2:${api.port}/api`, `http://[::ffff:127.0.0.1]:${api.port}/api`, `https://[64:ff9b::c000:202]:${api.port}/api`, "https://10.0.0.5/api", "https://169.254.169.254/latest"];
      for (const base of targets) {
        // The org's own credential (allowed to its own base URL by the trust rule): the outbound policy still refuses.
        await setMapping(h.bf, "Keys", "initech", { config: { base_url: base, api_key: INITECH_KEY } });
        for (const auth of ["api-key:header:X-Api-Key", "none"]) {
          const e = envelope(await test({ org: "initech", path: "/echo", auth }), 422, "BIFROST_OUTBOUND_REFUSED");
          expect(e.message, base).toMatch(/^Test connection failed: /);
          noSecrets(JSON.stringify(e));
        }
      }
      expect(api.connections).toEqual([]);
      expect(api.seen).toEqual([]);
    });

    it("attack: redirects are answered, not followed, with or without credentials", async () => {
      for (const path of ["/moved", "/moved-away"]) {
        for (const auth of ["bearer", "api-key:header:X-Api-Key", "oauth"]) {
          api.seen.length = 0;
          const r = await test({ org: "acme", path, auth });
          expect(r.statusCode, r.body).toBe(200);
          const out = r.json();
          expect(out.status).toBe(302);
          expect(out.headers.location).toMatch(/\/api\/echo\?after=redirect$/);
          expect(api.seen.map((s) => s.path)).toEqual([`/api${path}`]);
          noSecrets(r.body);
        }
      }
      expect(canary.received).toEqual([]);
    });

    it("attack: a host name that resolves to a refused address (localhost without the loopback switch) gets no connection; the body read is capped", async () => {
      const { createApp } = await import("../../src/server/index.js");
      const strict = await createApp({ bifrost: h.bf, oauth: { allowHttpLoopback: false } });
      try {
        await setMapping(h.bf, "Keys", "initech", { config: { base_url: `https://localhost:${api.port}/api`, api_key: INITECH_KEY } });
        const res = await strict.inject({ method: "POST", url: "/api/integrations/Keys/test-connection", headers: { authorization: `Bearer ${h.keys.platform}` }, payload: { org: "initech", path: "/echo", auth: "api-key:header:X-Api-Key" } });
        const e = envelope(res, 422, "BIFROST_OUTBOUND_REFUSED");
        expect(e.message).toMatch(/resolves to .*loopback/);
        expect(api.connections).toEqual([]);
      } finally {
        await strict.close();
      }
      // ~1.1 MB answered: 256 KiB read, the first 2 KB shown, the key redacted even in the cut text.
      const big = await test({ org: "acme", path: "/huge", auth: "none" });
      expect(big.statusCode, big.body.slice(0, 300)).toBe(200);
      expect(big.json()).toMatchObject({ status: 200, bytes: 256 * 1024, truncated: true });
      expect(big.json().body).toMatch(/^(\[REDACTED\] )+/);
      noSecrets(big.body);
    });

    it("methods: POST, PUT, PATCH, DELETE with JSON and text bodies arrive as sent; HEAD answers without a body", async () => {
      const json = { ticket: { id: 7, summary: "test ünïcode" }, tags: ["a", "b"] };
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        api.seen.length = 0;
        const r = await test({ org: "acme", path: "/echo", method, body: json, auth: "bearer" });
        expect(r.statusCode, r.body).toBe(200);
        expect(r.json()).toMatchObject({ method, status: 200 });
        const s = api.seen[0] as Seen;
        expect([s.method, s.headers["content-type"], JSON.parse(s.body), s.headers.authorization]).toEqual([method, "application/json", json, `Bearer ${BEARER}`]);
        noSecrets(r.body);
      }
      api.seen.length = 0;
      const text = await test({ org: "acme", path: "/echo", method: "POST", body: "plain text body", auth: "none" });
      expect(text.statusCode, text.body).toBe(200);
      expect([api.seen[0]?.method, api.seen[0]?.headers["content-type"], api.seen[0]?.body]).toEqual(["POST", "text/plain; charset=utf-8", "plain text body"]);
      api.seen.length = 0;
      const head = (await test({ org: "acme", path: "/echo", method: "HEAD", auth: "none" })).json();
      expect(head).toMatchObject({ method: "HEAD", status: 200, body: "", bytes: 0 });
      expect(api.seen.map((s) => s.method)).toEqual(["HEAD"]);
    });

    it("bad method, auth or body: 422 naming the field, nothing sent; missing credentials: 409 naming the keys, nothing sent", async () => {
      const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ["Keys", { method: "TRACE" }, "method", /method/],
        ["Keys", { method: "get" }, "method", /method/],
        ["Keys", { body: { a: 1 } }, "body", /GET request has no body/],
        ["Keys", { method: "HEAD", body: "x" }, "body", /HEAD request has no body/],
        ["Keys", { method: "POST", body: "x".repeat(70_000) }, "body", /at most/],
        ["Keys", { auth: "digest" }, "auth", /not one of oauth, bearer, basic/],
        ["Keys", { auth: "api-key:header:bad name" }, "auth", /not one of/],
        ["Keys", { auth: "spec" }, "auth", /needs an OpenAPI spec/],
        ["Keys", { auth: 42 }, "auth", /auth/],
        ["Bare", { auth: "oauth" }, "auth", /no OAuth provider.*can use: bearer, none/],
        ["Bare", { auth: "basic" }, "auth", /"username".*sdk generate --auth basic/],
        ["Bare", { auth: "api-key:query:k" }, "auth", /"api_key"/],
      ];
      for (const [name, extra, field, why] of cases) {
        const e = envelope(await test({ org: "acme", path: "/echo", ...extra }, name), 422, "BIFROST_VALIDATION");
        expect(e.details?.path, JSON.stringify(extra)).toBe(field);
        expect(e.message, JSON.stringify(extra)).toMatch(why);
      }
      const missing = envelope(await test({ path: "/echo", auth: "bearer" }, "Bare"), 409, "BIFROST_CLIENT_CREDENTIALS_MISSING");
      expect(missing.message).toContain('"bearer_token"');
      expect(api.seen).toEqual([]);
      expect(api.connections).toEqual([]);
    });
    it("oauth: a 401 to the token triggers one refresh and one retry with the renewed token, which is redacted from the answer too", async () => {
      const r = await test({ org: "acme", path: "/stale", auth: "oauth" });
      expect(r.statusCode, r.body).toBe(200);
      const stale = api.seen.filter((x) => x.path === "/api/stale");
      expect(stale.map((x) => x.headers.authorization)).toEqual([`Bearer ${TOKEN}`, expect.stringMatching(new RegExp(`^Bearer ${TOKEN}-renewed-\\d+$`))]);
      expect(r.json()).toMatchObject({ status: 200, auth: { kind: "oauth" } });
      expect(JSON.parse(r.json().body)).toMatchObject({ authorization: "Bearer [REDACTED]", raw: "[REDACTED]" });
      noSecrets(r.body);
    });
  });
}
