/**
 * POST /mcp (streamable HTTP, stateless) driven by the MCP SDK's own client against the server
 * listening on 127.0.0.1: tool listing and annotations, each tool's success and validation-error paths
 * (nothing changed after an error), masking of secrets and OAuth tokens in every result and in the log,
 * org isolation with org-scoped keys, role refusals, Origin checks and 401s.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { recordEvent } from "../../src/oauth/events.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { createApiKey, revokeApiKey } from "../../src/services/api-keys.js";
import { getIntegration } from "../../src/services/integrations.js";
import { getMapping, getStoredConfig, setConfig } from "../../src/services/mappings.js";
import { createIntegration, updateIntegration } from "../../src/services/integrations.js";
import { sqliteBackend } from "../helpers/backends.js";
import { type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "../server/harness.js";
import { connectClient, type Mcp, PETS_SPEC, seen } from "./helpers.js";

const CLIENT_SECRET = "cs-mcp-CLIENT-SECRET-31d7";
const NEW_SECRET = "sk-mcp-NEW-PLAINTEXT-8c2e";
const ENTITY_MARKER = "Contoso-MARKER-5e1a";

describe("MCP over HTTP (POST /mcp)", () => {
  let h: Harness;
  let base = "";
  let upstream: http.Server;
  let upstreamBase = "";
  const upstreamSeen: string[] = [];
  const upstreamAuth: string[] = [];
  const issued: string[] = [];
  const logLines: string[] = [];
  const clients: Mcp[] = [];

  const connect = async (key: string): Promise<Mcp> => {
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    const c = await connectClient(transport);
    clients.push(c);
    return c;
  };
  let platform: Mcp;
  let acmeAdmin: Mcp;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const path = req.url ?? "/";
      upstreamSeen.push(path);
      if (req.headers.authorization) upstreamAuth.push(req.headers.authorization);
      req.resume();
      req.on("end", () => {
        if (path === "/token") {
          const token = `AT-mcp-${Math.random().toString(36).slice(2)}-PLAINTEXT`;
          issued.push(token);
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 3600 }));
        } else if (path.startsWith("/api/ping")) {
          // Echo the bearer token and the org's current secret: the tool result must show them redacted only.
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, you_sent: req.headers.authorization ?? null, leak: NEW_SECRET }));
        } else {
          res.writeHead(404).end();
        }
      });
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    upstreamBase = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    const logger = createLogger({ level: "info", destination: { write: (s: string) => void logLines.push(s) } });
    h = await setup(sqliteBackend, { logger, oauth: { allowHttpLoopback: true, publicUrl: "http://127.0.0.1:9" } });
    await setOAuthProvider(h.bf, "HaloPSA", { flow: "client_credentials", client_id: "mcp-client", client_secret: CLIENT_SECRET, token_url: `${upstreamBase}/token` });
    await setConfig(h.bf, "HaloPSA", "acme", { base_url: `${upstreamBase}/api` });
    // The integration-level client-credentials token may go to acme's base_url only once it is trusted (DESIGN §9.1).
    process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1"; // the stand-in API is plain http on loopback
    await updateIntegration(h.bf, "HaloPSA", { trustedOrigins: [upstreamBase] });
    await createIntegration(h.bf, { name: "Pets", configSchema: [] });
    const integration = await h.bf.store.getIntegrationByName("HaloPSA");
    const acme = await h.bf.store.getOrgBySlug("acme");
    const globex = await h.bf.store.getOrgBySlug("globex");
    await recordEvent(h.bf.store, h.bf.clock, { type: "needs_reauth", integrationId: integration!.id, orgId: acme!.id, payload: { reason: "acme-event" } });
    await recordEvent(h.bf.store, h.bf.clock, { type: "needs_reauth", integrationId: integration!.id, orgId: globex!.id, payload: { reason: "globex-event" } });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    platform = await connect(h.keys.platform);
    acmeAdmin = await connect(h.keys.acmeAdmin);
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await h?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it("lists the nine tools with input/output schemas and deliberate annotations", async () => {
    const { tools } = await platform.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "list_integrations",
      "get_integration",
      "set_config",
      "set_mapping",
      "oauth_status",
      "create_connect_link",
      "test_connection",
      "list_events",
      "generate_sdk",
    ]);
    const by = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ["list_integrations", "get_integration", "oauth_status", "list_events"]) {
      expect(by[name]?.annotations?.readOnlyHint, name).toBe(true);
    }
    for (const name of ["set_config", "set_mapping"]) {
      expect(by[name]?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false });
    }
    expect(by.generate_sdk?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, openWorldHint: true });
    // A POST/PUT/PATCH/DELETE test call may change the external system.
    expect(by.test_connection?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    for (const t of tools) {
      expect(t.outputSchema, t.name).toBeDefined();
      expect(t.annotations?.title, t.name).toBeTruthy();
    }
    // Input schemas come from the API's zod schemas: the org slug pattern, strict objects.
    const setConfigInput = by.set_config?.inputSchema as unknown as { properties: Record<string, { pattern?: string }>; required: string[]; additionalProperties: boolean };
    expect(setConfigInput.required).toEqual(["integration", "values"]);
    expect(setConfigInput.additionalProperties).toBe(false);
    expect(setConfigInput.properties.org?.pattern).toBeDefined();
  });

  it("list_integrations: schema and defaults with secrets masked; mapping counts for platform admins only", async () => {
    const out = await platform.ok<{ integrations: Array<Record<string, unknown>> }>("list_integrations");
    const halo = out.integrations.find((i) => i.name === "HaloPSA")!;
    expect(halo.defaults).toMatchObject({ base_url: "https://halo.example.com", timeout: 30, api_secret: { set: true, fingerprint: expect.any(String) } });
    expect(halo.mapping_count).toBe(1);
    const org = await acmeAdmin.ok<{ integrations: Array<Record<string, unknown>> }>("list_integrations");
    expect(org.integrations.find((i) => i.name === "HaloPSA")).not.toHaveProperty("mapping_count");
  });

  it("get_integration: defaults merged with the org's overrides, sources and the entity; errors for bad input", async () => {
    const out = await platform.ok<Record<string, unknown>>("get_integration", { integration: "HaloPSA", org: "acme" });
    expect(out).toMatchObject({
      integration: "HaloPSA",
      org: "acme",
      mapped: true,
      entity_id: "T-1",
      entity_name: "Acme Ltd",
      config: { base_url: `${upstreamBase}/api`, timeout: 60, api_secret: { set: true, fingerprint: expect.any(String) } },
      sources: { base_url: "override", timeout: "override", api_secret: "override" },
      missing_required: [],
      oauth_flow: "client_credentials",
    });
    // The org admin's default org is its own.
    expect(await acmeAdmin.ok("get_integration", { integration: "HaloPSA" })).toMatchObject({ org: "acme", entity_id: "T-1" });
    const defaults = await platform.ok<Record<string, unknown>>("get_integration", { integration: "HaloPSA" });
    expect(defaults).toMatchObject({ org: null, mapped: false, sources: { base_url: "default", timeout: "default", api_secret: "default" } });

    const missing = await platform.fail("get_integration", { integration: "NoSuch" });
    expect(missing.envelope).toMatchObject({ statusCode: 404, code: "BIFROST_NOT_FOUND" });
    expect(missing.envelope?.message).toContain('"NoSuch"');
    const badSlug = await platform.fail("get_integration", { integration: "HaloPSA", org: "Not A Slug" });
    expect(badSlug.text).toMatch(/org/);
  });

  it("set_config: coerces and stores an org's overrides; an invalid value names the key and changes nothing", async () => {
    const out = await acmeAdmin.ok<Record<string, unknown>>("set_config", { integration: "HaloPSA", org: "acme", values: { timeout: "45", api_secret: NEW_SECRET } });
    expect(out).toMatchObject({ integration: "HaloPSA", org: "acme", changes: { set: ["timeout", "api_secret"] }, mapping_created: false });
    expect(out.values).toMatchObject({ timeout: 45, api_secret: { set: true, fingerprint: expect.any(String) } });
    expect((await getStoredConfig(h.bf, "HaloPSA", "acme")).timeout).toBe(45);

    const before = await getStoredConfig(h.bf, "HaloPSA", "acme");
    const bad = await acmeAdmin.fail("set_config", { integration: "HaloPSA", org: "acme", values: { extra: { ok: true }, timeout: "soon" } });
    expect(bad.envelope).toMatchObject({ statusCode: 422, code: "BIFROST_VALIDATION" });
    expect(bad.envelope?.message).toContain("timeout");
    const unknown = await acmeAdmin.fail("set_config", { integration: "HaloPSA", org: "acme", values: { timeuot: 5 } });
    expect(unknown.envelope?.code).toBe("BIFROST_VALIDATION");
    expect(unknown.envelope?.message).toContain('"timeuot"');
    expect(await getStoredConfig(h.bf, "HaloPSA", "acme")).toEqual(before);
  });

  it("set_config without org sets the defaults for platform admins and is refused (403) for org admins", async () => {
    const out = await platform.ok<Record<string, unknown>>("set_config", { integration: "HaloPSA", values: { timeout: 31 } });
    expect(out).toMatchObject({ org: null, changes: { set: ["timeout"] } });
    expect((await getIntegration(h.bf, "HaloPSA")).defaults.timeout).toBe(31);
    const refused = await acmeAdmin.fail("set_config", { integration: "HaloPSA", values: { timeout: 99 } });
    expect(refused.envelope).toMatchObject({ statusCode: 403, code: "BIFROST_FORBIDDEN" });
    expect((await getIntegration(h.bf, "HaloPSA")).defaults.timeout).toBe(31);
  });

  it("set_mapping: maps an org to an entity; a bad entity id is refused and creates nothing", async () => {
    const bad = await platform.fail("set_mapping", { integration: "HaloPSA", org: "globex", entity_id: "bad\u0001id" });
    expect(bad.envelope).toMatchObject({ statusCode: 422, code: "BIFROST_VALIDATION" });
    expect(bad.envelope?.message).toContain("entity_id");
    const badConfig = await platform.fail("set_mapping", { integration: "HaloPSA", org: "globex", entity_id: "42", config: { timeout: "x" } });
    expect(badConfig.envelope?.message).toContain("timeout");
    expect(await getMapping(h.bf, "HaloPSA", "globex")).toBeNull();

    const out = await platform.ok<Record<string, unknown>>("set_mapping", { integration: "HaloPSA", org: "globex", entity_id: 42, entity_name: ENTITY_MARKER });
    expect(out).toMatchObject({ created: true, changed: true, mapping: { org: "globex", entity_id: "42", entity_name: ENTITY_MARKER } });
    expect((await getMapping(h.bf, "HaloPSA", "globex"))?.entityId).toBe("42");
  });

  it("test_connection: the org's OAuth token reaches the API, and the result shows it and the secrets redacted", async () => {
    const out = await platform.ok<Record<string, unknown>>("test_connection", { integration: "HaloPSA", org: "acme", path: "/ping" });
    expect(out).toMatchObject({ integration: "HaloPSA", org: "acme", method: "GET", auth: { choice: "oauth", kind: "oauth", config_keys: [], source: "default" }, status: 200, url: `${upstreamBase}/api/ping` });
    // Positive control: the plaintext token really went out (to the API only).
    expect(issued.length).toBeGreaterThan(0);
    expect(upstreamAuth).toContain(`Bearer ${issued[issued.length - 1]}`);
    expect(JSON.parse(out.body as string)).toMatchObject({ ok: true, you_sent: "Bearer [REDACTED]", leak: "[REDACTED]" });

    const hits = upstreamSeen.length;
    const bad = await platform.fail("test_connection", { integration: "HaloPSA", org: "acme", path: "//evil.example.com/x" });
    expect(bad.envelope).toMatchObject({ statusCode: 422, code: "BIFROST_VALIDATION" });
    expect(bad.envelope?.message).toContain("path");
    expect(upstreamSeen.length).toBe(hits);
    // Platform only, like the console route.
    expect((await acmeAdmin.fail("test_connection", { integration: "HaloPSA", org: "acme", path: "/ping" })).envelope?.code).toBe("BIFROST_FORBIDDEN");
    expect(upstreamSeen.length).toBe(hits);
  });

  it("oauth_status: connection health without tokens; an integration without a provider is an error", async () => {
    const out = await platform.ok<{ connections: Array<Record<string, unknown>> }>("oauth_status", { integration: "HaloPSA" });
    // test_connection minted the client-credentials token at integration level.
    expect(out.connections.find((c) => c.level === "integration")).toMatchObject({ org: null, state: "connected", has_refresh_token: false });
    expect(out.connections.find((c) => c.org === "acme")).toMatchObject({ level: "mapping", entity_id: "T-1" });
    // Org admins see their own org's connections only (not the integration level, not globex).
    const own = await acmeAdmin.ok<{ connections: Array<Record<string, unknown>> }>("oauth_status", {});
    expect(own.connections.map((c) => c.org)).toEqual(["acme"]);
    const none = await platform.fail("oauth_status", { integration: "Pets" });
    expect(none.envelope?.code).toBe("BIFROST_OAUTH_NO_PROVIDER");
  });

  it("list_events: filtered to the caller's org for org admins; a bad limit is refused", async () => {
    const all = await platform.ok<{ events: Array<{ org: string | null; payload: Record<string, unknown> }> }>("list_events", { integration: "HaloPSA" });
    expect(all.events.map((e) => e.payload.reason)).toEqual(expect.arrayContaining(["acme-event", "globex-event"]));
    const own = await acmeAdmin.ok<{ events: Array<{ org: string | null }> }>("list_events", {});
    expect(own.events.length).toBeGreaterThan(0);
    expect(own.events.every((e) => e.org === "acme")).toBe(true);
    const bad = await platform.fail("list_events", { limit: 0 });
    expect(bad.text).toMatch(/limit/);
  });

  it("create_connect_link: a one-time link for the caller's org; client-credentials integrations have none", async () => {
    await createIntegration(h.bf, { name: "Portal" });
    await setOAuthProvider(h.bf, "Portal", {
      flow: "authorization_code",
      client_id: "portal-client",
      client_secret: "portal-secret-PLAINTEXT",
      authorization_url: "https://auth.example.com/authorize",
      token_url: "https://auth.example.com/token",
    });
    const out = await acmeAdmin.ok<{ url: string; expires_at: string; id: string }>("create_connect_link", { integration: "Portal", org: "acme", expires: "2h" });
    expect(out.url).toMatch(/\/connect\/[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(out.expires_at) - Date.now()).toBeGreaterThan(3600_000);
    expect(out.url).not.toContain(out.id);
    const cc = await acmeAdmin.fail("create_connect_link", { integration: "HaloPSA", org: "acme" });
    expect(cc.envelope).toMatchObject({ statusCode: 422, code: "BIFROST_OAUTH_CONFIG_INVALID" });
    const bad = await acmeAdmin.fail("create_connect_link", { integration: "Portal", org: "acme", expires: "forever" });
    expect(bad.envelope).toMatchObject({ statusCode: 422, code: "BIFROST_CONNECT_LINK_EXPIRES_INVALID" });
  });

  it("generate_sdk: platform admins get the module source and new config keys; org admins are refused", async () => {
    const refused = await acmeAdmin.fail("generate_sdk", { integration: "Pets", spec: PETS_SPEC });
    expect(refused.envelope).toMatchObject({ statusCode: 403, code: "BIFROST_FORBIDDEN" });
    expect(refused.envelope?.message).toContain("platform_admin");
    expect((await getIntegration(h.bf, "Pets")).configSchema).toEqual([]);

    const both = await platform.fail("generate_sdk", { integration: "Pets", spec: PETS_SPEC, spec_url: "https://pets.example.com/openapi.json" });
    expect(both.envelope?.code).toBe("BIFROST_VALIDATION");
    const file = await platform.fail("generate_sdk", { integration: "Pets", spec_url: "/etc/passwd" });
    expect(file.envelope).toMatchObject({ code: "BIFROST_VALIDATION", details: { path: "spec_url" } });
    expect((await getIntegration(h.bf, "Pets")).configSchema).toEqual([]);

    const out = await platform.ok<Record<string, unknown>>("generate_sdk", { integration: "Pets", spec: PETS_SPEC });
    expect(out).toMatchObject({ module: "pets", file_name: "pets.ts", export: "pets", operations: 1 });
    expect(out.source).toContain("listPets");
    expect((await getIntegration(h.bf, "Pets")).configSchema.map((k) => k.key)).toContain("base_url");
  });

  describe("org isolation with an org-scoped key", () => {
    /** The envelope for another org must equal the one for an org that does not exist (slug aside). */
    const same = async (tool: string, args: (org: string) => Record<string, unknown>) => {
      const other = await acmeAdmin.fail(tool, args("globex"));
      const missing = await acmeAdmin.fail(tool, args("no-such-org"));
      expect(other.envelope, tool).toMatchObject({ statusCode: 404, code: "BIFROST_NOT_FOUND" });
      expect(JSON.stringify(other.envelope).replaceAll("globex", "X"), tool).toBe(JSON.stringify(missing.envelope).replaceAll("no-such-org", "X"));
    };

    it("another org's integration view, config and mapping look exactly like missing ones", async () => {
      const before = await getMapping(h.bf, "HaloPSA", "globex");
      await same("get_integration", (org) => ({ integration: "HaloPSA", org }));
      await same("set_config", (org) => ({ integration: "HaloPSA", org, values: { timeout: 1 } }));
      await same("set_mapping", (org) => ({ integration: "HaloPSA", org, entity_id: "stolen" }));
      await same("oauth_status", (org) => ({ org }));
      await same("list_events", (org) => ({ org }));
      await same("create_connect_link", (org) => ({ integration: "HaloPSA", org }));
      expect(await getMapping(h.bf, "HaloPSA", "globex")).toEqual(before);
      expect(await getStoredConfig(h.bf, "HaloPSA", "globex")).toEqual({});
    });

    it("workflow keys may not use the management tools", async () => {
      const wf = await connect(h.keys.acmeWorkflow);
      for (const [tool, args] of [
        ["list_integrations", {}],
        ["get_integration", { integration: "HaloPSA" }],
        ["set_config", { integration: "HaloPSA", org: "acme", values: { timeout: 1 } }],
      ] as const) {
        const res = await wf.fail(tool, args);
        expect(res.envelope, tool).toMatchObject({ statusCode: 403, code: "BIFROST_FORBIDDEN" });
      }
      expect((await getStoredConfig(h.bf, "HaloPSA", "acme")).timeout).toBe(45);
    });
  });

  describe("transport", () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
      });

    it("answers 401 without a key, with an unknown key, and with a session cookie only", async () => {
      const cases: Array<Record<string, string>> = [{}, { authorization: "Bearer bfk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, { authorization: "Basic abc" }, { cookie: "bifrost_session=abc" }];
      for (const headers of cases) {
        const res = await post(headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
        expect(((await res.json()) as { code: string }).code).toBe("BIFROST_UNAUTHENTICATED");
      }
      // The SDK client gets the 401 as a connection failure.
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
      await expect(connectClient(transport)).rejects.toThrow(/401|Unauthorized|unauthenticated/i);
    });

    it("refuses cross-origin browser requests, even with a valid key; same-origin loopback passes", async () => {
      const evil = await post({ authorization: `Bearer ${h.keys.platform}`, origin: "https://evil.example.com" });
      expect(evil.status).toBe(403);
      expect(((await evil.json()) as { code: string }).code).toBe("BIFROST_MCP_ORIGIN_REFUSED");
      const nullOrigin = await post({ authorization: `Bearer ${h.keys.platform}`, origin: "null" });
      expect(nullOrigin.status).toBe(403);
      const same = await post({ authorization: `Bearer ${h.keys.platform}`, origin: base });
      expect(same.status).toBe(200);
      expect(((await same.json()) as { result: { tools: unknown[] } }).result.tools).toHaveLength(9);
      const publicOrigin = await post({ authorization: `Bearer ${h.keys.platform}`, origin: "http://127.0.0.1:9" });
      expect(publicOrigin.status).toBe(200);
    });

    it("authenticates every request: a key revoked after connecting stops working on its next call", async () => {
      const made = await createApiKey(h.bf, { role: "org_admin", org: "acme", name: "short-lived" });
      const mcp = await connect(made.key);
      expect(await mcp.ok("get_integration", { integration: "HaloPSA" })).toMatchObject({ org: "acme" });
      expect(await revokeApiKey(h.bf, made.apiKey.id)).toBe(true);
      await expect(mcp.client.callTool({ name: "get_integration", arguments: { integration: "HaloPSA" } })).rejects.toThrow(/401|Unauthorized|unauthenticated/i);
    });

    it("GET /mcp answers 405 (stateless: no event stream)", async () => {
      const res = await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${h.keys.platform}`, accept: "text/event-stream" } });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(((await res.json()) as { code: string }).code).toBe("BIFROST_METHOD_NOT_ALLOWED");
    });
  });

  it("no tool result and no log line contains a secret or token; every call is attributed without argument values", () => {
    expect(issued.length).toBeGreaterThan(0);
    const results = seen.join("\n");
    const log = logLines.join("");
    for (const secret of [SECRET_DEFAULT, SECRET_ACME, NEW_SECRET, CLIENT_SECRET, ...issued]) {
      expect(results).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
    const calls = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "mcp tool call");
    const prefix = /^bfk_([0-9a-f]{12})_/.exec(h.keys.acmeAdmin)![1];
    const setCall = calls.find((c) => c.tool === "set_config" && c.key_prefix === prefix && c.outcome === "ok");
    expect(setCall).toMatchObject({ actor: "api_key", key_id: expect.any(String), key_name: "org_admin:acme", role: "org_admin", org: "acme" });
    expect(typeof setCall?.request_id).toBe("string");
    expect(calls.some((c) => c.tool === "generate_sdk" && c.outcome === "BIFROST_FORBIDDEN")).toBe(true);
    // Argument values never reach the log.
    expect(log).not.toContain(ENTITY_MARKER);
    expect(log).not.toContain(h.keys.platform);
  });
});
