import { lockedKeys } from "../core/config-schema.js";
import { checkEntityId, ENTITY_MAX, entityKey } from "../core/entity.js";
import { ForbiddenError, ValidationError } from "../core/errors.js";
import type { DisplayValue, Integration, Mapping, Organization } from "../core/types.js";
import { type ProviderSettings, usesEntityPlaceholder } from "../oauth/provider-settings.js";
import type { Store } from "../storage/store.js";
import { type Actor, ORG_ACTOR } from "./actor.js";
import { type ConfigChange, checkLockedKeys, checkValueKeys, displayValues, emptyChange, writeConfigValues } from "./config-values.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import { cutPage, type Page, type PageInput, pageRequest } from "../core/page.js";

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

/** Whether the integration's OAuth URLs use `{entity_id}`: then the entity id picks the tenant tokens are minted for. */
async function entityPicksTenant(store: Store, integrationId: string): Promise<boolean> {
  const provider = await store.getOAuthProvider(integrationId);
  return provider !== null && usesEntityPlaceholder(JSON.parse(provider.settings) as ProviderSettings);
}

function entityForbidden(integration: string, org: string): ForbiddenError {
  return new ForbiddenError(
    `Only a platform admin may set or change the entity id of organization "${org}" for integration "${integration}": its OAuth URLs use {entity_id}, so the entity id decides which tenant tokens are minted for. Ask a platform admin to set it.`,
    { reason: "entity_id_platform_only", path: "entity_id", integration, org },
  );
}

/** A token minted for the old tenant must not serve the new one: drop the mapping's tokens when its entity key changes. */
async function dropMappingTokens(store: Store, integrationId: string, mapping: Mapping): Promise<void> {
  for (const t of await store.listOAuthTokens({ integrationId, orgId: mapping.orgId })) {
    if (t.mappingId === mapping.id) await store.deleteOAuthToken(t.id);
  }
}

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

const fieldName = (f: string): string => (f === "entityId" ? "entity_id" : f === "entityName" ? "entity_name" : f);

