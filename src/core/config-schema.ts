import { ValidationError } from "./errors.js";
import { checkConfigKey } from "./names.js";
import { CONFIG_TYPES, type ConfigSchemaItem, type ConfigType } from "./types.js";

const ITEM_FIELDS = new Set(["key", "type", "required", "description", "options", "org_override"]);

/** A schema item as written in yaml, the API and exports (snake_case). */
export interface ConfigSchemaItemWire {
  key: string;
  type: ConfigSchemaItem["type"];
  required: boolean;
  description?: string;
  options?: Array<string | number>;
  /** Present (false) only for keys locked to platform admins. */
  org_override?: false;
}

/** The yaml / API form of a parsed schema (what `parseConfigSchema` reads back). */
export function toWireSchema(schema: readonly ConfigSchemaItem[]): ConfigSchemaItemWire[] {
  return schema.map((s) => ({
    key: s.key,
    type: s.type,
    required: s.required,
    ...(s.description ? { description: s.description } : {}),
    ...(s.options ? { options: [...s.options] } : {}),
    ...(s.orgOverride === false ? { org_override: false as const } : {}),
  }));
}

/** Keys whose per-org values only platform admins may write. */
export function lockedKeys(schema: readonly ConfigSchemaItem[]): Set<string> {
  return new Set(schema.filter((s) => s.orgOverride === false).map((s) => s.key));
}

/**
 * Validate a config schema given by a user (API body, YAML file, CLI). Returns a normalised copy.
 * `where` prefixes error messages so a file path or request field can be named.
 */
export function parseConfigSchema(input: unknown, where = "config_schema"): ConfigSchemaItem[] {
  if (!Array.isArray(input)) {
    throw new ValidationError(`${where} must be a list of { key, type, required?, description?, options?, org_override? } items.`, { path: where });
  }
  const seen = new Set<string>();
  return input.map((raw, index) => {
    const at = `${where}[${index}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new ValidationError(`${at} must be an object with at least key and type.`, { path: at });
    }
    const item = raw as Record<string, unknown>;
    const extra = Object.keys(item).filter((k) => !ITEM_FIELDS.has(k));
    if (extra.length > 0) {
      const hint = extra.includes("default") ? " Defaults belong in the integration's `defaults`, not in the schema." : "";
      throw new ValidationError(`${at} has unknown field(s) ${extra.join(", ")}; allowed: ${[...ITEM_FIELDS].join(", ")}.${hint}`, { path: at, unknown: extra });
    }
    if (typeof item.key !== "string") throw new ValidationError(`${at}.key must be a string.`, { path: `${at}.key` });
    checkConfigKey(item.key, `${at}.key`);
    if (seen.has(item.key)) throw new ValidationError(`${at}.key "${item.key}" appears twice; schema keys must be unique.`, { path: `${at}.key`, key: item.key });
    seen.add(item.key);
    if (typeof item.type !== "string" || !(CONFIG_TYPES as readonly string[]).includes(item.type)) {
      throw new ValidationError(`${at}.type must be one of ${CONFIG_TYPES.join(", ")}; got ${JSON.stringify(item.type)}.`, { path: `${at}.type` });
    }
    const type = item.type as ConfigType;
    if (item.required !== undefined && typeof item.required !== "boolean") {
      throw new ValidationError(`${at}.required must be true or false.`, { path: `${at}.required` });
    }
    if (item.description !== undefined && item.description !== null && typeof item.description !== "string") {
      throw new ValidationError(`${at}.description must be a string.`, { path: `${at}.description` });
    }
    if (item.org_override !== undefined && typeof item.org_override !== "boolean") {
      throw new ValidationError(`${at}.org_override must be true or false (false: only platform admins may set per-organization values of "${item.key}").`, { path: `${at}.org_override` });
    }
    const out: ConfigSchemaItem = { key: item.key, type, required: item.required === true };
    if (typeof item.description === "string" && item.description !== "") out.description = item.description;
    if (item.options !== undefined && item.options !== null) {
      if (type !== "string" && type !== "int") {
        throw new ValidationError(`${at}.options is only allowed for string and int keys (key "${item.key}" is ${type}).`, { path: `${at}.options` });
      }
      if (!Array.isArray(item.options) || item.options.length === 0) {
        throw new ValidationError(`${at}.options must be a non-empty list.`, { path: `${at}.options` });
      }
      out.options = item.options.map((o, i) => {
        const ok = type === "int" ? Number.isSafeInteger(o) : typeof o === "string";
        if (!ok) throw new ValidationError(`${at}.options[${i}] must be ${type === "int" ? "an integer" : "a string"}; got ${JSON.stringify(o)}.`, { path: `${at}.options[${i}]` });
        return o as string | number;
      });
    }
    if (item.org_override === false) out.orgOverride = false;
    return out;
  });
}

export function schemaByKey(schema: readonly ConfigSchemaItem[]): Map<string, ConfigSchemaItem> {
  return new Map(schema.map((item) => [item.key, item]));
}
