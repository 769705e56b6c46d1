/** oauth_status, list_events and create_connect_link: connection health and events, never a token. */
import { BifrostError } from "../../../core/errors.js";
import { getOAuthStatus, listOAuthEvents } from "../../../oauth/service.js";
import { ADMIN_ROLES, checkOrgAccess, isPlatform } from "../../auth.js";
import { connectionOrg } from "../../routes/oauth.js";
import { oauthConnectionOut, oauthEventOut } from "../../views.js";
import { requireIntegration, requireOrg } from "../../../kernel/lookup.js";
import { ConnectLinkInput, ConnectLinkOutput, ListEventsInput, ListEventsOutput, OAuthStatusInput, OAuthStatusOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

/** A feature this installation does not offer (yet); nothing was changed. */
class FeatureUnavailableError extends BifrostError {
  constructor(feature: string, message: string) {
    super("BIFROST_FEATURE_UNAVAILABLE", 501, message, { feature });
  }
}

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
  description: "OAuth events (connected, refreshed_after_failure, refresh_failed, needs_reauth, disconnected), oldest first; filter by integration, org, type, or after (a created_at cursor). Org-scoped keys see only their organization's events.",
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
    "A single-use link an organization's administrator opens to connect the integration's OAuth account, without an API key. Not available in this version: the call answers BIFROST_FEATURE_UNAVAILABLE (use `bifrost oauth connect INTEGRATION --org SLUG` instead).",
  input: ConnectLinkInput,
  output: ConnectLinkOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "create connect links",
  run: async (ctx, args) => {
    checkOrgAccess(ctx.caller, args.org);
    await requireIntegration(ctx.bifrost.store, args.integration);
    await requireOrg(ctx.bifrost.store, args.org);
    throw new FeatureUnavailableError(
      "connect_links",
      `Connect links are not available in this version of Bifrost, so no link was created. Connect "${args.integration}" for "${args.org}" with \`bifrost oauth connect ${args.integration} --org ${args.org}\` (or POST /api/integrations/${args.integration}/oauth/authorize).`,
    );
  },
});
