/** The console's pure helpers (console/src/lib, console/src/api/errors.ts): no browser, no DOM. */
import { describe, expect, it } from "vitest";
import { ApiError, errorFromResponse, errorMatches, toApiError } from "../../console/src/api/errors.js";
import type { OAuthProvider } from "../../console/src/api/types.js";
import { acceptedLines, appendLines, parseBulk, propose } from "../../console/src/lib/bulk.js";
import { configPatch, display, jsonError, jsonErrors, jsonText } from "../../console/src/lib/config-values.js";
import { connectFinished } from "../../console/src/lib/connect.js";
import { actionTone, actorLabel, AUDIT_ACTIONS as CONSOLE_AUDIT_ACTIONS, auditQuery } from "../../console/src/lib/audit.js";
import { AUDIT_ACTIONS } from "../../src/kernel/audit.js";
import { connectionBadge, detailText, eventTone, relTime, when } from "../../console/src/lib/format.js";
import { connectionHref, integrationHref, parseRoute } from "../../console/src/lib/routes.js";
import { ariaSort, bulkSummary, bulkTargets, type ConnLike, connectionsHref, connectionsQuery, EMPTY_FILTER, filterFromQuery, filterParams, linkBlock, mapLimited, rowActions, rowKey, toggleSort } from "../../console/src/lib/connections.js";
import { currentCursor, FIRST_PAGE, localPage, nextPage, pageQuery, previousPage, rangeLabel } from "../../console/src/lib/paging.js";
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
    expect(parseRoute("#/integrations/Halo%20PSA", false)).toEqual({ page: "integration", name: "Halo PSA", tab: "overview" });
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

describe("routes", () => {
  it("integration tabs: bare = overview, known tabs, anything else → the integrations list", () => {
    expect(parseRoute("#/integrations/Halo/mappings", true)).toEqual({ page: "integration", name: "Halo", tab: "mappings" });
    expect(parseRoute("#/integrations/Halo/schema", true)).toEqual({ page: "integration", name: "Halo", tab: "schema" });
    expect(parseRoute("#/integrations/Halo/provider", true)).toEqual({ page: "integration", name: "Halo", tab: "provider" });
    expect(parseRoute("#/integrations/Halo/secrets", true)).toEqual({ page: "integrations" });
    expect(integrationHref("Halo PSA")).toBe("#/integrations/Halo%20PSA");
    expect(integrationHref("Halo", "mappings")).toBe("#/integrations/Halo/mappings");
    for (const tab of ["overview", "schema", "provider", "mappings"] as const) expect(parseRoute(integrationHref("A/B", tab), true)).toEqual({ page: "integration", name: "A/B", tab });
  });

  it("connections list and per-connection pages (- = integration level)", () => {
    const list = parseRoute("#/connections?state=needs_reauth", false);
    expect(list.page === "connections" && list.query.get("state")).toBe("needs_reauth");
    expect(parseRoute("#/connections/Halo/acme", false)).toEqual({ page: "connection", integration: "Halo", org: "acme" });
    expect(parseRoute("#/connections/Halo/-", false)).toEqual({ page: "connection", integration: "Halo", org: null });
    expect(parseRoute("#/connections/Halo", false)).toEqual({ page: "integrations" });
    expect(connectionHref("Halo PSA", null)).toBe("#/connections/Halo%20PSA/-");
    expect(parseRoute(connectionHref("Halo PSA", "acme"), false)).toEqual({ page: "connection", integration: "Halo PSA", org: "acme" });
  });
});

