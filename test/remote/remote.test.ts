/**
 * Remote mode: the same workflow run in-process (StoreResolver) and remotely (RemoteResolver over a real
 * server on 127.0.0.1) gives identical results; org-scoped keys never reach another org; the CLI in remote
 * mode opens nothing local and prints the same JSON; the API key appears in no output.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type ClientSpec, type OperationSpec } from "../../src/client/index.js";
import { BifrostError, ConfigError, NotFoundError } from "../../src/core/errors.js";
import { createLogger } from "../../src/logger.js";
import { setOAuthProvider } from "../../src/oauth/service.js";
import { executeWorkflow } from "../../src/runtime/execute.js";
import { integrations } from "../../src/runtime/integrations.js";
import { loadWorkflowFile } from "../../src/runtime/loader.js";
import { RemoteResolver, RemoteUnavailableError, tokenFingerprint } from "../../src/host/remote-resolver.js";
import type { ExecutionOrg } from "../../src/kernel/types.js";
import type { IntegrationResolver } from "../../src/runtime/types.js";
import { workflow } from "../../src/runtime/workflow.js";
import { startServer } from "../../src/server/index.js";
import { createApiKey } from "../../src/services/api-keys.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { BACKENDS, bootTest, tempDir } from "../helpers/backends.js";
import { type ApiServer, json, startApiServer, trustOrigins } from "../client/helpers.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, startAuthServer } from "../oauth/helpers/auth-server.js";
import { resolverFor, TEST_OAUTH } from "../oauth/helpers/setup.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "bifrost.js");
const SECRET_DEFAULT = "halo-default-secret-0123456789";
const SECRET_ACME = "halo-acme-secret-abcdefghijkl";

/** Tokens the fake API no longer accepts (shared with the workflow below). */
const revoked = new Set<string>();
let apiServer: ApiServer;
let as: AuthServer;

const spec: ClientSpec = { integration: "Api", servers: [], securitySchemes: { oauth: { type: "oauth2" } }, security: [{ oauth: [] }] };
const op: OperationSpec = { id: "me", method: "GET", path: "/me" };

function errorView(err: unknown) {
  const e = err as BifrostError;
  return { class: e.constructor.name, name: e.name, code: e.code, status: e.statusCode, message: e.message, details: e.details, isBifrost: e instanceof BifrostError, isConfigError: e instanceof ConfigError };
}

/** Everything a workflow can observe through the SDK. */
const probe = workflow("remote_probe", async () => {
  const halo = await integrations.require("HaloPSA");
  let typo: unknown = null;
  try {
    halo.config.get("base_ulr");
  } catch (err) {
    typo = errorView(err);
  }
  let strict: unknown = null;
  try {
    await integrations.get("Strict");
  } catch (err) {
    strict = errorView(err);
  }
  let requireMissing: unknown = null;
  try {
    await integrations.require("Nope");
  } catch (err) {
    requireMissing = errorView(err);
  }
  const flags = halo.config.get("flags") as { list: unknown[] };
  const api = await integrations.require("Api");
  const before = api.oauth!.accessToken;
  revoked.add(before);
  const minted = as.tokenRequests("client_credentials");
  const r = await createClient(spec).request<{ token: string }>(op);
  const after = (await integrations.require("Api")).oauth!.accessToken;
  return {
    name: halo.name,
    entityId: halo.entityId,
    entityName: halo.entityName,
    mapped: halo.mapped,
    config: halo.config,
    keys: halo.config.keys(),
    size: halo.config.size,
    hasVerbose: halo.config.has("verbose"),
    base_url: halo.config.get("base_url"),
    timeout: halo.config.get("timeout"),
    verbose: halo.config.get("verbose") ?? null,
    flags,
    flagsFrozen: Object.isFrozen(flags) && Object.isFrozen(flags.list),
    secretLength: halo.config.get<string>("api_key")!.length,
    secretIsAcme: halo.config.get("api_key") === SECRET_ACME,
    typo,
    strict,
    requireMissing,
    unknown: await integrations.get("Nope"),
    list: await integrations.list(),
    oauth: { tokenType: api.oauth!.tokenType, scopes: api.oauth!.scopes, expiresIsDate: api.oauth!.expiresAt instanceof Date, valid: api.oauth!.expiresAt!.getTime() > Date.now() },
    clientRetry: { refreshed: after !== before, served: r.token === after, mints: as.tokenRequests("client_credentials") - minted },
    frozen: Object.isFrozen(halo),
  };
});

