import { ValidationError } from "../core/errors.js";
import type { DisplayValue, Integration, Mapping, Organization } from "../core/types.js";
import type { Store } from "../storage/store.js";
import { type ConfigChange, checkValueKeys, displayValues, emptyChange, writeConfigValues } from "./config-values.js";
import type { Deps } from "./deps.js";
import { requireIntegration, requireOrg } from "./lookup.js";

export interface MappingView {
  integration: string;
  org: string;
  entityId: string | null;
  entityName: string | null;
  /** This org's overrides only; secrets masked. */
  config: Record<string, DisplayValue>;
  createdAt: string;
  updatedAt: string;
}

const ENTITY_MAX = 256;

function checkEntity(value: unknown, field: string): string | null {
  if (value === null || value === "") return null;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== "string" || value.length > ENTITY_MAX || /[\u0000-\u001f]/.test(value)) {
    throw new ValidationError(`${field} must be a string of at most ${ENTITY_MAX} printable characters (or null to clear it).`, { path: field });
  }
  return value;
}

async function view(store: Store, integration: Integration, org: Organization, m: Mapping): Promise<MappingView> {
  const overrides = await store.listConfigValues(integration.id, org.id);
  return {
    integration: integration.name,
    org: org.slug,
    entityId: m.entityId,
    entityName: m.entityName,
    config: displayValues(overrides),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

export interface SetMappingInput {
  entityId?: unknown;
  entityName?: unknown;
  config?: unknown;
  /** The config values are command-line text (json keys are parsed). */
  textValues?: boolean;
}

export interface SetMappingResult {
  mapping: MappingView;
  created: boolean;
  changed: boolean;
  config: ConfigChange;
}

/** Create or update the org's mapping; `config` writes overrides (null deletes one). */
export async function setMapping(deps: Deps, integrationName: string, orgSlug: string, input: SetMappingInput): Promise<SetMappingResult> {
  const entityId = input.entityId === undefined ? undefined : checkEntity(input.entityId, "entity_id");
  const entityName = input.entityName === undefined ? undefined : checkEntity(input.entityName, "entity_name");
  return deps.store.transaction(async (store) => {
    const integration = await requireIntegration(store, integrationName);
    const org = await requireOrg(store, orgSlug);
    let mapping = await store.getMapping(integration.id, org.id);
    let created = false;
    let changed = false;
    const now = deps.clock.now();
    if (!mapping) {
      mapping = { id: deps.clock.id(), integrationId: integration.id, orgId: org.id, entityId: entityId ?? null, entityName: entityName ?? null, createdAt: now, updatedAt: now };
      await store.insertMapping(mapping);
      created = changed = true;
    } else {
      const patch: { entityId?: string | null; entityName?: string | null } = {};
      if (entityId !== undefined && entityId !== mapping.entityId) patch.entityId = entityId;
      if (entityName !== undefined && entityName !== mapping.entityName) patch.entityName = entityName;
      if (Object.keys(patch).length > 0) {
        await store.updateMapping(mapping.id, { ...patch, updatedAt: now });
        mapping = { ...mapping, ...patch, updatedAt: now };
        changed = true;
      }
    }
    const config = input.config === undefined ? emptyChange() : await writeConfigValues({ ...deps, store }, integration, org.id, input.config, "config", { text: input.textValues === true });
    changed ||= config.set.length > 0 || config.unset.length > 0;
    return { mapping: await view(store, integration, org, mapping), created, changed, config };
  });
}

export async function getMapping(deps: Deps, integrationName: string, orgSlug: string): Promise<MappingView | null> {
  const integration = await requireIntegration(deps.store, integrationName);
  const org = await requireOrg(deps.store, orgSlug);
  const m = await deps.store.getMapping(integration.id, org.id);
  return m ? view(deps.store, integration, org, m) : null;
}

/** Mappings of one integration, optionally only one org's (for org-scoped callers). */
export async function listMappings(deps: Deps, integrationName: string, onlyOrgId?: string): Promise<MappingView[]> {
  const integration = await requireIntegration(deps.store, integrationName);
  const mappings = await deps.store.listMappings({ integrationId: integration.id, ...(onlyOrgId ? { orgId: onlyOrgId } : {}) });
  const orgs = new Map((await deps.store.listOrgs()).map((o) => [o.id, o]));
  return Promise.all(mappings.map((m) => view(deps.store, integration, orgs.get(m.orgId) as Organization, m)));
}

/** Remove a mapping together with the org's overrides for that integration. */
export async function removeMapping(deps: Deps, integrationName: string, orgSlug: string): Promise<{ removed: boolean; deletedOverrides: number }> {
  return deps.store.transaction(async (store) => {
    const integration = await requireIntegration(store, integrationName);
    const org = await requireOrg(store, orgSlug);
    const m = await store.getMapping(integration.id, org.id);
    if (!m) return { removed: false, deletedOverrides: 0 };
    const overrides = await store.listConfigValues(integration.id, org.id);
    const deletedOverrides = await store.deleteConfigValues(integration.id, org.id, overrides.map((v) => v.key));
    await store.deleteMapping(m.id);
    return { removed: true, deletedOverrides };
  });
}

/**
 * `bifrost config set/unset`: write defaults (no org) or one org's overrides.
 * Writing overrides for an org without a mapping creates an empty mapping (reported as created).
 */
export async function setConfig(
  deps: Deps,
  integrationName: string,
  orgSlug: string | null,
  values: unknown,
  opts: { text?: boolean } = {},
): Promise<{ change: ConfigChange; mappingCreated: boolean }> {
  if (orgSlug === null) {
    return deps.store.transaction(async (store) => {
      const integration = await requireIntegration(store, integrationName);
      return { change: await writeConfigValues({ ...deps, store }, integration, null, values, "values", opts), mappingCreated: false };
    });
  }
  const onlyDeletes = typeof values === "object" && values !== null && Object.values(values).every((v) => v === null);
  if (onlyDeletes) {
    // Unsetting overrides of an org without a mapping has nothing to delete: do not create a mapping for it.
    const integration = await requireIntegration(deps.store, integrationName);
    const org = await requireOrg(deps.store, orgSlug);
    if (!(await deps.store.getMapping(integration.id, org.id))) {
      const keys = Object.keys(checkValueKeys(integration, values, "values"));
      return { change: { set: [], unset: [], unchanged: keys }, mappingCreated: false };
    }
  }
    const res = await setMapping(deps, integrationName, orgSlug, { config: values, textValues: opts.text === true });
  return { change: res.config, mappingCreated: res.created };
}

/** Stored values (not merged) for defaults or one org, secrets masked. */
export async function getStoredConfig(deps: Deps, integrationName: string, orgSlug: string | null): Promise<Record<string, DisplayValue>> {
  const integration = await requireIntegration(deps.store, integrationName);
  const orgId = orgSlug === null ? null : (await requireOrg(deps.store, orgSlug)).id;
  return displayValues(await deps.store.listConfigValues(integration.id, orgId));
}
