/**
 * CLI tests with a temporary BIFROST_HOME and working directory. Commands run in this process
 * (test/helpers/cli.ts) unless the process boundary is the point: `run` (workflow loading and process
 * guards) and `serve` (signals) spawn `node bin/bifrost.js` (the build output; run `npm run build` first).
 */
import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { createTestDatabase, PG_URL, tempDir } from "../helpers/backends.js";
import { type CliResult, runCliInProcess } from "../helpers/cli.js";
import { EXAMPLE } from "../helpers/fixtures.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");
const SECRET = "halo-cli-secret-9f8e7d";


const WORKFLOW = `import { workflow, integrations } from "bifrost";

export default workflow("halo_info", async (input: { tag?: string }) => {
  const halo = await integrations.get("HaloPSA");
  if (!halo) return { error: "Integration not configured" };
  console.log("workflow log line");
  return {
    entityId: halo.entityId,
    base_url: halo.config.get("base_url"),
    timeout: halo.config.get("timeout"),
    tag: input.tag ?? null,
  };
});
`;

const TWO_WORKFLOWS = `import { workflow } from "bifrost";
export const one = workflow("one", async () => 1);
export const two = workflow("two", async () => 2);
`;

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("BIFROST_") || k === "DATABASE_URL" || k === "PORT" || k.startsWith("VITEST") || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Cli {
  home: string;
  cwd: string;
  /** In this process. */
  run(args: string[], extra?: Record<string, string>): Promise<CliResult>;
  /** A `node bin/bifrost.js` child process. */
  spawn(args: string[], extra?: Record<string, string>): SpawnSyncReturns<string>;
}

function makeCli(cwd: string, env: Record<string, string> = {}): Cli {
  const home = join(cwd, ".bifrost-home");
  return {
    home,
    cwd,
    run: (args, extra = {}) => runCliInProcess(args, { cwd, env: { BIFROST_HOME: home, ...env, ...extra } }),
    spawn: (args, extra = {}) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd, env: baseEnv({ BIFROST_HOME: home, ...env, ...extra }), encoding: "utf8", timeout: 60_000 }),
  };
}

const json = (r: { stdout: string }): Record<string, unknown> => JSON.parse(r.stdout) as Record<string, unknown>;

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests (they spawn bin/bifrost.js).");
});

