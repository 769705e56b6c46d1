import { coerceValue } from "../core/coerce.js";
import { parseConfigSchema, schemaByKey } from "../core/config-schema.js";
import { ConflictError, SchemaChangeError, ValidationError } from "../core/errors.js";
import { checkIntegrationName } from "../core/names.js";
import type { ConfigSchemaItem, DisplayValue, Integration } from "../core/types.js";
import type { Store, StoredConfigValue } from "../storage/store.js";
import { type ConfigChange, displayValues, emptyChange, writeConfigValues } from "./config-values.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import { checkPrivateNetwork, checkTrustedOrigins } from "./integration-trust.js";
import { requireIntegration } from "../kernel/lookup.js";
import { cutPage, type Page, type PageInput, pageRequest } from "../core/page.js";

export interface IntegrationView {
  name: string;
  description: string | null;
  configSchema: ConfigSchemaItem[];
  /** Integration-level defaults; secrets as `{ set, fingerprint }`. */
  defaults: Record<string, DisplayValue>;
  mappingCount: number;
  /** Origins integration-level credentials may also go to (platform only). */
  trustedOrigins: string[];
  /** Outbound calls may reach private ranges (never link-local or metadata). */
  privateNetwork: boolean;
  createdAt: string;
  updatedAt: string;
}

function checkDescription(d: unknown): string | null {
  if (d === undefined || d === null || d === "") return null;
  if (typeof d !== "string" || d.length > 2000) throw new ValidationError("description must be a string of at most 2000 characters.", { path: "description" });
  return d;
}

export async function viewIntegration(store: Store, integration: Integration): Promise<IntegrationView> {
  const [defaults, mappingCount] = await Promise.all([store.listConfigValues(integration.id, null), store.countMappings(integration.id)]);
  return {
    name: integration.name,
    description: integration.description,
    configSchema: integration.configSchema,
    defaults: displayValues(defaults),
    mappingCount,
    trustedOrigins: integration.trustedOrigins,
    privateNetwork: integration.privateNetwork,
    createdAt: integration.createdAt,
    updatedAt: integration.updatedAt,
  };
}

export async function getIntegration(deps: Deps, name: string): Promise<IntegrationView> {
  return viewIntegration(deps.store, await requireIntegration(deps.store, name));
}

export async function listIntegrations(deps: Deps): Promise<IntegrationView[]> {
  const all = await deps.store.listIntegrations();
  return Promise.all(all.map((i) => viewIntegration(deps.store, i)));
}

/** One page of integrations by name (q: name or description). */
export async function listIntegrationsPage(deps: Deps, input: PageInput): Promise<Page<IntegrationView>> {
  const { limit, read } = pageRequest(input, "integrations", ["s"]);
  const page = cutPage(await deps.store.pageIntegrations(read), limit, "integrations", (i) => [i.name]);
  return { rows: await Promise.all(page.rows.map((i) => viewIntegration(deps.store, i))), nextCursor: page.nextCursor };
}

export interface CreateIntegrationInput {
  name: string;
  description?: string | null;
  configSchema?: unknown;
  defaults?: unknown;
  trustedOrigins?: unknown;
  privateNetwork?: unknown;
}

export async function createIntegration(deps: Deps, input: CreateIntegrationInput): Promise<IntegrationView> {
  const name = checkIntegrationName(input.name);
  const configSchema = parseConfigSchema(input.configSchema ?? [], "config_schema");
  const description = checkDescription(input.description);
  const trustedOrigins = input.trustedOrigins === undefined ? [] : checkTrustedOrigins(input.trustedOrigins);
  const privateNetwork = input.privateNetwork === undefined ? false : checkPrivateNetwork(input.privateNetwork);
  return deps.store.retryingTransaction(async (store) => {
    if (await store.getIntegrationByName(name)) {
      throw new ConflictError(`Integration "${name}" already exists; use \`bifrost integrations update ${name}\` to change it.`, { integration: name });
    }
    const now = deps.clock.now();
    const integration: Integration = { id: deps.clock.id(), name, description, configSchema, trustedOrigins, privateNetwork, createdAt: now, updatedAt: now };
    await store.insertIntegration(integration);
    await recordAudit({ store, clock: deps.clock }, "schema.write", {
      integration: { id: integration.id, name },
      keys: configSchema.map((i) => i.key),
      detail: { change: "created" },
    });
    if (input.defaults !== undefined) await writeConfigValues({ ...deps, store }, integration, null, input.defaults, "defaults");
    return viewIntegration(store, integration);
  });
}

