/** Emitted code for the construct fixtures: golden files plus targeted assertions. */
import { describe, expect, it } from "vitest";
import { emitModule, generateSdk, loadSpec, mergeConfigSchema } from "../../src/generator/index.js";
import { loadSpecInline } from "../../src/generator/load.js";
import { camelCase, pascalCase } from "../../src/generator/names.js";
import { nameFromPath } from "../../src/generator/operations.js";
import type { JsonObject } from "../../src/generator/pointer.js";
import { FIXTURES } from "./specs.js";

const C30 = `${FIXTURES}/constructs/constructs-3.0.yaml`;
const C31 = `${FIXTURES}/constructs/constructs-3.1.yaml`;
const SW2 = `${FIXTURES}/petstore-swagger2.yaml`;

describe("construct fixtures", async () => {
  const r30 = await generateSdk(C30, { integration: "Constructs", module: "constructs30" });
  const r31 = await generateSdk(C31, { integration: "Shapes", module: "constructs31" });
  const rsw = await generateSdk(SW2, { integration: "Petstore", module: "petstore" });
  const src = r30.source;

  it("golden files", async () => {
    await expect(src).toMatchFileSnapshot("./__snapshots__/constructs-3.0.ts.golden");
    await expect(r31.source).toMatchFileSnapshot("./__snapshots__/constructs-3.1.ts.golden");
    await expect(rsw.source).toMatchFileSnapshot("./__snapshots__/petstore-swagger2.ts.golden");
  });

  it("is deterministic", async () => {
    const again = await generateSdk(C30, { integration: "Constructs", module: "constructs30" });
    expect(again.source).toBe(src);
  });

  it("oneOf + discriminator mapping → tagged union; allOf → intersection; anyOf → union", () => {
    expect(src).toContain('export type Pet = ({ petType: "cat" } & Cat) | ({ petType: "doggo" } & Dog);');
    expect(src).toMatch(/export type Cat = PetBase & \{/);
    expect(src).toContain("export type AnyId = string | number;");
    expect(r31.source).toContain('export type Shape = ({ kind: "Circle" } & Circle) | ({ kind: "Square" } & Square);');
  });

  it("recursion is kept through properties; direct alias cycles are cut with unknown", () => {
    expect(src).toMatch(/export type TreeNode = \{\n {2}value\?: string;\n {2}children\?: TreeNode\[\];\n {2}parent\?: TreeNode;/);
    expect(src).toContain("export type LoopA = LoopB;");
    expect(src).toContain("export type LoopB = unknown;");
    expect(src).toMatch(/export type SelfAll = \{\n {2}x\?: string;/);
  });

  it("enums, 3.0 nullable and 3.1 type arrays, const, tuples", () => {
    expect(src).toContain('export type Status = "open" | "closed" | "in-progress";');
    expect(src).toContain("export type Priority = 1 | 2 | 3;");
    expect(src).toContain("tag?: string | null;");
    expect(r31.source).toContain("export type Maybe = (string | null) | null;");
    expect(r31.source).toContain("export type Num = (number | null) | null;");
    expect(r31.source).toContain('kind: "Circle";');
    expect(r31.source).toContain("export type Pair = [string, number];");
  });

  it("additionalProperties: typed map, typed map next to properties (no TS2411), free-form, closed", () => {
    expect(src).toMatch(/export type Metadata = \{\n {2}\[key: string\]: string;\n\};/);
    expect(src).toMatch(/export type Labeled = \{\n {2}count\?: number;\n\} & \{ \[key: string\]: string \};/);
    expect(src).toContain("export type FreeForm = {\n  [key: string]: unknown;\n};");
    expect(src).toContain("export type Closed = { [key: string]: never };");
  });

  it("odd schema names become valid, unique identifiers; globals are not shadowed", () => {
    expect(src).toContain("export type T400ErrorResponse = {");
    expect(src).toContain("export type FooBarBaz = string;");
    expect(src).toContain("export type SimpleUser = {");
    expect(src).toContain("export type SimpleUser2 = {");
    expect(src).toContain("export type ErrorSchema = {");
    expect(src).toContain("export type BlobSchema = {");
    expect(src).toContain('"weird key"?: string;');
  });

  it("`*/` in descriptions is escaped; every operation has a TSDoc comment", () => {
    expect(src).not.toMatch(/\*\/ must be escaped|name \*\/ tricky|of \*\/ in docs/);
    expect(src).toContain("*\\/ must be escaped");
    for (const op of r30.operations) expect(src).toMatch(new RegExp(`\\*/\\nexport function ${op.name}\\(`));
  });

  it("2XX ranges and default responses are success types; 4XX is not", () => {
    expect(src).toContain("export type CreateTicketResponse = Ticket;");
    expect(src).toContain("export type PatchTicketsByTicketIdResponse = Ticket;");
    expect(src).toContain("export type ListTicketsResponse = TicketList;");
  });

  it("non-JSON responses: text → string, octet-stream → Blob, 204 → undefined", () => {
    expect(src).toContain("export type GetFilesByPathResponse = Blob;");
    expect(src).toContain("export type PutFilesByPathResponse = string;");
    expect(src).toContain("export type GetReportsCsvResponse = string;");
    expect(src).toContain("export type DeleteResponse = undefined;");
  });

  it("parameters: deepObject + pipeDelimited listed in the OperationSpec; header and cookie params typed", () => {
    expect(src).toContain('params: [{ name: "filter", in: "query", style: "deepObject", explode: true }, { name: "tags", in: "query", style: "pipeDelimited", explode: false }]');
    expect(src).toMatch(/headers\?: \{\n {4}"X-Request-Id"\?: string;\n {2}\};/);
    expect(src).toMatch(/cookies\?: \{\n {4}session_hint\?: string;\n {2}\};/);
  });

  it("bodies: JSON | nested form (| URLSearchParams), multipart with binary (| FormData), raw binary", () => {
    expect(src).toContain('body: { mediaTypes: ["application/json", "application/x-www-form-urlencoded"], required: true }');
    expect(src).toMatch(/metadata\?: \{\n\s+source\?: string;\n\s+tags\?: string\[\];/);
    expect(src).toContain("| URLSearchParams);");
    expect(src).toMatch(/file\?: \$File;[\s\S]*\}\) \| FormData;/);
    expect(src).toContain("body: $Binary;");
  });

  it("every security scheme type is mapped; digest (unsupported) is reported", () => {
    expect(src).toContain('apiKeyHeader: { type: "apiKey", in: "header", name: "X-Api-Key", configKey: "api_key_header" }');
    expect(src).toContain('apiKeyQuery: { type: "apiKey", in: "query", name: "api_key", configKey: "api_key_query" }');
    expect(src).toContain('apiKeyCookie: { type: "apiKey", in: "cookie", name: "session", configKey: "api_key_cookie" }');
    expect(src).toContain('basicAuth: { type: "http", scheme: "basic", usernameKey: "username", passwordKey: "password" }');
    expect(src).toContain('bearerAuth: { type: "http", scheme: "bearer", configKey: "bearer_auth" }');
    expect(src).toContain('oauth: { type: "oauth2" }');
    expect(src).toContain('oidc: { type: "openIdConnect" }');
    expect(src).toContain('security: [{ bearerAuth: [] }, { apiKeyHeader: [] }]');
    expect(src).toContain('security: [{ basicAuth: [] }, { oauth: ["read"] }]');
    expect(src).toMatch(/id: "delete", method: "DELETE", path: "\/tickets\/\{ticketId\}", security: \[\]/);
    expect(r30.warnings.join("\n")).toContain("digest");
  });

  it("server variables are carried, and become config keys", () => {
    expect(src).toContain('servers: [{ url: "https://{tenant}.example.com/{basePath}", variables: { tenant: { default: "demo" }, basePath: { default: "v1", enum: ["v1", "v2"] } } }]');
    const keys = r30.configKeys.map((k) => `${k.key}:${k.type}`);
    expect(keys).toEqual(["base_url:string", "api_key_header:secret", "api_key_query:secret", "api_key_cookie:secret", "username:string", "password:secret", "bearer_auth:secret", "tenant:string", "basePath:string"]);
  });

  it("names: camelCase operationIds, readable fallback, duplicates and reserved names renamed and reported", () => {
    const names = r30.operations.map((o) => o.name);
    expect(names).toContain("listTickets"); // list-tickets
    expect(names).toContain("getTicket");
    expect(names).toContain("getTicket2"); // duplicate operationId
    expect(names).toContain("delete_"); // reserved word
    expect(names).toContain("patchTicketsByTicketId"); // no operationId
    expect(names).toContain("op2faEnableThing"); // starts with a digit
    expect(names).toContain("paginateOp"); // would clash with the paginate helper object
    expect(r30.renames).toEqual([
      { method: "POST", path: "/tickets/{ticketId}/attachments", operationId: "getTicket", wanted: "getTicket", name: "getTicket2", reason: "duplicate" },
      { method: "POST", path: "/odd", operationId: "paginate", wanted: "paginate", name: "paginateOp", reason: "reserved" },
    ]);
    expect(nameFromPath("get", "/users/{userId}/posts")).toBe("getUsersByUserIdPosts");
    expect(camelCase("repos/list-for-org")).toBe("reposListForOrg");
    expect(camelCase("GetAccount")).toBe("getAccount");
    expect(camelCase("URLShorten")).toBe("urlShorten");
    expect(pascalCase("400ErrorResponse")).toBe("T400ErrorResponse");
  });

  it("pagination only where the spec shows a pattern: cursor, Link header, page, offset", () => {
    expect(src).toContain('pagination: { style: "cursor", param: "cursor", responsePath: ["next_cursor"], itemsPath: ["data"] }');
    expect(src).toContain('pagination: { style: "link" }');
    expect(src).toContain('pagination: { style: "offset", param: "offset", limitParam: "limit", itemsPath: ["results"] }');
    expect(src).toContain('pagination: { style: "page", param: "page", itemsPath: ["items"] }');
    expect(r31.source).toContain('pagination: { style: "cursor", param: "next_token", responsePath: ["meta", "next_token"], itemsPath: ["shapes"] }');
    expect(r30.operations.filter((o) => o.paginated).map((o) => o.name)).toEqual(["listTickets", "listPets", "searchPets", "listPages"]);
    expect(src).toMatch(/export const paginate = \{\n {2}listTickets: \(args: ListTicketsArgs = \{\}\): AsyncIterable<Ticket> => \$paginate\(\$client, listTickets\$, args, \[\$styledParams\]\),/);
  });

  it("runtime extensions are imported and passed only where an operation needs them", () => {
    expect(src).toMatch(/^import \{ apiKeyCookie as \$apiKeyCookie, apiKeyHeader as \$apiKeyHeader, apiKeyQuery as \$apiKeyQuery, basicAuth as \$basicAuth, bearerAuth as \$bearerAuth, binaryBody as \$binaryBody, createClientWith as \$createClientWith, formBody as \$formBody, jsonBody as \$jsonBody, multipartBody as \$multipartBody, paginate as \$paginate, styledParams as \$styledParams \} from "bifrost\/client";$/m);
    // Security-scheme appliers: only those the spec's schemes use (constructs 3.0: all; petstore: api key header + oauth2).
    expect(src).toContain("const $client = /* @__PURE__ */ $createClientWith($spec, [$apiKeyHeader, $apiKeyQuery, $apiKeyCookie, $basicAuth, $bearerAuth]);");
    expect(rsw.source).toContain("const $client = /* @__PURE__ */ $createClientWith($spec, [$apiKeyHeader, $bearerAuth]);");
    expect(rsw.source).not.toMatch(/apiKeyQuery|apiKeyCookie|basicAuth/);
    expect(src).toContain("return $client.request<ListTicketsResponse>(listTickets$, args, [$styledParams]);");
    expect(src).toMatch(/return \$client\.request<CreateTicketResponse>\(createTicket\$, args, \[\$formBody\]\);/);
    // Swagger 2 petstore: multipart upload, no styled params anywhere it is not needed.
    expect(rsw.source).toContain("return $client.request<UploadFileResponse>(uploadFile$, args, [$multipartBody]);");
    expect(rsw.source).toContain("return $client.request<GetInventoryResponse>(getInventory$, args);");
  });

  it("pagination: next URL in the body (OData, Twilio) and last item's id (Stripe), also through allOf", () => {
    const list = (props: Record<string, unknown>, params: string[], allOf = false) => {
      const body = { type: "object", properties: props };
      return {
        get: {
          operationId: "list",
          parameters: params.map((name) => ({ name, in: "query", schema: { type: "string" } })),
          responses: { "2XX": { description: "ok", content: { "application/json": { schema: allOf ? { allOf: [{ $ref: "#/components/schemas/Base" }, body] } : body } } } },
        },
      };
    };
    const items = { type: "array", items: { type: "object", properties: { id: { type: "string" } } } };
    const doc = {
      openapi: "3.0.3",
      info: { title: "P", version: "1" },
      servers: [{ url: "https://api.example.com" }],
      components: { schemas: { Base: { type: "object", properties: { "@odata.nextLink": { type: "string", nullable: true } } } } },
      paths: {
        "/odata": list({ value: items }, ["$top"], true),
        "/twilio": list({ accounts: items, next_page_uri: { type: "string", nullable: true } }, ["PageSize", "PageToken"]),
        "/stripe": list({ data: items, has_more: { type: "boolean" }, object: { type: "string" } }, ["limit", "starting_after", "ending_before"]),
        "/none": list({ data: items, has_more: { type: "boolean" } }, ["limit"]),
      },
    };
    const r = emitModule(doc as unknown as JsonObject, { integration: "P", moduleName: "p" });
    expect(r.operations.map((o) => [o.path, o.paginated])).toEqual([["/odata", true], ["/twilio", true], ["/stripe", true], ["/none", false]]);
    expect(r.source).toContain('pagination: { style: "nextUrl", responsePath: ["@odata.nextLink"], itemsPath: ["value"] }');
    expect(r.source).toContain('pagination: { style: "nextUrl", responsePath: ["next_page_uri"], itemsPath: ["accounts"] }');
    expect(r.source).toContain('pagination: { style: "lastItemCursor", param: "starting_after", idPath: ["id"], hasMorePath: ["has_more"], itemsPath: ["data"] }');
  });

  it("tree-shakable shape: only declarations at top level, the aggregate object last", () => {
    const top = src.split("\n").filter((l) => /^[a-z]/.test(l) && !l.startsWith("import"));
    for (const l of top) expect(l).toMatch(/^(export (type|function|const) |const )/);
    expect(src).toMatch(/export const constructs30 = \{\n {2}listTickets,\n[\s\S]* {2}paginate,\n\};\n$/);
  });

  it("external $ref to a sibling file is bundled", () => {
    expect(src).toMatch(/assignee\?: \{\n\s+id: string;\n\s+email\?: string \| null;/);
  });

  it("emitModule works on an already-loaded document (in-memory pipeline)", async () => {
    const loaded = await loadSpec(C31);
    const out = emitModule(loaded.doc, { integration: "X", moduleName: "x" });
    expect(out.source).toBe((await generateSdk(C31, { integration: "X", module: "x" })).source);
  });

  it("config merge keeps existing keys untouched and appends only missing ones", () => {
    const existing = [
      { key: "base_url", type: "string" as const, required: true, description: "mine" },
      { key: "password", type: "string" as const, required: false },
    ];
    const m = mergeConfigSchema(existing, r30.configKeys);
    expect(m.schema.slice(0, 2)).toEqual(existing);
    expect(m.kept).toEqual(["base_url", "password"]);
    expect(m.added.map((k) => k.key)).toEqual(["api_key_header", "api_key_query", "api_key_cookie", "username", "bearer_auth", "tenant", "basePath"]);
    expect(m.added.every((k) => k.required === false)).toBe(true);
  });

  it("Swagger 2.0 `produces` without a schema: typed by the media type (Blob / string / unknown), JSON-only stays undefined", async () => {
    const ok = { "200": { description: "ok" } };
    const doc = {
      swagger: "2.0",
      info: { title: "P", version: "1" },
      host: "api.example.com",
      produces: ["application/json"],
      paths: {
        "/img": { get: { operationId: "getImg", produces: ["image/png"], responses: ok } },
        "/pdf": { get: { operationId: "getPdf", produces: ["application/pdf"], responses: ok } },
        "/html": { get: { operationId: "getHtml", produces: ["text/html"], responses: ok } },
        "/xml": { get: { operationId: "getXml", produces: ["application/xml"], responses: ok } },
        "/json": { get: { operationId: "getJson", responses: ok } },
      },
    };
    const r = await generateSdk(await loadSpecInline(doc), { integration: "P" });
    expect(r.source).toContain("export type GetImgResponse = Blob;");
    expect(r.source).toContain("export type GetPdfResponse = Blob;");
    expect(r.source).toContain("export type GetHtmlResponse = string;");
    expect(r.source).toContain("export type GetXmlResponse = unknown;");
    expect(r.source).toContain("export type GetJsonResponse = undefined;");
  });

  it("discriminator parent extended with allOf → tagged union of its subtypes; readOnly / writeOnly variants", async () => {
    const r = await generateSdk(`${FIXTURES}/constructs/bodies-types-3.0.yaml`, { integration: "T" });
    expect(r.source).toContain('export type Animal = ({ kind: "dog" } & Dog) | ({ kind: "Cat" } & Cat);');
    expect(r.source).toContain("export type Dog = AnimalBase & {");
    expect(r.source).toMatch(/export type TaskWritable = \{\n {2}title: string;\n {2}secret: string;\n {2}owner\?: Owner;\n\};/);
    expect(r.source).toMatch(/export type TaskReadable = \{\n {2}id: number;\n {2}title: string;\n {2}completed_by\?: string;\n {2}owner\?: OwnerReadable;\n\};/);
    expect(r.source).toContain("body: TaskWritable;");
    expect(r.source).toContain("export type CreateTaskResponse = TaskReadable;");
    expect(r.source).toContain("export type CreateTaskError = $ApiError<404, NotFound> | $ApiError<Exclude<$ErrorStatus<4>, 404>, Problem> | $ApiError<Exclude<$ErrorStatus, 404 | $ErrorStatus<4>>, unknown>;");
    expect(r.source).toContain("export function createTask(args: CreateTaskArgs): $Call<CreateTaskResponse, CreateTaskError> {");
  });
});
