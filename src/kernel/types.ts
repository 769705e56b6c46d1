/**
 * Data types shared by the OAuth core, the services and the workflow SDK: what an OAuth connection
 * hands to a workflow, at which level a credential was set, and the organization an execution runs for.
 * The SDK re-exports `OAuthCredentials` from the package entry (`bifrost`).
 */

/** OAuth credentials handed to a workflow (filled by the OAuth capability). */
export interface OAuthCredentials {
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  scopes: string[];
  refreshToken?: string;
}

/** Who set a config value or an OAuth connection: the integration defaults, or the organization itself. */
export type CredentialLevel = "integration" | "org";

/**
 * The state of the OAuth connection `integrations.get()` looked at (the mapping's, else the org's,
 * else the integration's). `oauth` is non-null only when it is `connected` (or in `error` with a token
 * that has not expired yet). `reason` is a short code (`invalid_grant`, `interrupted_refresh`,
 * `no_refresh_token`, `transient`, …), never provider text; `since` is an ISO 8601 time.
 */
export interface OAuthConnectionStatus {
  state: "connected" | "needs_reauth" | "error" | "not_connected";
  reason: string | null;
  since: string | null;
}

export interface ExecutionOrg {
  id: string;
  slug: string;
  name: string;
}