describe("connections page helpers", () => {
  it("filters round-trip through the hash query; defaults and junk are left out", () => {
    const f = { ...EMPTY_FILTER, q: " acme ", states: ["needs_reauth" as const, "error" as const], integration: "Halo", expiringDays: "7", unmapped: true, sort: "expires_at" as const, order: "desc" as const };
    const params = filterParams(f);
    expect(params).toEqual({ q: "acme", state: "needs_reauth,error", integration: "Halo", expiring_within_days: "7", unmapped: "true", sort: "expires_at", order: "desc" });
    expect(filterFromQuery(new URLSearchParams(params))).toEqual({ ...f, q: "acme" });
    expect(filterParams(EMPTY_FILTER)).toEqual({});
    expect(filterFromQuery(new URLSearchParams("state=bogus,error&sort=secret&order=up&expiring_within_days=-1"))).toEqual({ ...EMPTY_FILTER, states: ["error"] });
    expect(connectionsQuery(EMPTY_FILTER, null, 100)).toEqual({ limit: "100" });
    expect(connectionsQuery({ ...EMPTY_FILTER, expiringDays: "x" }, "abc", 50)).toEqual({ limit: "50", cursor: "abc" });
    expect(connectionsHref({ integration: "Halo", states: ["needs_reauth"] })).toBe("#/connections?state=needs_reauth&integration=Halo");
    expect(connectionsHref({})).toBe("#/connections");
  });

  it("a header click sorts by that column ascending, a second click flips the order", () => {
    const byOrg = toggleSort(EMPTY_FILTER, "org");
    expect([byOrg.sort, byOrg.order, ariaSort(byOrg, "org"), ariaSort(byOrg, "state")]).toEqual(["org", "asc", "ascending", "none"]);
    const flipped = toggleSort(byOrg, "org");
    expect([flipped.order, ariaSort(flipped, "org")]).toEqual(["desc", "descending"]);
    expect(toggleSort(flipped, "state")).toMatchObject({ sort: "state", order: "asc" });
  });

  it("actions fit the state: no Refresh or Disconnect on a row that is not connected, no link for a connected one", () => {
    const row = (state: ConnLike["state"], flow: string | null = "authorization_code", org: string | null = "acme"): ConnLike => ({ integration: "Halo", org, flow, state });
    expect(rowActions(row("not_connected"))).toEqual({ connect: "Connect", link: true, refresh: false, disconnect: false });
    expect(rowActions(row("connected"))).toEqual({ connect: "Reconnect", link: false, refresh: true, disconnect: true });
    expect(rowActions(row("needs_reauth"))).toEqual({ connect: "Reconnect", link: true, refresh: false, disconnect: true });
    expect(rowActions(row("error"))).toEqual({ connect: "Reconnect", link: true, refresh: true, disconnect: true });
    expect(rowActions(row("refreshing"))).toEqual({ connect: null, link: false, refresh: false, disconnect: true });
    expect(rowActions(row("not_connected", "authorization_code", null)).link).toBe(false);
    expect(rowActions(row("not_connected", "client_credentials"))).toEqual({ connect: null, link: false, refresh: false, disconnect: false });
    expect(rowActions(row("connected", "client_credentials"))).toEqual({ connect: null, link: false, refresh: true, disconnect: true });
    expect(rowActions(row("connected", null))).toEqual({ connect: null, link: false, refresh: false, disconnect: false });
    const rows = [row("connected"), row("not_connected", "authorization_code", "b"), row("needs_reauth", "authorization_code", "c")];
    expect(bulkTargets(rows, "refresh").map(rowKey)).toEqual(["Halo/acme"]);
    expect(bulkTargets(rows, "link").map(rowKey)).toEqual(["Halo/b", "Halo/c"]);
    expect(bulkTargets(rows, "disconnect").map(rowKey)).toEqual(["Halo/acme", "Halo/c"]);
    expect(rowKey(row("connected", "client_credentials", null))).toBe("Halo/-");
  });

  it("bulk results: a summary per outcome and one `org → URL` line per created link", async () => {
    const results = [
      { key: "Halo/a", org: "a", ok: true, text: "https://x/connect/1" },
      { key: "Halo/b", org: "b", ok: false, text: "Organization not found" },
      { key: "Halo/c", org: "c", ok: true, text: "https://x/connect/3" },
    ];
    expect(bulkSummary(results, "links created")).toBe("2 links created, 1 failed");
    expect(bulkSummary(results.filter((r) => r.ok), "refreshed")).toBe("2 refreshed");
    expect(linkBlock(results)).toBe("a → https://x/connect/1\nc → https://x/connect/3");
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
    expect(await mapLimited([], 4, async () => 1)).toEqual([]);
  });
});

