import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflow } from "../../src/runtime/workflow.js";
import { registeredRoutes } from "../../src/server/index.js";
import { sqliteBackend } from "../helpers/backends.js";
import { type Harness, setup } from "./harness.js";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string; required: boolean }>; security: unknown[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

describe("GET /api/openapi.json", () => {
  let h: Harness;
  let doc: Doc;
  beforeAll(async () => {
    h = await setup(sqliteBackend, { workflows: [workflow("noop", async () => null)] });
    const res = await h.call("GET", "/api/openapi.json", null);
    expect(res.statusCode).toBe(200);
    doc = res.json() as Doc;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is an OpenAPI 3.1 document with bearer security", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Error).toMatchObject({ type: "object", required: expect.arrayContaining(["statusCode", "code", "message"]) });
  });

  it("documents every registered route with its method, path params and security", () => {
    const routes = registeredRoutes(h.app).filter((r) => r.method !== "HEAD" && r.method !== "OPTIONS");
    expect(routes.length).toBeGreaterThan(20);
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z_]+)/g, "{$1}");
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      if (!op) continue;
      const pathParams = [...r.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(pathParams);
      const isPublic = r.url === "/healthz" || r.url === "/readyz" || r.url === "/api/openapi.json" || r.url === "/api/oauth/callback/:integration" || r.url === "/connect/:token" || (r.url === "/api/session" && r.method === "POST");
      expect(op.security).toEqual(isPublic ? [] : [{ bearer: [] }]);
    }
    // And nothing documented that does not exist.
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, "{$1}")}`).sort());
  });

  it("request bodies come from the zod schemas that validate them", () => {
    const create = doc.paths["/api/integrations"]?.post?.requestBody?.content["application/json"]?.schema as {
      properties: Record<string, { type?: string; pattern?: string; items?: { properties: Record<string, { enum?: string[] }> } }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(create.required).toEqual(["name"]);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.name?.pattern).toBeDefined();
    expect(create.properties.config_schema?.items?.properties.type?.enum).toEqual(["string", "int", "bool", "json", "secret"]);
    const keys = doc.paths["/api/keys"]?.post?.requestBody?.content["application/json"]?.schema as { properties: Record<string, { enum?: string[] }> };
    expect(keys.properties.role?.enum).toEqual(["platform_admin", "org_admin", "workflow"]);
    expect(doc.paths["/api/integrations/{name}/defaults"]?.patch?.requestBody).toBeDefined();
    const del = doc.paths["/api/integrations/{name}"]?.delete;
    expect(del?.parameters).toContainEqual(expect.objectContaining({ name: "force", in: "query", required: false }));
    for (const p of ["/api/integrations/{name}/oauth", "/api/integrations/{name}/oauth/authorize", "/api/oauth/callback/{integration}", "/api/oauth/status", "/api/events"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.paths["/api/integrations/{name}/oauth"]?.put?.requestBody).toBeDefined();
    const resolved = doc.paths["/api/integrations/{name}/resolved"]?.get;
    expect(resolved?.parameters).toContainEqual(expect.objectContaining({ name: "org", in: "query" }));
  });
});
