import { BifrostError, type ErrorDetails } from "../core/errors.js";

/**
 * OAuth errors with stable codes. Messages and details never contain tokens, codes, verifiers or
 * client secrets; text that comes from a provider (error_description) is escaped and truncated.
 */

/** The provider block is invalid (unsupported flow, missing URL, bad placeholder). Nothing was changed. */
export class OAuthConfigError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_CONFIG_INVALID", 422, message, details);
  }
}

/** The integration has no OAuth provider. */
export class OAuthNoProviderError extends BifrostError {
  constructor(integration: string) {
    super("BIFROST_OAUTH_NO_PROVIDER", 404, `Integration "${integration}" has no OAuth provider. Attach one (oauth block in bifrost.yaml, or the API).`, { integration });
  }
}

/** A URL (configured or templated) was refused: scheme, host, redirect, size, or an unsafe placeholder value. */
export class OAuthUrlRefusedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_URL_REFUSED", 422, message, details);
  }
}

/** The callback's state is unknown, expired, already used, or bound to another integration or initiator. No token request was made. */
export class OAuthStateError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_STATE_INVALID", 400, message, details);
  }
}

/** The authorization response came from another issuer than the one the flow was sent to (RFC 9207). */
export class OAuthIssuerMismatchError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_ISSUER_MISMATCH", 400, message, details);
  }
}

/** The user or provider cancelled the authorization (`error=` on the callback). */
export class OAuthAuthorizationDeniedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_AUTHORIZATION_DENIED", 400, message, details);
  }
}

/** The grant is dead (invalid_grant): the connection needs a new consent. No retry. */
export class OAuthNeedsReauthError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_NEEDS_REAUTH", 409, message, details);
  }
}

/** The provider rejected the client (invalid_client, unauthorized_client, 401): a configuration problem. */
export class OAuthClientRejectedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_CLIENT_REJECTED", 502, message, details);
  }
}

/** Transient: 5xx, timeout, network error, HTML or non-JSON response. The refresh token was kept; retried with backoff. */
export class OAuthTransientError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_TRANSIENT", 503, message, details);
  }
}

/** The provider answered with something that is not a valid token response (200 with error, no access_token, unknown token_type). */
export class OAuthProtocolError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_PROTOCOL", 502, message, details);
  }
}

/** No connection exists for this integration/org (authorization_code flows need a consent first). */
export class OAuthNotConnectedError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_OAUTH_NOT_CONNECTED", 404, message, details);
  }
}

/** Escape HTML-significant characters, strip control characters and truncate provider-supplied text. */
export function sanitizeProviderText(value: unknown, max = 200): string {
  if (typeof value !== "string") return "";
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, " ");
  const cut = clean.length > max ? `${clean.slice(0, max)}…` : clean;
  return cut.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** No connect link with this token (public page) or id (revoke), or it is another organization's. */
export class ConnectLinkNotFoundError extends BifrostError {
  constructor(message = "This connect link does not exist. Ask whoever sent it for a new one.") {
    super("BIFROST_CONNECT_LINK_NOT_FOUND", 404, message);
  }
}

/** The connect link was used, has expired or was revoked (a link works once). */
export class ConnectLinkGoneError extends BifrostError {
  constructor(
    readonly reason: "used" | "expired" | "revoked",
    message: string,
  ) {
    super("BIFROST_CONNECT_LINK_GONE", 410, message, { reason });
  }
}

/** `--expires` / `expires_in` is not a duration (30m, 12h, 7d) or is out of range. */
export class ConnectLinkExpiresError extends BifrostError {
  constructor(message: string) {
    super("BIFROST_CONNECT_LINK_EXPIRES_INVALID", 422, message);
  }
}
