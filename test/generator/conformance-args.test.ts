/**
 * The conformance harness's argument builder (bench/conformance/): schema → example value and
 * operation → generated-call arguments. The harness itself needs the npm registry and Prism
 * (`npm run conformance`); these tests pin the builder so its misses are the client's, not its own.
 */
import { describe, expect, it } from "vitest";
import { exampleValue, stringForPattern } from "../../bench/conformance/example-value.js";
import { buildCall } from "../../bench/conformance/operation-args.js";

const doc = {
  openapi: "3.1.0",
  paths: {
    "/pets/{petId}": {
      parameters: [{ name: "petId", in: "path", required: true, schema: { type: "integer", minimum: 10 } }],
      post: {
        parameters: [
          { name: "filter", in: "query", style: "deepObject", explode: true, schema: { type: "object", properties: { kind: { enum: ["cat", "dog"] }, age: { type: "integer", maximum: 3 } } } },
          { name: "X-Trace", in: "header", schema: { type: "string", format: "uuid" } },
          { name: "Accept", in: "header", schema: { type: "string" } },
          { name: "api_key", in: "query", schema: { type: "string" } },
          { name: "old", in: "query", deprecated: true, schema: { type: "string" } },
          { name: "session", in: "cookie", schema: { type: "string", pattern: "^s-[0-9]{4}$" } },
        ],
        requestBody: { content: { "multipart/form-data": { schema: { $ref: "#/components/schemas/Upload" } } } },
      },
      put: { requestBody: { content: { "application/x-www-form-urlencoded": { schema: { $ref: "#/components/schemas/Pet" } } } } },
      patch: { requestBody: { content: { "application/octet-stream": {} } } },
    },
  },
  components: {
    securitySchemes: { key: { type: "apiKey", in: "query", name: "api_key" } },
    schemas: {
      Pet: {
        type: "object",
        required: ["name", "tags"],
        properties: {
          id: { type: "integer", readOnly: true },
          name: { type: "string", minLength: 5, maxLength: 8 },
          secret: { type: "string", writeOnly: true },
          tags: { type: "array", minItems: 2, items: { type: "string" } },
          parent: { $ref: "#/components/schemas/Pet" },
          score: { type: "number", exclusiveMinimum: 0, multipleOf: 0.5 },
          nick: { type: ["string", "null"], format: "email" },
        },
      },
      Upload: { type: "object", required: ["file"], properties: { file: { type: "string", format: "binary" }, note: { type: "string" } } },
      Shape: {
        oneOf: [{ $ref: "#/components/schemas/Circle" }, { $ref: "#/components/schemas/Square" }],
        discriminator: { propertyName: "kind", mapping: { circle: "#/components/schemas/Circle" } },
      },
      Circle: { type: "object", required: ["r"], properties: { kind: { type: "string" }, r: { type: "number" } } },
      Square: { type: "object", properties: { side: { type: "number" } } },
      Both: { allOf: [{ $ref: "#/components/schemas/Square" }, { type: "object", required: ["color"], properties: { color: { const: "red" } } }] },
    },
  },
};

describe("exampleValue", () => {
  it("honours types, formats, bounds, lengths, readOnly/writeOnly and recursion", () => {
    const pet = exampleValue(doc, { $ref: "#/components/schemas/Pet" }) as Record<string, unknown>;
    expect(pet).not.toHaveProperty("id"); // readOnly: never in a request
    expect(pet.secret).toBe("example"); // writeOnly: fine in a request
    expect((pet.name as string).length).toBeGreaterThanOrEqual(5);
    expect((pet.name as string).length).toBeLessThanOrEqual(8);
    expect(pet.tags).toEqual(["example", "example"]);
    expect(pet.score).toBe(0.5);
    expect(pet.nick).toBe("user@example.com");
    // The optional self-reference is left out: the recursion ends at once.
    expect(pet).not.toHaveProperty("parent");
    const tree = exampleValue(doc, { type: "object", required: ["self"], properties: { self: { $ref: "#/components/schemas/Pet" } } }) as { self: Record<string, unknown> };
    expect(tree.self.name).toBe("example");
    expect(exampleValue(doc, { type: "integer", minimum: 10, maximum: 20, multipleOf: 7 })).toBe(14);
    expect(exampleValue(doc, { type: "integer", exclusiveMaximum: 0 })).toBeLessThan(0);
    expect(exampleValue(doc, { type: "string", enum: [null, "b"] })).toBe("b");
  });

  it("picks the first oneOf option with its discriminator tag, and merges allOf", () => {
    expect(exampleValue(doc, { $ref: "#/components/schemas/Shape" })).toEqual({ kind: "circle", r: 1 });
    expect(exampleValue(doc, { $ref: "#/components/schemas/Both" })).toEqual({ side: 1, color: "red" });
  });

  it("builds strings that match simple patterns, and binary values as Blob or bytes", () => {
    for (const p of ["^s-[0-9]{4}$", "^[A-Z]{2}\\d{3}(-[a-z]+)?$", "^(foo|bar)_\\w+$", "^[^@]+@x\\.com$"]) {
      const s = stringForPattern(p);
      expect(s, p).toBeDefined();
      expect(new RegExp(p, "u").test(s as string), `${p} → ${s}`).toBe(true);
    }
    expect(stringForPattern("^(?=a)b$")).toBeUndefined();
    expect(exampleValue(doc, { type: "string", format: "binary" })).toBeInstanceOf(Blob);
    expect(exampleValue(doc, { type: "string", format: "binary" }, { binary: "bytes" })).toBeInstanceOf(Uint8Array);
  });
});

describe("buildCall", () => {
  it("fills path, query (deepObject), header and cookie parameters, leaving out credentials, client headers and deprecated ones", () => {
    const call = buildCall(doc, "/pets/{petId}", "POST");
    expect(call.args.path).toEqual({ petId: 10 });
    expect(call.args.query).toEqual({ filter: { kind: "cat", age: 1 } });
    expect(call.args.headers).toEqual({ "X-Trace": "123e4567-e89b-12d3-a456-426614174000" });
    expect(call.args.cookies).toEqual({ session: "s-0000" });
    expect(call.args.contentType).toBe("multipart/form-data");
    expect((call.args.body as { file: unknown }).file).toBeInstanceOf(Blob);
    expect(call.styles).toEqual(["query:deepObject", "body:multipart"]);
  });

  it("builds form and binary bodies for their media types", () => {
    const form = buildCall(doc, "/pets/{petId}", "PUT");
    expect(form.mediaType).toBe("application/x-www-form-urlencoded");
    expect(form.args.body).toMatchObject({ name: "example", tags: ["example", "example"] });
    const bin = buildCall(doc, "/pets/{petId}", "PATCH");
    expect(bin.args.body).toBeInstanceOf(Uint8Array);
    expect(bin.styles).toEqual(["body:binary"]);
  });
});
