/**
 * The audit trail on both databases: an entry for every action with the right actor (API key via the
 * API, the console and MCP; the local CLI; the server) and target; org admins read only their org's
 * entries (attack: acme's admin asks for globex); no secret value written through any path appears in
 * any column of the table, in GET /api/audit or in `bifrost audit --json`; retention deletes only old
 * rows; secret.read once per execution per integration.
 */
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { sql } from "kysely";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { type Bifrost, openBifrost } from "../../src/host/bootstrap.js";
import { StoreResolver } from "../../src/host/store-resolver.js";
import { AUDIT_ACTIONS, AuditBuffer, LOCAL_CLI_CONTEXT, pruneAuditLog, recordAudit, withAuditContext } from "../../src/kernel/audit.js";
import { startBackgroundWork } from "../../src/oauth/background.js";
import { createContext, runInContext } from "../../src/runtime/context.js";
import { integrations } from "../../src/runtime/integrations.js";
import { createApp } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import { listAudit } from "../../src/services/audit.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setConfig, setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import type { KyselyStore } from "../../src/storage/kysely-store.js";
import { type Backend, BACKENDS, createTestDatabase, tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";
import { connectClient } from "../mcp/helpers.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, startAuthServer } from "../oauth/helpers/auth-server.js";
import { TEST_OAUTH } from "../oauth/helpers/setup.js";

interface Entry {
  id: string;
  at: string;
  action: string;
  actor: { kind: string; key_id?: string; key_prefix?: string; key_name?: string; via?: string };
  target: { integration: string | null; org: string | null; keys: string[] };
  detail: Record<string, unknown>;
  request_id: string | null;
  execution_id: string | null;
}

/** A store the CLI can open too (BIFROST_HOME's SQLite file, or the PostgreSQL URL), with a fresh keyring. */
async function boot(backend: Backend): Promise<{ bf: Bifrost; cliEnv: Record<string, string>; cleanup(): Promise<void> }> {
  const dir = tempDir("bifrost-audit-");
  const keyring = generateKeyringJson();
  let store: Store;
  let env: Record<string, string>;
  let drop = async () => undefined as void;
  if (backend.name === "sqlite") {
    store = SqliteStore.open(join(dir.dir, "bifrost.db"));
    env = { BIFROST_HOME: dir.dir };
  } else {
    const db = await createTestDatabase();
    store = PostgresStore.open(db.url);
    env = { DATABASE_URL: db.url, BIFROST_HOME: dir.dir };
    drop = db.drop;
  }
  const bf = await openBifrost({ store, env: { BIFROST_KEYRING: keyring, BIFROST_HOME: dir.dir }, allowCreateDevKeyring: false, warn: () => undefined });
  return {
    bf,
    cliEnv: { ...env, BIFROST_KEYRING: keyring },
    async cleanup() {
      await bf.close();
      await drop();
      dir.cleanup();
    },
  };
}

/** Every row of the audit table, every column, as the database holds it. */
async function rawAuditRows(store: Store): Promise<Array<Record<string, unknown>>> {
  return (await sql<Record<string, unknown>>`SELECT * FROM audit_log`.execute((store as unknown as KyselyStore).db)).rows;
}

for (const backend of BACKENDS) {
  describe(`audit trail (${backend.name})`, () => {
    let as: AuthServer;
    let bf: Bifrost;
    let app: FastifyInstance;
    let base: string;
    let cliEnv: Record<string, string>;
    let cleanup: () => Promise<void>;
    const keys = { platform: "", acmeAdmin: "", acmeWorkflow: "", globexAdmin: "", globexWorkflow: "" };
    const keyIds: Record<string, string> = {};
    /** Every secret value written below, each proven readable through the legitimate path first. */
    const secrets: string[] = [];

    const call = (method: string, url: string, key: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
      app.inject({
        method: method as "GET",
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const ok = (res: LightMyRequestResponse): LightMyRequestResponse => {
      if (res.statusCode >= 300) throw new Error(`expected success, got ${res.statusCode}: ${res.body.slice(0, 400)}`);
      return res;
    };
    const cli = (args: string[]) => runCliInProcess(args, { env: cliEnv });
    /** The plaintext a workflow gets for `org` (the legitimate read path of a secret). */
    const resolved = async (org: string) => {
      const res = await call("GET", `/api/integrations/Halo/resolved?org=${org}`, org === "acme" ? keys.acmeWorkflow : keys.globexWorkflow);
      expect(res.statusCode).toBe(200);
      return res.json() as { config: Record<string, unknown>; oauth: { access_token: string } | null };
    };
    /** Every entry the caller may read, through the paginated API (small pages, to exercise the cursor). */
    const allEntries = async (key: string, query = ""): Promise<{ entries: Entry[]; bodies: string[] }> => {
      const entries: Entry[] = [];
      const bodies: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 200; page++) {
        const res = await call("GET", `/api/audit?limit=7${query}${cursor ? `&cursor=${cursor}` : ""}`, key);
        expect(res.statusCode).toBe(200);
        bodies.push(res.body);
        const body = res.json() as { entries: Entry[]; next_cursor: string | null };
        entries.push(...body.entries);
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      return { entries, bodies };
    };
    const find = (entries: Entry[], action: string, pred: (e: Entry) => boolean = () => true) => entries.filter((e) => e.action === action && pred(e));

    beforeAll(async () => {
      as = await startAuthServer({ integrations: ["Halo"] });
      const t = await boot(backend);
      bf = t.bf;
      cliEnv = t.cliEnv;
      cleanup = t.cleanup;
      await withAuditContext(LOCAL_CLI_CONTEXT, async () => {
        await createOrg(bf, { slug: "acme", name: "Acme" });
        await createOrg(bf, { slug: "globex", name: "Globex" });
        await createIntegration(bf, {
          name: "Halo",
          configSchema: [
            { key: "base_url", type: "string", required: true },
            { key: "timeout", type: "int", required: false },
            { key: "api_secret", type: "secret", required: false },
          ],
          defaults: { base_url: "https://halo.example.com" },
        });
        await createIntegration(bf, { name: "Plain", configSchema: [{ key: "region", type: "string", required: false }], defaults: { region: "eu" } });
        for (const [name, role, org] of [
          ["platform", "platform_admin", undefined],
          ["acmeAdmin", "org_admin", "acme"],
          ["acmeWorkflow", "workflow", "acme"],
          ["globexAdmin", "org_admin", "globex"],
          ["globexWorkflow", "workflow", "globex"],
        ] as const) {
          const k = await createApiKey(bf, { role, name: `${name}-key`, ...(org ? { org } : {}) });
          keys[name] = k.key;
          keyIds[name] = k.apiKey.id;
          secrets.push(k.key);
        }
      });
      app = await createApp({ bifrost: bf, oauth: TEST_OAUTH });
      base = await app.listen({ port: 0, host: "127.0.0.1" });
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
      await as?.close();
    });

    it("records every write and read through the API, the console, MCP and the CLI, naming the actor and the target", async () => {
      // API (bearer key): defaults with a secret, an org override, a mapping, the schema, the provider.
      const apiDefault = "sk-api-default-PLAINTEXT-1b2c3d";
      ok(await call("PATCH", "/api/integrations/Halo/defaults", keys.platform, { api_secret: apiDefault, timeout: 30 }));
      expect((await resolved("globex")).config.api_secret).toBe(apiDefault);
      secrets.push(apiDefault);
      const apiOverride = "sk-api-override-PLAINTEXT-4e5f6a";
      ok(await call("PUT", "/api/integrations/Halo/mappings/acme", keys.acmeAdmin, { entity_id: "T-1", config: { api_secret: apiOverride } }));
      expect((await resolved("acme")).config.api_secret).toBe(apiOverride);
      secrets.push(apiOverride);
      ok(await call("PUT", "/api/integrations/Halo/mappings/globex", keys.globexAdmin, { entity_id: "G-1" }));
      const schema = [
        { key: "base_url", type: "string", required: true },
        { key: "timeout", type: "int", required: false },
        { key: "api_secret", type: "secret", required: false },
        { key: "note", type: "string", required: false },
      ];
      ok(await call("PUT", "/api/integrations/Halo/schema", keys.platform, { config_schema: schema }));
      const provider = { flow: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: as.issuer, scopes: ["api:read", "offline_access"] };
      ok(await call("PUT", "/api/integrations/Halo/oauth", keys.platform, provider));
      secrets.push(CLIENT_SECRET);

      // OAuth: connect (started by acme's admin; the callback has no key), refresh, read the tokens, disconnect.
      const started = await call("POST", "/api/integrations/Halo/oauth/authorize", keys.acmeAdmin, { org: "acme" });
      expect(started.statusCode).toBe(200);
      const cb = await driveAuthorization((started.json() as { authorization_url: string }).authorization_url);
      const done = await call("GET", `/api/oauth/callback/Halo?${cb.searchParams.toString()}`, null);
      expect(done.statusCode).toBe(200);
      const first = (await resolved("acme")).oauth;
      expect(first?.access_token).toBeTruthy();
      ok(await call("POST", "/api/integrations/Halo/oauth/refresh", keys.acmeAdmin, { org: "acme" }));
      const tokens = (await resolved("acme")).oauth;
      expect(tokens?.access_token).toBeTruthy();
      // The refresh token reaches in-process workflows only.
      const inProcess = new StoreResolver(bf.store, bf.box, { clock: bf.clock, oauth: TEST_OAUTH });
      const acmeOrg = await inProcess.findOrg("acme");
      const refreshToken = await runInContext(createContext({ org: acmeOrg, caller: { kind: "cli", platform: true }, resolver: inProcess }), async () => (await integrations.get("Halo"))?.oauth?.refreshToken);
      expect(refreshToken).toBeTruthy();
      await inProcess.flushAudit();
      secrets.push(first!.access_token, tokens!.access_token, refreshToken as string);
      ok(await call("DELETE", "/api/integrations/Halo/oauth/connection?org=acme", keys.acmeAdmin));

      // API keys.
      const created = await call("POST", "/api/keys", keys.platform, { role: "workflow", org: "globex", name: "temp" });
      expect(created.statusCode).toBe(201);
      const temp = created.json() as { key: string; api_key: { id: string } };
      secrets.push(temp.key);
      ok(await call("DELETE", `/api/keys/${temp.api_key.id}`, keys.platform));

      // The console: a session's key, with the CSRF token.
      const login = await call("POST", "/api/session", null, { api_key: keys.platform });
      const session = /bifrost_session=([^;]*)/.exec(String(login.headers["set-cookie"] ?? ""))?.[1] ?? "";
      const csrf = (login.json() as { csrf_token: string }).csrf_token;
      const consoleSecret = "sk-console-PLAINTEXT-7b8c9d";
      const viaConsole = await call("PATCH", "/api/integrations/Halo/defaults", null, { api_secret: consoleSecret }, { cookie: `bifrost_session=${session}`, "x-csrf-token": csrf });
      expect(viaConsole.statusCode).toBe(200);
      expect((await resolved("globex")).config.api_secret).toBe(consoleSecret);
      secrets.push(consoleSecret);

      // MCP over HTTP.
      const mcpSecret = "sk-mcp-PLAINTEXT-0e1f2a";
      const mcp = await connectClient(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${keys.acmeAdmin}` } } }));
      const res = await mcp.call("set_config", { integration: "Halo", org: "acme", values: { api_secret: mcpSecret } });
      expect(res.isError).not.toBe(true);
      await mcp.client.close();
      expect((await resolved("acme")).config.api_secret).toBe(mcpSecret);
      secrets.push(mcpSecret);

      // The CLI: config set and apply.
      const cliSecret = "sk-cli-PLAINTEXT-3b4c5d";
      const set = await cli(["config", "set", "Halo", `api_secret=${cliSecret}`, "--json"]);
      expect(set.status, set.stderr).toBe(0);
      expect((await resolved("globex")).config.api_secret).toBe(cliSecret);
      secrets.push(cliSecret);
      const applySecret = "sk-apply-PLAINTEXT-6e7f8a";
      const file = join(cliEnv.BIFROST_HOME as string, "bifrost.yaml");
      writeFileSync(file, `integrations:\n  - name: Halo\n    config_schema:\n${schema.map((s) => `      - { key: ${s.key}, type: ${s.type}, required: ${s.required} }`).join("\n")}\n    defaults:\n      base_url: https://halo.example.com\n      api_secret: ${applySecret}\n`);
      const applied = await cli(["apply", file, "--json"]);
      expect(applied.status, applied.stderr).toBe(0);
      expect((await resolved("globex")).config.api_secret).toBe(applySecret);
      secrets.push(applySecret);

      await bf.resolver.flushAudit(); // secret.read entries are written in batches
      const { entries } = await allEntries(keys.platform);
      const key = (name: keyof typeof keys) => (e: Entry) => e.actor.kind === "api_key" && e.actor.key_id === keyIds[name] && e.actor.key_name === `${name}-key` && e.actor.key_prefix === keys[name].slice(4, 16);
      const api = (e: Entry) => e.actor.via === "api" && /^[0-9a-f-]{36}$/.test(e.request_id ?? "");

      // Each action: who, through which surface, on which names.
      expect(find(entries, "secret.write", (e) => key("platform")(e) && api(e) && e.target.integration === "Halo" && e.target.org === null && e.target.keys.join() === "api_secret")).toHaveLength(1);
      expect(find(entries, "config.write", (e) => key("platform")(e) && api(e) && e.target.keys.join() === "timeout")).toHaveLength(1);
      expect(find(entries, "secret.write", (e) => key("acmeAdmin")(e) && api(e) && e.target.org === "acme" && e.detail.level === "override")).toHaveLength(1);
      expect(find(entries, "mapping.write", (e) => key("acmeAdmin")(e) && e.target.org === "acme" && e.detail.change === "created")).toHaveLength(1);
      expect(find(entries, "mapping.write", (e) => key("globexAdmin")(e) && e.target.org === "globex")).toHaveLength(1);
      expect(find(entries, "schema.write", (e) => key("platform")(e) && e.target.integration === "Halo" && e.target.keys.join() === "note")).toHaveLength(1);
      expect(find(entries, "provider.write", (e) => key("platform")(e) && e.detail.change === "created" && e.detail.client_secret_changed === true)).toHaveLength(1);
      expect(find(entries, "oauth.connect", (e) => key("acmeAdmin")(e) && e.target.org === "acme" && e.detail.flow === "authorization_code")).toHaveLength(1);
      expect(find(entries, "oauth.refresh", (e) => key("acmeAdmin")(e) && e.target.org === "acme" && e.detail.forced === true)).toHaveLength(1);
      expect(find(entries, "oauth.disconnect", (e) => key("acmeAdmin")(e) && e.target.org === "acme")).toHaveLength(1);
      expect(find(entries, "key.create", (e) => key("platform")(e) && e.target.keys.join() === temp.api_key.id && e.target.org === "globex")).toHaveLength(1);
      expect(find(entries, "key.revoke", (e) => key("platform")(e) && e.target.keys.join() === temp.api_key.id)).toHaveLength(1);
      expect(find(entries, "secret.read", (e) => key("acmeWorkflow")(e) && e.target.org === "acme" && e.target.keys.join() === "api_secret").length).toBeGreaterThan(0);
      expect(find(entries, "secret.read", (e) => key("acmeWorkflow")(e) && e.detail.oauth_token === true).length).toBeGreaterThan(0);
      expect(find(entries, "secret.write", (e) => key("platform")(e) && e.actor.via === "console")).toHaveLength(1);
      expect(find(entries, "secret.write", (e) => key("acmeAdmin")(e) && e.actor.via === "mcp" && e.target.org === "acme")).toHaveLength(1);
      expect(find(entries, "secret.write", (e) => e.actor.kind === "local_cli" && e.target.org === null && e.request_id === null)).toHaveLength(2); // config set, apply
      expect(find(entries, "key.create", (e) => e.actor.kind === "local_cli")).toHaveLength(5);
      expect(find(entries, "schema.write", (e) => e.actor.kind === "local_cli" && e.detail.change === "created").map((e) => e.target.integration).sort()).toEqual(["Halo", "Plain"]);
      // Newest first.
      expect([...entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).map((e) => e.at)).toEqual(entries.map((e) => e.at));
    });

    it("no secret value is in any column of the audit table, in GET /api/audit or in `bifrost audit --json`", async () => {
      expect(secrets.length).toBeGreaterThanOrEqual(15);
      const rows = await rawAuditRows(bf.store);
      expect(rows.length).toBeGreaterThan(20);
      const table = JSON.stringify(rows);
      const { bodies } = await allEntries(keys.platform);
      const cliOut = await cli(["audit", "--limit", "500", "--json"]);
      expect(cliOut.status, cliOut.stderr).toBe(0);
      expect((JSON.parse(cliOut.stdout) as { entries: Entry[] }).entries.length).toBe(rows.length);
      const human = await cli(["audit", "--limit", "500"]);
      for (const s of secrets) {
        expect(table).not.toContain(s);
        for (const b of bodies) expect(b).not.toContain(s);
        expect(cliOut.stdout + cliOut.stderr + human.stdout + human.stderr).not.toContain(s);
      }
      // And every column is a name, an id, a time or JSON of names: the fixed columns of migration 0006.
      expect(Object.keys(rows[0] ?? {}).sort()).toEqual(
        ["action", "actor_key_id", "actor_key_name", "actor_key_prefix", "actor_kind", "actor_via", "at", "detail", "execution_id", "id", "integration_id", "integration_name", "keys", "org_id", "org_slug", "request_id"].sort(),
      );
    });

    it("org admins read only their organization's entries (attack: acme's admin asks for globex's)", async () => {
      // Positive control: globex entries exist and a platform admin sees them.
      const platform = await allEntries(keys.platform, "&org=globex");
      expect(platform.entries.length).toBeGreaterThan(0);
      expect(platform.entries.every((e) => e.target.org === "globex")).toBe(true);
      const globexAdmin = await allEntries(keys.globexAdmin);
      expect(globexAdmin.entries.length).toBeGreaterThan(0);

      const acme = await allEntries(keys.acmeAdmin);
      expect(acme.entries.length).toBeGreaterThan(0);
      expect(acme.entries.every((e) => e.target.org === "acme")).toBe(true);
      for (const b of acme.bodies) expect(b).not.toMatch(/globex/i);
      const asked = await call("GET", "/api/audit?org=globex", keys.acmeAdmin);
      expect(asked.statusCode).toBe(404);
      expect(asked.body).not.toContain(platform.entries[0]!.id);
      // Filters cannot widen the scope.
      const filtered = await allEntries(keys.acmeAdmin, "&integration=Halo&action=mapping.write");
      expect(filtered.entries.every((e) => e.target.org === "acme")).toBe(true);
      // Workflow keys read no audit entries at all.
      expect((await call("GET", "/api/audit", keys.globexWorkflow)).statusCode).toBe(403);
    });

    it("filters and pages: action, integration, since, an opaque cursor; bad input is refused with what to send", async () => {
      const all = await allEntries(keys.platform);
      expect(new Set(all.entries.map((e) => e.id)).size).toBe(all.entries.length);
      const writes = await allEntries(keys.platform, "&action=secret.write");
      expect(writes.entries.length).toBe(all.entries.filter((e) => e.action === "secret.write").length);
      const plain = await allEntries(keys.platform, "&integration=Plain");
      expect(plain.entries.length).toBeGreaterThan(0);
      expect(plain.entries.every((e) => e.target.integration === "Plain")).toBe(true);
      const future = await call("GET", "/api/audit?since=2999-01-01", keys.platform);
      expect((future.json() as { entries: unknown[] }).entries).toEqual([]);
      expect((await allEntries(keys.platform, "&since=1d")).entries.length).toBe(all.entries.length);
      const badAction = await call("GET", "/api/audit?action=config.delete", keys.platform);
      expect(badAction.statusCode).toBe(422);
      expect(badAction.body).toContain("secret.write");
      expect((await call("GET", "/api/audit?cursor=not-a-cursor", keys.platform)).statusCode).toBe(422);
      expect((await call("GET", "/api/audit?since=yesterday", keys.platform)).statusCode).toBe(422);
      const cliBad = await cli(["audit", "--action", "nope", "--json"]);
      expect(cliBad.status).toBe(1);
      expect(cliBad.stdout).toContain("BIFROST_VALIDATION");
    });

    it("records a secret read once per execution per integration, with the execution id", async () => {
      const resolver = new StoreResolver(bf.store, bf.box, { clock: bf.clock, oauth: TEST_OAUTH });
      const acme = await resolver.findOrg("acme");
      const run = async () => {
        const ctx = createContext({ org: acme, caller: { kind: "cli", platform: true }, resolver });
        await runInContext(ctx, async () => {
          for (let i = 0; i < 5; i++) expect((await integrations.get("Halo"))?.config.get("api_secret")).toBeTruthy();
          expect(await integrations.get("Plain")).not.toBeNull(); // no secret: no entry
        });
        return ctx.executionId;
      };
      const [one, two] = [await run(), await run()];
      await resolver.flushAudit();
      for (const id of [one, two]) {
        const reads = (await listAudit(bf, { action: "secret.read", limit: 500 })).entries.filter((e) => e.execution_id === id);
        expect(reads).toHaveLength(1);
        expect(reads[0]).toMatchObject({ target: { integration: "Halo", org: "acme", keys: ["api_secret"] } });
      }
    });

    it("batched secret.read entries: written on flush, kept and retried when a batch fails", async () => {
      const db = (bf.store as unknown as KyselyStore).db;
      const warnings: string[] = [];
      const buffer = new AuditBuffer({ store: bf.store, clock: bf.clock }, { maxEntries: 1000, maxDelayMs: 60_000, onError: (m) => warnings.push(m) });
      const count = async () => (await listAudit(bf, { action: "secret.read", integration: "Plain", limit: 500 })).entries.length;
      const before = await count();
      const plain = { id: (await bf.store.getIntegrationByName("Plain"))!.id, name: "Plain" };
      await buffer.record("secret.read", { integration: plain, keys: ["region"] });
      await buffer.record("secret.read", { integration: plain, keys: ["region"] });
      expect(await count()).toBe(before); // queued, not yet written
      await sql`ALTER TABLE audit_log RENAME TO audit_log_away`.execute(db);
      try {
        await buffer.flush();
      } finally {
        await sql`ALTER TABLE audit_log_away RENAME TO audit_log`.execute(db);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/could not write 2 audit entries \(kept for the next attempt/);
      await buffer.flush();
      expect(await count()).toBe(before + 2);
    });

    it("a batched entry names the actor, request, execution and time of the read, not of the write", async () => {
      // Two minutes ago and five seconds later (recent: the retention test below keeps the last 30 days).
      const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000).toISOString();
      const t1 = new Date(Date.parse(t0) + 5_000).toISOString();
      let now = t0;
      const buffer = new AuditBuffer({ store: bf.store, clock: { now: () => now, id: () => bf.clock.id() } }, { maxEntries: 1000, maxDelayMs: 60_000 });
      const plain = { id: (await bf.store.getIntegrationByName("Plain"))!.id, name: "Plain" };
      const acme = (await bf.store.getOrgBySlug("acme"))!;
      const actor = { kind: "api_key" as const, keyId: keyIds.acmeWorkflow as string, keyPrefix: keys.acmeWorkflow.slice(4, 16), keyName: "acmeWorkflow-key", via: "api" as const };
      withAuditContext({ actor, requestId: "req-lazy-1", executionId: "exec-lazy-1" }, () => buffer.record("secret.read", { integration: plain, org: { id: acme.id }, keys: ["region"] }));
      now = t1;
      buffer.record("secret.read", { integration: plain, org: null, keys: ["region"] });
      now = new Date().toISOString();
      await withAuditContext(LOCAL_CLI_CONTEXT, () => buffer.flush());
      const rows = (await listAudit(bf, { action: "secret.read", integration: "Plain", limit: 500 })).entries.filter((e) => e.at === t0 || e.at === t1);
      expect(rows).toHaveLength(2);
      const [late, early] = rows as [Entry, Entry];
      expect(early).toMatchObject({ at: t0, actor: { kind: "api_key", key_id: keyIds.acmeWorkflow, via: "api" }, target: { org: "acme", keys: ["region"] }, request_id: "req-lazy-1", execution_id: "exec-lazy-1" });
      // Recorded outside any context: the server itself, although the flush ran as the CLI.
      expect(late).toMatchObject({ at: t1, actor: { kind: "system" }, target: { org: null }, request_id: null, execution_id: null });
      // Ids are time-ordered (the entry's millisecond first), so they sort like the times.
      expect([early.id, late.id].sort()).toEqual([early.id, late.id]);
      expect(early.id.slice(0, 13).replace("-", "")).toBe(Date.parse(early.at).toString(16).padStart(12, "0"));
    });

    it("retention (run by the background worker) deletes only entries older than the setting", async () => {
      const day = 86_400_000;
      const at = (daysAgo: number) => new Date(Date.now() - daysAgo * day).toISOString();
      const clockAt = (iso: string) => ({ now: () => iso, id: () => bf.clock.id() });
      await recordAudit({ store: bf.store, clock: clockAt(at(400)) }, "import", { detail: { marker: "old" } });
      await recordAudit({ store: bf.store, clock: clockAt(at(31)) }, "import", { detail: { marker: "month" } });
      await recordAudit({ store: bf.store, clock: clockAt(at(29)) }, "import", { detail: { marker: "recent" } });
      const before = (await rawAuditRows(bf.store)).length;
      const markers = async () => (await listAudit(bf, { action: "import", limit: 500 })).entries.map((e) => e.detail.marker);
      expect(await markers()).toEqual(["recent", "month", "old"]);

      const work = startBackgroundWork({ store: bf.store, box: bf.box, clock: bf.clock, oauth: TEST_OAUTH }, { webhooks: null, refresher: { intervalMs: 3_600_000 }, auditRetentionDays: 365 });
      for (let i = 0; i < 200 && (await markers()).includes("old"); i++) await new Promise((r) => setTimeout(r, 25));
      await work.stop();
      expect(await markers()).toEqual(["recent", "month"]);
      expect((await rawAuditRows(bf.store)).length).toBe(before - 1);

      expect(await pruneAuditLog(bf, 30)).toBe(1);
      expect(await markers()).toEqual(["recent"]);
    });

    it("a refused write records nothing (the entry shares the write's transaction); every action name is in the closed list", async () => {
      const before = (await rawAuditRows(bf.store)).length;
      await expect(withAuditContext(LOCAL_CLI_CONTEXT, () => setConfig(bf, "Halo", null, { timeout: "not a number", api_secret: "sk-refused-0000" }))).rejects.toThrow(/timeout/);
      await expect(setMapping(bf, "Halo", "acme", { entityId: "G-1" })).rejects.toThrow();
      expect((await rawAuditRows(bf.store)).length).toBe(before);
      expect(JSON.stringify(await rawAuditRows(bf.store))).not.toContain("sk-refused-0000");
      for (const r of await rawAuditRows(bf.store)) expect(AUDIT_ACTIONS as readonly string[]).toContain(r.action);
    });
  });
}
