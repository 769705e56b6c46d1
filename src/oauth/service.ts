import { cutPage, type Page, PAGE_MAX, type PageInput, pageInMemory, pageRequest } from "../core/page.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import type { Store, StoredOAuthToken } from "../storage/store.js";
import { OAuthNoProviderError, OAuthNotConnectedError } from "./errors.js";
import { recordEvent } from "./events.js";
import { classify, revoke } from "./grants.js";
import { type OAuthOptions, resolveOptions, withIntegrationPolicy } from "./options.js";
import { providerView, type ProviderView } from "./provider-settings.js";
import { ensureFresh, type RefreshDeps, type RefreshHooks } from "./refresh.js";
import { loadProvider, ownerKey, providerSecretContext, readProvider, tokenSecretContext } from "./tokens.js";

import {
  type CompleteAuthorizationInput,
  type CompletedAuthorization,
  completeAuthorization as complete,
  type StartAuthorizationInput,
  type StartedAuthorization,
  startAuthorization as start,
} from "./authorize.js";
export { callbackUrl } from "./authorize.js";
import * as links from "./links.js";
export type { ConnectLinkPage, ConnectLinkView, CreatedConnectLink } from "./links.js";
export type { StartAuthorizationInput, StartedAuthorization, CompleteAuthorizationInput, CompletedAuthorization } from "./authorize.js";

/** Deps plus optional OAuth settings (defaults from the environment: BIFROST_PUBLIC_URL, BIFROST_ALLOW_HTTP_LOOPBACK). */
export interface OAuthDeps extends Deps {
  oauth?: Partial<OAuthOptions> & { hooks?: RefreshHooks };
}

export function withOAuth(deps: OAuthDeps): RefreshDeps {
  return { store: deps.store, box: deps.box, clock: deps.clock, oauth: { ...resolveOptions(deps.oauth), ...(deps.oauth?.hooks ? { hooks: deps.oauth.hooks } : {}) } };
}

/** Begin an authorization-code flow (PKCE S256 + state); returns the provider URL to open. */
export function startAuthorization(deps: OAuthDeps, input: StartAuthorizationInput): Promise<StartedAuthorization> {
  return start(withOAuth(deps), input);
}

/** Handle the callback (`/api/oauth/callback/:integration`): validates, exchanges the code, stores the token. */
export function completeAuthorization(deps: OAuthDeps, input: CompleteAuthorizationInput): Promise<CompletedAuthorization> {
  return complete(withOAuth(deps), input);
}

// ---------------------------------------------------------------------------------------------
// Connect links (links.ts)

