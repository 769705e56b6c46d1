import { BifrostError } from "../../core/errors.js";
import { redactText } from "../../crypto/redact.js";
import { OAuthNoProviderError } from "../../oauth/errors.js";
import {
  completeAuthorization,
  disconnect,
  getOAuthProvider,
  pageOAuthEvents,
  pageOAuthStatus,
  refreshConnection,
  removeOAuthProvider,
  setOAuthProvider,
  startAuthorization,
} from "../../oauth/service.js";
import { requireIntegration } from "../../kernel/lookup.js";
import { ADMIN_ROLES, type Caller, checkOrgAccess, isPlatform, PLATFORM_ONLY } from "../auth.js";
import { sendCallbackPage } from "../callback-page.js";
import type { Api } from "../route.js";
import { EventsQuery, OAuthCallbackQuery, OAuthOrgBody, OAuthOrgPageQuery, OAuthOrgQuery, OAuthProviderBody, OAuthStatusPageQuery } from "../schemas.js";
import { oauthConnectionOut, oauthEventOut } from "../views.js";

const tag = "oauth";

/**
 * The org a connection call acts on. platform_admin: the one named, or null (integration level).
 * Org-scoped keys: their own org; naming another one answers 404 exactly like a missing org.
 */
export function connectionOrg(caller: Caller, requested: string | undefined): string | null {
  if (isPlatform(caller)) return requested ?? null;
  if (requested !== undefined) {
    checkOrgAccess(caller, requested);
    return requested;
  }
  return caller.orgSlug;
}

