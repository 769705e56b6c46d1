/** Generation for a registered integration (real SQLite store): config keys added, files, check, HTTP route. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkForIntegration, generateForIntegration } from "../../src/generator/service.js";
import { getIntegration } from "../../src/services/integrations.js";
import { sqliteBackend, tempDir } from "../helpers/backends.js";
import { type Harness, setup } from "../server/harness.js";
import { FIXTURES } from "./specs.js";

const C30 = `${FIXTURES}/constructs/constructs-3.0.yaml`;

describe("sdk generate / check for an integration", () => {
  let h: Harness;
  const out = tempDir("bifrost-sdk-out-");
  beforeAll(async () => {
    h = await setup(sqliteBackend);
  });
  afterAll(async () => {
    await h.close();
    out.cleanup();
  });

  it("writes DIR/NAME.ts, adds only the missing config keys, keeps existing keys and values", async () => {
    const before = await getIntegration(h.bf, "HaloPSA");
    const res = await generateForIntegration(h.bf, "HaloPSA", { spec: C30, outDir: out.dir }, true);
    expect(res.file).toBe(join(out.dir, "halopsa.ts"));
    expect(readFileSync(res.file as string, "utf8")).toBe(res.result.source);
    expect(res.result.source).toContain('integration: "HaloPSA"');
    expect(res.result.source).toContain("export const halopsa = {");
    expect(res.configKept).toEqual(["base_url"]);
    expect(res.configAdded.map((k) => `${k.key}:${k.type}`)).toEqual(["api_key_header:secret", "api_key_query:secret", "api_key_cookie:secret", "username:string", "password:secret", "bearer_auth:secret", "tenant:string", "basePath:string"]);
    const after = await getIntegration(h.bf, "HaloPSA");
    expect(after.configSchema.slice(0, before.configSchema.length)).toEqual(before.configSchema);
    expect(after.defaults).toEqual(before.defaults);
    // Second run: nothing more to add.
    const again = await generateForIntegration(h.bf, "HaloPSA", { spec: C30, outDir: out.dir }, true);
    expect(again.configAdded).toEqual([]);
  });

  it("check passes on the committed file and fails with a diff summary when it differs", async () => {
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec: C30, outDir: out.dir })).resolves.toMatchObject({ upToDate: true });
    const file = join(out.dir, "halopsa.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace("export type Status", "export type Statuz"));
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec: C30, outDir: out.dir })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_OUT_OF_DATE", details: { changedLines: 2 } });
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec: C30, outDir: join(out.dir, "none") })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_OUT_OF_DATE", details: { missing: true } });
  });

  it("bad module name or invalid spec: clear error, nothing written, schema unchanged", async () => {
    const dir = tempDir("bifrost-sdk-bad-");
    const before = await getIntegration(h.bf, "HaloPSA");
    await expect(generateForIntegration(h.bf, "HaloPSA", { spec: C30, module: "../x", outDir: dir.dir }, true)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_MODULE_NAME" });
    await expect(generateForIntegration(h.bf, "HaloPSA", { spec: `${FIXTURES}/invalid/bad-openapi.yaml`, outDir: dir.dir }, true)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_SPEC_INVALID" });
    await expect(generateForIntegration(h.bf, "HaloPSA", { spec: "http://example.com/x.json", outDir: dir.dir }, true)).rejects.toMatchObject({ code: "BIFROST_GENERATOR_URL_REFUSED" });
    expect(readdirSync(dir.dir)).toEqual([]);
    expect(existsSync(join(dir.dir, "..", "x.ts"))).toBe(false);
    expect((await getIntegration(h.bf, "HaloPSA")).configSchema).toEqual(before.configSchema);
    dir.cleanup();
  });

  it("POST /api/integrations/:name/sdk/generate (platform_admin only) returns the source and the added keys", async () => {
    const spec = readFileSync(`${FIXTURES}/constructs/constructs-3.1.yaml`, "utf8");
    const denied = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.acmeAdmin, { spec });
    expect(denied.statusCode).toBe(403);
    const res = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec, module: "shapes" });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { module: string; source: string; config_keys_added: Array<{ key: string }>; operations: number };
    expect(body.module).toBe("shapes");
    expect(body.operations).toBe(2);
    expect(body.source).toContain("export const shapes = {");
    expect(body.config_keys_added.map((k) => k.key)).toEqual(["key"]);
    const bad = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec_url: "http://10.0.0.1/spec.json" });
    expect(bad.statusCode).toBe(422);
    expect((bad.json() as { code: string }).code).toBe("BIFROST_GENERATOR_URL_REFUSED");
    // A path on the server is never read for a caller (it would reveal which files exist).
    for (const path of ["/etc/passwd", "./package.json", "file:///etc/passwd"]) {
      const local = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec_url: path });
      expect(local.statusCode).toBe(422);
      expect(local.json() as { code: string; message: string }).toMatchObject({ code: "BIFROST_VALIDATION", message: expect.stringContaining("spec_url must be an absolute https URL") });
    }
    const badName = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec, module: "../etc" });
    expect((badName.json() as { code: string }).code).toBe("BIFROST_GENERATOR_MODULE_NAME");
  });

  it("--auth: recorded in the module, honoured by check, offered by the HTTP route; an invalid choice names the accepted forms and changes nothing", async () => {
    const dir = tempDir("bifrost-sdk-auth-");
    const spec = `${FIXTURES}/constructs/bodies-types-3.0.yaml`;
    const res = await generateForIntegration(h.bf, "HaloPSA", { spec, module: "tasks", auth: "api-key:header:X-Tenant-Key", outDir: dir.dir }, true);
    expect(res.result.auth).toBe("api-key:header:X-Tenant-Key");
    expect(res.result.source.split("\n")[1]).toBe("// bifrost sdk generate --auth api-key:header:X-Tenant-Key");
    expect(res.result.source).toContain('securitySchemes: { auth: { type: "apiKey", in: "header", name: "X-Tenant-Key", configKey: "api_key" } }, security: [{ auth: [] }]');
    // check without --auth regenerates with the recorded choice; another choice is a difference.
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec, module: "tasks", outDir: dir.dir })).resolves.toMatchObject({ upToDate: true, result: { auth: "api-key:header:X-Tenant-Key" } });
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec, module: "tasks", outDir: dir.dir, auth: "bearer" })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_OUT_OF_DATE", message: expect.stringContaining("--auth bearer") });
    const before = await getIntegration(h.bf, "HaloPSA");
    const written = readFileSync(join(dir.dir, "tasks.ts"), "utf8");
    for (const bad of ["apikey", "api-key:header:", "api-key:header:Bad Name", "api-key:cookie:x", "api-key:query:a&b", "OAuth2"]) {
      const e = await generateForIntegration(h.bf, "HaloPSA", { spec, module: "tasks", auth: bad, outDir: dir.dir }, true).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: "BIFROST_GENERATOR_AUTH_INVALID", message: expect.stringContaining("Accepted: spec, oauth, bearer, basic, api-key:header:NAME, api-key:query:NAME, none") });
    }
    await expect(checkForIntegration(h.bf, "HaloPSA", { spec, module: "tasks", outDir: dir.dir, auth: "nope" })).rejects.toMatchObject({ code: "BIFROST_GENERATOR_AUTH_INVALID" });
    expect(readFileSync(join(dir.dir, "tasks.ts"), "utf8")).toBe(written);
    expect((await getIntegration(h.bf, "HaloPSA")).configSchema).toEqual(before.configSchema);
    // The route takes the same choice and reports it with the keys it added.
    const inline = readFileSync(spec, "utf8");
    const basic = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec: inline, module: "tasks", auth: "basic" });
    expect(basic.statusCode).toBe(200);
    const body = basic.json() as { auth: string; source: string; config_keys_added: Array<{ key: string }>; config_keys_existing: string[] };
    expect(body.auth).toBe("basic");
    expect(body.source).toContain('auth: { type: "http", scheme: "basic", usernameKey: "username", passwordKey: "password" }');
    expect([...body.config_keys_added.map((k) => k.key), ...body.config_keys_existing].sort()).toEqual(["base_url", "password", "username"]);
    const invalid = await h.call("POST", "/api/integrations/HaloPSA/sdk/generate", h.keys.platform, { spec: inline, auth: "token" });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json()).toMatchObject({ code: "BIFROST_GENERATOR_AUTH_INVALID", message: expect.stringContaining('"token" is not one of them') });
    dir.cleanup();
  });
});
