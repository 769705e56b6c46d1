import { ValidationError, ValueTooLargeError } from "./errors.js";
import type { ConfigSchemaItem, ConfigValue, JsonValue } from "./types.js";

/** Largest stored size of one config value (its JSON or plaintext form), in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024;

/** Deepest nesting accepted inside a json value. */
const MAX_JSON_DEPTH = 64;

/** Short description of a received value for error messages (strings are truncated). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function fail(item: ConfigSchemaItem, expected: string, received: unknown, secret = false): never {
  const got = secret ? `a ${Array.isArray(received) ? "list" : typeof received}` : describeValue(received);
  throw new ValidationError(`Config key "${item.key}" expects ${expected}; received ${got}.`, {
    key: item.key,
    expected: item.type,
    received: secret ? typeof received : describeValue(received),
  });
}

function checkSize(item: ConfigSchemaItem, serialized: string): void {
  const bytes = Buffer.byteLength(serialized, "utf8");
  if (bytes > MAX_VALUE_BYTES) {
    throw new ValueTooLargeError(
      `Config key "${item.key}" is ${bytes} bytes; values are limited to ${MAX_VALUE_BYTES} bytes (64 KiB).`,
      { key: item.key, bytes, limit: MAX_VALUE_BYTES },
    );
  }
}

/**
 * Reject prototype keys anywhere inside a json value (a stored value can never pollute objects),
 * and nesting deeper than MAX_JSON_DEPTH.
 */
function checkJsonValue(item: ConfigSchemaItem, value: unknown, path: string, depth: number): void {
  if (typeof value !== "object" || value === null) return;
  if (depth >= MAX_JSON_DEPTH) {
    throw new ValidationError(`Config key "${item.key}" is nested deeper than ${MAX_JSON_DEPTH} levels at ${path}.`, { key: item.key, path });
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJsonValue(item, v, `${path}[${i}]`, depth + 1));
    return;
  }
  for (const k of Object.keys(value)) {
    if (k === "__proto__") {
      throw new ValidationError(`Config key "${item.key}" contains the forbidden object key "__proto__" at ${path}.`, { key: item.key, path });
    }
    checkJsonValue(item, (value as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
  }
}

export interface CoerceOptions {
  /**
   * The value is command-line text (`key=value`): a json key's text is parsed as JSON.
   * Structured input (API bodies, YAML files) is taken as the JSON value itself, so a string stays a string.
   */
  text?: boolean;
}

/**
 * Validate and coerce one raw value (from JSON, YAML or a CLI `key=value` string) to the key's type.
 * `"30"` for an int becomes 30, `"true"` for a bool becomes true; json text from the CLI is parsed.
 */
export function coerceValue(item: ConfigSchemaItem, raw: unknown, opts: CoerceOptions = {}): ConfigValue {
  let value: ConfigValue;
  switch (item.type) {
    case "string":
      if (typeof raw === "string") value = raw;
      else if (typeof raw === "number" || typeof raw === "boolean") value = String(raw);
      else fail(item, "a string", raw);
      break;
    case "secret":
      if (typeof raw !== "string" || raw === "") fail(item, "a non-empty string (secret)", raw, true);
      value = raw;
      break;
    case "int": {
      let n: number | undefined;
      if (typeof raw === "number") n = raw;
      else if (typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw)) n = Number(raw.trim());
      if (n === undefined || !Number.isSafeInteger(n)) fail(item, "an integer", raw);
      value = n;
      break;
    }
    case "bool":
      if (typeof raw === "boolean") value = raw;
      else if (typeof raw === "string" && /^(true|false)$/i.test(raw.trim())) value = raw.trim().toLowerCase() === "true";
      else fail(item, "a boolean (true or false)", raw);
      break;
    case "json":
      if (raw === undefined || typeof raw === "function" || typeof raw === "symbol" || typeof raw === "bigint") fail(item, "a JSON value", raw);
      if (opts.text === true && typeof raw === "string") {
        try {
          value = JSON.parse(raw) as JsonValue;
        } catch {
          fail(item, "JSON (an object, list, number, boolean or quoted string)", raw);
        }
      } else {
        value = raw as JsonValue;
      }
      if (typeof value === "number" && !Number.isFinite(value)) fail(item, "a JSON value", raw);
      checkJsonValue(item, value, item.key, 0);
      break;
  }
  checkSize(item, typeof value === "string" ? value : JSON.stringify(value));
  if (item.options && !item.options.includes(value as string | number)) {
    throw new ValidationError(
      `Config key "${item.key}" must be one of ${item.options.map((o) => JSON.stringify(o)).join(", ")}; received ${describeValue(value)}.`,
      { key: item.key, options: item.options },
    );
  }
  return value;
}
