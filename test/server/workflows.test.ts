import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { integrations } from "../../src/runtime/integrations.js";
import { workflow } from "../../src/runtime/workflow.js";
import { createApp } from "../../src/server/index.js";
import { BACKENDS, bootTest, tempDir } from "../helpers/backends.js";
import { envelope, type Harness, SECRET_ACME, SECRET_DEFAULT, setup } from "./harness.js";

const echo = workflow("echo", async (input: unknown) => {
  const halo = await integrations.get("HaloPSA");
  if (!halo) return { error: "not configured" };
  return { input, entity_id: halo.entityId, entity_name: halo.entityName, mapped: halo.mapped, base_url: halo.config.get("base_url"), timeout: halo.config.get("timeout"), config: halo.config };
});

const leaky = workflow("leaky", async () => {
  const halo = await integrations.require("HaloPSA");
  throw new Error(`upstream refused credentials ${String(halo.config.get("api_secret"))}`);
});

const peek = workflow("peek", async (input: { org: string }) => {
  const halo = await integrations.get("HaloPSA", { org: input.org });
  return { entity_id: halo?.entityId ?? null };
});

const crash = workflow("crash", async () => {
  throw new TypeError("cannot read properties of undefined");
});

describe.each(BACKENDS)("workflow routes on $name", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup(backend, { workflows: [echo, leaky, peek, crash] });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists the registered workflows for every role", async () => {
    for (const key of [h.keys.platform, h.keys.acmeAdmin, h.keys.acmeWorkflow]) {
      expect((await h.call("GET", "/api/workflows", key)).json()).toEqual({ workflows: ["crash", "echo", "leaky", "peek"], next_cursor: null });
    }
  });

  it("a workflow key runs as its org and gets the org's merged config and entity", async () => {
    const res = await h.call("POST", "/api/workflows/echo/run", h.keys.acmeWorkflow, { input: { n: 1 } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      workflow: "echo",
      org: "acme",
      result: { input: { n: 1 }, entity_id: "T-1", entity_name: "Acme Ltd", mapped: true, base_url: "https://halo.example.com", timeout: 60 },
    });
    expect(body.execution_id).toEqual(expect.any(String));
    // The config object is serialised masked.
    expect(body.result.config.api_secret).toEqual({ set: true, fingerprint: expect.any(String) });
    expect(res.body).not.toContain(SECRET_ACME);
  });

  it("an unmapped org gets the defaults and entity_id null", async () => {
    const res = await h.call("POST", "/api/workflows/echo/run", h.keys.platform, { org: "globex" });
    expect(res.json()).toMatchObject({ org: "globex", result: { entity_id: null, mapped: false, timeout: 30 } });
  });

  it("org-scoped keys cannot run as another org (404); platform_admin must name one (422)", async () => {
    const own = await h.call("POST", "/api/workflows/echo/run", h.keys.acmeAdmin, { org: "acme" });
    expect(own.statusCode).toBe(200);
    const foreign = envelope(await h.call("POST", "/api/workflows/echo/run", h.keys.acmeWorkflow, { org: "globex" }), 404, "BIFROST_NOT_FOUND");
    const missing = envelope(await h.call("POST", "/api/workflows/echo/run", h.keys.platform, { org: "no-such" }), 404, "BIFROST_NOT_FOUND");
    expect(foreign.message).toBe(missing.message.replace("no-such", "globex"));
    envelope(await h.call("POST", "/api/workflows/echo/run", h.keys.platform, {}), 422, "BIFROST_VALIDATION");
    envelope(await h.call("POST", "/api/workflows/nope/run", h.keys.acmeWorkflow, {}), 404, "BIFROST_NOT_FOUND");
  });

  it("only platform callers may read another org from inside a workflow", async () => {
    const denied = await h.call("POST", "/api/workflows/peek/run", h.keys.globexWorkflow, { input: { org: "acme" } });
    envelope(denied, 403, "BIFROST_FORBIDDEN");
    const allowed = await h.call("POST", "/api/workflows/peek/run", h.keys.platform, { org: "globex", input: { org: "acme" } });
    expect(allowed.json().result).toEqual({ entity_id: "T-1" });
  });

  it("a workflow error carrying a secret answers 500 with the secret redacted", async () => {
    const res = await h.call("POST", "/api/workflows/leaky/run", h.keys.acmeWorkflow);
    const e = envelope(res, 500, "BIFROST_WORKFLOW_FAILED");
    expect(e.message).toContain("[REDACTED]");
    expect(res.body).not.toContain(SECRET_ACME);
    expect(res.body).not.toContain(SECRET_DEFAULT);
  });

  it("a workflow's plain exception is a BIFROST_WORKFLOW_FAILED envelope", async () => {
    const e = envelope(await h.call("POST", "/api/workflows/crash/run", h.keys.acmeWorkflow), 500, "BIFROST_WORKFLOW_FAILED");
    expect(e.message).toContain("cannot read properties");
  });
});

