import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, json, startApiServer } from "./helpers.js";

const run = promisify(execFile);
const BIN = join(process.cwd(), "bin/bifrost.js");

/** Spawns `bin/bifrost.js` (needs `npm run build`): the loader maps `bifrost/client` to dist/client of this installation. */
describe("workflow files import bifrost/client through the loader (CLI, SQLite)", () => {
  let api: ApiServer;
  const dir = mkdtempSync(join(tmpdir(), "bifrost-wf-client-"));
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BIFROST_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS" && k !== "DATABASE_URL") e[k] = v;
    return { ...e, BIFROST_HOME: join(dir, ".home"), BIFROST_ALLOW_HTTP_LOOPBACK: "1" };
  };
  const cli = (args: string[]) => run(process.execPath, [BIN, ...args], { cwd: dir, env: env(), timeout: 60_000 });

  beforeAll(async () => {
    if (!existsSync(join(process.cwd(), "dist/client/index.js"))) throw new Error("Run `npm run build` first.");
    api = await startApiServer();
    api.handler = (r, res) => json(res, 200, { key: r.headers["x-api-key"], url: r.url });
    // A workspace whose package.json has no "type": "module": the relative .ts module is still built
    // into the workflow's module, and its import of "bifrost/client" reaches this installation.
    writeFileSync(join(dir, "package.json"), '{ "name": "workspace" }\n');
    writeFileSync(
      join(dir, "bifrost.yaml"),
      `organizations:\n  - { slug: acme, name: Acme }\nintegrations:\n  - name: Halo\n    config_schema:\n      - { key: base_url, type: string }\n      - { key: api_key, type: secret }\n    defaults: { api_key: wf-key-123, base_url: "${api.url}" }\n    mappings:\n      - { org: acme, entity_id: e }\n`,
    );
    await cli(["apply", join(dir, "bifrost.yaml")]);
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a generated-style module and a workflow in a workspace folder without node_modules", async () => {
    writeFileSync(
      join(dir, "halo.ts"),
      `import { createClient, type OperationSpec } from "bifrost/client";
const client = createClient({ integration: "Halo", servers: [], securitySchemes: { k: { type: "apiKey", in: "header", name: "X-Api-Key", configKey: "api_key" } }, security: [{ k: [] }] });
const ping$: OperationSpec = { id: "ping", method: "GET", path: "/ping/{n}" };
export const ping = (n: number) => client.request<{ key: string; url: string }>(ping$, { path: { n } });`,
    );
    writeFileSync(
      join(dir, "wf.ts"),
      `import { workflow } from "bifrost";
import { ping } from "./halo.ts";
export default workflow("ping", async () => { const r = await ping(7); return { ok: r.key === "wf-key-123".toString(), url: r.url }; });`,
    );
    const out = await cli(["run", join(dir, "wf.ts"), "--org", "acme"]);
    expect(JSON.parse(out.stdout)).toEqual({ ok: true, url: "/ping/7" });
  });
});
