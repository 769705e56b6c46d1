import type { SecretBox, SecretContext } from "../crypto/secret-box.js";
import type { OAuthCredentials } from "../kernel/types.js";
import type { Clock } from "../kernel/clock.js";
import type { Store, StoredOAuthProvider, StoredOAuthToken } from "../storage/store.js";
import { OAuthConfigError } from "./errors.js";
import type { TokenSet } from "./grants.js";
import type { ProviderSettings } from "./provider-settings.js";

/** A provider row with parsed settings and its decrypted secret (kept in memory only). */
export interface LoadedProvider {
  row: StoredOAuthProvider;
  settings: ProviderSettings;
  clientSecret: string;
}

export function providerSecretContext(providerId: string): SecretContext {
  return { tenant: "_", table: "oauth_providers", row: providerId, field: "client_secret" };
}

export function tokenSecretContext(t: Pick<StoredOAuthToken, "id" | "orgId">, field: "access_token" | "refresh_token"): SecretContext {
  return { tenant: t.orgId ?? "_", table: "oauth_tokens", row: t.id, field };
}

export function stateSecretContext(state: string, orgId: string | null): SecretContext {
  return { tenant: orgId ?? "_", table: "oauth_states", row: state, field: "code_verifier" };
}

/**
 * Parsed settings and the decrypted client secret, cached per SecretBox by (provider id, updated_at,
 * ciphertext): a changed provider or a re-wrapped secret is a new key. Memory only, bounded.
 */
const providerCache = new WeakMap<SecretBox, Map<string, { settings: ProviderSettings; clientSecret: string }>>();

export function loadProvider(box: SecretBox, row: StoredOAuthProvider): LoadedProvider {
  let cache = providerCache.get(box);
  if (!cache) {
    cache = new Map();
    providerCache.set(box, cache);
  }
  const key = `${row.id}\u0000${row.updatedAt}\u0000${row.clientSecret}`;
  let hit = cache.get(key);
  if (!hit) {
    let settings: ProviderSettings;
    try {
      settings = JSON.parse(row.settings) as ProviderSettings;
    } catch {
      throw new OAuthConfigError(`The stored OAuth provider settings are unreadable; set the provider again.`);
    }
    hit = { settings, clientSecret: box.decrypt(row.clientSecret, providerSecretContext(row.id)) };
    if (cache.size > 1000) cache.clear();
    cache.set(key, hit);
  }
  return { row, settings: hit.settings, clientSecret: hit.clientSecret };
}

export async function readProvider(store: Store, box: SecretBox, integrationId: string): Promise<LoadedProvider | null> {
  const row = await store.getOAuthProvider(integrationId);
  return row ? loadProvider(box, row) : null;
}

export const ownerKey = {
  integration: (): string => "i",
  org: (orgId: string): string => `o:${orgId}`,
  mapping: (mappingId: string): string => `m:${mappingId}`,
};

/** A fresh, empty credential row for an owner. */
export function emptyToken(clock: Clock, integrationId: string, owner: { orgId: string | null; mappingId: string | null }): StoredOAuthToken {
  const now = clock.now();
  return {
    id: clock.id(),
    integrationId,
    orgId: owner.orgId,
    mappingId: owner.mappingId,
    ownerKey: owner.mappingId ? ownerKey.mapping(owner.mappingId) : owner.orgId ? ownerKey.org(owner.orgId) : ownerKey.integration(),
    state: "not_connected",
    accessToken: null,
    refreshToken: null,
    tokenType: null,
    expiresAt: null,
    obtainedAt: null,
    scopes: [],
    extra: {},
    lastRefreshAt: null,
    lastError: null,
    failureCount: 0,
    nextAttemptAt: null,
    claimedUntil: null,
    refreshStartedAt: null,
    refreshOwner: null,
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** The row patch for a successful token response: a new refresh token replaces the old, none keeps it. */
export function tokenPatch(box: SecretBox, row: StoredOAuthToken, t: TokenSet, now: Date, requestedScopes: string[]) {
  const at = now.toISOString();
  return {
    state: "connected" as const,
    accessToken: box.encrypt(t.accessToken, tokenSecretContext(row, "access_token")),
    ...(t.refreshToken !== null ? { refreshToken: box.encrypt(t.refreshToken, tokenSecretContext(row, "refresh_token")) } : {}),
    tokenType: t.tokenType,
    expiresAt: t.expiresIn === null ? null : new Date(now.getTime() + t.expiresIn * 1000).toISOString(),
    obtainedAt: at,
    scopes: t.scopes ?? (row.scopes.length ? row.scopes : requestedScopes),
    extra: t.extra,
    lastRefreshAt: at,
    lastError: null,
    failureCount: 0,
    nextAttemptAt: null,
    claimedUntil: null,
    refreshStartedAt: null,
    refreshOwner: null,
    updatedAt: at,
  };
}

/**
 * Whether the stored access token can be handed out without a refresh: present, not dead, and not
 * within `skewSeconds` of expiry (the skew is capped at half the token's lifetime). No expiry = fresh
 * (refreshed reactively).
 */
export function isFresh(t: StoredOAuthToken, nowMs: number, skewSeconds: number): boolean {
  if (!t.accessToken || t.state === "needs_reauth" || t.state === "not_connected") return false;
  const due = dueAtMs(t, skewSeconds);
  return due === null || nowMs < due;
}

/**
 * When a usable token becomes due for renewal: `skewSeconds` before expiry, but never earlier than half
 * its lifetime (a 60-second token is not renewed every tick of a 5-minute horizon). Null: never expires.
 */
export function dueAtMs(t: StoredOAuthToken, skewSeconds: number): number | null {
  if (t.expiresAt === null) return null;
  const exp = Date.parse(t.expiresAt);
  const lifetime = t.obtainedAt ? exp - Date.parse(t.obtainedAt) : Number.POSITIVE_INFINITY;
  return exp - Math.min(skewSeconds * 1000, Math.max(0, lifetime / 2));
}

/** Not expired at all (usable while a refresh is backing off). */
export function isUnexpired(t: StoredOAuthToken, nowMs: number): boolean {
  return !!t.accessToken && t.state !== "needs_reauth" && (t.expiresAt === null || Date.parse(t.expiresAt) > nowMs);
}

export function credentialsOf(box: SecretBox, t: StoredOAuthToken, flow: ProviderSettings["flow"]): OAuthCredentials {
  const creds: OAuthCredentials = {
    accessToken: box.decrypt(t.accessToken as string, tokenSecretContext(t, "access_token")),
    tokenType: t.tokenType ?? "bearer",
    expiresAt: t.expiresAt ? new Date(t.expiresAt) : null,
    scopes: [...t.scopes],
  };
  if (flow === "authorization_code" && t.refreshToken) creds.refreshToken = box.decrypt(t.refreshToken, tokenSecretContext(t, "refresh_token"));
  return Object.freeze(creds);
}
