/** Service views → API responses: snake_case field names everywhere (config keys are kept verbatim). */
import type { Organization } from "../core/types.js";
import type { ApiKeyView } from "../services/api-keys.js";
import type { ConfigChange } from "../services/config-values.js";
import type { IntegrationView } from "../services/integrations.js";
import type { MappingView } from "../services/mappings.js";
import { type Caller, isPlatform } from "./auth.js";

export function orgOut(o: Organization) {
  return { slug: o.slug, name: o.name, created_at: o.createdAt, updated_at: o.updatedAt };
}

/** `mapping_count` counts every tenant's mappings, so only platform admins see it. */
export function integrationOut(v: IntegrationView, caller: Caller) {
  return {
    name: v.name,
    description: v.description,
    config_schema: v.configSchema,
    defaults: v.defaults,
    ...(isPlatform(caller) ? { mapping_count: v.mappingCount } : {}),
    created_at: v.createdAt,
    updated_at: v.updatedAt,
  };
}

export function mappingOut(m: MappingView) {
  return {
    integration: m.integration,
    org: m.org,
    entity_id: m.entityId,
    entity_name: m.entityName,
    config: m.config,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export function changeOut(c: ConfigChange) {
  return { set: c.set, unset: c.unset, unchanged: c.unchanged };
}

export function apiKeyOut(k: ApiKeyView) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    role: k.role,
    org: k.org,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    revoked_at: k.revokedAt,
  };
}
