/**
 * `bifrost oauth …` and `bifrost events` end to end: spawn bin/bifrost.js (run `npm run build`
 * first) against a real oidc-provider; the browser leg is played headlessly and completed through
 * the core's callback handler on the same store. Every CLI output is checked for secrets and tokens.
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization } from "../../src/oauth/service.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { tempDir } from "../helpers/backends.js";
import { runCliInProcess } from "../helpers/cli.js";
import { type AuthServer, CLIENT_ID, CLIENT_SECRET, driveAuthorization, PUBLIC_URL, startAuthServer } from "../oauth/helpers/auth-server.js";
import { getAs, oauthDeps, resolverFor } from "../oauth/helpers/setup.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");

describe("bifrost oauth / events (CLI, SQLite)", () => {
  const tmp = tempDir("bifrost-oauth-cli-");
  const home = join(tmp.dir, ".bifrost-home");
  let as: AuthServer;
  const outputs: string[] = [];
  const tokens = new Set<string>();

  interface Ran {
    status: number | null;
    stdout: string;
    stderr: string;
  }
  /** Asynchronous spawn: the in-process authorization server must keep answering while the CLI runs. */
  const run = (args: string[]): Promise<Ran> => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && k !== "DATABASE_URL" && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp.dir,
      env: { ...env, BIFROST_HOME: home, BIFROST_PUBLIC_URL: PUBLIC_URL, BIFROST_ALLOW_HTTP_LOOPBACK: "1", HALO_OAUTH_SECRET: CLIENT_SECRET },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    return new Promise((done) =>
      child.on("close", (status) => {
        outputs.push(stdout, stderr);
        done({ status, stdout, stderr });
      }),
    );
  };
  const json = (r: Ran) => {
    expect(r.status, r.stderr + r.stdout).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests.");
    as = await startAuthServer({ integrations: ["Halo"] });
    writeFileSync(
      join(tmp.dir, "bifrost.yaml"),
      `organizations:\n  - { slug: acme }\nintegrations:\n  - name: Halo\n    oauth:\n      flow: authorization_code\n      client_id: ${CLIENT_ID}\n      client_secret: \${HALO_OAUTH_SECRET}\n      issuer: ${as.issuer}\n      scopes: [api:read, offline_access]\n`,
    );
    writeFileSync(join(tmp.dir, "provider.json"), JSON.stringify({ oauth: { flow: "client_credentials", client_id: CLIENT_ID, client_secret: "${HALO_OAUTH_SECRET}", token_url: `${as.issuer}/token`, scopes: ["api:read"] } }));
  });
  afterAll(async () => {
    await as?.close();
    tmp.cleanup();
  });

  it("apply attaches the provider; a second apply is unchanged; provider show masks the secret", async () => {
    const first = json(await run(["apply", "bifrost.yaml", "--json"]));
    expect(first.changes.find((c: { kind: string }) => c.kind === "oauth_provider")).toMatchObject({ action: "created" });
    expect(json(await run(["apply", "bifrost.yaml", "--json"])).changed).toBe(false);
    const shown = json(await run(["oauth", "provider", "show", "Halo", "--json"]));
    expect(shown.oauth.client_secret).toEqual({ set: true, fingerprint: expect.any(String) });
    const human = await run(["oauth", "provider", "show", "Halo"]);
    expect(human.stdout).toContain("authorization_code");
  });

  it("provider set / remove from a file, and every oauth command has --help", async () => {
    expect(json(await run(["integrations", "create", "Cc", "--json"]))).toBeTruthy();
    const set = json(await run(["oauth", "provider", "set", "Cc", "--file", "provider.json", "--json"]));
    expect(set).toMatchObject({ integration: "Cc", created: true, oauth: { flow: "client_credentials" } });
    const refreshed = json(await run(["oauth", "status", "Cc", "--json"]));
    expect(refreshed.connections[0]).toMatchObject({ integration: "Cc", org: null });
    expect(json(await run(["oauth", "provider", "remove", "Cc", "--json"]))).toEqual({ integration: "Cc", removed: true });
    const gone = await run(["oauth", "provider", "show", "Cc", "--json"]);
    expect(gone.status).toBe(1);
    expect(JSON.parse(gone.stdout)).toMatchObject({ code: "BIFROST_OAUTH_NO_PROVIDER" });
    for (const args of [["oauth"], ["oauth", "provider", "set"], ["oauth", "connect"], ["oauth", "status"], ["oauth", "refresh"], ["oauth", "disconnect"], ["events"]]) {
      // Help text needs no process of its own (the commands above cross the process boundary already).
      const r = await runCliInProcess([...args, "--help"]);
      expect(r.status, args.join(" ")).toBe(0);
      expect(r.stdout).toContain("Usage:");
    }
  });

  it("connect prints an authorization URL with PKCE S256 and state; after consent status shows connected", async () => {
    const human = await run(["oauth", "connect", "Halo", "--org", "acme"]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/code_challenge_method=S256/);
    expect(human.stdout).toMatch(/[?&]state=[A-Za-z0-9_-]{43}/);

    const started = json(await run(["oauth", "connect", "Halo", "--org", "acme", "--json"]));
    const url = new URL(started.authorization_url as string);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(started.redirect_uri).toBe(`${PUBLIC_URL}/api/oauth/callback/Halo`);

    // The browser leg, then the callback handler (what GET /api/oauth/callback/Halo calls) on the same store.
    const cb = await driveAuthorization(url.href);
    const bf = await openBifrost({ env: { BIFROST_HOME: home }, warn: () => undefined });
    try {
      await completeAuthorization(oauthDeps(bf), { integration: "Halo", query: cb.searchParams });
      const acme = (await bf.resolver.findOrg("acme"))!;
      const creds = await getAs(resolverFor(bf), "Halo", acme);
      tokens.add(creds!.oauth!.accessToken);
      tokens.add(creds!.oauth!.refreshToken!);
    } finally {
      await bf.close();
    }

    const status = json(await run(["oauth", "status", "--json"]));
    const acme = status.connections.find((c: { integration: string; org: string | null }) => c.integration === "Halo" && c.org === "acme");
    expect(acme).toMatchObject({ state: "connected", has_refresh_token: true, last_error: null });
    const table = await run(["oauth", "status", "Halo", "--org", "acme"]);
    expect(table.stdout).toMatch(/INTEGRATION\s+ORG\s+STATE\s+EXPIRES\s+LAST REFRESH\s+LAST ERROR\s+REFRESH TOKEN/);
    expect(table.stdout).toMatch(/Halo\s+acme\s+connected\s.*yes/);
  });

  it("refresh, events, disconnect", async () => {
    const r = json(await run(["oauth", "refresh", "Halo", "--org", "acme", "--json"]));
    expect(r.connection).toMatchObject({ state: "connected", org: "acme" });
    expect(as.tokenRequests("refresh_token")).toBe(1);
    const bf = await openBifrost({ env: { BIFROST_HOME: home }, warn: () => undefined });
    try {
      const creds = await getAs(resolverFor(bf), "Halo", (await bf.resolver.findOrg("acme"))!);
      tokens.add(creds!.oauth!.accessToken);
      tokens.add(creds!.oauth!.refreshToken!);
    } finally {
      await bf.close();
    }
    const d = json(await run(["oauth", "disconnect", "Halo", "--org", "acme", "--json"]));
    expect(d).toMatchObject({ integration: "Halo", org: "acme", disconnected: true });
    expect((await run(["oauth", "disconnect", "Halo", "--org", "acme"])).stdout).toContain("was not connected");
    const ev = json(await run(["events", "--integration", "Halo", "--json"]));
    expect(ev.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["connected", "disconnected"]));
    expect(json(await run(["events", "--type", "connected", "--limit", "1", "--json"])).events).toHaveLength(1);
    expect((await run(["events"])).stdout).toMatch(/TIME\s+TYPE\s+INTEGRATION/);
    const bad = await run(["events", "--limit", "x", "--json"]);
    expect(bad.status).toBe(1);
  });

  it("export writes the provider without the client secret", async () => {
    const r = await run(["export", "--format", "yaml"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("oauth:");
    expect(r.stdout).toContain("fingerprint");
  });

  it("leak check: no CLI output holds the client secret or a token", () => {
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    for (const out of outputs) {
      expect(out).not.toContain(CLIENT_SECRET);
      for (const t of tokens) expect(out).not.toContain(t);
    }
  });
});