describe("workflowsDir (runs the built server in a child process: `npm run build` first)", () => {
  const script = join(import.meta.dirname, "fixtures", "serve-dir.mjs");
  const serve = (dir: string, home: string): Record<string, any> => {
    if (!existsSync(join(import.meta.dirname, "../../dist/server/index.js"))) throw new Error("dist/ is missing: run `npm run build` before this test.");
    // any: the child's JSON output, checked field by field below.
    const out = execFileSync(process.execPath, [script, dir, home], { encoding: "utf8", timeout: 20_000 });
    return JSON.parse(out.trim().split("\n").pop() as string) as Record<string, any>;
  };

  it("loads .ts/.mts/.js workflows recursively that import from \"bifrost\"", () => {
    const t = tempDir();
    try {
      const wf = join(t.dir, "wf");
      mkdirSync(join(wf, "sub", "deeper"), { recursive: true });
      mkdirSync(join(wf, "node_modules", "x"), { recursive: true });
      writeFileSync(
        join(wf, "sub", "hello.ts"),
        `import { workflow, integrations } from "bifrost";
export default workflow("disk_hello", async (input: { who: string }) => {
  const list = await integrations.list();
  const missing = await integrations.get("NoSuchIntegration");
  return { hello: input.who, integrations: list.length, missing };
});
`,
      );
      writeFileSync(join(wf, "sub", "deeper", "plain.mjs"), `import { workflow } from "bifrost";\nexport const a = workflow("disk_plain", async () => "plain");\n`);
      writeFileSync(join(wf, "types.d.ts"), "export declare const x: number;\n");
      writeFileSync(join(wf, "notes.md"), "not a workflow\n");
      writeFileSync(join(wf, "node_modules", "x", "index.js"), "throw new Error('must not be loaded');\n");
      const out = serve(wf, join(t.dir, "home"));
      expect(out.error).toBeUndefined();
      expect(out.workflows).toEqual(["disk_hello", "disk_plain"]);
      expect(out.runs.disk_hello).toMatchObject({ status: 200, body: { workflow: "disk_hello", org: "acme", result: { hello: "world", integrations: 0, missing: null } } });
      expect(out.runs.disk_plain).toMatchObject({ status: 200, body: { result: "plain" } });
    } finally {
      t.cleanup();
    }
  });

  it("two workflows with the same name fail startup naming both files; a missing dir is zero workflows", () => {
    const t = tempDir();
    try {
      const wf = join(t.dir, "wf");
      mkdirSync(wf);
      const src = (n: string) => `import { workflow } from "bifrost";\nexport default workflow("dup", async () => ${n});\n`;
      writeFileSync(join(wf, "a.ts"), src("1"));
      writeFileSync(join(wf, "b.mts"), src("2"));
      const dup = serve(wf, join(t.dir, "home1"));
      expect(dup.error.code).toBe("BIFROST_WORKFLOW_LOAD");
      expect(dup.error.message).toMatch(/a\.ts.*b\.mts/);
      expect(serve(join(t.dir, "missing"), join(t.dir, "home2"))).toEqual({ workflows: [], runs: {} });
    } finally {
      t.cleanup();
    }
  });
});

describe("workflow registry without files", () => {
  it("two in-memory workflows with one name fail startup", async () => {
    const boot = await bootTest();
    try {
      const other = workflow("echo", async () => 2);
      await expect(createApp({ bifrost: boot.bf, workflows: [echo, other] })).rejects.toMatchObject({ code: "BIFROST_WORKFLOW_LOAD" });
    } finally {
      await boot.cleanup();
    }
  });
});
