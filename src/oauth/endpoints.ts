import type { AuthorizationServer } from "oauth4webapi";
import { checkUrlAllowed, type FetchGuardOptions } from "./guarded-fetch.js";

/** Endpoint members of RFC 8414 / OpenID metadata that we send a user or a request to (others are never used). */
const ENDPOINTS = ["authorization_endpoint", "token_endpoint", "revocation_endpoint"] as const;

/**
 * Every endpoint of the authorization server (configured or discovered) passes the outbound policy
 * before it is used: https (http only to loopback with the switch), no credentials, no refused address
 * literal. A `javascript:` or plain-http authorization_endpoint is refused with BIFROST_OAUTH_URL_REFUSED.
 */
export function checkServerEndpoints(integration: string, as: AuthorizationServer, opts: Pick<FetchGuardOptions, "allowHttpLoopback" | "privateNetwork">): void {
  for (const field of ENDPOINTS) {
    const value = as[field];
    if (value === undefined) continue;
    checkUrlAllowed(String(value), opts, `The ${field} of "${integration}"`, { integration, field });
  }
}