/** Create a one-time connect link for an org (`bifrost oauth link`); the url carries the token, shown once. */
export function createConnectLink(deps: OAuthDeps, input: { integration: string; org: string; createdBy: string | null; expires?: string }): Promise<links.CreatedConnectLink> {
  return links.createConnectLink(withOAuth(deps), input);
}
export function pageConnectLinks(deps: OAuthDeps, filter: { integration: string; org?: string | null } & PageInput): Promise<Page<links.ConnectLinkView>> {
  return links.listConnectLinks(withOAuth(deps), filter);
}
/** Every connect link of an integration (or one org's), newest first: all pages. */
export async function listConnectLinks(deps: OAuthDeps, filter: { integration: string; org?: string | null }): Promise<links.ConnectLinkView[]> {
  const out: links.ConnectLinkView[] = [];
  let cursor: string | undefined;
  do {
    const page = await links.listConnectLinks(withOAuth(deps), { ...filter, limit: PAGE_MAX, ...(cursor ? { cursor } : {}) });
    out.push(...page.rows);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return out;
}
export function revokeConnectLink(deps: OAuthDeps, input: { id: string; org?: string | null }): Promise<links.ConnectLinkView> {
  return links.revokeConnectLink(withOAuth(deps), input);
}
/** The public page's content (integration and organization names only); never consumes the link. */
export function describeConnectLink(deps: OAuthDeps, token: string): Promise<links.ConnectLinkPage> {
  return links.describeConnectLink(withOAuth(deps), token);
}
/** Consume the link (once) and start the authorization-code flow for its org. */
export function useConnectLink(deps: OAuthDeps, token: string): Promise<StartedAuthorization> {
  return links.useConnectLink(withOAuth(deps), token);
}

// ---------------------------------------------------------------------------------------------
// Provider configuration

/** Attach or replace the OAuth provider of an integration. A masked client secret keeps the stored one. */
export async function setOAuthProvider(deps: Deps, integrationName: string, input: unknown): Promise<ProviderView> {
  const integration = await requireIntegration(deps.store, integrationName);
  const existing = await deps.store.getOAuthProvider(integration.id);
  // Loaded here: the parser brings zod, which resolving and refreshing tokens never need.
  const { parseProviderConfig } = await import("./provider-config.js");
  const parsed = parseProviderConfig(input, existing?.clientSecretFingerprint ?? null);
  const id = existing?.id ?? deps.clock.id();
  const now = deps.clock.now();
  const secret = parsed.clientSecret;
  const fingerprint = secret === null ? (existing?.clientSecretFingerprint as string) : deps.box.fingerprint(secret, providerSecretContext(id));
  const settings = JSON.stringify(parsed.settings);
  const changed = existing !== null && (existing.settings !== settings || (secret !== null && secret !== loadProvider(deps.box, existing).clientSecret));
  await deps.store.transaction(async (tx) => {
    await tx.putOAuthProvider({
      id,
      integrationId: integration.id,
      flow: parsed.settings.flow,
      settings,
      clientSecret: secret === null ? (existing?.clientSecret as string) : deps.box.encrypt(secret, providerSecretContext(id)),
      clientSecretFingerprint: fingerprint,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    if (changed) await resetBackoff(tx, integration.id, now);
    if (existing === null || changed) {
      const secretChanged = secret !== null && (existing === null || secret !== loadProvider(deps.box, existing).clientSecret);
      await recordAudit({ store: tx, clock: deps.clock }, "provider.write", {
        integration: { id: integration.id, name: integration.name },
        detail: { change: existing === null ? "created" : "updated", flow: parsed.settings.flow, client_secret_changed: secretChanged },
      });
    }
  });
  return providerView(parsed.settings, fingerprint);
}

/**
 * A changed provider (settings or client secret) may be the fix for the failures its tokens are backing
 * off from: clear failure_count and next_attempt_at so the next use retries at once. Dead grants
 * (needs_reauth) stay dead; last_error stays until the next attempt replaces it.
 */
async function resetBackoff(tx: Store, integrationId: string, at: string): Promise<void> {
  for (const t of await tx.listOAuthTokens({ integrationId })) {
    if (t.failureCount === 0 && t.nextAttemptAt === null) continue;
    await tx.updateOAuthToken(t.id, { failureCount: 0, nextAttemptAt: null, updatedAt: at });
  }
}

/** The provider as shown to people (secret masked), or null. */
export async function getOAuthProvider(deps: Deps, integrationName: string): Promise<ProviderView | null> {
  const integration = await requireIntegration(deps.store, integrationName);
  const row = await deps.store.getOAuthProvider(integration.id);
  return row ? providerView(loadProvider(deps.box, row).settings, row.clientSecretFingerprint) : null;
}

/** Detach the provider; its tokens are deleted (not revoked: call disconnect first for that). */
export async function removeOAuthProvider(deps: Deps, integrationName: string): Promise<boolean> {
  const integration = await requireIntegration(deps.store, integrationName);
  return deps.store.transaction(async (tx) => {
    const had = (await tx.getOAuthProvider(integration.id)) !== null;
    for (const t of await tx.listOAuthTokens({ integrationId: integration.id })) await tx.deleteOAuthToken(t.id);
    await tx.deleteOAuthProvider(integration.id);
    if (had) await recordAudit({ store: tx, clock: deps.clock }, "provider.write", { integration: { id: integration.id, name: integration.name }, detail: { change: "removed" } });
    return had;
  });
}

// ---------------------------------------------------------------------------------------------
// Connections

export interface OAuthConnectionView {
  integration: string;
  org: string | null;
  level: "mapping" | "org" | "integration";
  entityId: string | null;
  state: StoredOAuthToken["state"];
  expiresAt: string | null;
  lastRefreshAt: string | null;
  /** Never contains a token. */
  lastError: string | null;
  hasRefreshToken: boolean;
  scopes: string[];
  /** A refresh was started and not finished (process stopped, or a timeout left the outcome open). */
  refreshInterrupted: boolean;
  nextAttemptAt: string | null;
}

function view(integration: string, org: string | null, entityId: string | null, t: StoredOAuthToken | null, level: OAuthConnectionView["level"]): OAuthConnectionView {
  return {
    integration,
    org,
    level,
    entityId,
    state: t?.state ?? "not_connected",
    expiresAt: t?.expiresAt ?? null,
    lastRefreshAt: t?.lastRefreshAt ?? null,
    lastError: t?.lastError ?? null,
    hasRefreshToken: !!t?.refreshToken,
    scopes: t?.scopes ?? [],
    refreshInterrupted: !!t?.refreshStartedAt && t.state !== "connected",
    nextAttemptAt: t?.nextAttemptAt ?? null,
  };
}

/**
 * Connection health: for each integration with a provider (or the one named), the integration-level
 * connection and one entry per mapping (filtered to `org` when given).
 */
export async function getOAuthStatus(deps: Deps, filter: { integration?: string; org?: string } = {}): Promise<OAuthConnectionView[]> {
  const integrations = filter.integration ? [await requireIntegration(deps.store, filter.integration)] : await deps.store.listIntegrations();
  const org = filter.org ? await requireOrg(deps.store, filter.org) : null;
  const out: OAuthConnectionView[] = [];
  const orgs = new Map((await deps.store.listOrgs()).map((o) => [o.id, o.slug]));
  for (const i of integrations) {
    if (!(await deps.store.getOAuthProvider(i.id))) {
      if (filter.integration) throw new OAuthNoProviderError(i.name);
      continue;
    }
    const tokens = await deps.store.listOAuthTokens({ integrationId: i.id });
    const byKey = new Map(tokens.map((t) => [t.ownerKey, t]));
    if (!org) out.push(view(i.name, null, null, byKey.get(ownerKey.integration()) ?? null, "integration"));
    for (const m of await deps.store.listMappings({ integrationId: i.id, ...(org ? { orgId: org.id } : {}) })) {
      const t = byKey.get(ownerKey.mapping(m.id)) ?? byKey.get(ownerKey.org(m.orgId)) ?? null;
      out.push(view(i.name, orgs.get(m.orgId) ?? null, m.entityId, t, t && t.ownerKey.startsWith("o:") ? "org" : "mapping"));
    }
  }
  return out;
}

/**
 * One page of `getOAuthStatus` (ordered by integration, then org slug; the integration-level row
 * first), `q` matching integration, org slug or entity id. In memory over the mapped rows: the
 * scalable list of every organization's connection is `GET /api/connections` (services/connections.ts).
 */
export async function pageOAuthStatus(deps: Deps, filter: { integration?: string; org?: string }, input: PageInput): Promise<Page<OAuthConnectionView>> {
  const { limit } = pageRequest({ limit: input.limit }, "status", ["s"]);
  const q = input.q?.trim().toLowerCase();
  const rows = (await getOAuthStatus(deps, filter)).filter((c) => !q || [c.integration, c.org, c.entityId].some((f) => f?.toLowerCase().includes(q)));
  const key = (c: OAuthConnectionView) => `${c.integration}\u0000${c.org ?? ""}`;
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return pageInMemory(rows, { limit, cursor: input.cursor, kind: "status", key });
}

async function findConnection(deps: Deps, integrationName: string, orgSlug: string | null | undefined) {
  const integration = await requireIntegration(deps.store, integrationName);
  const provider = await readProvider(deps.store, deps.box, integration.id);
  if (!provider) throw new OAuthNoProviderError(integration.name);
  const org = orgSlug ? await requireOrg(deps.store, orgSlug) : null;
  const mapping = org ? await deps.store.getMapping(integration.id, org.id) : null;
  const keys = [...(mapping ? [ownerKey.mapping(mapping.id)] : []), ...(org ? [ownerKey.org(org.id)] : []), ...(org ? [] : [ownerKey.integration()])];
  const found = await deps.store.findOAuthTokens(integration.id, keys);
  const token = keys.map((k) => found.find((t) => t.ownerKey === k)).find((t) => t !== undefined) ?? null;
  return { integration, provider, org, mapping, token };
}

/** Force a refresh now (client credentials: mint a new token). Throws the classified error on failure. */
export async function refreshConnection(deps: OAuthDeps, input: { integration: string; org?: string | null }): Promise<OAuthConnectionView> {
  const rd = withOAuth(deps);
  const c = await findConnection(deps, input.integration, input.org);
  if (!c.token || c.token.state === "not_connected") {
    if (c.provider.settings.flow !== "client_credentials" || !c.token) {
      throw new OAuthNotConnectedError(`"${c.integration.name}"${c.org ? ` for organization "${c.org.slug}"` : ""} is not connected. Run \`bifrost oauth connect ${c.integration.name}\`.`, { integration: c.integration.name });
    }
  }
  const entityId = c.token.mappingId && c.mapping?.id === c.token.mappingId ? c.mapping.entityId : null;
  const t = await ensureFresh(withIntegrationPolicy(rd, c.integration), { integration: { id: c.integration.id, name: c.integration.name }, provider: c.provider, entityId }, c.token, { force: true });
  return view(c.integration.name, c.org?.slug ?? null, c.mapping?.entityId ?? null, t, t.ownerKey.startsWith("m:") ? "mapping" : t.ownerKey.startsWith("o:") ? "org" : "integration");
}

const levelOf = (owner: string): string => (owner.startsWith("m:") ? "mapping" : owner.startsWith("o:") ? "org" : "integration");

/** Remove the stored token, revoking it at the provider first when it offers RFC 7009 revocation. */
export async function disconnect(deps: OAuthDeps, input: { integration: string; org?: string | null }): Promise<{ disconnected: boolean; revoked: boolean; revocationError: string | null }> {
  const rd = withOAuth(deps);
  const c = await findConnection(deps, input.integration, input.org);
  if (!c.token) return { disconnected: false, revoked: false, revocationError: null };
  let revoked = false;
  let revocationError: string | null = null;
  const t = c.token;
  const secret = t.refreshToken ? { v: t.refreshToken, hint: "refresh_token" as const } : t.accessToken ? { v: t.accessToken, hint: "access_token" as const } : null;
  if (secret) {
    try {
      const plain = deps.box.decrypt(secret.v, tokenSecretContext(t, secret.hint));
      const entityId = t.mappingId && c.mapping?.id === t.mappingId ? c.mapping.entityId : null;
      revoked = await revoke({ integration: c.integration.name, settings: c.provider.settings, clientSecret: c.provider.clientSecret, entityId }, withIntegrationPolicy(rd, c.integration).oauth, plain, secret.hint);
    } catch (err) {
      revocationError = classify(err).reason;
    }
  }
  await deps.store.transaction(async (tx) => {
    await tx.deleteOAuthToken(t.id);
    await recordAudit({ store: tx, clock: deps.clock }, "oauth.disconnect", {
      integration: { id: c.integration.id, name: c.integration.name },
      org: t.orgId ? { id: t.orgId } : null,
      detail: { level: levelOf(t.ownerKey), revoked },
    });
    await recordEvent(tx, deps.clock, { type: "disconnected", integrationId: c.integration.id, orgId: t.orgId, payload: { revoked, ...(revocationError ? { revocationError } : {}) } });
  });
  return { disconnected: true, revoked, revocationError };
}

// ---------------------------------------------------------------------------------------------
// Events

export interface OAuthEventView {
  id: string;
  type: string;
  integration: string;
  org: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

/** Stored events, oldest first: one page (`after` is a created_at cursor; default 100, at most 1000). */
export async function listOAuthEvents(deps: Deps, filter: { integration?: string; org?: string; type?: string; after?: string; limit?: number } = {}): Promise<OAuthEventView[]> {
  return (await pageOAuthEvents(deps, filter)).events;
}

/** Events are paged up to this many (the route accepted 1000 before pagination; kept). */
export const EVENTS_PAGE_MAX = 1000;

/**
 * Stored events, oldest first, one page: `after` (a created_at time) and `cursor` (the previous page's
 * next_cursor) both narrow the start; `q` matches the event type.
 */
export async function pageOAuthEvents(
  deps: Deps,
  filter: { integration?: string; org?: string; type?: string; after?: string } & PageInput = {},
): Promise<{ events: OAuthEventView[]; nextCursor: string | null }> {
  const integration = filter.integration ? await requireIntegration(deps.store, filter.integration) : null;
  const org = filter.org ? await requireOrg(deps.store, filter.org) : null;
  const { limit, read } = pageRequest(filter, "events", ["s", "s"], EVENTS_PAGE_MAX);
  const rows = await deps.store.listOAuthEvents({
    ...(integration ? { integrationId: integration.id } : {}),
    ...(org ? { orgId: org.id } : {}),
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.after ? { after: filter.after } : {}),
    ...(read.after ? { afterKey: { createdAt: String(read.after[0]), id: String(read.after[1]) } } : {}),
    ...(read.like ? { like: read.like } : {}),
    limit: read.limit,
  });
  const page = cutPage(rows, limit, "events", (e) => [e.createdAt, e.id]);
  // Names of this page's integrations and organizations only (never every organization).
  const names = new Map<string, string>();
  const slugs = new Map<string, string>();
  for (const e of page.rows) {
    if (!names.has(e.integrationId)) names.set(e.integrationId, (await deps.store.getIntegrationById(e.integrationId))?.name ?? e.integrationId);
    if (e.orgId && !slugs.has(e.orgId)) slugs.set(e.orgId, (await deps.store.getOrgById(e.orgId))?.slug ?? e.orgId);
  }
  const events = page.rows.map((e) => ({ id: e.id, type: e.type, integration: names.get(e.integrationId) ?? e.integrationId, org: e.orgId ? (slugs.get(e.orgId) ?? e.orgId) : null, payload: e.payload, createdAt: e.createdAt }));
  return { events, nextCursor: page.nextCursor };
}