/** What a schema change would do to stored values. */
export interface SchemaImpact {
  /** Values of keys that the new schema no longer has. */
  removed: Array<{ key: string; count: number }>;
  /** Values that are no longer valid for a changed key (type, options or secret-ness). */
  invalid: Array<{ key: string; count: number }>;
  /** Values that stay valid but are rewritten in the new type's form. */
  rewrites: StoredConfigValue[];
  doomed: StoredConfigValue[];
}

export function schemaImpact(oldSchema: readonly ConfigSchemaItem[], newSchema: readonly ConfigSchemaItem[], values: readonly StoredConfigValue[]): SchemaImpact {
  const next = schemaByKey(newSchema);
  const old = schemaByKey(oldSchema);
  const removed = new Map<string, number>();
  const invalid = new Map<string, number>();
  const rewrites: StoredConfigValue[] = [];
  const doomed: StoredConfigValue[] = [];
  for (const v of values) {
    const item = next.get(v.key);
    if (!item) {
      removed.set(v.key, (removed.get(v.key) ?? 0) + 1);
      doomed.push(v);
      continue;
    }
    const before = old.get(v.key);
    if (before && before.type === item.type && JSON.stringify(before.options ?? null) === JSON.stringify(item.options ?? null)) continue;
    if (v.isSecret !== (item.type === "secret")) {
      invalid.set(v.key, (invalid.get(v.key) ?? 0) + 1);
      doomed.push(v);
      continue;
    }
    if (v.isSecret) continue;
    try {
      const text = JSON.stringify(coerceValue(item, JSON.parse(v.value)));
      if (text !== v.value) rewrites.push({ ...v, value: text });
    } catch {
      invalid.set(v.key, (invalid.get(v.key) ?? 0) + 1);
      doomed.push(v);
    }
  }
  const list = (m: Map<string, number>) => [...m].map(([key, count]) => ({ key, count }));
  return { removed: list(removed), invalid: list(invalid), rewrites, doomed };
}

function refusal(name: string, impact: SchemaImpact): SchemaChangeError {
  const parts = [
    ...impact.removed.map((r) => `${r.key}: ${r.count} value(s) of a removed key`),
    ...impact.invalid.map((r) => `${r.key}: ${r.count} value(s) no longer valid for its new type/options`),
  ];
  const total = impact.doomed.length;
  return new SchemaChangeError(
    `Changing the config schema of "${name}" would delete ${total} stored value(s) (${parts.join("; ")}). Nothing was changed. ` +
      `Re-run with --force (API: "force": true) to delete them.`,
    { integration: name, wouldDelete: total, removed: impact.removed, invalid: impact.invalid },
  );
}

const snake = (f: string): string => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Schema keys added, removed or changed between two schemas (names only). */
function schemaKeysChanged(before: readonly ConfigSchemaItem[], after: readonly ConfigSchemaItem[]): string[] {
  const a = schemaByKey(before);
  const b = schemaByKey(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => JSON.stringify(a.get(k) ?? null) !== JSON.stringify(b.get(k) ?? null));
}

/** A patch: a field left undefined is not changed. */
export interface UpdateIntegrationInput {
  name?: string | undefined;
  description?: string | null | undefined;
  configSchema?: unknown;
  defaults?: unknown;
  trustedOrigins?: unknown;
  privateNetwork?: unknown;
  force?: boolean | undefined;
}

export interface UpdateResult {
  integration: IntegrationView;
  changed: boolean;
  schemaChanged: boolean;
  deletedValues: number;
  defaults: ConfigChange;
}

