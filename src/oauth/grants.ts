import * as o from "oauth4webapi";
import { BifrostError } from "../core/errors.js";
import { OAuthClientRejectedError, OAuthProtocolError, OAuthTransientError, sanitizeProviderText } from "./errors.js";
import { type BufferedResponse, guardedRequest, toResponse } from "./guarded-fetch.js";
import type { OAuthOptions } from "./options.js";
import type { ProviderSettings } from "./provider-settings.js";
import { attachSent, SentValues, sentValuesOf } from "./sent-values.js";
import { expandUrl } from "./templating.js";

/** A provider ready to talk to: settings, the decrypted client secret and the entity the URLs are filled from. */
export interface ProviderContext {
  integration: string;
  settings: ProviderSettings;
  clientSecret: string;
  entityId: string | null;
}

/** A validated token response, with the id_token's claims (never the id_token itself). */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  refreshToken: string | null;
  expiresIn: number | null;
  scopes: string[] | null;
  /** Unknown response members (instance_url, team, …); never access/refresh/id tokens. */
  extra: Record<string, unknown>;
  idTokenClaims: Record<string, unknown> | null;
}

/** How a token request failed, in words that are safe to store and show. */
export interface OAuthFailure {
  kind: "invalid_grant" | "client" | "transient" | "protocol";
  reason: string;
  /** Our own error (URL refused, quirk violation …), rethrown as is. */
  own?: BifrostError;
}

const discoveryCache = new Map<string, { at: number; as: o.AuthorizationServer }>();
const DISCOVERY_TTL_MS = 10 * 60_000;

function fill(ctx: ProviderContext, template: string | null, field: string): string | null {
  return template === null ? null : expandUrl(template, { entityId: ctx.entityId, defaults: ctx.settings.urlDefaults }, field);
}

/** The shape oauth4webapi calls as its customFetch: GET (discovery) or POST with a form body (token, revocation). */
type OAuthFetch = (url: string, options: o.CustomFetchOptions<"GET" | "POST", URLSearchParams | undefined>) => Promise<Response>;

/**
 * A customFetch for oauth4webapi that goes through the guard (and, for token calls, the quirk shims).
 * It records the credentials the request carries in `sent` before anything goes out.
 */
function fetcher(opts: OAuthOptions, rewrite?: (b: BufferedResponse) => Response, sent?: SentValues): OAuthFetch {
  return async (url, options) => {
    const init: RequestInit = {
      method: options.method,
      headers: options.headers,
      redirect: options.redirect,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    sent?.addRequest(url, init);
    const b = await guardedRequest(url, init, opts);
    return rewrite ? rewrite(b) : toResponse(b);
  };
}

function requestOptions(opts: OAuthOptions, rewrite?: (b: BufferedResponse) => Response, sent?: SentValues): { [o.customFetch]: OAuthFetch; [o.allowInsecureRequests]: boolean } {
  // allowInsecureRequests only lets http URLs through oauth4webapi's own scheme check; every request still
  // goes through the guard (customFetch), which is the one place the policy is decided (https, or http to
  // loopback with the switch) and which answers with a clear BIFROST_OAUTH_URL_REFUSED instead of a
  // library error classified as a protocol failure.
  return { [o.customFetch]: fetcher(opts, rewrite, sent), [o.allowInsecureRequests]: true };
}

/** The authorization server: discovered (RFC 8414, issuer checked) or built from the configured URLs. */
export async function authorizationServer(ctx: ProviderContext, opts: OAuthOptions): Promise<o.AuthorizationServer> {
  const s = ctx.settings;
  const configured = {
    authorization_endpoint: fill(ctx, s.authorizationUrl, "authorization_url") ?? undefined,
    token_endpoint: fill(ctx, s.tokenUrl, "token_url") ?? undefined,
    revocation_endpoint: fill(ctx, s.revocationUrl, "revocation_url") ?? undefined,
  };
  const defined = Object.fromEntries(Object.entries(configured).filter(([, v]) => v !== undefined)) as Partial<o.AuthorizationServer>;
  const issuer = fill(ctx, s.issuer, "issuer");
  if (!issuer) {
    const base = configured.token_endpoint ?? configured.authorization_endpoint ?? "";
    return { issuer: new URL(base).origin, ...defined };
  }
  const hit = discoveryCache.get(issuer);
  let as: o.AuthorizationServer;
  if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) {
    as = hit.as;
  } else {
    try {
      const url = new URL(issuer);
      const res = await o.discoveryRequest(url, { algorithm: "oauth2", ...requestOptions(opts) });
      as = await o.processDiscoveryResponse(url, res);
    } catch (err) {
      throw toBifrostError(classify(err), ctx.integration, "discovery");
    }
    if (discoveryCache.size > 1000) discoveryCache.clear();
    discoveryCache.set(issuer, { at: Date.now(), as });
  }
  return { ...as, ...defined };
}

