/** oauth_status, list_events and create_connect_link: connection health, events and connect links, never a token. */
import { createConnectLink, getOAuthStatus, listOAuthEvents } from "../../../oauth/service.js";
import { ADMIN_ROLES, checkOrgAccess, isPlatform } from "../../auth.js";
import { connectionOrg } from "../../routes/oauth.js";
import { oauthConnectionOut, oauthEventOut } from "../../views.js";
import { ConnectLinkInput, ConnectLinkOutput, ListEventsInput, ListEventsOutput, OAuthStatusInput, OAuthStatusOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const oauthStatusTool = defineTool({
  name: "oauth_status",
  title: "OAuth connection status",
  description:
    "Connection health per integration and organization: state (connected, refreshing, needs_reauth, error, not_connected), expires_at, last_refresh_at, last_error, whether a refresh token exists. Never a token. Org-scoped keys see only their organization's connections.",
  input: OAuthStatusInput,
  output: OAuthStatusOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "read OAuth connections",
  run: async (ctx, args) => {
    const org = isPlatform(ctx.caller) ? (args.org ?? null) : connectionOrg(ctx.caller, args.org);
    const rows = await getOAuthStatus(ctx.bifrost, { ...(args.integration ? { integration: args.integration } : {}), ...(org ? { org } : {}) });
    return { connections: rows.map(oauthConnectionOut) };
  },
});

export const listEventsTool = defineTool({
  name: "list_events",
  title: "List OAuth events",
  description: "OAuth events (connected, refreshed_after_failure, refresh_failed, needs_reauth, disconnected, link.created|used|expired|revoked), oldest first; filter by integration, org, type, or after (a created_at cursor). Org-scoped keys see only their organization's events.",
  input: ListEventsInput,
  output: ListEventsOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "read events",
  run: async (ctx, args) => {
    const org = isPlatform(ctx.caller) ? args.org : (connectionOrg(ctx.caller, args.org) ?? undefined);
    const events = await listOAuthEvents(ctx.bifrost, {
      ...(args.integration ? { integration: args.integration } : {}),
      ...(org ? { org } : {}),
      ...(args.type ? { type: args.type } : {}),
      ...(args.after ? { after: args.after } : {}),
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
    });
    return { events: events.map(oauthEventOut) };
  },
});

export const createConnectLinkTool = defineTool({
  name: "create_connect_link",
  title: "Create an OAuth connect link",
  description:
    "A one-time link (under BIFROST_PUBLIC_URL) an organization's administrator opens, without an API key, to connect the integration's OAuth account: it shows the integration and organization names and starts the authorization-code flow (PKCE). Works once; expires (default 7d, 5m … 30d). org_admin: its own organization only. The url is returned only here; events carry the link id.",
  input: ConnectLinkInput,
  output: ConnectLinkOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "create connect links",
  run: async (ctx, args) => {
    checkOrgAccess(ctx.caller, args.org);
    // The local CLI's stdio server has no key: its links are the CLI's (created_by null), like `bifrost oauth link`.
    const createdBy = ctx.actor.kind === "local_cli" ? null : ctx.caller.keyId;
    const link = await createConnectLink(ctx.oauthDeps, { integration: args.integration, org: args.org, createdBy, ...(args.expires !== undefined ? { expires: args.expires } : {}) });
    return { url: link.url, expires_at: link.expiresAt, id: link.id };
  },
});
