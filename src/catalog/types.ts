/**
 * The provider catalog's entry shape (docs/providers.md is generated from the entries). An entry is
 * data only: the OAuth block is in the `oauth:` yaml form (snake_case) without client credentials,
 * the config schema in the wire form `parseConfigSchema` reads.
 */
import type { ConfigSchemaItemWire } from "../core/config-schema.js";

export const AUTH_KINDS = [
  "oauth2_authorization_code",
  "oauth2_client_credentials",
  "api_key_header",
  "api_key_query",
  "basic",
  "bearer",
  "secret_url",
] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

/** The `oauth:` block a catalog entry contributes (client_id / client_secret always come from the yaml). */
export interface CatalogOAuth {
  flow: "authorization_code" | "client_credentials";
  authorization_url?: string;
  token_url: string;
  revocation_url?: string;
  scopes?: string[];
  audience?: string;
  authorize_params?: Record<string, string>;
  token_params?: Record<string, string>;
  token_auth_method?: "client_secret_basic" | "client_secret_post";
  /** Placeholder values; "" = the user must give one (`oauth.url_defaults.NAME` in the yaml). */
  url_defaults?: Record<string, string>;
  entity_id_source?: { type: "url_param" | "token_field" | "id_token_claim"; key: string };
  quirks?: { form_encoded_token_response?: boolean; default_token_type?: string; expires_in_as_string?: boolean };
}

/** A cheap "who am I" request; `path` is relative to `api_base_url`. */
export interface TestRequest {
  method: "GET" | "POST";
  path: string;
  /** A JSON body for POST (GraphQL APIs). */
  body?: Record<string, unknown>;
}

export interface CatalogEntry {
  /** Lower-case id used as `provider: ID`. */
  id: string;
  name: string;
  category: string;
  auth: AuthKind[];
  /** Base URL of the API; each `{placeholder}` is `entity_id` or a config_schema key. */
  api_base_url: string;
  oauth?: CatalogOAuth;
  config_schema: ConfigSchemaItemWire[];
  /** Integration-level defaults for config keys (constants such as an API version). */
  defaults?: Record<string, string>;
  test_request: TestRequest;
  docs_url: string;
  /** What the entry cannot express, and facts to check against the provider's docs. */
  notes?: string;
}
