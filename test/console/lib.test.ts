/** The console's pure helpers (console/src/lib, console/src/api/errors.ts): no browser, no DOM. */
import { describe, expect, it } from "vitest";
import { ApiError, errorFromResponse, errorMatches, toApiError } from "../../console/src/api/errors.js";
import type { OAuthProvider } from "../../console/src/api/types.js";
import { acceptedLines, appendLines, parseBulk, propose } from "../../console/src/lib/bulk.js";
import { configPatch, display, jsonError, jsonErrors, jsonText } from "../../console/src/lib/config-values.js";
import { connectFinished } from "../../console/src/lib/connect.js";
import { actionTone, actorLabel, AUDIT_ACTIONS as CONSOLE_AUDIT_ACTIONS, auditQuery } from "../../console/src/lib/audit.js";
import { AUDIT_ACTIONS } from "../../src/kernel/audit.js";
import { connectionBadge, parseRoute, relTime } from "../../console/src/lib/format.js";
import { callbackUrl, providerBody, providerDraft } from "../../console/src/lib/provider.js";
import { EMPTY_ROW, hasErrors, rowErrors, toRows, toSchema } from "../../console/src/lib/schema-rows.js";

describe("schema rows", () => {
  it("round-trips a schema through editable rows (int options back to numbers, empty fields left out)", () => {
    const schema = [
      { key: "base_url", type: "string" as const, required: true, description: "Tenant URL" },
      { key: "region", type: "string" as const, options: ["eu", "us"] },
      { key: "retries", type: "int" as const, options: [1, 3] },
      { key: "secret", type: "secret" as const, description: null },
    ];
    const rows = toRows(schema);
    expect(rows[1]).toEqual({ key: "region", type: "string", required: false, description: "", options: "eu, us" });
    expect(toSchema(rows)).toEqual([
      { key: "base_url", type: "string", required: true, description: "Tenant URL" },
      { key: "region", type: "string", options: ["eu", "us"] },
      { key: "retries", type: "int", options: [1, 3] },
      { key: "secret", type: "secret" },
    ]);
  });

  it("flags missing, malformed and duplicate keys and misplaced or non-integer options", () => {
    const errs = rowErrors([
      { ...EMPTY_ROW },
      { ...EMPTY_ROW, key: "9lives" },
      { ...EMPTY_ROW, key: "a" },
      { ...EMPTY_ROW, key: "a" },
      { ...EMPTY_ROW, key: "flag", type: "bool", options: "x" },
      { ...EMPTY_ROW, key: "n", type: "int", options: "1, two" },
      { ...EMPTY_ROW, key: "ok_key", type: "int", options: "-1, 2" },
    ]);
    expect(errs[0]?.key).toMatch(/required/);
    expect(errs[1]?.key).toMatch(/Letters, digits/);
    expect(errs[2]).toEqual({});
    expect(errs[3]?.key).toMatch(/appears twice/);
    expect(errs[4]?.options).toMatch(/only allowed for string and int/);
    expect(errs[5]?.options).toMatch(/must be integers/);
    expect(errs[6]).toEqual({});
    expect(hasErrors(errs)).toBe(true);
    expect(hasErrors([{}, {}])).toBe(false);
  });
});

describe("bulk mapping text", () => {
  it("parses org,entity_id,entity_name lines (header skipped, blank lines ignored, commas kept in names)", () => {
    expect(parseBulk("org,entity_id,entity_name\nacme,C-1,Acme, Inc\n\n globex , ,\n")).toEqual([
      { org: "acme", entity_id: "C-1", entity_name: "Acme, Inc", line: 2 },
      { org: "globex", entity_id: null, entity_name: null, line: 4 },
    ]);
    expect(parseBulk("")).toEqual([]);
  });

  it("appends lines on their own line", () => {
    expect(appendLines("", ["a,1,A"])).toBe("a,1,A\n");
    expect(appendLines("x,1,X", ["a,1,A", "b,2,B"])).toBe("x,1,X\na,1,A\nb,2,B\n");
    expect(appendLines("x,1,X\n", ["a,1,A"])).toBe("x,1,X\na,1,A\n");
  });

  it("proposes an org per entity, ticks only confident ones, and turns accepted ones into bulk lines", () => {
    const orgs = [
      { slug: "acme", name: "Acme Corp" },
      { slug: "globex", name: "Globex" },
    ];
    const proposals = propose("C-1,Acme Corp\nC-2,Globex Holdings Intl\nC-3,Zzyzx", orgs);
    expect(proposals.map((p) => [p.entity_id, p.org, p.accepted])).toEqual([
      ["C-1", "acme", true],
      ["C-2", "globex", proposals[1]!.suggestion.confidence >= 0.8],
      ["C-3", "", false],
    ]);
    expect(acceptedLines(proposals.map((p) => ({ ...p, accepted: p.org !== "" })))).toEqual(["acme,C-1,Acme Corp", "globex,C-2,Globex Holdings Intl"]);
    expect(acceptedLines(proposals.map((p) => ({ ...p, accepted: false })))).toEqual([]);
  });
});

