import { z } from "zod";
import type { Api, RouteDoc } from "./route.js";
import { ErrorEnvelopeSchema } from "./schemas.js";

type JsonObject = Record<string, unknown>;

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of the input (requests) or output (responses) side of a zod schema, without `$schema`. */
function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject;
  return rest;
}

const PARAM_DOCS: Record<string, string> = {
  slug: "Organization slug.",
  org: "Organization slug.",
  name: "Integration or workflow name.",
  id: "API key id or prefix.",
};

function operation(doc: RouteDoc): JsonObject {
  const pathParams = [...doc.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string);
  const parameters: JsonObject[] = pathParams.map((p) => ({ name: p, in: "path", required: true, description: PARAM_DOCS[p] ?? p, schema: { type: "string" } }));
  if (doc.query) {
    const q = jsonSchema(doc.query);
    const props = (q.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((q.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: rest });
    }
  }
  const errorResponse = { description: "Error envelope", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  const op: JsonObject = {
    operationId: `${doc.method.toLowerCase()}${doc.url.replace(/[/:]+([A-Za-z_.]+)/g, (_m, w: string) => `_${w.replace(/\./g, "_")}`)}`,
    summary: doc.summary,
    tags: [doc.tag],
    parameters,
    security: doc.roles === null ? [] : [{ bearer: [] }],
    responses: {
      [String(doc.status)]: { description: "Success", content: { [doc.produces ?? "application/json"]: { schema: doc.produces === "text/html" ? { type: "string" } : doc.response ? jsonSchema(doc.response, "output") : {} } } },
      ...(doc.roles === null ? {} : { "401": errorResponse, "403": errorResponse }),
      default: errorResponse,
    },
  };
  if (doc.roles !== null) op["x-bifrost-roles"] = [...doc.roles];
  if (doc.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(doc.body) } } };
  return op;
}

/** The OpenAPI 3.1 document of every route registered through `api`, built from the zod schemas that validate them. */
export function buildOpenApi(api: Api, version: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const doc of api.docs) {
    const path = doc.url.replace(/:([A-Za-z_]+)/g, "{$1}");
    (paths[path] ??= {})[doc.method.toLowerCase()] = operation(doc);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Bifrost Integrations API",
      version,
      description: "Integrations, per-organization mappings and config, API keys and workflow runs. Errors use one envelope: { statusCode, code, message, details? }.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer bfk_…` (create with `bifrost keys create`)." } },
      schemas: { Error: jsonSchema(ErrorEnvelopeSchema) },
    },
  };
}

/** GET /api/openapi.json (no auth). The document is built once, after every other route is registered. */
export function openApiRoute(api: Api, version: string): void {
  let cached: JsonObject | null = null;
  api.publicRoute({
    method: "GET",
    url: "/api/openapi.json",
    summary: "This API's OpenAPI 3.1 document.",
    tag: "meta",
    handler: async () => (cached ??= buildOpenApi(api, version)),
  });
}
