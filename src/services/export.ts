/**
 * `bifrost export`: the store as a bifrost.yaml / JSON document, in the shape `bifrost apply` reads.
 * Deterministic order (orgs by slug, integrations by name, mappings by org slug, config keys in
 * schema order). Secrets (config secrets and OAuth client secrets) are never written in plaintext: they appear
 * as `{ set: true, fingerprint }`, which `apply` treats as "keep the stored secret".
 */
import { stringify } from "yaml";
import { type ConfigSchemaItemWire, toWireSchema } from "../core/config-schema.js";
import type { ConfigSchemaItem, DisplayValue } from "../core/types.js";
import type { StoredConfigValue } from "../storage/store.js";
import { getOAuthProvider } from "../oauth/service.js";
import type { ProviderView } from "../oauth/provider-settings.js";
import { escapeEnvRefs } from "./apply-file.js";
import { displayValue } from "./config-values.js";
import type { Deps } from "../kernel/deps.js";

export interface ExportedOrg {
  slug: string;
  name: string;
}

export interface ExportedMapping {
  org: string;
  entity_id?: string;
  entity_name?: string;
  config?: Record<string, DisplayValue>;
}

export interface ExportedIntegration {
  name: string;
  description?: string;
  config_schema: ConfigSchemaItemWire[];
  defaults: Record<string, DisplayValue>;
  /** Only when set (platform only): origins integration-level credentials may also go to. */
  trusted_origins?: string[];
  /** Only when true: outbound calls may reach private ranges. */
  private_network?: boolean;
  /** The OAuth provider block; client_secret as `{ set: true, fingerprint }`, never plaintext. */
  oauth?: ProviderView;
  mappings?: ExportedMapping[];
}

export interface ExportDocument {
  organizations: ExportedOrg[];
  integrations: ExportedIntegration[];
}

export type ExportFormat = "yaml" | "json";

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A literal `${` in a stored value is written as `$${` so that applying the export restores it exactly. */
function escapeValue(value: DisplayValue): DisplayValue {
  if (typeof value === "string") return escapeEnvRefs(value);
  if (Array.isArray(value)) return value.map((v) => escapeValue(v as DisplayValue)) as DisplayValue;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, DisplayValue> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: escapeValue(v as DisplayValue), enumerable: true, writable: true, configurable: true });
    }
    return out as DisplayValue;
  }
  return value;
}

function valuesInSchemaOrder(schema: readonly ConfigSchemaItem[], rows: readonly StoredConfigValue[]): Record<string, DisplayValue> {
  const order = new Map(schema.map((s, i) => [s.key, i]));
  const sorted = [...rows].sort((a, b) => (order.get(a.key) ?? Infinity) - (order.get(b.key) ?? Infinity) || byText(a.key, b.key));
  const out: Record<string, DisplayValue> = {};
  for (const v of sorted) out[v.key] = escapeValue(displayValue(v));
  return out;
}

function escapeText(s: string): string {
  return escapeEnvRefs(s);
}

/** Read the whole store into an export document. Reads only; secrets stay masked. */
export async function exportDocument(deps: Deps): Promise<ExportDocument> {
  const orgs = [...(await deps.store.listOrgs())].sort((a, b) => byText(a.slug, b.slug));
  const slugById = new Map(orgs.map((o) => [o.id, o.slug]));
  const integrations = [...(await deps.store.listIntegrations())].sort((a, b) => byText(a.name, b.name));
  const out: ExportDocument = {
    organizations: orgs.map((o) => ({ slug: o.slug, name: escapeText(o.name) })),
    integrations: [],
  };
  for (const integ of integrations) {
    const values = await deps.store.listConfigValues(integ.id);
    const mappings = (await deps.store.listMappings({ integrationId: integ.id }))
      .map((m) => ({ m, slug: slugById.get(m.orgId) ?? m.orgId }))
      .sort((a, b) => byText(a.slug, b.slug));
    const item: ExportedIntegration = {
      name: integ.name,
      ...(integ.description ? { description: escapeText(integ.description) } : {}),
      config_schema: toWireSchema(integ.configSchema).map((s) => ({
        ...s,
        ...(s.description ? { description: escapeText(s.description) } : {}),
        ...(s.options ? { options: s.options.map((o) => (typeof o === "string" ? escapeText(o) : o)) } : {}),
      })),
      defaults: valuesInSchemaOrder(
        integ.configSchema,
        values.filter((v) => v.orgId === null),
      ),
      ...(integ.trustedOrigins.length > 0 ? { trusted_origins: [...integ.trustedOrigins] } : {}),
      ...(integ.privateNetwork ? { private_network: true } : {}),
    };
    const provider = await getOAuthProvider(deps, integ.name);
    if (provider) item.oauth = escapeValue(provider as unknown as DisplayValue) as unknown as ProviderView;
    if (mappings.length > 0) {
      item.mappings = mappings.map(({ m, slug }) => {
        const config = valuesInSchemaOrder(
          integ.configSchema,
          values.filter((v) => v.orgId === m.orgId),
        );
        return {
          org: slug,
          ...(m.entityId !== null ? { entity_id: escapeText(m.entityId) } : {}),
          ...(m.entityName !== null ? { entity_name: escapeText(m.entityName) } : {}),
          ...(Object.keys(config).length > 0 ? { config } : {}),
        };
      });
    }
    out.integrations.push(item);
  }
  return out;
}

/** Serialise an export document. YAML gets a short header explaining the masked secrets. */
export function formatExport(doc: ExportDocument, format: ExportFormat): string {
  if (format === "json") return `${JSON.stringify(doc, null, 2)}\n`;
  const header =
    "# Exported by `bifrost export`. Apply with `bifrost apply FILE`.\n" +
    "# Secrets are not included: `{ set: true, fingerprint }` keeps the stored secret when applied to this store.\n" +
    '# To move secrets to another store, replace them with "${ENV_VAR}" references.\n';
  return header + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
