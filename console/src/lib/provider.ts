/** The OAuth provider form: its draft from the stored provider, and the PUT body built from the draft. */
import { isMasked, type MaskedSecret, type OAuthProvider } from "../api/types.js";

export const PROVIDER_FIELDS = ["client_id", "authorization_url", "token_url", "issuer", "revocation_url"] as const;

export interface ProviderDraft {
  flow: string;
  fields: Record<string, string>;
  /** Space or comma separated, as typed. */
  scopes: string;
  method: string;
  /** null = keep the stored secret; a string = the new secret ("" with no stored secret = none). */
  secret: string | null;
}

export function providerDraft(p: OAuthProvider | null): ProviderDraft {
  return {
    flow: p?.flow ?? "authorization_code",
    fields: Object.fromEntries(PROVIDER_FIELDS.map((f) => [f, typeof p?.[f] === "string" ? (p[f] as string) : ""])),
    scopes: (p?.scopes ?? []).join(" "),
    method: p?.token_auth_method ?? "client_secret_basic",
    secret: null,
  };
}

export function maskedSecret(p: OAuthProvider | null): MaskedSecret | null {
  return isMasked(p?.client_secret) ? (p?.client_secret as MaskedSecret) : null;
}

const EDITED = new Set<string>(["flow", "client_secret", "scopes", "token_auth_method", ...PROVIDER_FIELDS]);

/**
 * The body for PUT /api/integrations/:name/oauth: settings the form does not edit are kept as stored
 * (url_defaults, authorize_params, …), empty fields are left out, and the stored secret is sent back
 * masked when no new one was typed (the server keeps it).
 */
export function providerBody(p: OAuthProvider | null, d: ProviderDraft): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p ?? {})) if (!EDITED.has(k)) body[k] = v;
  body.flow = d.flow;
  for (const f of PROVIDER_FIELDS) if (d.fields[f]) body[f] = d.fields[f];
  if (d.scopes.trim()) body.scopes = d.scopes.trim().split(/[\s,]+/);
  body.token_auth_method = d.method;
  const masked = maskedSecret(p);
  if (d.secret !== null && d.secret !== "") body.client_secret = d.secret;
  else if (masked) body.client_secret = masked;
  return body;
}

/** The callback URL to register at the provider. */
export function callbackUrl(publicUrl: string, integration: string): string {
  return `${publicUrl}/api/oauth/callback/${encodeURIComponent(integration)}`;
}
