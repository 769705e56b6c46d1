import { describe, expect, it } from "vitest";
import { coerceValue, MAX_VALUE_BYTES } from "../../src/core/coerce.js";
import { parseConfigSchema } from "../../src/core/config-schema.js";
import { ValidationError, ValueTooLargeError } from "../../src/core/errors.js";
import { checkIntegrationName, checkOrgSlug } from "../../src/core/names.js";
import type { ConfigSchemaItem } from "../../src/core/types.js";

const item = (type: ConfigSchemaItem["type"], extra: Partial<ConfigSchemaItem> = {}): ConfigSchemaItem => ({ key: "k", type, required: false, ...extra });

describe("coerceValue", () => {
  it("coerces strings to the schema type at write time", () => {
    expect(coerceValue(item("int"), "30")).toBe(30);
    expect(coerceValue(item("int"), 42)).toBe(42);
    expect(coerceValue(item("bool"), "true")).toBe(true);
    expect(coerceValue(item("bool"), "FALSE")).toBe(false);
    expect(coerceValue(item("json"), '{"a":[1,2]}', { text: true })).toEqual({ a: [1, 2] });
    expect(coerceValue(item("json"), '{"a":[1,2]}')).toBe('{"a":[1,2]}');
    expect(coerceValue(item("json"), "abc")).toBe("abc");
    expect(coerceValue(item("json"), { a: 1 })).toEqual({ a: 1 });
    expect(coerceValue(item("string"), 5)).toBe("5");
    expect(coerceValue(item("secret"), "s3cret")).toBe("s3cret");
  });

  it("names key, expected type and what was received", () => {
    expect(() => coerceValue(item("int", { key: "timeout" }), "abc")).toThrowError(/"timeout" expects an integer; received the string "abc"/);
    expect(() => coerceValue(item("int"), 1.5)).toThrowError(ValidationError);
    expect(() => coerceValue(item("int"), "9007199254740993")).toThrowError(/integer/);
    expect(() => coerceValue(item("bool"), "yes")).toThrowError(/boolean/);
    expect(() => coerceValue(item("json"), "{not json", { text: true })).toThrowError(/JSON/);
    expect(() => coerceValue(item("string"), { a: 1 })).toThrowError(/received an object/);
  });

  it("never echoes a bad secret value in the error", () => {
    try {
      coerceValue(item("secret", { key: "api_key" }), 12345678);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain("12345678");
      expect((err as Error).message).toContain("api_key");
    }
  });

  it("enforces options", () => {
    expect(coerceValue(item("string", { options: ["eu", "us"] }), "eu")).toBe("eu");
    expect(() => coerceValue(item("string", { options: ["eu", "us"] }), "apac")).toThrowError(/must be one of "eu", "us"/);
    expect(coerceValue(item("int", { options: [1, 2] }), "2")).toBe(2);
  });

  it("limits json nesting depth instead of overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(5000)}${"]".repeat(5000)}`) as unknown;
    expect(() => coerceValue(item("json", { key: "flags" }), deep)).toThrowError(/"flags" is nested deeper than 64 levels/);
    expect(coerceValue(item("json"), JSON.parse(`${"[".repeat(60)}${"]".repeat(60)}`))).toBeInstanceOf(Array);
  });

  it("limits value size to 64 KiB", () => {
    expect(() => coerceValue(item("string"), "x".repeat(MAX_VALUE_BYTES + 1))).toThrowError(ValueTooLargeError);
    expect(() => coerceValue(item("json"), { big: "x".repeat(1024 * 1024) })).toThrowError(/65536 bytes/);
    expect(coerceValue(item("string"), "x".repeat(MAX_VALUE_BYTES))).toHaveLength(MAX_VALUE_BYTES);
  });

  it("rejects __proto__ inside json values", () => {
    expect(() => coerceValue(item("json"), '{"a":{"__proto__":{"polluted":true}}}', { text: true })).toThrowError(/__proto__/);
    expect(() => coerceValue(item("json"), JSON.parse('{"a":{"__proto__":{"polluted":true}}}'))).toThrowError(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("parseConfigSchema", () => {
  it("normalises items", () => {
    expect(parseConfigSchema([{ key: "base_url", type: "string", required: true }, { key: "t", type: "int" }])).toEqual([
      { key: "base_url", type: "string", required: true },
      { key: "t", type: "int", required: false },
    ]);
  });

  it.each([
    [[{ key: "a b", type: "string" }], /invalid/],
    [[{ key: "1a", type: "string" }], /invalid/],
    [[{ key: "__proto__", type: "string" }], /reserved/],
    [[{ key: "constructor", type: "string" }], /reserved/],
    [[{ key: "a", type: "float" }], /type must be one of/],
    [[{ key: "a", type: "string" }, { key: "a", type: "int" }], /appears twice/],
    [[{ key: "a", type: "string", default: "x" }], /Defaults belong in the integration's `defaults`/],
    [[{ key: "a", type: "bool", options: [true] }], /only allowed for string and int/],
    [{ key: "a" }, /must be a list/],
  ])("rejects %j", (input, message) => {
    expect(() => parseConfigSchema(input)).toThrowError(message);
  });
});

describe("names", () => {
  it("rejects integration names with spaces or path characters", () => {
    expect(checkIntegrationName("HaloPSA")).toBe("HaloPSA");
    expect(checkIntegrationName("Microsoft_Graph")).toBe("Microsoft_Graph");
    for (const bad of ["Halo PSA", "../etc", "a/b", "a\\b", "", " x", "x".repeat(65)]) {
      expect(() => checkIntegrationName(bad)).toThrowError(/Integration name/);
    }
  });
  it("checks org slugs", () => {
    expect(checkOrgSlug("acme-corp")).toBe("acme-corp");
    for (const bad of ["Acme", "acme corp", "-acme", "acme/x", ""]) expect(() => checkOrgSlug(bad)).toThrowError(/slug/);
  });
});