/** Update fields, schema (guarded) and defaults in one transaction. */
export async function updateIntegration(deps: Deps, currentName: string, input: UpdateIntegrationInput): Promise<UpdateResult> {
  const newName = input.name === undefined ? undefined : checkIntegrationName(input.name);
  const newSchema = input.configSchema === undefined ? undefined : parseConfigSchema(input.configSchema, "config_schema");
  const description = input.description === undefined ? undefined : checkDescription(input.description);
  const trustedOrigins = input.trustedOrigins === undefined ? undefined : checkTrustedOrigins(input.trustedOrigins);
  const privateNetwork = input.privateNetwork === undefined ? undefined : checkPrivateNetwork(input.privateNetwork);
  return deps.store.retryingTransaction(async (store) => {
    const integration = await requireIntegration(store, currentName);
    let schemaChanged = false;
    let deletedValues = 0;
    const patch: { name?: string; description?: string | null; configSchema?: ConfigSchemaItem[]; trustedOrigins?: string[]; privateNetwork?: boolean } = {};
    if (newName !== undefined && newName !== integration.name) {
      if (await store.getIntegrationByName(newName)) throw new ConflictError(`Integration "${newName}" already exists; choose another name.`, { integration: newName });
      patch.name = newName;
    }
    if (description !== undefined && description !== integration.description) patch.description = description;
    if (trustedOrigins !== undefined && JSON.stringify(trustedOrigins) !== JSON.stringify(integration.trustedOrigins)) patch.trustedOrigins = trustedOrigins;
    if (privateNetwork !== undefined && privateNetwork !== integration.privateNetwork) patch.privateNetwork = privateNetwork;
    if (newSchema !== undefined && JSON.stringify(newSchema) !== JSON.stringify(integration.configSchema)) {
      const values = await store.listConfigValues(integration.id);
      const impact = schemaImpact(integration.configSchema, newSchema, values);
      if (impact.doomed.length > 0 && input.force !== true) throw refusal(integration.name, impact);
      for (const v of impact.doomed) deletedValues += await store.deleteConfigValues(integration.id, v.orgId, [v.key]);
      for (const v of impact.rewrites) await store.upsertConfigValue({ ...v, updatedAt: deps.clock.now() });
      patch.configSchema = newSchema;
      schemaChanged = true;
    }
    const updated: Integration = { ...integration, ...patch };
    if (Object.keys(patch).length > 0) {
      updated.updatedAt = deps.clock.now();
      await store.updateIntegration(integration.id, { ...patch, updatedAt: updated.updatedAt });
      await recordAudit({ store, clock: deps.clock }, "schema.write", {
        integration: { id: integration.id, name: updated.name },
        keys: patch.configSchema ? schemaKeysChanged(integration.configSchema, patch.configSchema) : [],
        detail: { change: "updated", fields: Object.keys(patch).map(snake), ...(patch.name ? { previous_name: integration.name } : {}), deleted_values: deletedValues },
      });
    }
    const defaults = input.defaults === undefined ? emptyChange() : await writeConfigValues({ ...deps, store }, updated, null, input.defaults, "defaults");
    const changed = Object.keys(patch).length > 0 || defaults.set.length > 0 || defaults.unset.length > 0;
    return { integration: await viewIntegration(store, updated), changed, schemaChanged, deletedValues, defaults };
  });
}

/** Deleting removes defaults, mappings and overrides; refused while mappings exist unless forced. */
export async function deleteIntegration(deps: Deps, name: string, opts: { force?: boolean } = {}): Promise<{ deletedMappings: number }> {
  return deps.store.retryingTransaction(async (store) => {
    const integration = await requireIntegration(store, name);
    const mappings = await store.listMappings({ integrationId: integration.id });
    if (mappings.length > 0 && opts.force !== true) {
      throw new ConflictError(
        `Integration "${name}" has ${mappings.length} mapping(s) with their entity ids and overrides. Nothing was deleted. Re-run with --force (API: ?force=true) to delete them too.`,
        { integration: name, mappings: mappings.length },
      );
    }
    await store.deleteIntegration(integration.id);
    await recordAudit({ store, clock: deps.clock }, "schema.write", { integration: { id: integration.id, name: integration.name }, detail: { change: "deleted", deleted_mappings: mappings.length } });
    return { deletedMappings: mappings.length };
  });
}