function auditTarget(integration: Integration, org: Organization) {
  return { integration: { id: integration.id, name: integration.name }, org: { id: org.id, slug: org.slug } };
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

/**
 * Create or update the org's mapping; `config` writes overrides (null deletes one).
 * `actor`: who asks (DESIGN.md §9.3). Only a platform actor may set or change the entity id when the
 * integration's OAuth URLs use `{entity_id}`, or write overrides of `org_override: false` keys; others
 * get BIFROST_FORBIDDEN before anything is checked against other tenants (so no 409 tells them a tenant is taken).
 */
export async function setMapping(deps: Deps, integrationName: string, orgSlug: string, input: SetMappingInput, actor: Actor = ORG_ACTOR): Promise<SetMappingResult> {
  const entityId = input.entityId === undefined ? undefined : checkEntityId(input.entityId, "entity_id");
  const entityName = input.entityName === undefined ? undefined : checkEntity(input.entityName, "entity_name");
  return deps.store.retryingTransaction(async (store) => {
    const integration = await requireIntegration(store, integrationName);
    const org = await requireOrg(store, orgSlug);
    let mapping = await store.getMapping(integration.id, org.id);
    let created = false;
    let changed = false;
    const now = deps.clock.now();
    /** Whether writing `entityId` over `m` changes the tenant tokens are minted for; refuses non-platform actors then. */
    const checkTenantChange = async (m: Mapping | null): Promise<boolean> => {
      const entityChanges = entityId !== undefined && entityId !== (m?.entityId ?? null);
      const picks = entityChanges ? await entityPicksTenant(store, integration.id) : false;
      if (picks && !actor.platform) throw entityForbidden(integration.name, org.slug);
      return picks;
    };
    let picksTenant = await checkTenantChange(mapping);
    if (!mapping) {
      const mine: Mapping = { id: deps.clock.id(), integrationId: integration.id, orgId: org.id, entityId: entityId ?? null, entityName: entityName ?? null, createdAt: now, updatedAt: now };
      mapping = await store.insertMappingIfAbsent(mine);
      if (mapping.id === mine.id) {
        created = changed = true;
        const fields = [...(entityId != null ? ["entity_id"] : []), ...(entityName != null ? ["entity_name"] : [])];
        await recordAudit({ store, clock: deps.clock }, "mapping.write", { ...auditTarget(integration, org), detail: { change: "created", fields } });
      }
      // Another writer created the mapping a moment ago: update theirs like any existing mapping.
      else picksTenant = await checkTenantChange(mapping);
    }
    if (!created) {
      const patch: { entityId?: string | null; entityName?: string | null } = {};
      if (entityId !== undefined && entityId !== mapping.entityId) patch.entityId = entityId;
      if (entityName !== undefined && entityName !== mapping.entityName) patch.entityName = entityName;
      if (Object.keys(patch).length > 0) {
        const before = mapping.entityId === null ? null : entityKey(mapping.entityId);
        const after = patch.entityId === undefined ? before : patch.entityId === null ? null : entityKey(patch.entityId);
        if (picksTenant && before !== after) await dropMappingTokens(store, integration.id, mapping);
        await store.updateMapping(mapping.id, { ...patch, updatedAt: now });
        mapping = { ...mapping, ...patch, updatedAt: now };
        changed = true;
        await recordAudit({ store, clock: deps.clock }, "mapping.write", { ...auditTarget(integration, org), detail: { change: "updated", fields: Object.keys(patch).map(fieldName) } });
      }
    }
    const config = input.config === undefined ? emptyChange() : await writeConfigValues({ ...deps, store }, integration, org.id, input.config, "config", { text: input.textValues === true }, actor);
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

/** One page of an integration's mappings by org slug (q: org slug/name, entity id/name); `onlyOrgId` for org-scoped callers. */
export async function listMappingsPage(deps: Deps, integrationName: string, input: PageInput, onlyOrgId?: string): Promise<Page<MappingView>> {
  const integration = await requireIntegration(deps.store, integrationName);
  const { limit, read } = pageRequest(input, "mappings", ["s"]);
  const rows = await deps.store.pageMappings({ ...read, integrationId: integration.id, ...(onlyOrgId ? { orgId: onlyOrgId } : {}) });
  const page = cutPage(rows, limit, "mappings", (r) => [r.org.slug]);
  return { rows: await Promise.all(page.rows.map((r) => view(deps.store, integration, r.org, r.mapping))), nextCursor: page.nextCursor };
}

/**
 * Remove a mapping together with the org's overrides for that integration. Removing clears the entity id
 * and every override, so a non-platform actor may not remove a mapping whose entity id picks the tenant
 * or that holds overrides of `org_override: false` keys (a platform admin set those).
 */
export async function removeMapping(deps: Deps, integrationName: string, orgSlug: string, actor: Actor = ORG_ACTOR): Promise<{ removed: boolean; deletedOverrides: number }> {
  return deps.store.retryingTransaction(async (store) => {
    const integration = await requireIntegration(store, integrationName);
    const org = await requireOrg(store, orgSlug);
    const m = await store.getMapping(integration.id, org.id);
    if (!m) return { removed: false, deletedOverrides: 0 };
    const overrides = await store.listConfigValues(integration.id, org.id);
    if (!actor.platform) {
      if (m.entityId !== null && (await entityPicksTenant(store, integration.id))) throw entityForbidden(integration.name, org.slug);
      const locked = lockedKeys(integration.configSchema);
      const held = overrides.filter((v) => locked.has(v.key)).map((v) => v.key);
      if (held.length > 0) {
        throw new ForbiddenError(
          `Only a platform admin may remove the mapping of organization "${org.slug}" for integration "${integration.name}": it holds override(s) of ${held.map((k) => `"${k}"`).join(", ")}, which the schema locks to platform admins (org_override: false). Nothing was removed; ask a platform admin to remove it (\`bifrost mappings remove ${integration.name} --org ${org.slug}\`).`,
          { reason: "org_override_false", integration: integration.name, org: org.slug, keys: held },
        );
      }
    }
    const deletedOverrides = await store.deleteConfigValues(integration.id, org.id, overrides.map((v) => v.key));
    await store.deleteMapping(m.id);
    await recordAudit({ store, clock: deps.clock }, "mapping.write", { ...auditTarget(integration, org), keys: overrides.map((v) => v.key), detail: { change: "removed", deleted_overrides: deletedOverrides } });
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
  actor: Actor = ORG_ACTOR,
): Promise<{ change: ConfigChange; mappingCreated: boolean }> {
  if (orgSlug === null) {
    return deps.store.retryingTransaction(async (store) => {
      const integration = await requireIntegration(store, integrationName);
      return { change: await writeConfigValues({ ...deps, store }, integration, null, values, "values", opts, actor), mappingCreated: false };
    });
  }
  const onlyDeletes = typeof values === "object" && values !== null && Object.values(values).every((v) => v === null);
  if (onlyDeletes) {
    // Unsetting overrides of an org without a mapping has nothing to delete: do not create a mapping for it.
    const integration = await requireIntegration(deps.store, integrationName);
    const org = await requireOrg(deps.store, orgSlug);
    if (!(await deps.store.getMapping(integration.id, org.id))) {
      const keys = Object.keys(checkValueKeys(integration, values, "values"));
      checkLockedKeys(integration, org.id, keys, actor);
      return { change: { set: [], unset: [], unchanged: keys }, mappingCreated: false };
    }
  }
  const res = await setMapping(deps, integrationName, orgSlug, { config: values, textValues: opts.text === true }, actor);
  return { change: res.config, mappingCreated: res.created };
}

/** Stored values (not merged) for defaults or one org, secrets masked. */
export async function getStoredConfig(deps: Deps, integrationName: string, orgSlug: string | null): Promise<Record<string, DisplayValue>> {
  const integration = await requireIntegration(deps.store, integrationName);
  const orgId = orgSlug === null ? null : (await requireOrg(deps.store, orgSlug)).id;
  return displayValues(await deps.store.listConfigValues(integration.id, orgId));
}
