/**
 * The provider catalog: lookup, search, and the expansion of `provider: ID` in an apply file into
 * the integration's `oauth:` block, config schema and defaults (explicit yaml fields win).
 */
import { ProviderUnknownError, ValidationError } from "../core/errors.js";
import { PROVIDERS } from "./providers.js";
import type { CatalogEntry } from "./types.js";

export type { AuthKind, CatalogEntry, CatalogOAuth, TestRequest } from "./types.js";
export { AUTH_KINDS } from "./types.js";
export { PROVIDERS } from "./providers.js";

const BY_ID = new Map(PROVIDERS.map((p) => [p.id, p]));

/** Entries whose id, name, category or auth kinds contain every word of `q` (case-insensitive); all when q is empty. */
export function searchProviders(q = ""): CatalogEntry[] {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const hit = (p: CatalogEntry): boolean => {
    const text = [p.id, p.name, p.category, ...p.auth].join(" ").toLowerCase();
    return words.every((w) => text.includes(w));
  };
  return PROVIDERS.filter(hit);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** Up to five ids close to `id`: containing it, contained in it, or a few edits away. */
export function closeProviderIds(id: string): string[] {
  const want = id.toLowerCase().replace(/[\s_]+/g, "-");
  if (want === "") return [];
  return PROVIDERS.map((p) => {
    const name = p.name.toLowerCase();
    const d = p.id.includes(want) || want.includes(p.id) || name.includes(want) ? 0 : distance(want, p.id);
    return { id: p.id, d };
  })
    .filter((x) => x.d <= Math.max(2, Math.floor(want.length / 3)))
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
    .slice(0, 5)
    .map((x) => x.id);
}

/** The entry with this id, or a ProviderUnknownError listing close matches. */
export function getProvider(id: unknown): CatalogEntry {
  const entry = typeof id === "string" ? BY_ID.get(id) : undefined;
  if (entry) return entry;
  const text = typeof id === "string" ? id.slice(0, 80) : String(id).slice(0, 80);
  const suggestions = typeof id === "string" ? closeProviderIds(id) : [];
  throw new ProviderUnknownError(
    `Unknown provider ${JSON.stringify(text)}${suggestions.length ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?` : "."} See \`bifrost catalog list\` (docs/providers.md).`,
    { provider: text, suggestions },
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The integration fields `provider:` fills, as written in yaml (snake_case). */
export interface ProviderFields {
  oauth?: Obj | null | undefined;
  config_schema?: unknown;
  defaults?: unknown;
}

const MERGED_BY_KEY = ["url_defaults", "authorize_params", "token_params", "quirks"] as const;

/**
 * Fill an integration's fields from a catalog entry. `oauth:` fields given in the yaml win (maps such as
 * url_defaults are merged key by key); config_schema items of the yaml replace the entry's item of the same
 * key or are added after them; yaml defaults win. `oauth: null` keeps its meaning (detach). A ValidationError's
 * details.path names the yaml field to add (`oauth`, `oauth.url_defaults.tenant`).
 */
export function expandProvider(entry: CatalogEntry, given: ProviderFields): ProviderFields {
  const out: ProviderFields = {};
  const oauthOnly = entry.auth.every((k) => k.startsWith("oauth2_"));
  if (given.oauth === null) out.oauth = null;
  else if (given.oauth !== undefined && !isObj(given.oauth)) out.oauth = given.oauth;
  else if (entry.oauth) {
    if (given.oauth === undefined) {
      if (oauthOnly) {
        throw new ValidationError(
          `provider "${entry.id}" uses OAuth (${entry.oauth.flow}): add an oauth block with your app's credentials, for example oauth: { client_id: "\${CLIENT_ID}", client_secret: "\${CLIENT_SECRET}" }.`,
          { path: "oauth", provider: entry.id },
        );
      }
    } else {
      const merged: Obj = { ...structuredClone(entry.oauth), ...given.oauth };
      for (const k of MERGED_BY_KEY) {
        const base = entry.oauth[k];
        const mine = given.oauth[k];
        if (base && (mine === undefined || isObj(mine))) merged[k] = { ...base, ...(mine ?? {}) };
      }
      for (const k of ["url_defaults", "token_params"] as const) {
        const m = merged[k];
        if (!isObj(m)) continue;
        for (const [name, v] of Object.entries(m)) {
          if (v === "") {
            throw new ValidationError(
              `provider "${entry.id}" needs oauth.${k}.${name}: set it in the oauth block${k === "url_defaults" ? ` (the value of {${name}} in the provider's URLs)` : ""}.`,
              { path: `oauth.${k}.${name}`, provider: entry.id },
            );
          }
        }
      }
      out.oauth = merged;
    }
  } else if (given.oauth !== undefined) out.oauth = given.oauth;

  const mineSchema = Array.isArray(given.config_schema) ? given.config_schema : given.config_schema === undefined || given.config_schema === null ? [] : null;
  if (mineSchema === null) out.config_schema = given.config_schema;
  else {
    const items: unknown[] = entry.config_schema.map((i) => structuredClone(i));
    for (const item of mineSchema) {
      const key = isObj(item) ? item.key : undefined;
      const at = items.findIndex((i) => isObj(i) && i.key === key);
      if (at >= 0 && key !== undefined) items[at] = item;
      else items.push(item);
    }
    if (items.length > 0 || given.config_schema !== undefined) out.config_schema = items;
  }
  if (given.defaults !== undefined && given.defaults !== null && !isObj(given.defaults)) out.defaults = given.defaults;
  else if (entry.defaults || given.defaults !== undefined) out.defaults = { ...(entry.defaults ?? {}), ...(isObj(given.defaults) ? given.defaults : {}) };
  return out;
}
