/**
 * `GET /api/connections` (every OAuth connection, mapped or not, filtered, sorted and paged in the
 * database), `GET /api/console/integrations/:name/organizations` (one integration's organizations
 * for the console's Mappings tab) and `…/summary` (their counts for the Overview tab, one grouped
 * query). Org admins see their own organization's rows only.
 */
import { integrationSummary, listConnections, listIntegrationOrganizations } from "../../services/connections.js";
import { ADMIN_ROLES, checkOrgAccess, readScopeOf } from "../auth.js";
import type { Api } from "../route.js";
import { ConnectionsPageOut, ConnectionsQuery, IntegrationOrgsPageOut, IntegrationOrgsQuery, IntegrationSummaryOut } from "../schemas.js";

export function connectionRoutes(api: Api): void {
  const bf = api.bifrost;

  api.route({
    method: "GET",
    url: "/api/connections",
    summary:
      "Every OAuth connection: for each integration with a provider, one row per organization (mapped or not) and the integration-level row; filtered, sorted and paginated. Org admins see their own organization's rows only. Never a token.",
    tag: "oauth",
    roles: ADMIN_ROLES,
    action: "list connections",
    query: ConnectionsQuery,
    response: ConnectionsPageOut,
    handler: async ({ caller, query }) => {
      if (query.org !== undefined) checkOrgAccess(caller, query.org);
      const scope = readScopeOf(caller, "connections");
      return listConnections(
        bf,
        {
          limit: query.limit,
          cursor: query.cursor,
          q: query.q,
          state: query.state,
          integration: query.integration,
          org: query.org,
          expiringWithinDays: query.expiring_within_days,
          unmapped: query.unmapped === "true",
          sort: query.sort,
          order: query.order,
        },
        scope,
      );
    },
  });

  api.route({
    method: "GET",
    url: "/api/console/integrations/:name/organizations",
    summary:
      "One integration's organizations (mapped or not), by slug: mapping, override count and connection state (null without an OAuth provider); paginated. Org admins see their own organization only.",
    tag: "console",
    roles: ADMIN_ROLES,
    action: "read an integration's organizations",
    query: IntegrationOrgsQuery,
    response: IntegrationOrgsPageOut,
    handler: async ({ caller, params, query }) =>
      listIntegrationOrganizations(
        bf,
        params.name as string,
        { limit: query.limit, cursor: query.cursor, q: query.q, state: query.state, unmapped: query.unmapped === "true" },
        readScopeOf(caller, "organizations"),
      ),
  });

  api.route({
    method: "GET",
    url: "/api/console/integrations/:name/summary",
    summary:
      "One integration's organizations counted in one query: all, mapped, unmapped (no mapping or no entity id) and per connection state (null without an OAuth provider); the same numbers as the organizations list's totals with those filters. Org admins count their own organization only.",
    tag: "console",
    roles: ADMIN_ROLES,
    action: "read an integration's organizations",
    response: IntegrationSummaryOut,
    handler: async ({ caller, params }) => integrationSummary(bf, params.name as string, readScopeOf(caller, "organizations")),
  });
}
