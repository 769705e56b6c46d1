import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");
const SPEC = join(ROOT, "test/fixtures/specs/petstore-swagger2.yaml");
const API_KEY = "petstore-key-5c1e77";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("bifrost sdk generate / check, and a workflow calling the generated client", () => {
  const tmp = tempDir("bifrost-sdk-cli-");
  const seen: Array<{ url: string | undefined; headers: IncomingHttpHeaders }> = [];
  let server: Server;
  let base = "";

  // Async spawn: the API server below runs in this process and must keep answering.
  const cli = (args: string[]): Promise<Run> =>
    new Promise((done) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, BIFROST_HOME: join(tmp.dir, ".bifrost"), BIFROST_ALLOW_HTTP_LOOPBACK: "1" };
      execFile(process.execPath, [BIN, ...args], { cwd: tmp.dir, env, encoding: "utf8" }, (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("Run `npm run build` before the CLI tests (they spawn bin/bifrost.js).");
    server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ available: 3, sold: 1 }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  it("generates the module, adds config keys, and a workflow authenticates through the integration", async () => {
    expect((await cli(["orgs", "create", "acme"])).code).toBe(0);
    expect((await cli(["integrations", "create", "Petstore"])).code).toBe(0);
    const gen = await cli(["sdk", "generate", "Petstore", "--spec", SPEC, "--json"]);
    expect(gen.code).toBe(0);
    const report = JSON.parse(gen.stdout) as { file: string; operations: number; config_keys_added: Array<{ key: string; type: string }> };
    expect(report.operations).toBe(13);
    expect(report.config_keys_added.map((k) => [k.key, k.type])).toEqual([
      ["base_url", "string"],
      ["api_key", "secret"],
    ]);
    expect(readFileSync(join(tmp.dir, "modules/petstore.ts"), "utf8")).toContain("export function getInventory(");

    expect((await cli(["config", "set", "Petstore", "--org", "acme", `base_url=${base}`, `api_key=${API_KEY}`])).code).toBe(0);
    mkdirSync(join(tmp.dir, "workflows"));
    writeFileSync(
      join(tmp.dir, "workflows/inventory.ts"),
      `import { workflow } from "bifrost";
import { getInventory } from "../modules/petstore";
export default workflow("inventory", async () => ({ inventory: await getInventory() }));
`,
    );
    const run = await cli(["run", "workflows/inventory.ts", "--org", "acme"]);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ inventory: { available: 3, sold: 1 } });
    expect(seen.at(-1)).toMatchObject({ url: "/v2/store/inventory", headers: { api_key: API_KEY } });
    expect(run.stdout + run.stderr).not.toContain(API_KEY);
  });

  it("sdk check passes on the committed module and fails with exit 1 once it differs", async () => {
    expect((await cli(["sdk", "check", "Petstore", "--spec", SPEC])).code).toBe(0);
    const file = join(tmp.dir, "modules/petstore.ts");
    writeFileSync(file, `${readFileSync(file, "utf8")}\n// edited by hand\n`);
    const stale = await cli(["sdk", "check", "Petstore", "--spec", SPEC]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("BIFROST_GENERATOR_OUT_OF_DATE");
  });

  it("a module name with a path is refused and nothing is written", async () => {
    const bad = await cli(["sdk", "generate", "Petstore", "--spec", SPEC, "--module", "../escape"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("BIFROST_GENERATOR_MODULE_NAME");
    expect(existsSync(join(tmp.dir, "escape.ts"))).toBe(false);
    expect(existsSync(join(tmp.dir, "modules/escape.ts"))).toBe(false);
  });

  // (Invalid choices and a check with another choice: test/generator/service.test.ts, without spawning.)
  it("--auth picks the scheme the spec lacks: recorded, honoured by check, used by the workflow", async () => {
    const gen = await cli(["sdk", "generate", "Petstore", "--spec", SPEC, "--module", "petauth", "--auth", "api-key:query:token", "--json"]);
    expect(gen.code).toBe(0);
    expect(JSON.parse(gen.stdout)).toMatchObject({ auth: "api-key:query:token", config_keys_existing: ["base_url", "api_key"] });
    expect((await cli(["sdk", "check", "Petstore", "--spec", SPEC, "--module", "petauth"])).code).toBe(0);
    writeFileSync(
      join(tmp.dir, "workflows/inventory-q.ts"),
      `import { workflow } from "bifrost";
import { getInventory } from "../modules/petauth";
export default workflow("inventory-q", async () => ({ inventory: await getInventory() }));
`,
    );
    const run = await cli(["run", "workflows/inventory-q.ts", "--org", "acme"]);
    expect(run.code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ url: `/v2/store/inventory?token=${API_KEY}` });
    expect(seen.at(-1)?.headers.api_key).toBeUndefined();
  });
});