function clientAuth(ctx: ProviderContext): o.ClientAuth {
  return ctx.settings.tokenAuthMethod === "client_secret_post" ? o.ClientSecretPost(ctx.clientSecret) : o.ClientSecretBasic(ctx.clientSecret);
}

function decodeJwtPayload(jwt: string): Record<string, unknown> | null {
  const part = jwt.split(".")[1];
  if (!part) return null;
  try {
    const v = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Token-endpoint shims, each enabled only by an explicit provider quirk option, plus id_token capture:
 * the id_token is removed before oauth4webapi sees it and only its claims are kept (the token came
 * straight from the token endpoint over TLS; iss/aud are checked below).
 */
function tokenRewriter(ctx: ProviderContext, captured: { idToken: Record<string, unknown> | null }): (b: BufferedResponse) => Response {
  const q = ctx.settings.quirks;
  return (b) => {
    if (b.status < 200 || b.status >= 300) return toResponse(b);
    const text = Buffer.from(b.body).toString("utf8");
    const type = (b.headers.get("content-type") ?? "").toLowerCase();
    let obj: Record<string, unknown> | null = null;
    // Every value of a form-encoded body is a string: its expires_in is numeric text by nature.
    let fromForm = false;
    if (type.includes("application/x-www-form-urlencoded")) {
      // A form-encoded 2xx is a token response in the wrong format, not a transient outage: without the quirk it is a protocol error.
      if (!q.formEncodedTokenResponse) {
        throw new OAuthProtocolError(`The token response of "${ctx.integration}" is form-encoded (application/x-www-form-urlencoded); enable oauth.quirks.form_encoded_token_response for this provider if that is expected. Nothing was stored.`, { integration: ctx.integration });
      }
      obj = Object.fromEntries(new URLSearchParams(text));
      fromForm = true;
    } else {
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v === "object" && v !== null && !Array.isArray(v)) obj = v as Record<string, unknown>;
      } catch {
        return toResponse(b);
      }
    }
    if (!obj) return toResponse(b);
    if (obj.token_type === undefined && q.defaultTokenType) obj.token_type = q.defaultTokenType;
    if (typeof obj.expires_in === "string") {
      if (!q.expiresInAsString && !fromForm) {
        throw new OAuthProtocolError(`The token response of "${ctx.integration}" has expires_in as a string; enable oauth.quirks.expires_in_as_string for this provider if that is expected.`, { integration: ctx.integration });
      }
      const n = Number(obj.expires_in);
      if (!Number.isFinite(n)) throw new OAuthProtocolError(`The token response of "${ctx.integration}" has a non-numeric expires_in.`, { integration: ctx.integration });
      obj.expires_in = n;
    }
    if (typeof obj.expires_in === "number" && (obj.expires_in < 0 || obj.expires_in > 10 * 365 * 24 * 3600)) {
      throw new OAuthProtocolError(`The token response of "${ctx.integration}" has an out-of-range expires_in.`, { integration: ctx.integration });
    }
    if (typeof obj.id_token === "string") {
      captured.idToken = decodeJwtPayload(obj.id_token);
      delete obj.id_token;
    }
    const headers = new Headers({ "content-type": "application/json" });
    return new Response(JSON.stringify(obj), { status: b.status, headers });
  };
}

const KNOWN = new Set(["access_token", "token_type", "refresh_token", "expires_in", "scope", "id_token", "authorization_details"]);

/**
 * The stored form of a token response. Unknown members and the scope are provider text that is
 * stored and shown: the values this request sent are redacted from them (a provider that echoes the
 * old refresh token or the client secret in an extra field leaves nothing behind).
 */
