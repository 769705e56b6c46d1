import { createHash, timingSafeEqual } from "node:crypto";
import * as o from "oauth4webapi";
import { type AuditActor, recordAudit } from "../kernel/audit.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import { ConflictError } from "../core/errors.js";
import type { Mapping } from "../core/types.js";
import type { StoredOAuthToken } from "../storage/store.js";
import { OAuthAuthorizationDeniedError, OAuthConfigError, OAuthIssuerMismatchError, OAuthNoProviderError, OAuthStateError, sanitizeProviderText } from "./errors.js";
import { checkServerEndpoints } from "./endpoints.js";
import { recordEvent } from "./events.js";
import { authorizationServer, classify, exchangeCode, type ProviderContext, type TokenSet, toBifrostError } from "./grants.js";
import { withIntegrationPolicy } from "./options.js";
import type { RefreshDeps } from "./refresh.js";
import { emptyToken, readProvider, stateSecretContext, tokenPatch } from "./tokens.js";

export interface StartAuthorizationInput {
  integration: string;
  /** Org slug; the token is stored at that org's mapping. Omitted = integration level. */
  org?: string | null;
  /** API key id that started the flow, or null for the CLI. The callback must come from the same initiator. */
  initiatorKeyId: string | null;
}

export interface StartedAuthorization {
  authorizationUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: string;
}

export function callbackUrl(publicUrl: string, integration: string): string {
  return `${publicUrl}/api/oauth/callback/${encodeURIComponent(integration)}`;
}

const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function sameInitiator(a: string | null, b: string | null): boolean {
  const h = (v: string | null) => createHash("sha256").update(v ?? "\u0000cli").digest();
  return timingSafeEqual(h(a), h(b));
}

/** Authorization code + PKCE S256 + state: returns the provider's authorization URL. */
export async function startAuthorization(deps: RefreshDeps, input: StartAuthorizationInput): Promise<StartedAuthorization> {
  const integration = await requireIntegration(deps.store, input.integration);
  const provider = await readProvider(deps.store, deps.box, integration.id);
  if (!provider) throw new OAuthNoProviderError(integration.name);
  if (provider.settings.flow !== "authorization_code") {
    throw new OAuthConfigError(`Integration "${integration.name}" uses the client_credentials flow: it needs no consent, the token is obtained on first use.`, { integration: integration.name });
  }
  const org = input.org ? await requireOrg(deps.store, input.org) : null;
  const mapping = org ? await deps.store.getMapping(integration.id, org.id) : null;
  const ctx: ProviderContext = { integration: integration.name, settings: provider.settings, clientSecret: provider.clientSecret, entityId: mapping?.entityId ?? null };
  const policyDeps = withIntegrationPolicy(deps, integration);
  const as = await authorizationServer(ctx, policyDeps.oauth);
  checkServerEndpoints(integration.name, as, policyDeps.oauth);
  if (!as.authorization_endpoint) throw new OAuthConfigError(`Integration "${integration.name}" has no authorization endpoint (set oauth.authorization_url).`);
  if (as.code_challenge_methods_supported && !as.code_challenge_methods_supported.includes("S256")) {
    throw new OAuthConfigError(`The provider of "${integration.name}" does not support PKCE S256; Bifrost never falls back to "plain".`);
  }
  const state = o.generateRandomState();
  const verifier = o.generateRandomCodeVerifier();
  const challenge = await o.calculatePKCECodeChallenge(verifier);
  const redirectUri = callbackUrl(deps.oauth.publicUrl, integration.name);
  const url = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries(provider.settings.authorizeParams)) url.searchParams.set(k, v);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", provider.settings.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  if (provider.settings.scopes.length) url.searchParams.set("scope", provider.settings.scopes.join(" "));
  if (provider.settings.audience) url.searchParams.set("audience", provider.settings.audience);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  const now = new Date();
  const expiresAt = new Date(now.getTime() + deps.oauth.stateTtlSeconds * 1000).toISOString();
  await deps.store.insertOAuthState({
    state,
    integrationId: integration.id,
    orgId: org?.id ?? null,
    mappingId: mapping?.id ?? null,
    codeVerifier: deps.box.encrypt(verifier, stateSecretContext(state, org?.id ?? null)),
    initiatorKeyId: input.initiatorKeyId,
    issuer: provider.settings.issuer ? as.issuer : null,
    redirectUri,
    createdAt: now.toISOString(),
    expiresAt,
    consumed: false,
    outcome: null,
  });
  return { authorizationUrl: url.toString(), state, redirectUri, expiresAt };
}

export interface CompleteAuthorizationInput {
  /** The integration named in the callback path. */
  integration: string;
  /** The callback's query parameters as received. */
  query: URLSearchParams | Record<string, string | string[] | undefined>;
  /**
   * The initiator the callback is delivered for (API key id, null = CLI). When given it must match the
   * one that started the flow. Omit only when the surface cannot know it (plain browser redirect).
   */
  initiatorKeyId?: string | null;
}