describe("OAuth provider form", () => {
  const stored: OAuthProvider = {
    flow: "authorization_code",
    client_id: "cid",
    client_secret: { set: true, fingerprint: "abc123def456" },
    authorization_url: "https://idp.example/authorize",
    token_url: "https://idp.example/token",
    scopes: ["read", "write"],
    token_auth_method: "client_secret_post",
    url_defaults: { tenant: "t1" },
  };

  it("drafts from the stored provider and defaults when there is none", () => {
    expect(providerDraft(stored)).toMatchObject({ flow: "authorization_code", scopes: "read write", method: "client_secret_post", secret: null, fields: { client_id: "cid", issuer: "" } });
    expect(providerDraft(null)).toMatchObject({ flow: "authorization_code", scopes: "", method: "client_secret_basic", secret: null });
  });

  it("keeps settings the form does not edit, sends the masked secret back unless a new one is typed, drops empty fields", () => {
    const d = providerDraft(stored);
    const body = providerBody(stored, { ...d, scopes: "read, admin", fields: { ...d.fields, token_url: "" } });
    expect(body).toEqual({
      url_defaults: { tenant: "t1" },
      flow: "authorization_code",
      client_id: "cid",
      authorization_url: "https://idp.example/authorize",
      scopes: ["read", "admin"],
      token_auth_method: "client_secret_post",
      client_secret: { set: true, fingerprint: "abc123def456" },
    });
    expect(providerBody(stored, { ...d, secret: "new-secret" }).client_secret).toBe("new-secret");
    expect(providerBody(null, { ...providerDraft(null), secret: "" })).not.toHaveProperty("client_secret");
  });

  it("builds the callback URL with the integration name encoded", () => {
    expect(callbackUrl("https://bifrost.example.com", "Halo PSA")).toBe("https://bifrost.example.com/api/oauth/callback/Halo%20PSA");
  });
});

describe("config form values", () => {
  const schema = [
    { key: "s", type: "string" as const },
    { key: "n", type: "int" as const },
    { key: "b", type: "bool" as const },
    { key: "j", type: "json" as const },
    { key: "k", type: "secret" as const },
  ];

  it("sends only changed keys: null clears, JSON parsed, booleans, empty non-strings as null", () => {
    expect(configPatch(schema, { s: "", n: "", b: false, j: '{"a":1}', k: null })).toEqual({ s: "", n: null, b: false, j: { a: 1 }, k: null });
    expect(configPatch(schema, { n: "42", j: "  " })).toEqual({ n: "42", j: null });
    expect(configPatch(schema, {})).toEqual({});
  });

  it("shows masked secrets by fingerprint, objects as JSON, and reports JSON parse errors per key", () => {
    expect(display({ set: true, fingerprint: "f00" })).toBe("set · f00");
    expect(display({ a: 1 })).toBe('{"a":1}');
    expect(display(null)).toBe("");
    expect(jsonText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(jsonError("")).toBeNull();
    expect(jsonError("{")).toMatch(/^Not valid JSON/);
    expect(jsonErrors(schema, { j: "[1,", s: "{" })).toEqual({ j: expect.stringMatching(/Not valid JSON/) });
  });
});

describe("format and routing", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");

  it("relative times", () => {
    expect(relTime(null, now)).toBe("—");
    expect(relTime("2026-01-01T12:00:30Z", now)).toBe("in 30s");
    expect(relTime("2026-01-01T11:50:00Z", now)).toBe("10 min ago");
    expect(relTime("2026-01-01T15:00:00Z", now)).toBe("in 3 h");
    expect(relTime("2025-12-30T12:00:00Z", now)).toBe("2 d ago");
  });

  it("connection badges", () => {
    const c = { state: "connected" as const, expires_at: null, last_error: null };
    expect(connectionBadge(undefined, now)).toEqual({ tone: "muted", text: "not connected" });
    expect(connectionBadge(c, now)).toEqual({ tone: "ok", text: "connected" });
    expect(connectionBadge({ ...c, expires_at: "2026-01-01T12:05:00Z" }, now)).toEqual({ tone: "info", text: "expires in 5 min" });
    expect(connectionBadge({ ...c, expires_at: "2026-01-01T13:00:00Z" }, now).text).toBe("connected");
    expect(connectionBadge({ ...c, state: "needs_reauth" }, now)).toEqual({ tone: "warn", text: "needs re-auth" });
    expect(connectionBadge({ ...c, state: "error", last_error: "invalid_grant" }, now)).toEqual({ tone: "bad", text: "error: invalid_grant", title: "invalid_grant" });
    expect(connectionBadge({ ...c, state: "refreshing" }, now).text).toBe("refreshing…");
  });

  it("hash routes (API keys for platform admins only, unknown and malformed hashes → integrations)", () => {
    expect(parseRoute("#/integrations/Halo%20PSA", false)).toEqual({ page: "integration", name: "Halo PSA" });
    expect(parseRoute("#/orgs/acme", false)).toEqual({ page: "org", slug: "acme" });
    expect(parseRoute("#/orgs", false)).toEqual({ page: "orgs" });
    const ev = parseRoute("#/events?type=needs_reauth", false);
    expect(ev.page === "events" && ev.query.get("type")).toBe("needs_reauth");
    expect(parseRoute("#/keys", true)).toEqual({ page: "keys" });
    expect(parseRoute("#/keys", false)).toEqual({ page: "integrations" });
    expect(parseRoute("#/nowhere", true)).toEqual({ page: "integrations" });
    expect(parseRoute("#/integrations/%E0%A4%A", true)).toEqual({ page: "integrations" });
  });

  it("the Connect popup is done when the connection is connected with a new refresh time", () => {
    const before = { last_refresh_at: "2026-01-01T10:00:00Z" };
    expect(connectFinished({ state: "connected", last_refresh_at: "2026-01-01T12:00:00Z" }, before)).toBe(true);
    expect(connectFinished({ state: "connected", last_refresh_at: "2026-01-01T10:00:00Z" }, before)).toBe(false);
    expect(connectFinished({ state: "needs_reauth", last_refresh_at: "2026-01-01T12:00:00Z" }, before)).toBe(false);
    expect(connectFinished(undefined, before)).toBe(false);
    expect(connectFinished({ state: "connected", last_refresh_at: null }, undefined)).toBe(true);
  });
});