function toTokenSet(ctx: ProviderContext, r: o.TokenEndpointResponse, idClaims: Record<string, unknown> | null, sent: SentValues): TokenSet {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!KNOWN.has(k)) extra[k] = sent.redactDeep(v);
  if (idClaims) {
    const iss = ctx.settings.issuer ? fill(ctx, ctx.settings.issuer, "issuer") : null;
    const aud = idClaims.aud;
    const audOk = aud === ctx.settings.clientId || (Array.isArray(aud) && aud.includes(ctx.settings.clientId));
    if ((iss !== null && idClaims.iss !== iss) || !audOk) {
      throw new OAuthProtocolError(`The id_token returned for "${ctx.integration}" was issued by another issuer or for another client; nothing was stored.`, { integration: ctx.integration });
    }
  }
  return {
    accessToken: r.access_token,
    tokenType: r.token_type,
    refreshToken: typeof r.refresh_token === "string" ? r.refresh_token : null,
    expiresIn: typeof r.expires_in === "number" ? r.expires_in : null,
    scopes: typeof r.scope === "string" ? sent.redact(r.scope).split(" ").filter(Boolean) : null,
    extra,
    idTokenClaims: idClaims,
  };
}

function tokenParams(ctx: ProviderContext, extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams({ ...ctx.settings.tokenParams, ...extra });
  if (ctx.settings.audience && !p.has("audience")) p.set("audience", ctx.settings.audience);
  return p;
}

/** The reason of a failure that is none of the known kinds (its outcome at the provider is unknown). */
export const UNKNOWN_FAILURE = "the request to the provider failed (network error)";

/**
 * Classify any failure of a token/discovery/revocation request. Never uses the library's message or
 * cause. Provider text (error, error_description) is redacted of every value the request sent (`sent`,
 * by default what the grant function recorded for this error), then escaped and truncated.
 */
export function classify(err: unknown, sent: SentValues = sentValuesOf(err)): OAuthFailure {
  if (err instanceof OAuthTransientError) return { kind: "transient", reason: err.message, own: err };
  if (err instanceof BifrostError) return { kind: "protocol", reason: err.message, own: err };
  if (err instanceof o.ResponseBodyError) {
    const text = (v: unknown): unknown => (typeof v === "string" ? sent.redact(v) : v);
    const desc = sanitizeProviderText(text(err.error_description));
    const code = sanitizeProviderText(text(err.error), 64);
    const tail = `${code}${desc ? `: ${desc}` : ""}`;
    if (err.status >= 500) return { kind: "transient", reason: `the provider answered ${err.status} (${tail})` };
    if (err.error === "invalid_grant") return { kind: "invalid_grant", reason: `the provider rejected the grant (${tail})` };
    if (err.error === "invalid_client" || err.error === "unauthorized_client") return { kind: "client", reason: `the provider rejected the client credentials (${tail})` };
    return { kind: "protocol", reason: `the provider answered with error ${tail}` };
  }
  if (err instanceof o.WWWAuthenticateChallengeError) {
    if (err.status >= 500) return { kind: "transient", reason: `the provider answered ${err.status}` };
    return { kind: "client", reason: `the provider rejected the client credentials (HTTP ${err.status})` };
  }
  if (err instanceof o.OperationProcessingError) {
    if (err.code === o.RESPONSE_IS_NOT_JSON) return { kind: "transient", reason: "the provider answered with a body that is not JSON (HTML or text)" };
    if (err.code === o.RESPONSE_IS_NOT_CONFORM) {
      const status = (err.cause as { status?: unknown } | undefined)?.status;
      return { kind: "transient", reason: `the provider answered with an unexpected response${typeof status === "number" ? ` (HTTP ${status})` : ""}, not a JSON error` };
    }
    return { kind: "protocol", reason: "the provider's response is not a valid token response (missing access_token or token_type, or an error in a 200 response)" };
  }
  if (err instanceof o.UnsupportedOperationError) return { kind: "protocol", reason: "the provider returned an unsupported token_type" };
  return { kind: "transient", reason: UNKNOWN_FAILURE };
}