describe("event and detail formatting", () => {
  it("eventTone: failures warn, disconnects are muted, the rest ok", () => {
    expect(["needs_reauth", "refresh_failed", "disconnected", "connected", "refreshed_after_failure"].map(eventTone)).toEqual(["warn", "warn", "muted", "ok", "ok"]);
  });
  it("detailText: one line of JSON, empty for nothing", () => {
    expect(detailText({ reason: "invalid_grant", attempts: 2 })).toBe('{"reason":"invalid_grant","attempts":2}');
    expect(detailText({})).toBe("");
    expect(detailText(null)).toBe("");
    expect(detailText(undefined)).toBe("");
  });
});

describe("cursor paging", () => {
  it("pageQuery: limit 100, the filters that are set, the cursor of a later page", () => {
    expect(pageQuery(null)).toEqual({ limit: "100" });
    expect(pageQuery(null, { q: "", state: "error", unmapped: "" })).toEqual({ limit: "100", state: "error" });
    expect(pageQuery("c2", { q: "acme", org: "" })).toEqual({ limit: "100", q: "acme", cursor: "c2" });
  });

  it("remembers the cursors it visited so Previous goes back; labels the rows shown of the total", () => {
    const p2 = nextPage(FIRST_PAGE, "c1");
    const p3 = nextPage(p2, "c2");
    expect([currentCursor(FIRST_PAGE), currentCursor(p2), currentCursor(p3)]).toEqual([null, "c1", "c2"]);
    const back = previousPage(p3);
    expect(currentCursor(back)).toBe("c1");
    expect(currentCursor(nextPage(back, "c2b"))).toBe("c2b");
    expect(nextPage(back, "c2b").cursors).toEqual([null, "c1", "c2b"]);
    expect(previousPage(FIRST_PAGE)).toEqual(FIRST_PAGE);
    expect(rangeLabel(FIRST_PAGE, 100, 1000)).toBe("1–100 of 1,000");
    expect(rangeLabel(p3, 37, 237)).toBe("201–237 of 237");
    expect(rangeLabel(FIRST_PAGE, 0, 0)).toBe("0–0 of 0");
    expect(rangeLabel(p2, 100, null)).toBe("101–200");
  });

  it("pages rows held in memory 100 at a time, clamping the index to the pages there are", () => {
    const rows = Array.from({ length: 250 }, (_, i) => i);
    const first = localPage(rows, 0);
    expect([first.rows.length, first.rows[0], first.offset, first.more]).toEqual([100, 0, 0, true]);
    const third = localPage(rows, 2);
    expect([third.rows.length, third.rows[0], third.rows.at(-1), third.offset, third.more]).toEqual([50, 200, 249, 200, false]);
    expect(rangeLabel(third, third.rows.length, rows.length)).toBe("201–250 of 250");
    expect(localPage(rows, 9).index).toBe(2);
    expect(localPage(rows, -1).index).toBe(0);
    expect(localPage([], 3)).toEqual({ rows: [], index: 0, offset: 0, more: false });
    expect(localPage(rows, 1, 120).rows).toEqual(rows.slice(120, 240));
  });
});

describe("when", () => {
  it("shows a timestamp exactly as Date#toLocaleString does, and a dash for null", () => {
    for (const iso of ["2026-12-01T08:41:14.086Z", "1999-01-31T23:59:59Z", "2030-06-15T00:00:00.000Z"]) expect(when(iso)).toBe(new Date(iso).toLocaleString());
    expect(when(null)).toBe("—");
  });
});