export interface CompletedAuthorization {
  integration: string;
  org: string | null;
  level: "mapping" | "integration";
  scopes: string[];
  expiresAt: string | null;
  hasRefreshToken: boolean;
  entityIdCaptured: string | null;
}

function toParams(q: CompleteAuthorizationInput["query"]): URLSearchParams {
  if (q instanceof URLSearchParams) return new URLSearchParams(q);
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  }
  return p;
}

/**
 * Whether the flow was started by a platform admin (or the local CLI: no key). Only they may have an
 * entity id taken from the callback URL, which the browser relays and could alter.
 */
async function startedByPlatform(store: RefreshDeps["store"], initiatorKeyId: string | null): Promise<boolean> {
  if (initiatorKeyId === null) return true;
  // A connect link (`link:<id>`) counts as started by whoever created the link (key id, or null = CLI).
  if (initiatorKeyId.startsWith("link:")) {
    const link = await store.getConnectLink(initiatorKeyId.slice("link:".length));
    return link !== null && (link.createdBy === null || (await startedByPlatform(store, link.createdBy)));
  }
  const key = (await store.listApiKeys()).find((k) => k.id === initiatorKeyId);
  return key?.role === "platform_admin";
}

/** Who an OAuth connection is attributed to: the key that started the flow, or the local CLI when none did. */
async function initiatorActor(store: RefreshDeps["store"], initiatorKeyId: string | null): Promise<AuditActor> {
  if (initiatorKeyId === null) return { kind: "local_cli" };
  const key = (await store.listApiKeys()).find((k) => k.id === initiatorKeyId);
  return { kind: "api_key", keyId: initiatorKeyId, keyPrefix: key?.prefix ?? "", keyName: key?.name ?? "", via: "api" };
}

/**
 * The entity id the provider reported (DESIGN.md §9.3). `token_field` and `id_token_claim` come from the
 * token endpoint itself and are captured for any initiator; `url_param` is read from the callback URL,
 * which passes through the user's browser, so it is captured only when a platform admin (or the CLI)
 * started the flow. Same shape rule as before; uniqueness is the store's (normalized key).
 */
function capture(source: { type: string; key: string } | null, params: URLSearchParams, t: TokenSet, platform: boolean): string | null {
  if (!source) return null;
  if (source.type === "url_param" && !platform) return null;
  const raw = source.type === "url_param" ? params.get(source.key) : source.type === "token_field" ? t.extra[source.key] : t.idTokenClaims?.[source.key];
  if (typeof raw !== "string" && typeof raw !== "number") return null;
  const v = String(raw);
  return /^[A-Za-z0-9._:-]{1,255}$/.test(v) ? v : null;
}

/**
 * The callback: validate state (known, unexpired, single use, same integration and initiator), the
 * issuer (RFC 9207) and the response, exchange the code with the stored PKCE verifier and the exact
 * redirect URI, store the token at the mapping (org) or integration level, capture the entity id.
 */
