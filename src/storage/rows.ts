/** Row mappers: database rows (snake_case, JSON text, 0/1 flags) ⇄ the domain objects the Store returns. */
import type { Selectable } from "kysely";
import type { ApiKeyRole, ConfigSchemaItem, Integration, Mapping, Organization } from "../core/types.js";
import type { ApiKeysTable, AuditLogTable, ConfigValuesTable, IntegrationsTable, MappingsTable, OAuthEventsTable, OAuthProvidersTable, OAuthStatesTable, OAuthTokensTable, OrganizationsTable, ConnectLinksTable } from "./schema.js";
import type { OAuthTokenPatch, OAuthTokenState, StoredApiKey, StoredAuditEntry, StoredConfigValue, StoredOAuthEvent, StoredOAuthProvider, StoredOAuthState, StoredOAuthToken, StoredConnectLink } from "./store.js";

export const toOrg = (r: Selectable<OrganizationsTable>): Organization => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toIntegration = (r: Selectable<IntegrationsTable>): Integration => ({
  id: r.id,
  name: r.name,
  description: r.description,
  configSchema: JSON.parse(r.config_schema) as ConfigSchemaItem[],
  trustedOrigins: JSON.parse(r.trusted_origins) as string[],
  privateNetwork: Number(r.private_network) === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toMapping = (r: Selectable<MappingsTable>): Mapping => ({
  id: r.id,
  integrationId: r.integration_id,
  orgId: r.org_id,
  entityId: r.entity_id,
  entityName: r.entity_name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toValue = (r: Selectable<ConfigValuesTable>): StoredConfigValue => ({
  id: r.id,
  integrationId: r.integration_id,
  orgId: r.org_id,
  key: r.key,
  value: r.value,
  isSecret: Number(r.is_secret) === 1,
  fingerprint: r.fingerprint,
  updatedAt: r.updated_at,
});

export const toApiKey = (r: Selectable<ApiKeysTable>): StoredApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  secretHash: r.secret_hash,
  role: r.role as ApiKeyRole,
  orgId: r.org_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export const toProvider = (r: Selectable<OAuthProvidersTable>): StoredOAuthProvider => ({
  id: r.id,
  integrationId: r.integration_id,
  flow: r.flow,
  settings: r.settings,
  clientSecret: r.client_secret,
  clientSecretFingerprint: r.client_secret_fingerprint,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toOAuthToken = (r: Selectable<OAuthTokensTable>): StoredOAuthToken => ({
  id: r.id,
  integrationId: r.integration_id,
  orgId: r.org_id,
  mappingId: r.mapping_id,
  ownerKey: r.owner_key,
  state: r.state as OAuthTokenState,
  accessToken: r.access_token,
  refreshToken: r.refresh_token,
  tokenType: r.token_type,
  expiresAt: r.expires_at,
  obtainedAt: r.obtained_at,
  scopes: JSON.parse(r.scopes) as string[],
  extra: JSON.parse(r.extra) as Record<string, unknown>,
  lastRefreshAt: r.last_refresh_at,
  lastError: r.last_error,
  failureCount: Number(r.failure_count),
  nextAttemptAt: r.next_attempt_at,
  claimedUntil: r.claimed_until,
  refreshStartedAt: r.refresh_started_at,
  refreshOwner: r.refresh_owner,
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The columns an OAuth token patch sets (only the fields it names). */
export function tokenColumns(patch: OAuthTokenPatch): Partial<OAuthTokensTable> {
  const out: Partial<OAuthTokensTable> = { updated_at: patch.updatedAt };
  const map: Array<[keyof OAuthTokenPatch, keyof OAuthTokensTable]> = [
    ["state", "state"],
    ["accessToken", "access_token"],
    ["refreshToken", "refresh_token"],
    ["tokenType", "token_type"],
    ["expiresAt", "expires_at"],
    ["obtainedAt", "obtained_at"],
    ["lastRefreshAt", "last_refresh_at"],
    ["lastError", "last_error"],
    ["failureCount", "failure_count"],
    ["nextAttemptAt", "next_attempt_at"],
    ["claimedUntil", "claimed_until"],
    ["refreshStartedAt", "refresh_started_at"],
    ["refreshOwner", "refresh_owner"],
  ];
  const o = out as Record<string, unknown>;
  for (const [from, to] of map) if (patch[from] !== undefined) o[to] = patch[from];
  if (patch.scopes !== undefined) out.scopes = JSON.stringify(patch.scopes);
  if (patch.extra !== undefined) out.extra = JSON.stringify(patch.extra);
  return out;
}

export const toState = (r: Selectable<OAuthStatesTable>): StoredOAuthState => ({
  state: r.state,
  integrationId: r.integration_id,
  orgId: r.org_id,
  mappingId: r.mapping_id,
  codeVerifier: r.code_verifier,
  initiatorKeyId: r.initiator_key_id,
  issuer: r.issuer,
  redirectUri: r.redirect_uri,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  consumed: Number(r.consumed) === 1,
  outcome: r.outcome,
});

export const toEvent = (r: Selectable<OAuthEventsTable>): StoredOAuthEvent => ({
  id: r.id,
  type: r.type,
  integrationId: r.integration_id,
  orgId: r.org_id,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  createdAt: r.created_at,
});

export function toAuditEntry(r: Selectable<AuditLogTable>): StoredAuditEntry {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    actor: { kind: r.actor_kind as StoredAuditEntry["actor"]["kind"], keyId: r.actor_key_id, keyPrefix: r.actor_key_prefix, keyName: r.actor_key_name, via: r.actor_via },
    orgId: r.org_id,
    orgSlug: r.org_slug,
    integrationId: r.integration_id,
    integrationName: r.integration_name,
    keys: JSON.parse(r.keys) as string[],
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    requestId: r.request_id,
    executionId: r.execution_id,
  };
}

export const toConnectLink = (r: Selectable<ConnectLinksTable>): StoredConnectLink => ({
  id: r.id,
  tokenHash: r.token_hash,
  integrationId: r.integration_id,
  orgId: r.org_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  revokedAt: r.revoked_at,
  expiryRecordedAt: r.expiry_recorded_at,
});
