/**
 * The stored form of an OAuth provider (ProviderSettings), its API view and the questions asked of it
 * on the hot path. Kept apart from provider-config.ts (the zod parser of provider input) so that
 * reading config and resolving tokens never load the schema library.
 */
import { placeholdersOf } from "./templating.js";

/** Parsed provider settings (everything but the client secret). Stored as JSON in oauth_providers.settings. */
export interface ProviderSettings {
  flow: "authorization_code" | "client_credentials";
  clientId: string;
  authorizationUrl: string | null;
  tokenUrl: string | null;
  /** RFC 8414 discovery base; also the expected `iss` of authorization responses. */
  issuer: string | null;
  revocationUrl: string | null;
  scopes: string[];
  audience: string | null;
  authorizeParams: Record<string, string>;
  tokenParams: Record<string, string>;
  tokenAuthMethod: "client_secret_basic" | "client_secret_post";
  urlDefaults: Record<string, string>;
  entityIdSource: { type: "url_param" | "token_field" | "id_token_claim"; key: string } | null;
  quirks: {
    /** Token endpoint answers `application/x-www-form-urlencoded` (e.g. GitHub without Accept). */
    formEncodedTokenResponse: boolean;
    /** Use this token_type when the response has none (e.g. "bearer"); null = a missing token_type is an error. */
    defaultTokenType: string | null;
    /** Accept `expires_in` as a numeric string ("3599"); otherwise a string is a protocol error. */
    expiresInAsString: boolean;
  };
}

/** What the API/CLI/export show: the secret as `{ set, fingerprint }`, never its value. */
export interface ProviderView {
  flow: ProviderSettings["flow"];
  client_id: string;
  client_secret: { set: true; fingerprint: string };
  authorization_url?: string;
  token_url?: string;
  issuer?: string;
  revocation_url?: string;
  scopes: string[];
  audience?: string;
  authorize_params?: Record<string, string>;
  token_params?: Record<string, string>;
  token_auth_method: ProviderSettings["tokenAuthMethod"];
  url_defaults?: Record<string, string>;
  entity_id_source?: { type: "url_param" | "token_field" | "id_token_claim"; key: string };
  quirks?: { form_encoded_token_response?: boolean; default_token_type?: string; expires_in_as_string?: boolean };
}

export function providerView(s: ProviderSettings, fingerprint: string): ProviderView {
  const q = s.quirks;
  const quirks = {
    ...(q.formEncodedTokenResponse ? { form_encoded_token_response: true } : {}),
    ...(q.defaultTokenType ? { default_token_type: q.defaultTokenType } : {}),
    ...(q.expiresInAsString ? { expires_in_as_string: true } : {}),
  };
  return {
    flow: s.flow,
    client_id: s.clientId,
    client_secret: { set: true, fingerprint },
    ...(s.authorizationUrl ? { authorization_url: s.authorizationUrl } : {}),
    ...(s.tokenUrl ? { token_url: s.tokenUrl } : {}),
    ...(s.issuer ? { issuer: s.issuer } : {}),
    ...(s.revocationUrl ? { revocation_url: s.revocationUrl } : {}),
    scopes: s.scopes,
    ...(s.audience ? { audience: s.audience } : {}),
    ...(Object.keys(s.authorizeParams).length ? { authorize_params: s.authorizeParams } : {}),
    ...(Object.keys(s.tokenParams).length ? { token_params: s.tokenParams } : {}),
    token_auth_method: s.tokenAuthMethod,
    ...(Object.keys(s.urlDefaults).length ? { url_defaults: s.urlDefaults } : {}),
    ...(s.entityIdSource ? { entity_id_source: s.entityIdSource } : {}),
    ...(Object.keys(quirks).length ? { quirks } : {}),
  };
}

/** Whether any URL of the provider depends on the mapping (so tokens are per entity). */
export function usesEntityPlaceholder(s: ProviderSettings): boolean {
  return [s.tokenUrl, s.authorizationUrl, s.issuer, s.revocationUrl].some((u) => u !== null && placeholdersOf(u).includes("entity_id"));
}