export function toBifrostError(f: OAuthFailure, integration: string, step: string): BifrostError {
  if (f.own) return f.own;
  const msg = `OAuth ${step} for "${integration}" failed: ${f.reason}.`;
  const details = { integration, step };
  switch (f.kind) {
    case "transient":
      return new OAuthTransientError(msg, details);
    case "client":
      return new OAuthClientRejectedError(msg, details);
    default:
      return new OAuthProtocolError(msg, details);
  }
}

const client = (ctx: ProviderContext): o.Client => ({ client_id: ctx.settings.clientId });

/**
 * Run one provider request with its record of sent values: `sent` starts with what the caller knows it
 * sends (client secret, token, code, verifier) and the customFetch adds what the request carried. An
 * error leaves with that record attached, so `classify(err)` redacts the provider's text.
 */
async function withSent<T>(sent: SentValues, fn: (sent: SentValues) => Promise<T>): Promise<T> {
  try {
    return await fn(sent);
  } catch (err) {
    throw attachSent(err, sent);
  }
}

/** Exchange an authorization code (PKCE verifier and the exact redirect URI re-sent). */
export async function exchangeCode(ctx: ProviderContext, opts: OAuthOptions, as: o.AuthorizationServer, params: URLSearchParams, redirectUri: string, verifier: string): Promise<TokenSet> {
  return withSent(new SentValues().add(ctx.clientSecret, params.get("code"), verifier), async (sent) => {
    const captured = { idToken: null as Record<string, unknown> | null };
    const ro = { ...requestOptions(opts, tokenRewriter(ctx, captured), sent), additionalParameters: tokenParams(ctx) };
    const res = await o.authorizationCodeGrantRequest(as, client(ctx), clientAuth(ctx), params, redirectUri, verifier, ro);
    const r = await o.processAuthorizationCodeResponse(as, client(ctx), res, { requireIdToken: false });
    return toTokenSet(ctx, r, captured.idToken, sent);
  });
}

/** `server`: the provider's metadata when the caller already asked for it (see `lockedRefresh`). */
export async function refreshGrant(ctx: ProviderContext, opts: OAuthOptions, refreshToken: string, server = authorizationServer(ctx, opts)): Promise<TokenSet> {
  const as = await server;
  return withSent(new SentValues().add(ctx.clientSecret, refreshToken), async (sent) => {
    const captured = { idToken: null as Record<string, unknown> | null };
    const ro = { ...requestOptions(opts, tokenRewriter(ctx, captured), sent), additionalParameters: tokenParams(ctx) };
    const res = await o.refreshTokenGrantRequest(as, client(ctx), clientAuth(ctx), refreshToken, ro);
    const r = await o.processRefreshTokenResponse(as, client(ctx), res);
    return toTokenSet(ctx, r, captured.idToken, sent);
  });
}

export async function clientCredentialsGrant(ctx: ProviderContext, opts: OAuthOptions, server = authorizationServer(ctx, opts)): Promise<TokenSet> {
  const as = await server;
  return withSent(new SentValues().add(ctx.clientSecret), async (sent) => {
    const captured = { idToken: null as Record<string, unknown> | null };
    const extra: Record<string, string> = ctx.settings.scopes.length ? { scope: ctx.settings.scopes.join(" ") } : {};
    const res = await o.clientCredentialsGrantRequest(as, client(ctx), clientAuth(ctx), tokenParams(ctx, extra), requestOptions(opts, tokenRewriter(ctx, captured), sent));
    const r = await o.processClientCredentialsResponse(as, client(ctx), res);
    return toTokenSet(ctx, r, null, sent);
  });
}

/** RFC 7009 revocation; returns false when the provider has no revocation endpoint. */
export async function revoke(ctx: ProviderContext, opts: OAuthOptions, token: string, hint: "refresh_token" | "access_token"): Promise<boolean> {
  const as = await authorizationServer(ctx, opts);
  if (!as.revocation_endpoint) return false;
  return withSent(new SentValues().add(ctx.clientSecret, token), async (sent) => {
    const res = await o.revocationRequest(as, client(ctx), clientAuth(ctx), token, { ...requestOptions(opts, undefined, sent), additionalParameters: { token_type_hint: hint } });
    await o.processRevocationResponse(res);
    return true;
  });
}
