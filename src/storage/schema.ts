/**
 * Table types for Kysely. Both dialects store JSON as text and timestamps as ISO-8601 text,
 * so one query layer serves both.
 */

export interface OrganizationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface IntegrationsTable {
  id: string;
  name: string;
  description: string | null;
  /** JSON array of ConfigSchemaItem. */
  config_schema: string;
  /** JSON array of origins (`https://host[:port]`) integration-level credentials may also be sent to. */
  trusted_origins: string;
  /** 1 = outbound calls for this integration may reach private ranges (never link-local / metadata). */
  private_network: number;
  created_at: string;
  updated_at: string;
}

export interface MappingsTable {
  id: string;
  integration_id: string;
  org_id: string;
  entity_id: string | null;
  /** entityKey(entity_id): unique per integration (migration 0005). Written by the store, never by callers. */
  entity_key: string | null;
  entity_name: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * One row per stored config value. `org_id` null = integration default; set = that org's override.
 * `value` is JSON text, or a `v1.` ciphertext when `is_secret` is 1.
 */
export interface ConfigValuesTable {
  id: string;
  integration_id: string;
  org_id: string | null;
  key: string;
  value: string;
  is_secret: number;
  fingerprint: string | null;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  role: string;
  org_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface KeyringCanariesTable {
  kid: string;
  value: string;
  created_at: string;
}

export interface OAuthProvidersTable {
  id: string;
  integration_id: string;
  flow: string;
  /** JSON of the parsed provider settings without the client secret. */
  settings: string;
  /** `v1.` ciphertext; AAD tenant "_", table "oauth_providers", row = id, field "client_secret". */
  client_secret: string;
  client_secret_fingerprint: string;
  created_at: string;
  updated_at: string;
}

/** One credential: owner_key is "i" (integration), "o:<orgId>" or "m:<mappingId>". */
export interface OAuthTokensTable {
  id: string;
  integration_id: string;
  org_id: string | null;
  mapping_id: string | null;
  owner_key: string;
  state: string;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  expires_at: string | null;
  obtained_at: string | null;
  scopes: string;
  extra: string;
  last_refresh_at: string | null;
  last_error: string | null;
  failure_count: number;
  next_attempt_at: string | null;
  claimed_until: string | null;
  refresh_started_at: string | null;
  refresh_owner: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface OAuthStatesTable {
  state: string;
  integration_id: string;
  org_id: string | null;
  mapping_id: string | null;
  code_verifier: string;
  initiator_key_id: string | null;
  issuer: string | null;
  redirect_uri: string;
  created_at: string;
  expires_at: string;
  consumed: number;
  outcome: string | null;
}

export interface OAuthEventsTable {
  id: string;
  type: string;
  integration_id: string;
  org_id: string | null;
  payload: string;
  created_at: string;
}

interface OAuthWebhookDeliveriesTable {
  event_id: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  lease_owner: string | null;
  delivered_at: string | null;
  last_error: string | null;
}

/** One audit entry (migration 0006): who did what to which names; never a value. */
export interface AuditLogTable {
  id: string;
  at: string;
  action: string;
  /** "api_key" | "local_cli" | "system". */
  actor_kind: string;
  actor_key_id: string | null;
  actor_key_prefix: string | null;
  actor_key_name: string | null;
  /** How an API key acted: "api" | "console" | "mcp" (null for other actors). */
  actor_via: string | null;
  org_id: string | null;
  org_slug: string | null;
  integration_id: string | null;
  integration_name: string | null;
  /** JSON array of config key names (or API key / keyring ids for those actions). */
  keys: string;
  /** JSON object of non-secret facts (fields changed, flow, level, counts). */
  detail: string;
  request_id: string | null;
  execution_id: string | null;
}

export interface ConnectLinksTable {
  id: string;
  token_hash: string;
  integration_id: string;
  org_id: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
  expiry_recorded_at: string | null;
}

export interface Database {
  audit_log: AuditLogTable;
  connect_links: ConnectLinksTable;
  oauth_webhook_deliveries: OAuthWebhookDeliveriesTable;
  oauth_providers: OAuthProvidersTable;
  oauth_tokens: OAuthTokensTable;
  oauth_states: OAuthStatesTable;
  oauth_events: OAuthEventsTable;
  organizations: OrganizationsTable;
  integrations: IntegrationsTable;
  mappings: MappingsTable;
  config_values: ConfigValuesTable;
  api_keys: ApiKeysTable;
  keyring_canaries: KeyringCanariesTable;
}