export function oauthRoutes(api: Api): void {
  const deps = api.oauthDeps;

  // -------------------------------------------------------------------------------------------
  // Provider

  api.route({
    method: "GET",
    url: "/api/integrations/:name/oauth",
    summary: "The integration's OAuth provider (client secret as {set, fingerprint}, never its value).",
    tag,
    roles: ADMIN_ROLES,
    action: "read OAuth providers",
    handler: async ({ params }) => {
      const name = params.name as string;
      const view = await getOAuthProvider(deps, name);
      if (!view) throw new OAuthNoProviderError((await requireIntegration(deps.store, name)).name);
      return { integration: name, oauth: view };
    },
  });

  api.route({
    method: "PUT",
    url: "/api/integrations/:name/oauth",
    summary: "Attach or replace the OAuth provider (the bifrost.yaml `oauth:` block). 201 when attached. A masked client secret keeps the stored one.",
    tag,
    roles: PLATFORM_ONLY,
    action: "change OAuth providers",
    body: OAuthProviderBody,
    handler: async ({ params, body, reply }) => {
      const name = params.name as string;
      const before = await getOAuthProvider(deps, name);
      const view = await setOAuthProvider(deps, name, body);
      if (!before) void reply.code(201);
      return { integration: name, oauth: view, created: before === null };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/integrations/:name/oauth",
    summary: "Detach the OAuth provider; its stored tokens are deleted (not revoked: disconnect first for that).",
    tag,
    roles: PLATFORM_ONLY,
    action: "remove OAuth providers",
    handler: async ({ params }) => {
      const name = params.name as string;
      if (!(await removeOAuthProvider(deps, name))) throw new OAuthNoProviderError((await requireIntegration(deps.store, name)).name);
      return { deleted: true, integration: name };
    },
  });

  // -------------------------------------------------------------------------------------------
  // Connecting

  api.route({
    method: "POST",
    url: "/api/integrations/:name/oauth/authorize",
    summary:
      "Start an authorization-code flow (PKCE S256 + state, 10 minutes): returns the provider URL to open. org_admin: its own org only; platform_admin: any org, or the integration level without org.",
    tag,
    roles: ADMIN_ROLES,
    action: "connect OAuth integrations",
    body: OAuthOrgBody,
    handler: async ({ caller, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      const org = connectionOrg(caller, body.org);
      const started = await startAuthorization(deps, { integration: params.name as string, org, initiatorKeyId: caller.keyId });
      return { authorization_url: started.authorizationUrl, state_expires_at: started.expiresAt, redirect_uri: started.redirectUri };
    },
  });

  api.publicRoute({
    method: "GET",
    url: "/api/oauth/callback/:integration",
    summary:
      "OAuth redirect URI (no API key: the browser arrives from the provider). Validates state/iss, exchanges the code, stores the token, and answers a small HTML page (connected / failed).",
    tag,
    produces: "text/html",
    // The URL carries a one-time code: keep it out of the request log.
    logLevel: "warn",
    query: OAuthCallbackQuery,
    handler: async (request, reply) => {
      const integration = String((request.params as Record<string, string>).integration ?? "").slice(0, 64);
      const query = (request.query ?? {}) as Record<string, string | string[] | undefined>;
      try {
        // No initiatorKeyId: a browser redirect cannot present the API key that started the flow.
        // The core still checks the state (unguessable, single use, 10 minutes, bound to this integration).
        const done = await completeAuthorization(deps, { integration, query });
        request.log.info({ integration, org: done.org }, "OAuth connection completed");
        return sendCallbackPage(reply, 200, { ok: true, integration: done.integration, org: done.org });
      } catch (err) {
        if (err instanceof BifrostError) {
          request.log.warn({ integration, code: err.code }, "OAuth callback refused");
          const status = err.statusCode >= 500 ? 502 : err.statusCode;
          return sendCallbackPage(reply, status, { ok: false, integration, reason: redactText(err.message), code: err.code });
        }
        request.log.error({ integration }, "OAuth callback failed unexpectedly");
        return sendCallbackPage(reply, 500, { ok: false, integration, reason: "Internal error; the server log has the details.", code: "BIFROST_INTERNAL" });
      }
    },
  });

  // -------------------------------------------------------------------------------------------
  // Connection health

  api.route({
    method: "GET",
    url: "/api/integrations/:name/oauth/status",
    summary:
      "Connection health per mapping (state, expires_at, last_refresh_at, last_error, has_refresh_token), by org slug, paginated (q: org slug or entity id); never a token. Org-scoped keys see only their org. Every organization, mapped or not: GET /api/connections.",
    tag,
    roles: ADMIN_ROLES,
    action: "read OAuth connections",
    query: OAuthOrgPageQuery,
    handler: async ({ caller, params, query }) => {
      const org = connectionOrg(caller, query.org);
      const page = await pageOAuthStatus(deps, { integration: params.name as string, ...(org ? { org } : {}) }, query);
      return { connections: page.rows.map(oauthConnectionOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "GET",
    url: "/api/oauth/status",
    summary:
      "Connection health of every integration with an OAuth provider (mapped organizations and the integration level), by integration then org slug, paginated (q: integration, org slug or entity id). Org-scoped keys see only their org's connections.",
    tag,
    roles: ADMIN_ROLES,
    action: "read OAuth connections",
    query: OAuthStatusPageQuery,
    handler: async ({ caller, query }) => {
      const org = isPlatform(caller) ? (query.org ?? null) : connectionOrg(caller, query.org);
      const page = await pageOAuthStatus(deps, { ...(query.integration ? { integration: query.integration } : {}), ...(org ? { org } : {}) }, query);
      return { connections: page.rows.map(oauthConnectionOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "POST",
    url: "/api/integrations/:name/oauth/refresh",
    summary: "Force a refresh now (client credentials: mint a new token). Returns the connection status; failures answer the classified error.",
    tag,
    roles: ADMIN_ROLES,
    action: "refresh OAuth connections",
    body: OAuthOrgBody,
    handler: async ({ caller, params, body }) => {
      const org = connectionOrg(caller, body.org);
      return { connection: oauthConnectionOut(await refreshConnection(deps, { integration: params.name as string, org })) };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/integrations/:name/oauth/connection",
    summary: "Disconnect: revoke the token at the provider when it offers RFC 7009 revocation, then delete it.",
    tag,
    roles: ADMIN_ROLES,
    action: "disconnect OAuth connections",
    query: OAuthOrgQuery,
    handler: async ({ caller, params, query }) => {
      const org = connectionOrg(caller, query.org);
      const res = await disconnect(deps, { integration: params.name as string, org });
      return { integration: params.name, org, disconnected: res.disconnected, revoked: res.revoked, revocation_error: res.revocationError };
    },
  });

  // -------------------------------------------------------------------------------------------
  // Events

  api.route({
    method: "GET",
    url: "/api/events",
    summary:
      "OAuth events (connected, refreshed, refresh_failed, needs_reauth, disconnected, link.*), oldest first, paginated (cursor; `after` still narrows by time; q: event type). Org-scoped keys see only their org's events.",
    tag: "events",
    roles: ADMIN_ROLES,
    action: "read events",
    query: EventsQuery,
    handler: async ({ caller, query }) => {
      const org = isPlatform(caller) ? query.org : (connectionOrg(caller, query.org) ?? undefined);
      const page = await pageOAuthEvents(deps, {
        ...(query.integration ? { integration: query.integration } : {}),
        ...(org ? { org } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.after ? { after: query.after } : {}),
        limit: query.limit,
        cursor: query.cursor,
        q: query.q,
      });
      return { events: page.events.map(oauthEventOut), next_cursor: page.nextCursor };
    },
  });
}