describe("bifrost CLI (SQLite)", () => {
  const tmp = tempDir("bifrost-cli-");
  const wf = tempDir("bifrost-wf-"); // outside the repo: no package.json, no node_modules
  const cli = makeCli(tmp.dir);
  afterAll(() => {
    tmp.cleanup();
    wf.cleanup();
  });

  beforeAll(() => {
    writeFileSync(join(tmp.dir, "bifrost.yaml"), EXAMPLE);
    writeFileSync(join(wf.dir, "halo.ts"), WORKFLOW);
    writeFileSync(join(wf.dir, "two.ts"), TWO_WORKFLOWS);
  });

  it("--help works for the program and a subcommand; usage errors exit 2", async () => {
    const help = (await cli.run(["--help"]));
    expect(help.status).toBe(0);
    for (const c of ["serve", "migrate", "apply", "export", "orgs", "integrations", "config", "mappings", "keys", "run"]) expect(help.stdout).toContain(c);
    const sub = (await cli.run(["config", "set", "--help"]));
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain("--json");
    expect((await cli.run(["orgs", "create"])).status).toBe(2);
    expect((await cli.run(["no-such-command"])).status).toBe(2);
    expect((await cli.run(["keys", "create", "--role", "superuser"])).status).toBe(2);
  });

  it("migrate creates the database and a development keyring (with a warning)", async () => {
    const r = (await cli.run(["migrate", "--json"]));
    expect(r.status).toBe(0);
    expect(json(r)).toMatchObject({ store: expect.stringContaining("SQLite") });
    expect(r.stderr).toMatch(/DEVELOPMENT keyring/);
    expect(existsSync(join(cli.home, "keyring.json"))).toBe(true);
  });

  it("apply without the env var fails naming the variable and the line", async () => {
    const r = (await cli.run(["apply", "bifrost.yaml"]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error [BIFROST_APPLY_FILE]");
    expect(r.stderr).toContain("HALO_API_KEY");
    expect(r.stderr).toContain("bifrost.yaml:10");
  });

  it("apply twice: created, then no changes", async () => {
    const first = (await cli.run(["apply", "bifrost.yaml"], { HALO_API_KEY: SECRET }));
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/created\s+integration\s+HaloPSA/);
    expect(first.stdout).not.toContain(SECRET);
    const second = (await cli.run(["apply", "bifrost.yaml", "--json"], { HALO_API_KEY: SECRET }));
    expect(second.status).toBe(0);
    expect(json(second)).toMatchObject({ changed: false, summary: { created: 0, updated: 0, unchanged: 3 } });
    const human = (await cli.run(["apply", "bifrost.yaml"], { HALO_API_KEY: SECRET }));
    expect(human.stdout).toContain("no changes");
  });

  it("config set coerces by the schema; config get masks secrets", async () => {
    const set = (await cli.run(["config", "set", "HaloPSA", "timeout=45"]));
    expect(set.status).toBe(0);
    expect(set.stdout).toContain("set timeout");
    const got = (await cli.run(["config", "get", "HaloPSA", "--json"]));
    expect(got.status).toBe(0);
    const values = json(got).values as Record<string, unknown>;
    expect(values.timeout).toBe(45);
    expect(values.api_key).toEqual({ set: true, fingerprint: expect.stringMatching(/^hmac-sha256:/) });
    const human = (await cli.run(["config", "get", "HaloPSA"]));
    expect(human.stdout).toMatch(/api_key\s+secret\s+set \(hmac-sha256:[0-9a-f]+\)/);
    expect(human.stdout + human.stderr + got.stdout).not.toContain(SECRET);
    // split on the first '=' only
    expect((await cli.run(["config", "set", "HaloPSA", "--org", "acme", "base_url=https://acme.example.com/api?a=b"])).status).toBe(0);
    const acme = json((await cli.run(["config", "get", "HaloPSA", "--org", "acme", "--json"])));
    expect((acme.values as Record<string, unknown>).base_url).toBe("https://acme.example.com/api?a=b");
    expect((await cli.run(["config", "unset", "HaloPSA", "--org", "acme", "base_url"])).status).toBe(0);
    expect((await cli.run(["config", "set", "HaloPSA", "--org", "acme", "base_url=https://acme.halo.example.com/api"])).status).toBe(0);
  });

  it("config set with an unknown key or a bad value exits 1 naming the key", async () => {
    const r = (await cli.run(["config", "set", "HaloPSA", "timout=45"]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"timout"');
    const bad = (await cli.run(["config", "set", "HaloPSA", "timeout=abc", "--json"]));
    expect(bad.status).toBe(1);
    expect(json(bad)).toMatchObject({ statusCode: 422, code: "BIFROST_VALIDATION", message: expect.stringContaining('"timeout"') });
    expect((await cli.run(["config", "set", "HaloPSA", "justakey"])).status).toBe(1);
  });

  it("keys create prints the key once; list never shows it", async () => {
    const r = (await cli.run(["keys", "create", "--role", "platform_admin", "--name", "ci"]));
    expect(r.status).toBe(0);
    const keys = r.stdout.match(/bfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys).toHaveLength(1);
    expect(r.stdout).toMatch(/cannot be shown again/);
    const list = (await cli.run(["keys", "list"]));
    expect(list.status).toBe(0);
    expect(list.stdout).toContain("platform_admin");
    expect(list.stdout).not.toContain(keys[0] as string);
    const j = json((await cli.run(["keys", "create", "--role", "workflow", "--org", "acme", "--json"])));
    expect(j.key).toMatch(/^bfk_/);
    expect(j.apiKey).toMatchObject({ role: "workflow", org: "acme" });
    const prefix = (j.apiKey as { prefix: string }).prefix;
    expect((await cli.run(["keys", "revoke", prefix])).status).toBe(0);
    expect((await cli.run(["keys", "revoke", prefix])).status).toBe(1);
    expect((await cli.run(["keys", "create", "--role", "org_admin"])).status).toBe(1);
  });

  it("keys create --quiet prints only the key, for KEY=$(bifrost keys create … --quiet)", async () => {
    const r = await cli.run(["keys", "create", "--role", "workflow", "--org", "acme", "--quiet"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^bfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
    const listed = json(await cli.run(["keys", "list", "--json"])).apiKeys as Array<{ prefix: string; role: string; org: string | null }>;
    expect(listed.some((k) => r.stdout.startsWith(`bfk_${k.prefix}_`) && k.role === "workflow" && k.org === "acme")).toBe(true);
    // --quiet and --json contradict each other: a usage error, and no key is created.
    const both = await cli.run(["keys", "create", "--role", "platform_admin", "--quiet", "--json"]);
    expect(both.status).toBe(2);
    expect(both.stdout).not.toMatch(/bfk_/);
  });

  it("run: a workflow outside the repo imports bifrost and gets per-org config", async () => {
    expect((await cli.run(["orgs", "create", "globex", "--name", "Globex"])).status).toBe(0);
    const acme = cli.spawn(["run", join(wf.dir, "halo.ts"), "--org", "acme"]);
    expect(acme.stderr).not.toMatch(/error/);
    expect(acme.status).toBe(0);
    expect(JSON.parse(acme.stdout)).toEqual({ entityId: "customer-123", base_url: "https://acme.halo.example.com/api", timeout: 45, tag: null });
    expect(acme.stderr).toContain("workflow log line");
    const globex = cli.spawn(["run", join(wf.dir, "halo.ts"), "--org", "globex", "--input", '{"tag":"x"}', "--json"]);
    expect(globex.status).toBe(0);
    expect(json(globex)).toMatchObject({
      execution_id: expect.any(String),
      workflow: "halo_info",
      org: "globex",
      result: { entityId: null, base_url: "https://halo.example.com/api", timeout: 45, tag: "x" },
    });
  });

  it("run: a rejection the workflow leaves unhandled fails the run without printing the secret", async () => {
    writeFileSync(
      join(wf.dir, "leaky.ts"),
      `import { workflow, integrations } from "bifrost";
export default workflow("leaky", async () => {
  const halo = await integrations.require("HaloPSA");
  void Promise.reject(new Error("upstream refused " + String(halo.config.get("api_key"))));
  await new Promise((r) => setTimeout(r, 20));
  return { ok: true };
});
`,
    );
    const r = cli.spawn(["run", join(wf.dir, "leaky.ts"), "--org", "acme"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("upstream refused [REDACTED]");
    expect(r.stderr).toContain("BIFROST_WORKFLOW_FAILED");
    expect(r.stderr + r.stdout).not.toContain(SECRET);
  });

  it("usage errors exit 2 and, with --json, print a BIFROST_USAGE envelope", async () => {
    const r = (await cli.run(["keys", "create", "--role", "bogus", "--json"]));
    expect(r.status).toBe(2);
    expect(json(r)).toMatchObject({ code: "BIFROST_USAGE", message: expect.stringContaining("bogus") });
  });

  it("run: unknown org, bad input and ambiguous files fail with exit code 1", async () => {
    const r = cli.spawn(["run", join(wf.dir, "halo.ts"), "--org", "initech"]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('"initech"');
    expect((await cli.run(["run", join(wf.dir, "halo.ts"), "--org", "acme", "--input", "{nope"])).status).toBe(1);
    const two = cli.spawn(["run", join(wf.dir, "two.ts"), "--org", "acme"]);
    expect(two.status).toBe(1);
    expect(two.stderr).toContain("one, two");
    const picked = cli.spawn(["run", join(wf.dir, "two.ts"), "--org", "acme", "--workflow", "two"]);
    expect(picked.status).toBe(0);
    expect(JSON.parse(picked.stdout)).toBe(2);
    expect(cli.spawn(["run", join(wf.dir, "missing.ts"), "--org", "acme"]).status).toBe(1);
  });

  it("orgs delete of an org with mappings is refused and the org stays", async () => {
    const r = (await cli.run(["orgs", "delete", "acme"]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error [BIFROST_CONFLICT]");
    expect(r.stderr).toMatch(/mapping/);
    const show = (await cli.run(["orgs", "show", "acme", "--json"]));
    expect(show.status).toBe(0);
    expect(json(show)).toMatchObject({ organization: { slug: "acme" }, mappings: [{ integration: "HaloPSA", entityId: "customer-123" }] });
  });

  it("listings and --json output parse", async () => {
    for (const args of [["orgs", "list"], ["integrations", "list"], ["integrations", "show", "HaloPSA"], ["mappings", "list", "HaloPSA"], ["keys", "list"]]) {
      const r = (await cli.run([...args, "--json"]));
      expect(r.status, args.join(" ")).toBe(0);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      expect(r.stdout).not.toContain(SECRET);
    }
    const human = (await cli.run(["integrations", "show", "HaloPSA"]));
    expect(human.stdout).toMatch(/api_key\s+secret\s+yes\s+set \(hmac-sha256:/);
    const ms = (await cli.run(["mappings", "set", "HaloPSA", "--org", "globex", "--entity-id", "g-1", "--entity-name", "Globex Halo"]));
    expect(ms.status).toBe(0);
    expect((await cli.run(["mappings", "list", "HaloPSA"])).stdout).toMatch(/globex\s+g-1\s+Globex Halo/);
    expect((await cli.run(["mappings", "remove", "HaloPSA", "--org", "globex"])).status).toBe(0);
  });

  it("export has no plaintext secret and re-applies with no changes", async () => {
    const yaml = (await cli.run(["export"]));
    expect(yaml.status).toBe(0);
    expect(yaml.stdout).toContain("hmac-sha256:");
    expect(yaml.stdout).not.toContain(SECRET);
    const out = join(tmp.dir, "exported.json");
    expect((await cli.run(["export", "--out", out])).status).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ organizations: expect.any(Array), integrations: [{ name: "HaloPSA" }] });
    const again = (await cli.run(["apply", out, "--json"]));
    expect(again.status).toBe(0);
    expect(json(again).changed).toBe(false);
  });

  it("integrations create/update with --schema; schema key removal refused then --force", async () => {
    writeFileSync(join(tmp.dir, "schema.yaml"), "- { key: url, type: string, required: true }\n- { key: retries, type: int }\n");
    expect((await cli.run(["integrations", "create", "Graph", "--schema", "schema.yaml", "--description", "MS Graph"])).status).toBe(0);
    expect((await cli.run(["config", "set", "Graph", "url=https://graph.example.com", "retries=3"])).status).toBe(0);
    const refused = (await cli.run(["integrations", "update", "Graph", "--schema", '[{"key":"url","type":"string"}]']));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("BIFROST_SCHEMA_CHANGE_REFUSED");
    expect(refused.stderr).toContain("--force");
    const forced = (await cli.run(["integrations", "update", "Graph", "--schema", '[{"key":"url","type":"string"}]', "--force"]));
    expect(forced.status).toBe(0);
    expect((await cli.run(["integrations", "delete", "Graph"])).status).toBe(0);
  });

  it("a wrong keyring makes every command refuse with BIFROST_KEYRING", async () => {
    const wrong = { BIFROST_KEYRING: generateKeyringJson() };
    const commands = [
      ["migrate"],
      ["orgs", "list"],
      ["integrations", "list"],
      ["config", "get", "HaloPSA"],
      ["mappings", "list", "HaloPSA"],
      ["keys", "list"],
      ["export"],
      ["apply", "bifrost.yaml"],
      ["run", join(wf.dir, "halo.ts"), "--org", "acme"],
      ["serve", "--port", "0"],
    ];
    for (const args of commands) {
      // `run` installs process-wide guards: it runs in its own process.
      const r = args[0] === "run" ? cli.spawn(args, { ...wrong, HALO_API_KEY: SECRET }) : await cli.run(args, { ...wrong, HALO_API_KEY: SECRET });
      expect(r.status, args.join(" ")).toBe(1);
      // KeyringError's code (BIFROST_KEYRING or a more specific BIFROST_KEYRING_* code).
      expect(r.stderr, args.join(" ")).toMatch(/error \[BIFROST_KEYRING\w*\]: .*(wrong key|does not match)/);
      expect(r.stdout).not.toContain(SECRET);
    }
    const j = (await cli.run(["orgs", "list", "--json"], wrong));
    expect(json(j)).toMatchObject({ code: expect.stringMatching(/^BIFROST_KEYRING/) });
  });

  it("serve prints the URL, store and keyring origin, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], { cwd: tmp.dir, env: baseEnv({ BIFROST_HOME: cli.home }) });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const deadline = Date.now() + 20_000;
    while (!/store:/.test(out) && !/keyring:/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 200));
    expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain("SQLite");
    expect(out).toMatch(/keyring:\s+development keyring/);
    const keyring = JSON.parse(readFileSync(join(cli.home, "keyring.json"), "utf8")) as { keys: Record<string, string> };
    for (const k of Object.values(keyring.keys)) expect(out).not.toContain(k);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe.skipIf(!PG_URL)("bifrost CLI (PostgreSQL)", () => {
  const tmp = tempDir("bifrost-cli-pg-");
  let db: { url: string; drop(): Promise<void> };
  let cli: Cli;
  beforeAll(async () => {
    db = await createTestDatabase();
    mkdirSync(join(tmp.dir, "wf"));
    writeFileSync(join(tmp.dir, "bifrost.yaml"), EXAMPLE);
    writeFileSync(join(tmp.dir, "wf", "halo.ts"), WORKFLOW);
    const bare = makeCli(tmp.dir, { DATABASE_URL: db.url });
    // No development keyring on a shared PostgreSQL database: every process needs the same key.
    const refused = (await bare.run(["migrate"]));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/BIFROST_KEYRING_INVALID.*DATABASE_URL.*bifrost keys generate-keyring/);
    expect((await bare.run(["keys", "generate-keyring", "--out", join(tmp.dir, "keyring.json")])).status).toBe(0);
    expect((await bare.run(["keys", "generate-keyring", "--out", join(tmp.dir, "keyring.json")])).stderr).toMatch(/never overwritten/);
    cli = makeCli(tmp.dir, { DATABASE_URL: db.url, HALO_API_KEY: SECRET, BIFROST_KEYRING_FILE: join(tmp.dir, "keyring.json") });
  });
  afterAll(async () => {
    await db?.drop();
    tmp.cleanup();
  });

  it("apply twice, config set, run", async () => {
    expect((await cli.run(["apply", "bifrost.yaml"])).status).toBe(0);
    expect(json((await cli.run(["apply", "bifrost.yaml", "--json"]))).changed).toBe(false);
    expect((await cli.run(["config", "set", "HaloPSA", "timeout=45"])).status).toBe(0);
    const r = cli.spawn(["run", join(tmp.dir, "wf", "halo.ts"), "--org", "acme"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ entityId: "customer-123", base_url: "https://acme.halo.example.com/api", timeout: 45, tag: null });
    expect((await cli.run(["export"])).stdout).not.toContain(SECRET);
    expect((await cli.run(["orgs", "list", "--json"])).stdout).toContain("acme");
  });
});
