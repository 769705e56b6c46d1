/**
 * What the integration's config schema needs for the spec: security scheme credentials, server
 * variables and `base_url`. Existing keys and values are never removed or changed.
 */
import type { ConfigSchemaItem } from "../core/types.js";
import type { ClientSpec, SecurityRequirement, SecurityScheme, ServerVariable } from "../client/types.js";
import { AuthChoiceError } from "./errors.js";
import { snakeCase } from "./names.js";
import { isObject, type JsonObject } from "./pointer.js";

export interface PlannedKey {
  key: string;
  type: "string" | "secret";
  description: string;
}

export interface SecurityPlan {
  schemes: Record<string, SecurityScheme>;
  /** Schemes the runtime cannot apply (digest, mutualTLS, …): requirements naming them are dropped. */
  unsupported: string[];
  keys: PlannedKey[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function keyName(raw: string): string {
  const k = snakeCase(raw);
  return KEY.test(k) ? k : "key";
}

export function planSecurity(doc: JsonObject): SecurityPlan {
  const comps = isObject(doc.components) && isObject(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const schemes: Record<string, SecurityScheme> = {};
  const unsupported: string[] = [];
  const keys: PlannedKey[] = [];
  const taken = new Set<string>();
  const claim = (k: string): string => {
    let name = k;
    for (let i = 2; taken.has(name); i++) name = `${k}_${i}`;
    taken.add(name);
    return name;
  };
  taken.add("base_url");
  let basicSeen = false;
  for (const [name, raw] of Object.entries(comps)) {
    let s: unknown = raw;
    for (let i = 0; i < 5 && isObject(s) && typeof s.$ref === "string"; i++) {
      const ref: string = s.$ref;
      s = comps[decodeURIComponent(ref.slice(ref.lastIndexOf("/") + 1))];
    }
    if (!isObject(s)) continue;
    const type = typeof s.type === "string" ? s.type : "";
    if (type === "apiKey" && (s.in === "header" || s.in === "query" || s.in === "cookie") && typeof s.name === "string") {
      const key = claim(keyName(name));
      schemes[name] = { type: "apiKey", in: s.in, name: s.name, configKey: key };
      keys.push({ key, type: "secret", description: `API key for security scheme "${name}" (${s.in} ${s.name})` });
    } else if (type === "http" && typeof s.scheme === "string" && s.scheme.toLowerCase() === "bearer") {
      const key = claim(keyName(name));
      schemes[name] = { type: "http", scheme: "bearer", configKey: key };
      keys.push({ key, type: "secret", description: `Bearer token for security scheme "${name}" (used when the integration has no OAuth token)` });
    } else if (type === "http" && typeof s.scheme === "string" && s.scheme.toLowerCase() === "basic") {
      const prefix = basicSeen ? `${keyName(name)}_` : "";
      basicSeen = true;
      const usernameKey = claim(`${prefix}username`);
      const passwordKey = claim(`${prefix}password`);
      schemes[name] = { type: "http", scheme: "basic", usernameKey, passwordKey };
      keys.push({ key: usernameKey, type: "string", description: `HTTP basic user name for security scheme "${name}"` });
      keys.push({ key: passwordKey, type: "secret", description: `HTTP basic password for security scheme "${name}"` });
    } else if (type === "oauth2" || type === "openIdConnect") {
      schemes[name] = { type };
    } else {
      unsupported.push(name);
    }
  }
  return { schemes, unsupported, keys };
}

/**
 * How generated calls authenticate (`bifrost sdk generate --auth`): the spec's security schemes
 * (`spec`, the default) or one scheme for every operation, for specs that declare none or the wrong one.
 */
export type AuthChoice = "spec" | "oauth" | "bearer" | "basic" | "none" | `api-key:${"header" | "query"}:${string}`;

export const AUTH_FORMS = "spec, oauth, bearer, basic, api-key:header:NAME, api-key:query:NAME, none";

/** A header field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parse `--auth` (undefined = `spec`); throws BIFROST_GENERATOR_AUTH_INVALID naming the accepted forms. */
export function parseAuthChoice(raw: string | undefined): AuthChoice {
  if (raw === undefined) return "spec";
  const v = raw.trim();
  if (v === "spec" || v === "oauth" || v === "bearer" || v === "basic" || v === "none") return v;
  const m = /^api-key:(header|query):(.*)$/i.exec(v);
  const name = m?.[2] ?? "";
  if (m && (m[1]?.toLowerCase() === "header" ? TOKEN.test(name) : name !== "" && !/[\s&=#]/.test(name))) return `api-key:${m[1]?.toLowerCase() as "header" | "query"}:${name}`;
  const why = m ? `"${name}" is not a valid ${m[1]?.toLowerCase()} name` : `"${raw}" is not one of them`;
  throw new AuthChoiceError(`Invalid auth choice: ${why}. Accepted: ${AUTH_FORMS} (e.g. --auth api-key:header:X-Api-Key).`, { auth: raw, accepted: AUTH_FORMS.split(", ") });
}

/** The security plan for a non-`spec` choice: one scheme `auth` required by every operation (none for `none`). */
export function planAuthChoice(choice: Exclude<AuthChoice, "spec">): SecurityPlan & { security: SecurityRequirement[] } {
  const one = (s: SecurityScheme, keys: PlannedKey[]): SecurityPlan & { security: SecurityRequirement[] } => ({ schemes: { auth: s }, unsupported: [], keys, security: [{ auth: [] }] });
  if (choice === "none") return { schemes: {}, unsupported: [], keys: [], security: [] };
  if (choice === "oauth") return one({ type: "oauth2" }, []);
  if (choice === "bearer") return one({ type: "http", scheme: "bearer", configKey: "bearer_token" }, [{ key: "bearer_token", type: "secret", description: "Bearer token (--auth bearer; used when the integration has no OAuth token)" }]);
  if (choice === "basic") {
    return one({ type: "http", scheme: "basic", usernameKey: "username", passwordKey: "password" }, [
      { key: "username", type: "string", description: "HTTP basic user name (--auth basic)" },
      { key: "password", type: "secret", description: "HTTP basic password (--auth basic)" },
    ]);
  }
  const [, where, ...rest] = choice.split(":");
  const name = rest.join(":");
  return one({ type: "apiKey", in: where as "header" | "query", name, configKey: "api_key" }, [{ key: "api_key", type: "secret", description: `API key (--auth ${choice})` }]);
}

/** The `--auth` choice recorded in a generated module (`spec` when none is). */
export function authChoiceOf(source: string): AuthChoice {
  const m = /^\/\/ bifrost sdk generate --auth (\S+)$/m.exec(source.slice(0, 2000));
  return m ? parseAuthChoice(m[1]) : "spec";
}

export interface ServerPlan {
  servers: ClientSpec["servers"];
  keys: PlannedKey[];
}

export function planServers(doc: JsonObject, taken: Set<string>): ServerPlan {
  const list = Array.isArray(doc.servers) ? doc.servers.filter(isObject) : [];
  const servers: ClientSpec["servers"] = [];
  const keys: PlannedKey[] = [];
  const varKeys = new Map<string, string>();
  for (const s of list) {
    if (typeof s.url !== "string") continue;
    const entry: ClientSpec["servers"][number] = { url: s.url };
    if (isObject(s.variables)) {
      const vars: Record<string, ServerVariable> = {};
      for (const [v, def] of Object.entries(s.variables)) {
        if (!isObject(def)) continue;
        let key = varKeys.get(v);
        if (key === undefined) {
          key = KEY.test(v) ? v : keyName(v);
          if (taken.has(key)) key = `server_${key}`;
          taken.add(key);
          varKeys.set(v, key);
          keys.push({ key, type: "string", description: `Server variable {${v}}${typeof def.description === "string" ? `: ${def.description.split("\n")[0]}` : ""}` });
        }
        const sv: ServerVariable = { default: def.default === undefined ? "" : String(def.default) };
        if (key !== v) sv.configKey = key;
        if (Array.isArray(def.enum)) sv.enum = def.enum.map(String);
        vars[v] = sv;
      }
      if (Object.keys(vars).length > 0) entry.variables = vars;
    }
    servers.push(entry);
  }
  return { servers, keys };
}

export interface ConfigMerge {
  schema: ConfigSchemaItem[];
  added: ConfigSchemaItem[];
  /** Planned keys that already existed (kept exactly as they were). */
  kept: string[];
}

/** Old schema + the planned keys that are missing; existing items are kept untouched and in order. */
export function mergeConfigSchema(existing: readonly ConfigSchemaItem[], planned: readonly PlannedKey[]): ConfigMerge {
  const have = new Set(existing.map((i) => i.key));
  const added: ConfigSchemaItem[] = [];
  const kept: string[] = [];
  for (const p of planned) {
    if (have.has(p.key)) {
      kept.push(p.key);
      continue;
    }
    have.add(p.key);
    added.push({ key: p.key, type: p.type, required: false, description: p.description });
  }
  return { schema: [...existing.map((i) => ({ ...i })), ...added], added, kept };
}
