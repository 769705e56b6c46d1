/**
 * `bifrost integrations create|update --trusted-origins … --private-network …` (spawns bin/bifrost.js:
 * run `npm run build` first). Invalid values exit 1 with a coded error and change nothing.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");

function run(home: string, cwd: string, args: string[]): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("BIFROST_") || k === "DATABASE_URL" || k.startsWith("VITEST") || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...env, BIFROST_HOME: home }, encoding: "utf8", timeout: 60_000 });
}

describe("CLI trust fields (SQLite)", () => {
  const tmp = tempDir("bifrost-outbound-cli-");
  const home = join(tmp.dir, ".bifrost");
  const cli = (args: string[]) => run(home, tmp.dir, args);
  beforeAll(() => {
    if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests (they spawn bin/bifrost.js).");
    expect(cli(["migrate", "--json"]).status).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it("create and update set normalized origins and the private-network flag; bad values exit 1 and change nothing", () => {
    const created = cli(["integrations", "create", "OnPrem", "--trusted-origins", "https://EU.example.com:443,https://api.example.com:8443", "--private-network", "true", "--json"]);
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).integration).toMatchObject({ trustedOrigins: ["https://eu.example.com", "https://api.example.com:8443"], privateNetwork: true });
    for (const [args, why] of [
      [["--trusted-origins", "https://*.example.com"], /wildcard/],
      [["--trusted-origins", "http://api.example.com"], /plain http/],
      [["--trusted-origins", "https://api.example.com/v2"], /no path/],
      [["--private-network", "maybe"], /private_network must be true or false/],
    ] as const) {
      const r = cli(["integrations", "update", "OnPrem", ...args]);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toContain("error [BIFROST_VALIDATION]");
      expect(r.stderr).toMatch(why);
    }
    const shown = cli(["integrations", "show", "OnPrem"]);
    expect(shown.stdout).toContain("trusted origins: https://eu.example.com, https://api.example.com:8443");
    expect(shown.stdout).toContain("private network: allowed");
    const cleared = cli(["integrations", "update", "OnPrem", "--trusted-origins", "", "--private-network", "false", "--json"]);
    expect(cleared.status, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout).integration).toMatchObject({ trustedOrigins: [], privateNetwork: false });
  });
});
