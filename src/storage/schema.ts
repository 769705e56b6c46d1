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
  created_at: string;
  updated_at: string;
}

export interface MappingsTable {
  id: string;
  integration_id: string;
  org_id: string;
  entity_id: string | null;
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

export interface KeyringCanariesTable {
  kid: string;
  value: string;
  created_at: string;
}

export interface Database {
  organizations: OrganizationsTable;
  integrations: IntegrationsTable;
  mappings: MappingsTable;
  config_values: ConfigValuesTable;
  api_keys: ApiKeysTable;
  keyring_canaries: KeyringCanariesTable;
}
