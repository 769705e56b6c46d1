/** `GET /api/audit`: the audit trail (platform admins: every entry; org admins: their organization's only). */
import { listAudit } from "../../services/audit.js";
import { ADMIN_ROLES, checkOrgAccess, readScopeOf } from "../auth.js";
import type { Api } from "../route.js";
import { AuditListQuery, AuditPageOut } from "../schemas.js";

export function auditRoutes(api: Api): void {
  const bf = api.bifrost;
  api.route({
    method: "GET",
    url: "/api/audit",
    summary:
      "Audit trail, newest first: who (API key id/prefix/name, console session's key, local CLI, the server) did what (action) to which names (integration, org, config keys), with the request or execution id. Never values. Org admins see their organization's entries only.",
    tag: "audit",
    roles: ADMIN_ROLES,
    action: "read the audit trail",
    query: AuditListQuery,
    response: AuditPageOut,
    handler: async ({ caller, query, reply }) => {
      void reply.header("cache-control", "no-store");
      // Another organization's slug answers 404, exactly like one that does not exist.
      if (query.org !== undefined) checkOrgAccess(caller, query.org);
      const scope = readScopeOf(caller, "audit entries");
      return listAudit(
        bf,
        {
          org: query.org,
          integration: query.integration,
          action: query.action,
          since: query.since,
          cursor: query.cursor,
          limit: query.limit === undefined ? undefined : Number(query.limit),
        },
        scope,
      );
    },
  });
}
