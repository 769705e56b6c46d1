import { z } from "zod";
import { checkOutboundUrl, OutboundRefusedError } from "../net/outbound-policy.js";
import { OAuthConfigError, OAuthUrlRefusedError } from "./errors.js";
import { placeholdersOf } from "./templating.js";
import type { ProviderSettings } from "./provider-settings.js";

const noControl = (max: number) =>
  z
    .string()
    .max(max)
    // Header/URL injection guard: no CR, LF, NUL or other control characters.
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), "must not contain control characters (CR, LF, NUL …)");

const params = z.record(z.string().regex(/^[A-Za-z0-9_.\-:]{1,64}$/, "parameter names: letters, digits, _ . - :"), noControl(2048)).optional();

const secretView = z.object({ set: z.literal(true), fingerprint: z.string() }).strict();

const schema = z
  .object({
    flow: z.string(),
    client_id: noControl(512).min(1),
    client_secret: z.union([noControl(4096).min(1), secretView]).optional(),
    authorization_url: noControl(2048).optional(),
    token_url: noControl(2048).optional(),
    issuer: noControl(2048).optional(),
    revocation_url: noControl(2048).optional(),
    scopes: z.array(noControl(256).regex(/^[^\s]+$/, "a scope has no spaces")).max(100).optional(),
    audience: noControl(2048).optional(),
    authorize_params: params,
    token_params: params,
    token_auth_method: z.enum(["client_secret_basic", "client_secret_post"]).optional(),
    url_defaults: z.record(z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, "placeholder names: lower-case letters, digits, _"), noControl(253)).optional(),
    entity_id_source: z.object({ type: z.enum(["url_param", "token_field", "id_token_claim"]), key: z.string().regex(/^[A-Za-z0-9_.\-:]{1,128}$/) }).strict().optional(),
    quirks: z
      .object({
        form_encoded_token_response: z.boolean().optional(),
        default_token_type: z.string().regex(/^[A-Za-z]{1,32}$/).optional(),
        expires_in_as_string: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const RESERVED_PARAMS = new Set(["client_id", "client_secret", "redirect_uri", "state", "code_challenge", "code_challenge_method", "code", "code_verifier", "grant_type", "refresh_token", "response_type", "scope"]);

function checkUrl(field: string, value: string | undefined, declared: ReadonlySet<string>): string | null {
  if (value === undefined) return null;
  for (const p of placeholdersOf(value)) {
    if (p !== "entity_id" && !declared.has(p)) {
      throw new OAuthConfigError(`oauth.${field} uses placeholder {${p}}, which is not declared: add it to oauth.url_defaults (only {entity_id} is implicit).`, { field, placeholder: p });
    }
  }
  let u: URL;
  try {
    u = new URL(value.replace(/\{[a-z_][a-z0-9_]*\}/g, "placeholder"));
  } catch {
    throw new OAuthConfigError(`oauth.${field} is not an absolute URL.`, { field });
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new OAuthConfigError(`oauth.${field} must be an https:// URL.`, { field });
  if (u.username || u.password) throw new OAuthConfigError(`oauth.${field} must not contain credentials.`, { field });
  if (u.hash) throw new OAuthConfigError(`oauth.${field} must not contain a fragment.`, { field });
  // The outbound policy at write time, not first at refresh: https, or http to a loopback host (which
  // requests reach only with BIFROST_ALLOW_HTTP_LOOPBACK=1; that switch is judged when the request is made).
  try {
    checkOutboundUrl(u.toString(), { allowHttpLoopback: true, privateNetwork: true, subject: `oauth.${field}` });
  } catch (err) {
    // Addresses are judged when the request is made (with the integration's private_network setting).
    if (!(err instanceof OutboundRefusedError)) throw err;
    if (err.reason !== "address") throw new OAuthUrlRefusedError(err.message, { ...err.details, field });
  }
  return value;
}

export interface ParsedProvider {
  settings: ProviderSettings;
  /** The new client secret; null = keep the stored one (absent or a masked echo). */
  clientSecret: string | null;
}

/**
 * Validate a provider block (YAML/JSON shape, snake_case). A masked echo of the client secret
 * (`{ set: true, fingerprint }`, the fingerprint itself, or bullets) means "keep the stored secret".
 */
export function parseProviderConfig(input: unknown, existingFingerprint: string | null): ParsedProvider {
  const flow = (input as { flow?: unknown } | null)?.flow;
  if (flow === "implicit" || flow === "password" || flow === "token") {
    throw new OAuthConfigError(
      flow === "password"
        ? `oauth.flow "password" is not supported: the resource owner password grant must not be used (RFC 9700 §2.4). Use authorization_code.`
        : `oauth.flow "${flow}" is not supported: the implicit grant is deprecated (RFC 9700 §2.1.2). Use authorization_code (with PKCE).`,
      { flow },
    );
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join(".") : "";
    throw new OAuthConfigError(`oauth${path ? `.${path}` : ""}: ${issue?.message ?? "invalid"}.`, { path });
  }
  const c = parsed.data;
  if (c.flow !== "authorization_code" && c.flow !== "client_credentials") {
    throw new OAuthConfigError(`oauth.flow must be "authorization_code" or "client_credentials" (got ${JSON.stringify(c.flow).slice(0, 40)}).`);
  }
  const declared = new Set(Object.keys(c.url_defaults ?? {}));
  const authorizationUrl = checkUrl("authorization_url", c.authorization_url, declared);
  const tokenUrl = checkUrl("token_url", c.token_url, declared);
  const issuer = checkUrl("issuer", c.issuer, declared);
  const revocationUrl = checkUrl("revocation_url", c.revocation_url, declared);
  if (c.flow === "client_credentials" && authorizationUrl) {
    throw new OAuthConfigError(`oauth.authorization_url is only used by the authorization_code flow; remove it for client_credentials.`);
  }
  if (!tokenUrl && !issuer) throw new OAuthConfigError(`oauth.token_url is required (or oauth.issuer for RFC 8414 discovery).`);
  if (c.flow === "authorization_code" && !authorizationUrl && !issuer) {
    throw new OAuthConfigError(`oauth.authorization_url is required for the authorization_code flow (or oauth.issuer for discovery).`);
  }
  for (const [field, p] of [["authorize_params", c.authorize_params], ["token_params", c.token_params]] as const) {
    for (const k of Object.keys(p ?? {})) {
      if (RESERVED_PARAMS.has(k)) throw new OAuthConfigError(`oauth.${field}.${k} is set by Bifrost itself and cannot be overridden.`, { field, param: k });
    }
  }
  if (c.entity_id_source && c.flow !== "authorization_code") {
    throw new OAuthConfigError(`oauth.entity_id_source applies to the authorization_code flow only.`);
  }

  let clientSecret: string | null;
  const raw = c.client_secret;
  const masked = raw === undefined || typeof raw === "object" || /^[\u2022*]+$/.test(raw) || (existingFingerprint !== null && raw === existingFingerprint);
  if (masked) {
    if (existingFingerprint === null) {
      throw new OAuthConfigError(`oauth.client_secret is required${raw === undefined ? "" : " (a masked value was given but no secret is stored)"}; provide the real value, for example from an environment variable.`);
    }
    clientSecret = null;
  } else {
    clientSecret = raw;
  }

  return {
    clientSecret,
    settings: {
      flow: c.flow,
      clientId: c.client_id,
      authorizationUrl,
      tokenUrl,
      issuer,
      revocationUrl,
      scopes: c.scopes ?? [],
      audience: c.audience ?? null,
      authorizeParams: c.authorize_params ?? {},
      tokenParams: c.token_params ?? {},
      tokenAuthMethod: c.token_auth_method ?? "client_secret_basic",
      urlDefaults: c.url_defaults ?? {},
      entityIdSource: c.entity_id_source ?? null,
      quirks: {
        formEncodedTokenResponse: c.quirks?.form_encoded_token_response ?? false,
        defaultTokenType: c.quirks?.default_token_type?.toLowerCase() ?? null,
        expiresInAsString: c.quirks?.expires_in_as_string ?? false,
      },
    },
  };
}
