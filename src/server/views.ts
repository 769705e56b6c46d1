/** Service views → API responses: snake_case field names everywhere (config keys are kept verbatim). */
import type { Organization } from "../core/types.js";
import type { ConnectLinkView, OAuthConnectionView, OAuthEventView } from "../oauth/service.js";
import type { ConfigSchemaItem, ConfigValue, SecretView } from "../core/types.js";
import { toWireSchema } from "../core/config-schema.js";
import { trustOf } from "../runtime/resolved.js";
import type { OAuthCredentials } from "../kernel/types.js";
import type { ResolvedIntegration } from "../runtime/types.js";
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
    config_schema: toWireSchema(v.configSchema),
    defaults: v.defaults,
    ...(isPlatform(caller) ? { mapping_count: v.mappingCount } : {}),
    trusted_origins: v.trustedOrigins,
    private_network: v.privateNetwork,
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

/** Connection health for the API: never a token. */
export function oauthConnectionOut(c: OAuthConnectionView) {
  return {
    integration: c.integration,
    org: c.org,
    level: c.level,
    entity_id: c.entityId,
    state: c.state,
    expires_at: c.expiresAt,
    last_refresh_at: c.lastRefreshAt,
    last_error: c.lastError,
    has_refresh_token: c.hasRefreshToken,
    scopes: c.scopes,
    refresh_interrupted: c.refreshInterrupted,
    next_attempt_at: c.nextAttemptAt,
  };
}

export function oauthEventOut(e: OAuthEventView) {
  return { id: e.id, type: e.type, integration: e.integration, org: e.org, payload: snakeKeys(e.payload), created_at: e.createdAt };
}

/**
 * The credentials for remote workflow execution (`GET …/resolved` only): the access token, never
 * the refresh token (renewal stays with the server so there is one refresh per credential).
 */
export function resolvedOAuthOut(o: OAuthCredentials | null) {
  if (!o) return null;
  return { access_token: o.accessToken, token_type: o.tokenType, expires_at: o.expiresAt ? o.expiresAt.toISOString() : null, scopes: o.scopes };
}

/** The body of `GET …/resolved` (plaintext config, for workflow execution only). */
export function resolvedOut(r: ResolvedIntegration, org: string | null, config: Record<string, ConfigValue>) {
  const levels: Record<string, string> = {};
  for (const key of r.config.keys()) levels[key] = r.config.levelOf(key) ?? "integration";
  const t = trustOf(r);
  return {
    integration: r.name,
    org,
    entity_id: r.entityId,
    entity_name: r.entityName,
    mapped: r.mapped,
    config,
    oauth: resolvedOAuthOut(r.oauth),
    connection: r.connection,
    // Where credentials may go (the client runtime's trust rule): no secret in here.
    levels,
    trust: { defaults: Object.fromEntries(t.defaults), trusted_origins: t.trustedOrigins, private_network: t.privateNetwork, oauth_level: t.oauthLevel },
  };
}

/**
 * What remote mode needs to rebuild the same IntegrationConfig (`?include=schema`): the schema's keys
 * (typo guard) and which values are secrets, with their fingerprints (masking in toJSON()).
 */
export function resolvedSchemaOut(r: ResolvedIntegration, schema: readonly ConfigSchemaItem[]) {
  const masked = r.config.toJSON();
  const secretFingerprints: Record<string, string> = {};
  // toJSON() hands back the stored value itself for plain keys and a new { set, fingerprint } object for secrets.
  for (const key of r.config.keys()) {
    if (masked[key] !== r.config.get(key)) secretFingerprints[key] = (masked[key] as SecretView).fingerprint;
  }
  return { schema_keys: schema.map((i) => i.key), secret_fingerprints: secretFingerprints };
}

function snakeKeys(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = val;
  return out;
}

/** A connect link (never its token; `url` only in the create response, the one time it exists). */
export function connectLinkOut(l: ConnectLinkView) {
  return {
    id: l.id,
    integration: l.integration,
    org: l.org,
    status: l.status,
    created_by: l.createdBy,
    created_at: l.createdAt,
    expires_at: l.expiresAt,
    used_at: l.usedAt,
    revoked_at: l.revokedAt,
  };
}
