/**
 * Attacks on credential origin binding (DESIGN §9.1) and broken connections (§9.6), on every backend.
 * Loopback listeners on different ports are distinct origins and record every request's headers and
 * query: `home` (the default base URL), `evil` (an origin an org admin controls), `trusted` (in the
 * integration's trusted_origins), `spec` (the spec's server), `own` (an org's own base URL). Each attack
 * has a positive control proving the legitimate path delivered.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, type ClientSpec, createClient, type OperationSpec, paginate } from "../../src/client/index.js";
import { emptyToken, tokenPatch } from "../../src/oauth/tokens.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import { integrations } from "../../src/runtime/integrations.js";
import { RemoteResolver } from "../../src/host/remote-resolver.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import type { IntegrationResolver, ResolvedIntegration } from "../../src/runtime/types.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, bootTest } from "../helpers/backends.js";
import { resolverFor, TEST_OAUTH } from "../oauth/helpers/setup.js";
import { startTokenServer, type TokenServer, tokenBody } from "../oauth/helpers/token-server.js";

const DEFAULT_KEY = "sk-integration-DEFAULT-9f31c2";
const GLOBEX_KEY = "sk-globex-OWN-4410ab";
const AT_INTEG = "AT-integration-level-77c1";
const AT_GLOBEX = "AT-globex-own-5a02";
const AT_INITECH_DEAD = "AT-initech-dead-0e9d";

interface Hit {
  path: string;
  query: string;
  headers: http.IncomingHttpHeaders;
}

interface Listener {
  url: string;
  origin: string;
  port: number;
  seen: Hit[];
  /** Per-request answer; default 200 `{ ok: true, path }`. */
  reply: ((hit: Hit, res: http.ServerResponse) => void) | null;
  close(): Promise<void>;
}

async function listen(): Promise<Listener> {
  const server = http.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const l: Listener = {
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    port,
    seen: [],
    reply: null,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? "/", "http://x");
    const hit: Hit = { path: u.pathname, query: u.search, headers: req.headers };
    l.seen.push(hit);
    req.resume();
    req.on("end", () => {
      if (l.reply) return l.reply(hit, res);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, path: hit.path }));
    });
  });
  return l;
}

/** Every header value and query string a listener received, as one string (for "did X arrive anywhere"). */
const received = (ls: Listener[]): string => ls.flatMap((l) => l.seen.map((h) => `${h.query} ${JSON.stringify(h.headers)}`)).join("\n");

const op: OperationSpec = { id: "getThing", method: "GET", path: "/thing" };
const keySpec = (servers: ClientSpec["servers"] = []): ClientSpec => ({
  integration: "Halo",
  servers,
  securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Api-Key", configKey: "api_key" } },
  security: [{ key: [] }],
});
const oauthSpec: ClientSpec = { integration: "Oa", servers: [], securitySchemes: { oauth: { type: "oauth2" } }, security: [{ oauth: [] }] };

let home: Listener;
let evil: Listener;
let trusted: Listener;
let spec: Listener;
let own: Listener;
let ts: TokenServer;
const all = (): Listener[] => [home, evil, trusted, spec, own];
const reset = (): void => {
  for (const l of all()) {
    l.seen = [];
    l.reply = null;
  }
};

beforeAll(async () => {
  process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
  [home, evil, trusted, spec, own] = await Promise.all([listen(), listen(), listen(), listen(), listen()]);
  ts = await startTokenServer();
  // Refresh grants answer with a new access token.
  ts.routes.set("/token", () => ({ body: tokenBody() }));
});
afterAll(async () => {
  delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
  await Promise.all(all().map((l) => l?.close()));
  await ts?.close();
});