const CLI_WORKFLOW = `import { workflow, integrations } from "bifrost";
export default workflow("remote_cli", async (input) => {
  const halo = await integrations.get("HaloPSA");
  let strict = null;
  try { await integrations.get("Strict"); } catch (err) { strict = { code: err.code, message: err.message }; }
  const api = await integrations.get("Api");
  return {
    input,
    entityId: halo.entityId,
    config: halo.config,
    flags: halo.config.get("flags"),
    secretLength: halo.config.get("api_key").length,
    unknown: await integrations.get("Nope"),
    list: await integrations.list(),
    strict,
    oauth: api.oauth ? { type: api.oauth.tokenType, scopes: api.oauth.scopes } : null,
  };
});
`;

/** The server runs in this process: the CLI must be spawned without blocking the event loop. */
function runCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("BIFROST_") || k === "DATABASE_URL" || k.startsWith("VITEST") || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return { ...env, BIFROST_ALLOW_HTTP_LOOPBACK: "1", ...extra };
}

beforeAll(async () => {
  // The local API server speaks plain http on loopback: allowed only with this switch.
  process.env.BIFROST_ALLOW_HTTP_LOOPBACK = "1";
  as = await startAuthServer({ integrations: ["Api"] });
  apiServer = await startApiServer();
  apiServer.handler = (r, res) => {
    const token = String(r.headers.authorization ?? "").replace(/^Bearer /, "");
    if (!token || revoked.has(token)) json(res, 401, { error: "invalid_token" });
    else json(res, 200, { token });
  };
});
afterAll(async () => {
  delete process.env.BIFROST_ALLOW_HTTP_LOOPBACK;
  await apiServer?.close();
  await as?.close();
});

