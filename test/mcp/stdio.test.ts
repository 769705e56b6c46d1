/**
 * `bifrost mcp` (stdio) driven by the MCP SDK's client spawning `node bin/bifrost.js mcp` (the build
 * output: run `npm run build` first) against a temporary BIFROST_HOME: the local CLI's platform
 * authority, BIFROST_API_KEY narrowing it to that key's role and org, and a bad key refused.
 */
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/services/api-keys.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { setMapping } from "../../src/services/mappings.js";
import { createOrg } from "../../src/services/organizations.js";
import { tempDir } from "../helpers/backends.js";
import { connectClient, type Mcp, PETS_SPEC, seen } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bifrost.js");
const SECRET_DEFAULT = "sk-stdio-DEFAULT-PLAINTEXT-1b9f";
const SECRET_ACME = "sk-stdio-ACME-PLAINTEXT-62c0";

describe("bifrost mcp (stdio)", () => {
  const tmp = tempDir("bifrost-mcp-");
  const home = join(tmp.dir, "home");
  let orgKey = "";
  const stderr: string[] = [];
  const open: Mcp[] = [];

  /** A client transport spawning `bifrost mcp`; `ended` settles when the child's stderr has been read to the end. */
  function transport(extra: Record<string, string> = {}): { t: StdioClientTransport; ended: Promise<void> } {
    const t = new StdioClientTransport({ command: process.execPath, args: [BIN, "mcp"], cwd: tmp.dir, env: { ...getDefaultEnvironment(), BIFROST_HOME: home, ...extra }, stderr: "pipe" });
    const sink = new PassThrough();
    sink.on("data", (d: Buffer) => stderr.push(d.toString("utf8")));
    const ended = new Promise<void>((done) => sink.on("end", () => done()));
    t.stderr?.pipe(sink);
    return { t, ended };
  }
  async function start(extra: Record<string, string> = {}): Promise<Mcp> {
    const mcp = await connectClient(transport(extra).t);
    open.push(mcp);
    return mcp;
  }

  beforeAll(async () => {
    const bf = await openBifrost({ env: { BIFROST_HOME: home }, warn: () => undefined });
    try {
      await createOrg(bf, { slug: "acme", name: "Acme" });
      await createOrg(bf, { slug: "globex", name: "Globex" });
      await createIntegration(bf, {
        name: "HaloPSA",
        configSchema: [
          { key: "base_url", type: "string", required: true },
          { key: "timeout", type: "int", required: false },
          { key: "api_secret", type: "secret", required: false },
        ],
        defaults: { base_url: "https://halo.example.com", timeout: 30, api_secret: SECRET_DEFAULT },
      });
      await createIntegration(bf, { name: "Pets", configSchema: [] });
      await setMapping(bf, "HaloPSA", "acme", { entityId: "T-1", config: { api_secret: SECRET_ACME } });
      await setMapping(bf, "HaloPSA", "globex", { entityId: "G-9" });
      orgKey = (await createApiKey(bf, { role: "org_admin", org: "acme", name: "assistant" })).key;
    } finally {
      await bf.close();
    }
  });

  afterAll(async () => {
    for (const m of open) await m.close().catch(() => undefined);
    tmp.cleanup();
  });

  it("with the local CLI's authority: platform tools work, validation errors change nothing, secrets stay masked", async () => {
    const mcp = await start();
    const { tools } = await mcp.client.listTools();
    expect(tools).toHaveLength(9);
    const list = await mcp.ok<{ integrations: Array<Record<string, unknown>> }>("list_integrations");
    // mapping_count is shown to platform admins only.
    expect(list.integrations.find((i) => i.name === "HaloPSA")).toMatchObject({ mapping_count: 2, defaults: { api_secret: { set: true } } });

    const bad = await mcp.fail("set_config", { integration: "HaloPSA", values: { timeout: "abc", base_url: "https://other.example.com" } });
    expect(bad.envelope).toMatchObject({ code: "BIFROST_VALIDATION" });
    expect(bad.envelope?.message).toContain("timeout");
    const after = await mcp.ok<{ config: Record<string, unknown> }>("get_integration", { integration: "HaloPSA" });
    expect(after.config).toMatchObject({ base_url: "https://halo.example.com", timeout: 30 });

    expect(await mcp.ok("set_config", { integration: "HaloPSA", values: { timeout: "40" } })).toMatchObject({ org: null, changes: { set: ["timeout"] } });
    const merged = await mcp.ok<Record<string, unknown>>("get_integration", { integration: "HaloPSA", org: "acme" });
    expect(merged).toMatchObject({ entity_id: "T-1", config: { timeout: 40, api_secret: { set: true } }, sources: { timeout: "default", api_secret: "override" } });

    expect(await mcp.ok("generate_sdk", { integration: "Pets", spec: PETS_SPEC })).toMatchObject({ module: "pets", operations: 1 });
    await mcp.close();

    const all = seen.join("\n") + stderr.join("");
    expect(all).not.toContain(SECRET_DEFAULT);
    expect(all).not.toContain(SECRET_ACME);
    const calls = stderr.join("").split("\n").filter((l) => l.includes('"mcp tool call"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(calls.find((c) => c.tool === "set_config" && c.outcome === "ok")).toMatchObject({ actor: "local CLI", role: "platform_admin", request_id: expect.any(String) });
  });

  it("with BIFROST_API_KEY: the key's role and organization, another org looking missing", async () => {
    const mcp = await start({ BIFROST_API_KEY: orgKey });
    expect(await mcp.ok("get_integration", { integration: "HaloPSA" })).toMatchObject({ org: "acme", entity_id: "T-1" });
    const other = await mcp.fail("get_integration", { integration: "HaloPSA", org: "globex" });
    expect(other.envelope).toMatchObject({ statusCode: 404, code: "BIFROST_NOT_FOUND", details: { org: "globex" } });
    const sdk = await mcp.fail("generate_sdk", { integration: "Pets", spec: PETS_SPEC });
    expect(sdk.envelope).toMatchObject({ statusCode: 403, code: "BIFROST_FORBIDDEN" });
    const list = await mcp.ok<{ integrations: Array<Record<string, unknown>> }>("list_integrations");
    expect(list.integrations.find((i) => i.name === "HaloPSA")).not.toHaveProperty("mapping_count");
    await mcp.close();
    const prefix = /^bfk_([0-9a-f]{12})_/.exec(orgKey)![1];
    const bf = await openBifrost({ env: { BIFROST_HOME: home }, warn: () => undefined });
    try {
      expect((await bf.store.getApiKeyByPrefix(prefix as string))?.lastUsedAt).not.toBeNull();
    } finally {
      await bf.close();
    }
    const log = stderr.join("");
    expect(log).toContain(`"key_prefix":"${prefix}"`);
    expect(log).toContain('"key_name":"assistant"');
    expect(log).not.toContain(orgKey);
  });

  it("refuses to start with an unknown BIFROST_API_KEY", async () => {
    const before = stderr.length;
    const { t, ended } = transport({ BIFROST_API_KEY: "bfk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    await expect(connectClient(t)).rejects.toThrow();
    await ended;
    expect(stderr.slice(before).join("")).toContain("BIFROST_UNAUTHENTICATED");
  });
});