describe("API errors", () => {
  it("maps the envelope (code, message, details.path / details.key) and falls back to HTTP_<status>", () => {
    const e = errorFromResponse(422, { statusCode: 422, code: "BIFROST_VALIDATION", message: "bad", details: { path: "config_schema[0].key" } });
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message, e.field]).toEqual([422, "BIFROST_VALIDATION", "bad", "config_schema[0].key"]);
    expect(errorFromResponse(400, { code: "X", message: "m", details: { key: "timeout", path: "defaults" } }).field).toBe("timeout");
    const plain = errorFromResponse(502, "<html>Bad gateway</html>");
    expect([plain.code, plain.message, plain.field]).toEqual(["HTTP_502", "Request failed (502).", null]);
  });

  it("matches a field and its sub-paths only", () => {
    const e = new ApiError(422, "BIFROST_VALIDATION", "bad", { path: "rows[1].org" });
    expect(errorMatches(e, "rows")).toBe(true);
    expect(errorMatches(e, "row")).toBe(false);
    expect(errorMatches(e, "org", "rows[1].org")).toBe(true);
    expect(errorMatches(null, "rows")).toBe(false);
    expect(toApiError(new Error("boom"))).toMatchObject({ status: 0, code: "CLIENT", message: "boom" });
    expect(toApiError(e)).toBe(e);
  });
});

describe("audit page helpers", () => {
  it("labels actors by key prefix and name, console/MCP, the local CLI and the server", () => {
    expect(actorLabel({ kind: "api_key", key_prefix: "0a1b2c3d4e5f", key_name: "ops", via: "api" })).toBe('key 0a1b2c3d4e5f "ops"');
    expect(actorLabel({ kind: "api_key", key_prefix: "0a1b2c3d4e5f", key_name: "ops", via: "console" })).toBe('key 0a1b2c3d4e5f "ops" (console)');
    expect(actorLabel({ kind: "local_cli" })).toBe("local CLI");
    expect(actorLabel({ kind: "system" })).toBe("system");
  });
  it("builds the query without empty filters, with the cursor for older pages", () => {
    expect(auditQuery({ integration: " Halo ", org: "", action: "secret.read", since: "" }, null)).toEqual({ limit: "50", integration: "Halo", action: "secret.read" });
    expect(auditQuery({ integration: "", org: "acme", action: "", since: "7d" }, "abc")).toEqual({ limit: "50", org: "acme", since: "7d", cursor: "abc" });
  });
  it("offers exactly the actions the server records", () => {
    expect([...CONSOLE_AUDIT_ACTIONS]).toEqual([...AUDIT_ACTIONS]);
    expect(actionTone("secret.read")).toBe("warn");
  });
  it("routes #/audit with its query", () => {
    const r = parseRoute("#/audit?action=secret.read", false);
    expect(r.page).toBe("audit");
    expect(r.page === "audit" ? r.query.get("action") : null).toBe("secret.read");
  });
});