for (const backend of BACKENDS) {
  describe(`credential origin binding (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    const orgs: Record<string, ExecutionOrg> = {};

    async function seedToken(integration: string, org: string | null, access: string, dead: boolean | "failing" = false): Promise<void> {
      const i = (await bf.store.getIntegrationByName(integration))!;
      const o = org ? orgs[org]! : null;
      const row = await bf.store.insertOAuthTokenIfAbsent(emptyToken(bf.clock, i.id, { orgId: o?.id ?? null, mappingId: null }));
      const patch = tokenPatch(bf.box, row, { accessToken: access, refreshToken: `RT-${access}`, tokenType: "Bearer", expiresIn: 3600, scopes: null, extra: {}, idTokenClaims: null }, new Date(), []);
      const broken =
        dead === "failing"
          ? // Expired, and backing off after a failed refresh: no usable token.
            { state: "error" as const, lastError: "transient: HTTP 503", failureCount: 2, expiresAt: new Date(Date.now() - 60_000).toISOString(), nextAttemptAt: new Date(Date.now() + 3_600_000).toISOString() }
          : dead
            ? { state: "needs_reauth" as const, lastError: "invalid_grant: the provider rejected the refresh token" }
            : {};
      await bf.store.updateOAuthTokenReturning(row.id, { ...patch, ...broken }, { bumpVersion: true });
    }

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      bf.resolver = resolverFor(bf);
      for (const slug of ["acme", "globex", "initech", "umbrella", "hooli"]) await createOrg(bf, { slug });
      for (const slug of ["acme", "globex", "initech", "umbrella", "hooli"]) orgs[slug] = (await bf.resolver.findOrg(slug))!;
      const schema = [
        { key: "base_url", type: "string" as const },
        { key: "api_key", type: "secret" as const },
        { key: "user", type: "string" as const },
        { key: "pass", type: "secret" as const },
        { key: "port", type: "string" as const },
      ];
      await createIntegration(bf, { name: "Halo", configSchema: schema, defaults: { base_url: `${home.url}/api`, api_key: DEFAULT_KEY, pass: "default-pass-SECRET", port: String(spec.port) } });
      // acme: the attacker org points its base URL at a server it controls (and keeps the default key).
      await setMapping(bf, "Halo", "acme", { entityId: "a", config: { base_url: `${evil.url}/api` } });
      // globex: its own key, its own base URL.
      await setMapping(bf, "Halo", "globex", { entityId: "g", config: { base_url: `${own.url}/g`, api_key: GLOBEX_KEY, user: "globex-user" } });
      await setMapping(bf, "Halo", "umbrella", { entityId: "u" });
      // A second integration whose platform admin trusts the `trusted` origin.
      await createIntegration(bf, { name: "Trusted", configSchema: schema, defaults: { base_url: `${home.url}/api`, api_key: DEFAULT_KEY } });
      const tr = (await bf.store.getIntegrationByName("Trusted"))!;
      await bf.store.updateIntegration(tr.id, { trustedOrigins: [trusted.origin], updatedAt: new Date().toISOString() });
      await setMapping(bf, "Trusted", "acme", { entityId: "a", config: { base_url: `${trusted.url}/t` } });
      // OAuth: an integration-level token, globex's own token, initech's own (dead) connection.
      await createIntegration(bf, { name: "Oa", configSchema: [{ key: "base_url", type: "string" }], defaults: { base_url: `${home.url}/api` } });
      await setOAuthProvider(bf, "Oa", { flow: "authorization_code", client_id: "cid", client_secret: "oa-client-SECRET", authorization_url: `${ts.base}/authorize`, token_url: `${ts.base}/token` });
      await setMapping(bf, "Oa", "acme", { entityId: "a", config: { base_url: `${evil.url}/api` } });
      await setMapping(bf, "Oa", "globex", { entityId: "g", config: { base_url: `${own.url}/g` } });
      await setMapping(bf, "Oa", "initech", { entityId: "i" });
      await setMapping(bf, "Oa", "umbrella", { entityId: "u" });
      await seedToken("Oa", null, AT_INTEG);
      await seedToken("Oa", "globex", AT_GLOBEX);
      await seedToken("Oa", "initech", AT_INITECH_DEAD, true);
      await setMapping(bf, "Oa", "hooli", { entityId: "h" });
      await seedToken("Oa", "hooli", "AT-hooli-expired-31f0", "failing");
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const as = <T>(org: string, fn: () => Promise<T>, resolver: IntegrationResolver = bf.resolver): Promise<T> => {
      reset();
      return runInContext(createContext({ org: orgs[org]!, caller: { kind: "cli", platform: true }, resolver }), fn);
    };
    const fails = async (p: Promise<unknown>): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> => {
      try {
        await p;
      } catch (e) {
        return e as { code?: string; message: string };
      }
      throw new Error("expected a failure");
    };

    it("control: an org without overrides sends the default key to the default base URL", async () => {
      const out = await as("umbrella", () => createClient(keySpec()).request<{ path: string }>(op));
      expect(out.path).toBe("/api/thing");
      expect(home.seen.map((h) => h.headers["x-api-key"])).toEqual([DEFAULT_KEY]);
    });

    it("config.levelOf() names who set each value; the JSON of a resolved integration carries no trust record and no secret", async () => {
      const integ = await as("globex", () => integrations.require("Halo"));
      expect(["base_url", "api_key", "pass", "user", "port"].map((k) => integ.config.levelOf(k))).toEqual(["org", "org", "integration", "org", "integration"]);
      const json = JSON.stringify(integ);
      expect(Object.keys(JSON.parse(json) as object).sort()).toEqual(["config", "connection", "entityId", "entityName", "mapped", "name", "oauth"]);
      expect(json).not.toContain(GLOBEX_KEY);
      expect(json).not.toContain(home.url); // the default base_url the org overrides stays out of the JSON
      expect(typeof integ.fetch).toBe("function");
    });

    it("attack: an org overrides base_url to its own server → the default key is refused there, nothing sent", async () => {
      const e = await as("acme", () => fails(createClient(keySpec()).request(op)));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(e.message).toContain(evil.origin);
      expect(e.message).toContain("Halo");
      expect(e.message).toContain("trusted_origins");
      expect(e.message).not.toContain(DEFAULT_KEY);
      expect(evil.seen).toEqual([]);
      expect(received(all())).not.toContain(DEFAULT_KEY);
    });

    it("control: an org's own key reaches its own base URL", async () => {
      await as("globex", () => createClient(keySpec()).request(op));
      expect(own.seen.map((h) => [h.path, h.headers["x-api-key"]])).toEqual([["/g/thing", GLOBEX_KEY]]);
      expect(received(all())).not.toContain(DEFAULT_KEY);
    });

    it("attack: mixed levels (the org's user name, the default password) are integration-level → refused at the org's base URL", async () => {
      const basic: ClientSpec = { integration: "Halo", servers: [], securitySchemes: { b: { type: "http", scheme: "basic", usernameKey: "user", passwordKey: "pass" } }, security: [{ b: [] }] };
      const e = await as("globex", () => fails(createClient(basic).request(op)));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(own.seen).toEqual([]);
      expect(received(all())).not.toContain(Buffer.from("globex-user:default-pass-SECRET").toString("base64"));
    });

    it("control: trusted_origins lets the default key reach the org's base URL on that origin", async () => {
      await as("acme", () => createClient({ ...keySpec(), integration: "Trusted" }).request(op));
      expect(trusted.seen.map((h) => [h.path, h.headers["x-api-key"]])).toEqual([["/t/thing", DEFAULT_KEY]]);
    });

    it("control: the spec's servers are trusted for the default key", async () => {
      const servers = [{ url: `${spec.url}/spec` }];
      // The org's base_url points at a spec server's origin.
      const e = await as("acme", () => fails(createClient(keySpec(servers)).request(op)));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN"); // acme's base is evil, not a server
      const integ = await as("umbrella", () => integrations.require("Halo"));
      expect(integ.config.levelOf("base_url")).toBe("integration");
      // A module whose base URL is the server (no base_url anywhere) sends the default key there.
      const noBase: ClientSpec = { ...keySpec(servers), baseUrlKey: "user" };
      await as("umbrella", () => createClient(noBase).request(op));
      expect(spec.seen.map((h) => [h.path, h.headers["x-api-key"]])).toEqual([["/spec/thing", DEFAULT_KEY]]);
    });

    it("attack: an org overrides a server variable to move the server to its origin → refused (variables resolve from defaults)", async () => {
      const servers = [{ url: "http://127.0.0.1:{port}/v", variables: { port: { default: "1" } } }];
      const noBase: ClientSpec = { ...keySpec(servers), baseUrlKey: "user" };
      await as("umbrella", () => createClient(noBase).request(op));
      expect(spec.seen.map((h) => h.headers["x-api-key"])).toEqual([DEFAULT_KEY]);
      await setMapping(bf, "Halo", "umbrella", { entityId: "u", config: { port: String(evil.port) } });
      try {
        const e = await as("umbrella", () => fails(createClient(noBase).request(op)));
        expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
        expect(evil.seen).toEqual([]);
      } finally {
        await setMapping(bf, "Halo", "umbrella", { entityId: "u", config: { port: null } });
      }
    });

    it("attack: the same host under another name (localhost vs 127.0.0.1) is another origin → refused", async () => {
      await setMapping(bf, "Halo", "umbrella", { entityId: "u", config: { base_url: `http://localhost:${home.port}/api` } });
      try {
        const e = await as("umbrella", () => fails(createClient(keySpec()).request(op)));
        expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
        expect(home.seen).toEqual([]);
      } finally {
        await setMapping(bf, "Halo", "umbrella", { entityId: "u", config: { base_url: null } });
      }
    });

    it("attack: a custom fetch (ClientOptions.fetch) is never called for an untrusted origin", async () => {
      let calls = 0;
      const custom: typeof fetch = (input, init) => {
        calls++;
        return fetch(input, init);
      };
      const e = await as("acme", () => fails(createClient(keySpec(), { fetch: custom }).request(op)));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(calls).toBe(0);
      await as("umbrella", () => createClient(keySpec(), { fetch: custom }).request(op));
      expect(calls).toBe(1);
      expect(home.seen.map((h) => h.headers["x-api-key"])).toEqual([DEFAULT_KEY]);
    });

    it("attack: plain http without BIFROST_ALLOW_HTTP_LOOPBACK is refused before sending", async () => {
      delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
      try {
        const e = await as("umbrella", () => fails(createClient(keySpec()).request(op)));
        // The outbound policy's coded refusal (not the trust rule's).
        expect(e.code).toBe("BIFROST_OUTBOUND_REFUSED");
        expect(home.seen).toEqual([]);
      } finally {
        process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
      }
    });

    it("attack: a client that already sent over plain http is refused once BIFROST_ALLOW_HTTP_LOOPBACK is unset (the accepted origin is not reused)", async () => {
      const client = createClient(keySpec());
      // One execution: the client's per-integration state (base URL, accepted origin) is warm for the second call.
      await as("umbrella", async () => {
        await client.request(op);
        expect(home.seen).toHaveLength(1); // positive control: delivered with the switch on
        delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
        try {
          const e = await fails(client.request(op));
          expect(e.code).toBe("BIFROST_OUTBOUND_REFUSED");
          expect(home.seen).toHaveLength(1);
        } finally {
          process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
        }
        await client.request(op);
        expect(home.seen).toHaveLength(2);
      });
    });

    it("attack: a redirect from the trusted base URL to another origin carries no credentials", async () => {
      const e = await as("umbrella", async () => {
        home.reply = (_h, res) => void res.writeHead(302, { location: `${evil.url}/stolen` }).end();
        return createClient(keySpec()).request(op);
      });
      expect(e).toMatchObject({ ok: true, path: "/stolen" });
      expect(home.seen.map((h) => h.headers["x-api-key"])).toEqual([DEFAULT_KEY]);
      expect(evil.seen).toHaveLength(1);
      expect(evil.seen[0]!.headers["x-api-key"]).toBeUndefined();
      expect(received([evil])).not.toContain(DEFAULT_KEY);
    });

    it("attack: an absolute next link to another origin is followed without credentials", async () => {
      const pages: OperationSpec = { id: "list", method: "GET", path: "/items", pagination: { style: "nextUrl", responsePath: ["next"], itemsPath: ["items"] } };
      const items = await as("umbrella", async () => {
        home.reply = (_h, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items: [1], next: `${evil.url}/page2` }));
        evil.reply = (_h, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items: [] }));
        const out: unknown[] = [];
        for await (const i of paginate(createClient(keySpec()), pages)) out.push(i);
        return out;
      });
      expect(items).toEqual([1]);
      expect(home.seen[0]!.headers["x-api-key"]).toBe(DEFAULT_KEY);
      expect(evil.seen).toHaveLength(1);
      expect(received([evil])).not.toContain(DEFAULT_KEY);
    });

    it("control + attack: an integration-level OAuth token reaches the default base URL, never an org's override", async () => {
      await as("umbrella", () => createClient(oauthSpec).request(op));
      expect(home.seen.map((h) => h.headers.authorization)).toEqual([`Bearer ${AT_INTEG}`]);
      const e = await as("acme", () => fails(createClient(oauthSpec).request(op)));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(evil.seen).toEqual([]);
      expect(received(all())).not.toContain(AT_INTEG);
    });

    it("control: an org's own OAuth token reaches its own base URL", async () => {
      await as("globex", () => createClient(oauthSpec).request(op));
      expect(own.seen.map((h) => h.headers.authorization)).toEqual([`Bearer ${AT_GLOBEX}`]);
    });

    it("integration.fetch: a relative path joins the base URL with the named auth; an absolute trusted URL gets it too", async () => {
      const r = await as("umbrella", async () => {
        const halo = await integrations.require("Halo");
        const a = await halo.fetch("/thing?x=1", { auth: { header: "X-Api-Key", key: "api_key" } });
        const b = await halo.fetch(`${home.url}/other`, { auth: { query: "apikey", key: "api_key" } });
        return [a.status, await a.json(), b.status];
      });
      expect(r).toEqual([200, { ok: true, path: "/api/thing" }, 200]);
      expect(home.seen.map((h) => [h.path, h.query, h.headers["x-api-key"] ?? null])).toEqual([
        ["/api/thing", "?x=1", DEFAULT_KEY],
        ["/other", `?apikey=${DEFAULT_KEY}`, null],
      ]);
      // trusted_origins: an absolute URL on the trusted origin gets the default key.
      await as("umbrella", async () => (await integrations.require("Trusted")).fetch(`${trusted.url}/abs`, { auth: { bearer: "api_key" } }));
      expect(trusted.seen.map((h) => h.headers.authorization)).toEqual([`Bearer ${DEFAULT_KEY}`]);
    });

    it("attack: integration.fetch of an absolute untrusted URL with the default key → refused, nothing sent", async () => {
      const e = await as("umbrella", async () => fails((await integrations.require("Halo")).fetch(`${evil.url}/x`, { auth: { header: "X-Api-Key", key: "api_key" } })));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(evil.seen).toEqual([]);
    });

    it("attack: an org's own key is refused at an origin that is neither trusted nor its base URL", async () => {
      const e = await as("globex", async () => fails((await integrations.require("Halo")).fetch(`${evil.url}/x`, { auth: { header: "X-Api-Key", key: "api_key" } })));
      expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
      expect(e.details?.level).toBe("org");
      expect(evil.seen).toEqual([]);
    });

    it("attack: a protocol-relative path (//evil) stays under the base URL", async () => {
      await as("umbrella", async () => (await integrations.require("Halo")).fetch(`//127.0.0.1:${evil.port}/x`, { auth: { header: "X-Api-Key", key: "api_key" } }));
      expect(evil.seen).toEqual([]);
      expect(home.seen.map((h) => h.path)).toEqual([`/api//127.0.0.1:${evil.port}/x`]);
    });

    it("attack: userinfo in an absolute URL (http://home@evil) is refused before sending", async () => {
      const e = await as("umbrella", async () => fails((await integrations.require("Halo")).fetch(`http://127.0.0.1:${home.port}@127.0.0.1:${evil.port}/x`, { auth: { header: "X-Api-Key", key: "api_key" } })));
      expect(e.code).toBe("BIFROST_OUTBOUND_REFUSED");
      // (refused by the outbound policy; the trust rule would refuse the other origin too)
      expect(evil.seen).toEqual([]);
      expect(home.seen).toEqual([]);
    });

    it("attack: integration.fetch without an auth option never sends a config secret", async () => {
      await as("umbrella", async () => (await integrations.require("Halo")).fetch(`${evil.url}/x`));
      expect(evil.seen).toHaveLength(1);
      expect(received([evil])).not.toContain(DEFAULT_KEY);
    });

    it("integration.fetch: retries 503 with Retry-After for GET, never for POST; non-2xx is ApiError", async () => {
      let n = 0;
      const r = await as("umbrella", async () => {
        home.reply = (_h, res) => void (++n < 3 ? res.writeHead(503, { "retry-after": "0" }).end() : res.writeHead(200, { "content-type": "application/json" }).end("{}"));
        return (await (await integrations.require("Halo")).fetch("/r")).status;
      });
      expect(r).toBe(200);
      expect(home.seen).toHaveLength(3);
      const e = await as("umbrella", async () => {
        home.reply = (_h, res) => void res.writeHead(503, { "retry-after": "0", "content-type": "application/json" }).end('{"message":"down"}');
        return fails((await integrations.require("Halo")).fetch("/w", { method: "POST", body: "{}" }));
      });
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).status).toBe(503);
      expect(home.seen).toHaveLength(1);
    });

    it("integration.fetch: the OAuth token by default; a 401 refreshes once and retries with the new token", async () => {
      const r = await as("umbrella", async () => {
        home.reply = (h, res) => void (h.headers.authorization === `Bearer ${AT_INTEG}` ? res.writeHead(401).end() : res.writeHead(200, { "content-type": "application/json" }).end("{}"));
        return (await (await integrations.require("Oa")).fetch("/me")).status;
      });
      expect(r).toBe(200);
      const auths = home.seen.map((h) => h.headers.authorization);
      expect(auths).toHaveLength(2);
      expect(auths[0]).toBe(`Bearer ${AT_INTEG}`);
      expect(auths[1]).toMatch(/^Bearer AT-/);
      expect(auths[1]).not.toBe(`Bearer ${AT_INTEG}`);
    });

    it("needs_reauth: get() still returns config and mapping; oauth is null and connection says why", async () => {
      const integ = await as("initech", () => integrations.require("Oa"));
      expect(integ.config.get("base_url")).toBe(`${home.url}/api`);
      expect(integ).toMatchObject({ mapped: true, entityId: "i", oauth: null });
      expect(integ.connection).toMatchObject({ state: "needs_reauth", reason: "invalid_grant" });
      expect(typeof integ.connection?.since).toBe("string");
      const healthy = await as("globex", () => integrations.require("Oa"));
      expect(healthy.connection).toMatchObject({ state: "connected", reason: null });
      const none = await as("umbrella", () => integrations.require("Halo"));
      expect(none.connection).toBeNull();
    });

    it("attack: a broken org connection never falls back to the integration-level token; calls throw BIFROST_OAUTH_NEEDS_REAUTH", async () => {
      const e = await as("initech", () => fails(createClient(oauthSpec).request(op)));
      expect(e.code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
      expect(e.message).toContain("Oa");
      expect(e.message).toContain("initech");
      expect(e.message).toContain("bifrost oauth connect Oa --org initech");
      const f = await as("initech", async () => fails((await integrations.require("Oa")).fetch("/me")));
      expect(f.code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
      expect(all().flatMap((l) => l.seen)).toEqual([]);
      expect(received(all())).not.toContain(AT_INTEG);
    });

    it("attack: a connection in error (expired, backing off) gives config, no token, no fallback; calls throw BIFROST_OAUTH_TRANSIENT", async () => {
      const integ = await as("hooli", () => integrations.require("Oa"));
      expect(integ).toMatchObject({ oauth: null, connection: { state: "error", reason: "transient" } });
      expect(integ.config.get("base_url")).toBe(`${home.url}/api`);
      const e = await as("hooli", () => fails(createClient(oauthSpec).request(op)));
      expect(e.code).toBe("BIFROST_OAUTH_TRANSIENT");
      expect(e.message).toContain("hooli");
      expect(all().flatMap((l) => l.seen)).toEqual([]);
    });

    describe("through the HTTP API (remote mode, test connection)", () => {
      let server: { url: string; close(): Promise<void> };
      const keys = { acme: "", initech: "", umbrella: "", platform: "" };
      beforeAll(async () => {
        server = await startServer({ bifrost: bf, port: 0, background: false, oauth: TEST_OAUTH });
        for (const o of ["acme", "initech", "umbrella"] as const) keys[o] = (await createApiKey(bf, { role: "workflow", org: o })).key;
        keys.platform = (await createApiKey(bf, { role: "platform_admin" })).key;
      });
      afterAll(async () => {
        await server?.close();
      });
      const remote = (key: string): RemoteResolver => new RemoteResolver({ url: server.url, apiKey: key });

      it("remote mode carries the levels: the attacker org's override gets nothing, the default base URL gets the key", async () => {
        const e = await as("acme", () => fails(createClient(keySpec()).request(op)), remote(keys.acme));
        expect(e.code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
        expect(evil.seen).toEqual([]);
        await as("umbrella", () => createClient(keySpec()).request(op), remote(keys.umbrella));
        expect(home.seen.map((h) => h.headers["x-api-key"])).toEqual([DEFAULT_KEY]);
        const integ: ResolvedIntegration = await as("acme", () => integrations.require("Halo"), remote(keys.acme));
        expect(integ.config.levelOf("base_url")).toBe("org");
        expect(integ.config.levelOf("api_key")).toBe("integration");
        expect(JSON.stringify(integ.config)).not.toContain(DEFAULT_KEY);
      });

      it("remote mode: needs_reauth → config returned, oauth null, connection says why, calls throw BIFROST_OAUTH_NEEDS_REAUTH", async () => {
        const integ = await as("initech", () => integrations.require("Oa"), remote(keys.initech));
        expect(integ).toMatchObject({ oauth: null, connection: { state: "needs_reauth", reason: "invalid_grant" } });
        expect(integ.config.get("base_url")).toBe(`${home.url}/api`);
        const e = await as("initech", () => fails(createClient(oauthSpec).request(op)), remote(keys.initech));
        expect(e.code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
        expect(e.message).toContain("bifrost oauth connect Oa --org initech");
        expect(all().flatMap((l) => l.seen)).toEqual([]);
      });

      it("attack: test connection with the org's override sends no integration-level token; the defaults' base URL does", async () => {
        const call = (org?: string) =>
          fetch(`${server.url}/api/integrations/Oa/test-connection`, {
            method: "POST",
            headers: { authorization: `Bearer ${keys.platform}`, "content-type": "application/json" },
            body: JSON.stringify({ ...(org ? { org } : {}), path: "/ping" }),
          });
        reset();
        const ok = await call();
        expect(ok.status).toBe(200);
        // The integration-level token (renewed by an earlier test's 401 refresh).
        const tok = (await as("umbrella", () => integrations.require("Oa"))).oauth!.accessToken;
        expect(home.seen.map((h) => h.headers.authorization)).toEqual([]); // (reset by as())
        reset();
        expect((await call()).status).toBe(200);
        expect(home.seen.map((h) => h.headers.authorization)).toEqual([`Bearer ${tok}`]);
        reset();
        const bad = await call("acme");
        expect(bad.status).toBe(403);
        expect(((await bad.json()) as { code: string }).code).toBe("BIFROST_CLIENT_UNTRUSTED_ORIGIN");
        expect(evil.seen).toEqual([]);
        const dead = await call("initech");
        expect(dead.status).toBe(409);
        expect(((await dead.json()) as { code: string }).code).toBe("BIFROST_OAUTH_NEEDS_REAUTH");
        expect(received(all())).not.toContain(tok);
      });
    });
  });
}
