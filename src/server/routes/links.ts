import { BifrostError, ValidationError } from "../../core/errors.js";
import { redactText } from "../../crypto/redact.js";
import { createConnectLink, describeConnectLink, pageConnectLinks, revokeConnectLink, useConnectLink, withOAuth } from "../../oauth/service.js";
import { ADMIN_ROLES, isPlatform } from "../auth.js";
import { redirectToProvider, sendConnectPage } from "../connect-page.js";
import type { Api } from "../route.js";
import { ConnectLinkBody, OAuthLinksQuery } from "../schemas.js";
import { connectLinkOut } from "../views.js";
import { connectionOrg } from "./oauth.js";

const tag = "oauth";

const TITLES: Readonly<Record<number, string>> = { 404: "Link not found", 410: "Link no longer valid" };

/** Connect links: the admin routes (API key) and the public page (`/connect/{token}`, no key). */
export function linkRoutes(api: Api): void {
  const deps = api.oauthDeps;
  const loopback = withOAuth(deps).oauth.allowHttpLoopback;

  api.route({
    method: "POST",
    url: "/api/integrations/:name/oauth/links",
    summary:
      "Create a one-time connect link for an organization: {url, expires_at, …}. The url (under BIFROST_PUBLIC_URL) needs no API key, works once and expires (default 7d, at most 30d). org_admin: its own org only; platform_admin: any org (required).",
    tag,
    roles: ADMIN_ROLES,
    action: "create connect links",
    status: 201,
    body: ConnectLinkBody,
    handler: async ({ caller, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      const org = connectionOrg(caller, body.org);
      if (!org) throw new ValidationError('A connect link is for one organization: name it ("org": "SLUG").', { field: "org" });
      const link = await createConnectLink(deps, { integration: params.name as string, org, createdBy: caller.keyId, ...(body.expires !== undefined ? { expires: body.expires } : {}) });
      return { ...connectLinkOut(link), url: link.url };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/oauth/links",
    summary: "Connect links of the integration, newest first, paginated (status active / used / expired / revoked; never the token). Org-scoped keys see only their org's.",
    tag,
    roles: ADMIN_ROLES,
    action: "read connect links",
    query: OAuthLinksQuery,
    handler: async ({ caller, params, query }) => {
      const org = connectionOrg(caller, query.org);
      const page = await pageConnectLinks(deps, { integration: params.name as string, org, limit: query.limit, cursor: query.cursor });
      return { links: page.rows.map(connectLinkOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/oauth/links/:id",
    summary: "Revoke an unused connect link (410 when already used or revoked). Org-scoped keys: their org's links only (another org's answers 404).",
    tag,
    roles: ADMIN_ROLES,
    action: "revoke connect links",
    handler: async ({ caller, params }) => {
      const link = await revokeConnectLink(deps, { id: params.id as string, org: isPlatform(caller) ? null : caller.orgSlug });
      return { link: connectLinkOut(link) };
    },
  });

  const failPage = (reply: Parameters<typeof sendConnectPage>[0], err: unknown) => {
    if (err instanceof BifrostError) {
      const status = err.statusCode >= 500 ? 502 : err.statusCode;
      const title = TITLES[status] ?? "Cannot connect";
      return sendConnectPage(reply, status, { kind: "error", title, message: redactText(err.message), code: err.code }, loopback);
    }
    return sendConnectPage(reply, 500, { kind: "error", title: "Cannot connect", message: "Internal error; the server log has the details.", code: "BIFROST_INTERNAL" }, loopback);
  };

  api.publicRoute({
    method: "GET",
    url: "/connect/:token",
    summary: "A connect link's page (no API key; server-rendered, no JavaScript): the integration and organization names and a button that starts the flow. Never consumes the link. 404 unknown, 410 used / expired / revoked.",
    tag,
    produces: "text/html",
    // The URL carries the link's token: keep it out of the request log.
    logLevel: "warn",
    handler: async (request, reply) => {
      const token = String((request.params as Record<string, string>).token ?? "");
      try {
        const page = await describeConnectLink(deps, token);
        return sendConnectPage(reply, 200, { kind: "ready", ...page }, loopback);
      } catch (err) {
        if (!(err instanceof BifrostError)) request.log.error("connect link page failed unexpectedly");
        return failPage(reply, err);
      }
    },
  });

  api.publicRoute({
    method: "POST",
    url: "/connect/:token",
    summary: "The page's button (HTML form POST, no API key): consumes the link (once, even under concurrent clicks) and answers 303 to the provider's authorization URL (authorization code + PKCE); the flow ends at the usual callback.",
    tag,
    produces: "text/html",
    logLevel: "warn",
    acceptsForm: true,
    handler: async (request, reply) => {
      const token = String((request.params as Record<string, string>).token ?? "");
      try {
        const started = await useConnectLink(deps, token);
        return redirectToProvider(reply, started.authorizationUrl, loopback);
      } catch (err) {
        if (err instanceof BifrostError) request.log.warn({ code: err.code }, "connect link refused");
        else request.log.error("connect link failed unexpectedly");
        return failPage(reply, err);
      }
    },
  });
}