for (const backend of BACKENDS) {
  describe(`remote mode (${backend.name})`, () => {
    let bf: Bifrost;
    let cleanup: () => Promise<void>;
    let server: { url: string; close(): Promise<void> };
    const logLines: string[] = [];
    const keys = { acme: "", globex: "", platform: "", acmeAdmin: "" };
    let acme: ExecutionOrg;
    let globex: ExecutionOrg;
    const tmp = tempDir("bifrost-remote-");

    beforeAll(async () => {
      const t = await bootTest(backend);
      bf = t.bf;
      cleanup = t.cleanup;
      // The server resolves with the test OAuth settings (loopback token endpoint allowed).
      bf.resolver = resolverFor(bf);
      await createOrg(bf, { slug: "acme", name: "Acme Corp" });
      await createOrg(bf, { slug: "globex", name: "Globex" });
      await createIntegration(bf, {
        name: "HaloPSA",
        configSchema: [
          { key: "base_url", type: "string", required: true },
          { key: "api_key", type: "secret", required: true },
          { key: "timeout", type: "int" },
          { key: "flags", type: "json" },
          { key: "verbose", type: "bool" },
        ],
        defaults: { base_url: "https://halo.example.com/api", timeout: 30, api_key: SECRET_DEFAULT, flags: { list: [1, 2, { deep: true }], mode: "default" } },
      });
      await setMapping(bf, "HaloPSA", "acme", { entityId: "T-1", entityName: "Acme (Halo)", config: { base_url: "https://acme.halo.example.com/api", api_key: SECRET_ACME, flags: { list: [3], mode: "acme" } } });
      await createIntegration(bf, { name: "Strict", configSchema: [{ key: "token", type: "secret", required: true }] });
      await setMapping(bf, "Strict", "globex", { entityId: "G-9" });
      await createIntegration(bf, { name: "Api", configSchema: [{ key: "base_url", type: "string" }] });
      await setMapping(bf, "Api", "acme", { entityId: "e1", config: { base_url: apiServer.url } });
      await setMapping(bf, "Api", "globex", { entityId: "e2", config: { base_url: apiServer.url } });
      // The orgs' base URL gets the integration-level token only because it is trusted.
      await trustOrigins(bf.store, "Api", [apiServer.url]);
      await setOAuthProvider(bf, "Api", { flow: "client_credentials", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: `${as.issuer}/token`, scopes: ["api:read"] });
      keys.acme = (await createApiKey(bf, { role: "workflow", org: "acme" })).key;
      keys.globex = (await createApiKey(bf, { role: "workflow", org: "globex" })).key;
      keys.platform = (await createApiKey(bf, { role: "platform_admin" })).key;
      keys.acmeAdmin = (await createApiKey(bf, { role: "org_admin", org: "acme" })).key;
      acme = (await bf.resolver.findOrg("acme"))!;
      globex = (await bf.resolver.findOrg("globex"))!;
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          logLines.push(chunk.toString("utf8"));
          cb();
        },
      });
      server = await startServer({ bifrost: bf, port: 0, background: false, oauth: TEST_OAUTH, logger: createLogger({ level: "info", destination: sink }) });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
      tmp.cleanup();
    });

    const remote = (key: string) => new RemoteResolver({ url: server.url, apiKey: key, allowHttpLoopback: true });
    const run = (resolver: IntegrationResolver, org: ExecutionOrg, platform = true) =>
      executeWorkflow(probe, {}, { org, caller: { kind: platform ? "cli" : "api_key", platform }, resolver });

    it("the same workflow gives identical results in-process and remotely (config, secret, json, list, errors, OAuth, 401 refresh)", async () => {
      const local = await run(bf.resolver, acme);
      const remoteRes = await run(remote(keys.acme), acme);
      expect(remoteRes.result).toEqual(local.result);
      expect(JSON.stringify(remoteRes.result)).toBe(JSON.stringify(local.result)); // key order too
      const r = local.result as Record<string, unknown>;
      // Sanity: the probe saw what we set up.
      expect(r).toMatchObject({
        entityId: "T-1",
        mapped: true,
        base_url: "https://acme.halo.example.com/api",
        timeout: 30,
        flags: { list: [3], mode: "acme" },
        flagsFrozen: true,
        secretIsAcme: true,
        unknown: null,
        verbose: null,
        frozen: true,
        config: { api_key: { set: true, fingerprint: expect.any(String) } },
        typo: { code: "BIFROST_VALIDATION", class: "ValidationError" },
        strict: { code: "BIFROST_CONFIG_MISSING_REQUIRED", class: "ConfigError", isConfigError: true, status: 409 },
        requireMissing: { code: "BIFROST_INTEGRATION_NOT_FOUND" },
        oauth: { tokenType: expect.stringMatching(/^bearer$/i), scopes: ["api:read"], expiresIsDate: true, valid: true },
        clientRetry: { refreshed: true, served: true, mints: 1 },
      });
      expect((r.strict as { message: string }).message).toContain('missing required config key(s) token for organization "acme"');
      expect(r.list).toEqual([
        { name: "Api", mapped: true, entityId: "e1", entityName: null },
        { name: "HaloPSA", mapped: true, entityId: "T-1", entityName: "Acme (Halo)" },
        { name: "Strict", mapped: false, entityId: null, entityName: null },
      ]);
    });

    it("a platform key reads any org remotely, identically to in-process", async () => {
      const local = await run(bf.resolver, globex);
      const remoteRes = await run(remote(keys.platform), globex);
      expect(remoteRes.result).toEqual(local.result);
      expect(local.result).toMatchObject({ entityId: null, mapped: false, base_url: "https://halo.example.com/api", strict: { code: "BIFROST_CONFIG_MISSING_REQUIRED" } });
      const p = remote(keys.platform);
      expect(await p.findOrg("acme")).toEqual(acme);
      expect(await p.findOrg("nobody")).toBeNull();
      const cross = await executeWorkflow(
        workflow("cross", async () => (await integrations.get("HaloPSA", { org: "acme" }))?.entityId ?? null),
        {},
        { org: globex, caller: { kind: "api_key", platform: true }, resolver: p },
      );
      expect(cross.result).toBe("T-1");
    });

    it("an org-scoped workflow key can never resolve another org: 404 for resolve, list, findOrg and refresh", async () => {
      const r = remote(keys.acme);
      expect(await r.findOrg("globex")).toBeNull();
      expect(await r.findOrg("acme")).toEqual(acme);
      for (const call of [() => r.resolve("HaloPSA", globex), () => r.list(globex), () => r.refreshOAuth("Api", globex, "whatever-token")]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NotFoundError);
        expect(err).toMatchObject({ code: "BIFROST_NOT_FOUND", statusCode: 404, details: { org: "globex" } });
      }
      // Raw HTTP: the same 404 envelopes.
      const h = { authorization: `Bearer ${keys.acme}` };
      for (const path of ["/api/integrations/HaloPSA/resolved?org=globex", "/api/workflow/integrations?org=globex", "/api/workflow/orgs/globex"]) {
        const res = await fetch(`${server.url}${path}`, { headers: h });
        expect(res.status, path).toBe(404);
        expect(await res.json()).toMatchObject({ code: "BIFROST_NOT_FOUND" });
      }
      // Inside a workflow: asking for another org fails (server-side 404), never returns data.
      const wf = workflow("peek", async () => integrations.get("HaloPSA", { org: "globex" }));
      const err = await executeWorkflow(wf, {}, { org: acme, caller: { kind: "api_key", platform: true }, resolver: r }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      // An org_admin key gets no plaintext at all.
      const admin = await remote(keys.acmeAdmin).resolve("HaloPSA", acme).catch((e: unknown) => e);
      expect(admin).toMatchObject({ code: "BIFROST_FORBIDDEN", statusCode: 403 });
    });

    it("refresh-if-stale refreshes only when the caller's token is still the stored one", async () => {
      const r = remote(keys.acme);
      const current = (await r.resolve("Api", acme))!.oauth!;
      const minted = as.tokenRequests("client_credentials");
      const stale = await r.refreshOAuth("Api", acme, "a-token-that-was-replaced-long-ago");
      expect(stale?.accessToken).toBe(current.accessToken);
      expect(as.tokenRequests("client_credentials")).toBe(minted);
      const fresh = await r.refreshOAuth("Api", acme, current.accessToken);
      expect(fresh?.accessToken).not.toBe(current.accessToken);
      expect(as.tokenRequests("client_credentials")).toBe(minted + 1);
      expect(await r.refreshOAuth("HaloPSA", acme, "x")).toBeNull(); // no OAuth on this integration
      expect(await r.refreshOAuth("Nope", acme, "x")).toBeNull();
      // The body carries a fingerprint, never the token; a malformed one is a 422.
      const res = await fetch(`${server.url}/api/integrations/Api/oauth/refresh-if-stale`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys.acme}`, "content-type": "application/json" },
        body: JSON.stringify({ seen_access_token_fingerprint: fresh!.accessToken }),
      });
      expect(res.status).toBe(422);
      expect(tokenFingerprint("abc")).toMatch(/^[0-9a-f]{64}$/);
    });

    it("errors: same classes and messages; network errors name BIFROST_URL and never the key", async () => {
      const bad = new RemoteResolver({ url: server.url, apiKey: "bfk_000000000000_" + "x".repeat(43), allowHttpLoopback: true });
      const unauth = await bad.resolve("HaloPSA", acme).catch((e: unknown) => e);
      expect(unauth).toMatchObject({ code: "BIFROST_UNAUTHENTICATED", statusCode: 401, name: "UnauthenticatedError" });
      const down = new RemoteResolver({ url: "http://127.0.0.1:9", apiKey: keys.acme, allowHttpLoopback: true });
      const err = (await down.resolve("HaloPSA", acme).catch((e: unknown) => e)) as BifrostError;
      expect(err).toBeInstanceOf(RemoteUnavailableError);
      expect(err.code).toBe("BIFROST_REMOTE_UNAVAILABLE");
      expect(err.message).toContain("BIFROST_URL=http://127.0.0.1:9");
      expect(JSON.stringify(err) + err.message + String(err.stack)).not.toContain(keys.acme);
      expect(() => new RemoteResolver({ url: "ftp://x", apiKey: keys.acme })).toThrow(/BIFROST_URL/);
      expect(() => new RemoteResolver({ url: server.url, apiKey: "", allowHttpLoopback: true })).toThrow(/BIFROST_API_KEY/);
      expect(RemoteResolver.fromEnv({})).toBeNull();
    });

    it("bifrost run in remote mode opens nothing local and prints the same JSON as in-process", async () => {
      if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before this test (it spawns bin/bifrost.js).");
      const file = join(tmp.dir, "wf.ts");
      writeFileSync(file, CLI_WORKFLOW);
      const home = join(tmp.dir, "home");
      const input = { since: "2026-01-01" };
      // In-process: the same workflow source, its "bifrost" import pointed at the sources (vitest cannot resolve the package here).
      const localFile = join(tmp.dir, "wf-local.ts");
      writeFileSync(localFile, CLI_WORKFLOW.replace('from "bifrost"', `from ${JSON.stringify(join(ROOT, "src", "index.ts"))}`));
      const [def] = await loadWorkflowFile(localFile);
      const local = await executeWorkflow(def!, input, { org: acme, caller: { kind: "cli", platform: true }, resolver: bf.resolver });
      const env = cliEnv({ BIFROST_URL: server.url, BIFROST_API_KEY: keys.acme, BIFROST_HOME: home });
      const r = await runCli(["run", file, "--org", "acme", "--input", JSON.stringify(input)], { cwd: tmp.dir, env });
      expect(r.stderr).toContain(`remote: ${server.url}`);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(local.result);
      expect(local.result).toMatchObject({ entityId: "T-1", secretLength: SECRET_ACME.length, unknown: null, strict: { code: "BIFROST_CONFIG_MISSING_REQUIRED" }, oauth: { type: expect.stringMatching(/^bearer$/i) } });
      expect(existsSync(home) ? readdirSync(home) : []).toEqual([]); // no database, no keyring
      const withJson = await runCli(["run", file, "--org", "acme", "--json"], { cwd: tmp.dir, env });
      expect(withJson.status, withJson.stderr).toBe(0);
      expect(JSON.parse(withJson.stdout)).toMatchObject({ workflow: "remote_cli", org: "acme" });

      // Another org with an org-scoped key: the server's 404 → exit 1 with a clear message.
      const other = await runCli(["run", file, "--org", "globex"], { cwd: tmp.dir, env });
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(/BIFROST_NOT_FOUND.*Organization "globex".*scoped to another organization/);
      // Server down: exit 1 naming BIFROST_URL.
      const down = await runCli(["run", file, "--org", "acme"], { cwd: tmp.dir, env: { ...env, BIFROST_URL: "http://127.0.0.1:9" } });
      expect(down.status).toBe(1);
      expect(down.stderr).toContain("BIFROST_REMOTE_UNAVAILABLE");
      expect(down.stderr).toContain("BIFROST_URL=http://127.0.0.1:9");
      expect(existsSync(home) ? readdirSync(home) : []).toEqual([]);

      for (const out of [r, withJson, other, down]) {
        expect(out.stdout + out.stderr).not.toContain(keys.acme);
        expect(out.stdout + out.stderr).not.toContain(SECRET_ACME);
      }
    });

    it("the API keys never appear in the server's log", () => {
      const log = logLines.join("");
      expect(log.length).toBeGreaterThan(0);
      for (const k of Object.values(keys)) expect(log).not.toContain(k);
      expect(log).not.toContain(SECRET_ACME);
    });
  });
}
