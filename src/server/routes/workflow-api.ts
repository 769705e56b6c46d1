/**
 * The routes remote workflow execution needs besides `GET /api/integrations/:name/resolved`
 * (see docs/remote.md): the org lookup, the integration list, and the version-conditional OAuth refresh
 * after a 401. `workflow` keys act for their own organization only (any other answers 404 like an
 * organization that does not exist); `platform_admin` keys for any.
 */
import { timingSafeEqual } from "node:crypto";
import { NotFoundError } from "../../core/errors.js";
import type { ApiKeyRole } from "../../core/types.js";
import { tokenFingerprint } from "../../host/remote-resolver.js";
import type { ExecutionOrg } from "../../kernel/types.js";
import { requireIntegration } from "../../kernel/lookup.js";
import { type Caller, checkOrgAccess, orgNotFound } from "../auth.js";
import type { Api } from "../route.js";
import { RefreshIfStaleBody, WorkflowIntegrationsPageOut, WorkflowIntegrationsQuery } from "../schemas.js";
import { matchesQ, pageInMemory, pageLimit } from "../../core/page.js";
import { resolvedOAuthOut } from "../views.js";

/** The same roles as `…/resolved`: org_admin is a management role and gets no plaintext credentials. */
const WORKFLOW_READERS: readonly ApiKeyRole[] = ["platform_admin", "workflow"];

const tag = "workflow";

function sameFingerprint(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export function workflowApiRoutes(api: Api): void {
  const bf = api.bifrost;

  /** `?org=` (or the key's own org) → the org; null for a platform key without one. */
  async function orgFor(caller: Caller, slug: string | undefined): Promise<ExecutionOrg | null> {
    const s = slug ?? caller.orgSlug;
    if (s === null) return null;
    checkOrgAccess(caller, s);
    const org = await bf.resolver.findOrg(s);
    if (!org) throw orgNotFound(s);
    return org;
  }

  api.route({
    method: "GET",
    url: "/api/workflow/orgs/:slug",
    summary: "Look up an organization for workflow execution (remote mode's findOrg). Org-scoped keys: their own organization only (others answer 404).",
    tag,
    roles: WORKFLOW_READERS,
    action: "look up organizations for workflows",
    handler: async ({ caller, params }) => {
      const org = await orgFor(caller, params.slug as string);
      return org ? { id: org.id, slug: org.slug, name: org.name } : null;
    },
  });

  api.route({
    method: "GET",
    url: "/api/workflow/integrations",
    summary: "Every integration with whether (and to which entity) the organization is mapped: what integrations.list() returns in a workflow. By name, paginated (q: name).",
    tag,
    roles: WORKFLOW_READERS,
    action: "list integrations for workflows",
    query: WorkflowIntegrationsQuery,
    response: WorkflowIntegrationsPageOut,
    handler: async ({ caller, query, reply }) => {
      void reply.header("cache-control", "no-store");
      const org = await orgFor(caller, query.org);
      const items = (await bf.resolver.list(org)).filter((i) => matchesQ(query.q, i.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const page = pageInMemory(items, { limit: pageLimit(query.limit), cursor: query.cursor, kind: "workflow-integrations", key: (i) => i.name });
      return { org: org?.slug ?? null, integrations: page.rows.map((i) => ({ name: i.name, mapped: i.mapped, entity_id: i.entityId, entity_name: i.entityName })), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "POST",
    url: "/api/integrations/:name/oauth/refresh-if-stale",
    summary:
      "After an API rejected an access token (401): force one refresh, but only if the stored token is still the one the caller saw (compared by SHA-256 fingerprint; the token is never sent). Returns the current credentials.",
    tag,
    roles: WORKFLOW_READERS,
    action: "refresh OAuth tokens for workflows",
    body: RefreshIfStaleBody,
    handler: async ({ caller, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      const name = params.name as string;
      const org = await orgFor(caller, body.org);
      const current = await bf.resolver.resolve(name, org);
      if (!current) {
        await requireIntegration(bf.store, name); // the standard 404 (or 422 for an invalid name)
        throw new NotFoundError(`Integration "${name}" does not exist.`, { integration: name });
      }
      let oauth = current.oauth;
      // Still the token the caller saw: the core's forced refresh (single-flight per token, row lock across processes).
      if (oauth && sameFingerprint(tokenFingerprint(oauth.accessToken), body.seen_access_token_fingerprint)) {
        oauth = await bf.resolver.refreshOAuth(name, org, oauth.accessToken);
      }
      return { integration: name, org: org?.slug ?? null, oauth: resolvedOAuthOut(oauth) };
    },
  });
}
