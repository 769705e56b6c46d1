import type { CredentialLevel, ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import { OAuthClientRejectedError, OAuthNeedsReauthError, OAuthProtocolError, OAuthTransientError } from "./errors.js";
import type { ResolveRows, StoredOAuthToken } from "../storage/store.js";
import { usesEntityPlaceholder } from "./provider-settings.js";
import { withIntegrationPolicy } from "./options.js";
import { ensureFresh, type RefreshDeps } from "./refresh.js";
import { credentialsOf, emptyToken, loadProvider, ownerKey } from "./tokens.js";

/** The credentials handed out, the level of the connection they come from, and its state. */
export interface ResolvedCredentials {
  credentials: OAuthCredentials | null;
  /** "org" for the org's or its mapping's own connection, "integration" for the integration-level one; null when none was found. */
  level: CredentialLevel | null;
  connection: OAuthConnectionStatus;
}

/** The short code of a stored `last_error` (`invalid_grant: …` → `invalid_grant`): never provider text. */
function reasonCode(lastError: string | null, fallback: string): string {
  const code = (lastError ?? "").split(":")[0]?.trim() ?? "";
  return /^[a-z_]{1,40}$/.test(code) ? code : fallback;
}

/**
 * Like `resolveCredentials`, but a broken connection does not throw: the credentials are null and the
 * connection says why (DESIGN §9.6). Never falls back to a token of another level: the row chosen is the
 * one the normal order picks (mapping, org, integration), broken or not.
 */
export async function resolveConnection(deps: RefreshDeps, rows: ResolveRows, org: ExecutionOrg | null): Promise<ResolvedCredentials> {
  let row: StoredOAuthToken | null = null;
  const chosen = (t: StoredOAuthToken): void => void (row = t);
  try {
    const credentials = await resolveCredentials(deps, rows, org, chosen);
    const r = row as StoredOAuthToken | null;
    if (!r || !credentials) return { credentials: null, level: r ? levelOfRow(r) : null, connection: { state: "not_connected", reason: null, since: null } };
    const failing = r.state === "error";
    return {
      credentials,
      level: levelOfRow(r),
      connection: { state: failing ? "error" : "connected", reason: failing ? reasonCode(r.lastError, "error") : null, since: failing ? r.updatedAt : (r.obtainedAt ?? r.updatedAt) },
    };
  } catch (err) {
    const r = row as StoredOAuthToken | null;
    // A dead grant, or a connection already in `error` (backing off after earlier failures). A first
    // failure throws the provider's error as before; configuration and policy refusals always throw.
    const failing = r?.state === "error" && (err instanceof OAuthTransientError || err instanceof OAuthClientRejectedError || err instanceof OAuthProtocolError);
    if (!r || !(err instanceof OAuthNeedsReauthError || failing)) throw err;
    const dead = err instanceof OAuthNeedsReauthError;
    return {
      credentials: null,
      level: levelOfRow(r),
      connection: { state: dead ? "needs_reauth" : "error", reason: dead ? reasonCode(typeof err.details?.reason === "string" ? err.details.reason : r.lastError, "invalid_grant") : err.code.replace(/^BIFROST_OAUTH_/, "").toLowerCase(), since: r.updatedAt },
    };
  }
}

const levelOfRow = (t: StoredOAuthToken): CredentialLevel => (t.ownerKey === ownerKey.integration() ? "integration" : "org");

/**
 * The credentials `integrations.get()` attaches: the mapping's token, else the org's, else the
 * integration's; refreshed first when expired or about to expire. Client-credentials tokens are
 * minted on first use, per entity when a URL uses {entity_id}, else once per integration.
 * Returns null when the integration has no provider or nothing is connected. The provider and the
 * candidate token rows come with the resolve query: no further read unless a refresh is due.
 */
async function resolveCredentials(deps: RefreshDeps, rows: ResolveRows, org: ExecutionOrg | null, chosen?: (row: StoredOAuthToken) => void): Promise<OAuthCredentials | null> {
  if (!rows.oauth) return null;
  const provider = loadProvider(deps.box, rows.oauth.provider);
  const candidates = rows.oauth.tokens;
  const integration = { id: rows.integration.id, name: rows.integration.name };
  const mapping = rows.mapping;
  let token: StoredOAuthToken | null = null;
  let entityId: string | null = null;

  if (provider.settings.flow === "client_credentials") {
    const perEntity = usesEntityPlaceholder(provider.settings) && mapping !== null && !!mapping.entityId && org !== null;
    const key = perEntity && mapping ? ownerKey.mapping(mapping.id) : ownerKey.integration();
    entityId = perEntity && mapping ? mapping.entityId : null;
    token = candidates.find((t) => t.ownerKey === key) ?? null;
    if (!token) {
      token = await deps.store.insertOAuthTokenIfAbsent(
        emptyToken(deps.clock, integration.id, perEntity && mapping && org ? { orgId: org.id, mappingId: mapping.id } : { orgId: null, mappingId: null }),
      );
    }
  } else {
    const keys = [...(mapping ? [ownerKey.mapping(mapping.id)] : []), ...(org ? [ownerKey.org(org.id)] : []), ownerKey.integration()];
    const found = candidates;
    for (const k of keys) {
      const t = found.find((r) => r.ownerKey === k && r.state !== "not_connected");
      if (t) {
        token = t;
        break;
      }
    }
    if (!token) return null;
    entityId = token.mappingId && mapping && token.mappingId === mapping.id ? mapping.entityId : null;
  }
  chosen?.(token);
  const fresh = await ensureFresh(withIntegrationPolicy(deps, rows.integration), { integration, provider, entityId, org }, token);
  chosen?.(fresh);
  return credentialsOf(deps.box, fresh, provider.settings.flow);
}
