/**
 * Response types written by hand for the API calls whose routes do not declare a response schema
 * yet (src/server/route.ts `response`); used with `okAs<T>()`. Responses the OpenAPI document
 * describes are typed from it (doc-types.ts, `ok()`). No import of the generated file here, so the
 * pure helpers in ../lib type-check before the first build.
 */
export type ConfigType = "string" | "int" | "bool" | "json" | "secret";
export interface SchemaItem {
  key: string;
  type: ConfigType;
  required?: boolean;
  description?: string | null;
  options?: Array<string | number>;
}
export interface MaskedSecret {
  set: true;
  fingerprint: string;
}
export interface Integration {
  name: string;
  description: string | null;
  config_schema: SchemaItem[];
  defaults: Record<string, unknown>;
  mapping_count?: number;
}
export interface Mapping {
  integration: string;
  org: string;
  entity_id: string | null;
  entity_name: string | null;
  config: Record<string, unknown>;
}
export interface Org {
  slug: string;
  name: string;
  created_at: string;
}
type ConnState = "not_connected" | "connected" | "refreshing" | "needs_reauth" | "error";
export interface Connection {
  integration: string;
  org: string | null;
  level: string;
  entity_id: string | null;
  state: ConnState;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
  has_refresh_token: boolean;
}
export interface OAuthProvider {
  flow: "authorization_code" | "client_credentials";
  client_id: string;
  client_secret?: MaskedSecret | string;
  authorization_url?: string;
  token_url?: string;
  issuer?: string;
  revocation_url?: string;
  scopes?: string[];
  token_auth_method?: string;
  [k: string]: unknown;
}
/** GET /api/console/integrations rows. */
export interface IntegrationOverview {
  name: string;
  description: string | null;
  config_keys: string[];
  oauth_flow: string | null;
  mapped_orgs: number;
  connected_orgs: number;
  needs_reauth_orgs: number;
  error_orgs: number;
}
/** GET /api/console/organizations/:slug. */
export interface OrgOverview {
  org: { slug: string; name: string };
  integrations: Array<{
    integration: string;
    mapped: boolean;
    entity_id: string | null;
    entity_name: string | null;
    override_count: number;
    oauth_flow: string | null;
    connection: { state: ConnState; expires_at: string | null; last_error: string | null; level: string } | null;
  }>;
}
/** GET /api/events rows. */
export interface EventRow {
  id: string;
  type: string;
  integration: string | null;
  org: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}
/** GET /api/keys rows. */
export interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  role: string;
  org: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
/** POST /api/integrations/:name/test-connection. */
export interface TestResult {
  org: string | null;
  url: string;
  auth: "oauth_bearer" | "none";
  status: number;
  latency_ms: number;
  content_type: string | null;
  bytes: number;
  truncated: boolean;
  body: string;
}

export function isMasked(v: unknown): v is MaskedSecret {
  return typeof v === "object" && v !== null && (v as { set?: unknown }).set === true && typeof (v as { fingerprint?: unknown }).fingerprint === "string";
}
/** A provider catalog entry (GET /api/catalog; docs/providers.md), the fields the console uses. */
export interface CatalogProvider {
  id: string;
  name: string;
  category: string;
  auth: string[];
  api_base_url: string;
  docs_url: string;
  oauth?: Record<string, unknown> & { flow: string; url_defaults?: Record<string, string> };
  config_schema: SchemaItem[];
  defaults?: Record<string, string>;
  notes?: string;
}