export async function completeAuthorization(deps: RefreshDeps, input: CompleteAuthorizationInput): Promise<CompletedAuthorization> {
  const params = toParams(input.query);
  const stateValue = params.get("state");
  if (!stateValue || !STATE_SHAPE.test(stateValue) || params.getAll("state").length !== 1) {
    throw new OAuthStateError("The OAuth callback has no valid state parameter; start the connection again.");
  }
  const st = await deps.store.getOAuthState(stateValue);
  if (!st) throw new OAuthStateError("The OAuth callback's state is unknown (forged, or from another server); start the connection again.");
  const integration = await requireIntegration(deps.store, input.integration);
  if (st.integrationId !== integration.id) throw new OAuthStateError(`The OAuth callback arrived for "${integration.name}" but the flow was started for another integration; refused.`);
  if (input.initiatorKeyId !== undefined && !sameInitiator(input.initiatorKeyId, st.initiatorKeyId)) {
    throw new OAuthStateError("The OAuth callback does not belong to the session that started this flow; refused.");
  }
  if (st.consumed) throw new OAuthStateError("This OAuth callback was already used (state is single use); start the connection again.");
  if (Date.parse(st.expiresAt) <= Date.now()) throw new OAuthStateError("The OAuth flow expired (10 minutes); start the connection again.");
  if (!(await deps.store.consumeOAuthState(stateValue, "pending"))) {
    throw new OAuthStateError("This OAuth callback was already used (state is single use); start the connection again.");
  }
  const fail = async (outcome: string, err: Error): Promise<never> => {
    await deps.store.setOAuthStateOutcome(stateValue, outcome);
    throw err;
  };

  const provider = await readProvider(deps.store, deps.box, integration.id);
  if (!provider) return fail("failed", new OAuthNoProviderError(integration.name));
  const org = st.orgId ? await deps.store.getOrgById(st.orgId) : null;
  let mapping: Mapping | null = org ? await deps.store.getMapping(integration.id, org.id) : null;
  const ctx: ProviderContext = { integration: integration.name, settings: provider.settings, clientSecret: provider.clientSecret, entityId: mapping?.entityId ?? null };
  const policyDeps = withIntegrationPolicy(deps, integration);
  const as = await authorizationServer(ctx, policyDeps.oauth);

  // RFC 9207: compare iss with the issuer this flow was sent to (only when an issuer is configured).
  if (st.issuer !== null) {
    const iss = params.get("iss");
    if ((iss === null && as.authorization_response_iss_parameter_supported) || (iss !== null && iss !== st.issuer)) {
      return fail("failed", new OAuthIssuerMismatchError(`The OAuth callback for "${integration.name}" came from another issuer than the flow was sent to (mix-up defence); nothing was stored.`));
    }
  } else {
    params.delete("iss");
  }
  if (params.has("error")) {
    const code = sanitizeProviderText(params.get("error"), 64);
    const desc = sanitizeProviderText(params.get("error_description"), 200);
    return fail("cancelled", new OAuthAuthorizationDeniedError(`The authorization for "${integration.name}" was not granted: ${code}${desc ? ` (${desc})` : ""}.`, { integration: integration.name, error: code }));
  }
  let validated: URLSearchParams;
  try {
    validated = o.validateAuthResponse(as, { client_id: provider.settings.clientId }, params, stateValue);
  } catch {
    return fail("failed", new OAuthStateError(`The OAuth callback for "${integration.name}" is malformed (missing code, duplicate parameters or a state mismatch); nothing was stored.`));
  }
  const verifier = deps.box.decrypt(st.codeVerifier, stateSecretContext(st.state, st.orgId));
  let tokens: TokenSet;
  try {
    tokens = await exchangeCode(ctx, policyDeps.oauth, as, validated, st.redirectUri, verifier);
  } catch (err) {
    return fail("failed", toBifrostError(classify(err), integration.name, "code exchange"));
  }

  const platform = provider.settings.entityIdSource?.type === "url_param" ? await startedByPlatform(deps.store, st.initiatorKeyId) : true;
  const captured = capture(provider.settings.entityIdSource, params, tokens, platform);
  const result = await deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    const mappingCreated = org !== null && mapping === null;
    if (org && !mapping) {
      // A concurrent writer may have created the org's mapping since it was read: use theirs.
      mapping = await tx.insertMappingIfAbsent({ id: deps.clock.id(), integrationId: integration.id, orgId: org.id, entityId: null, entityName: null, createdAt: now, updatedAt: now });
    }
    let entityIdCaptured: string | null = null;
    if (mapping && captured && !mapping.entityId) {
      await tx.updateMapping(mapping.id, { entityId: captured, updatedAt: now });
      entityIdCaptured = captured;
    }
    const owner = mapping ? { orgId: mapping.orgId, mappingId: mapping.id } : { orgId: null, mappingId: null };
    const row: StoredOAuthToken = await tx.insertOAuthTokenIfAbsent(emptyToken(deps.clock, integration.id, owner));
    const patch = tokenPatch(deps.box, row, tokens, new Date(), provider.settings.scopes);
    if (tokens.refreshToken === null) patch.refreshToken = null as unknown as string; // a new consent never keeps an old grant's refresh token
    await tx.updateOAuthToken(row.id, patch, { bumpVersion: true });
    await recordAudit(
      { store: tx, clock: deps.clock },
      "oauth.connect",
      {
        integration: { id: integration.id, name: integration.name },
        org: org ? { id: org.id, slug: org.slug } : null,
        detail: { flow: "authorization_code", level: mapping ? "mapping" : "integration", mapping_created: mappingCreated, entity_id_captured: entityIdCaptured !== null },
      },
      { actor: await initiatorActor(tx, st.initiatorKeyId) },
    );
    await recordEvent(tx, deps.clock, {
      type: "connected",
      integrationId: integration.id,
      orgId: owner.orgId,
      payload: { level: mapping ? "mapping" : "integration", scopes: patch.scopes, hasRefreshToken: tokens.refreshToken !== null, entityIdCaptured },
    });
    return { patch, entityIdCaptured };
  }).catch(async (err: unknown) => {
    // The provider's entity is already another organization's (same normalized key): store nothing.
    if (err instanceof ConflictError && err.details?.constraint === "entity_id") {
      return fail(
        "failed",
        new ConflictError(
          `The provider reported an entity id for this connection that is already mapped to another organization of "${integration.name}"; nothing was stored. A platform admin must review the mappings before connecting again.`,
          { constraint: "entity_id", integration: integration.name },
        ),
      );
    }
    throw err;
  });
  await deps.store.setOAuthStateOutcome(stateValue, "completed");
  return {
    integration: integration.name,
    org: org?.slug ?? null,
    level: mapping ? "mapping" : "integration",
    scopes: result.patch.scopes,
    expiresAt: result.patch.expiresAt,
    hasRefreshToken: tokens.refreshToken !== null,
    entityIdCaptured: result.entityIdCaptured,
  };
}
