import { NotFoundError } from "../../core/errors.js";
import type { ApiKeyRole, ConfigValue } from "../../core/types.js";
import { requireIntegration } from "../../kernel/lookup.js";
import { auditContext, withAuditContext } from "../../kernel/audit.js";
import { EXECUTION_HEADER } from "../../host/remote-resolver.js";
import { getMapping, getStoredConfig, listMappingsPage, removeMapping, setConfig, setMapping } from "../../services/mappings.js";
import { ADMIN_ROLES, actorOf, checkOrgAccess, isPlatform, orgNotFound } from "../auth.js";
import type { Api } from "../route.js";
import { ConfigValues, PageQuery, PutMappingBody, ResolvedQuery } from "../schemas.js";
import { changeOut, mappingOut, resolvedOAuthOut, resolvedOut, resolvedSchemaOut } from "../views.js";

const WORKFLOW_READERS: readonly ApiKeyRole[] = ["platform_admin", "workflow"];

const tag = "mappings";

function noMapping(integration: string, org: string): NotFoundError {
  return new NotFoundError(`Organization "${org}" has no mapping to integration "${integration}". Create one with PUT /api/integrations/${integration}/mappings/${org}.`, {
    integration,
    org,
  });
}

export function mappingRoutes(api: Api): void {
  const bf = api.bifrost;

  api.route({
    method: "GET",
    url: "/api/integrations/:name/mappings",
    summary: "List the integration's mappings by org slug, paginated (q: org slug or name, entity id or name). Org-scoped keys see only their own org's.",
    tag,
    roles: ADMIN_ROLES,
    action: "list mappings",
    query: PageQuery,
    handler: async ({ caller, params, query }) => {
      const page = await listMappingsPage(bf, params.name as string, query, isPlatform(caller) ? undefined : (caller.orgId ?? "-"));
      return { mappings: page.rows.map(mappingOut), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/mappings/:org",
    summary: "Get one organization's mapping: entity and overrides (secrets masked).",
    tag,
    roles: ADMIN_ROLES,
    action: "read mappings",
    handler: async ({ caller, params }) => {
      const { name, org } = params as { name: string; org: string };
      checkOrgAccess(caller, org);
      const m = await getMapping(bf, name, org);
      if (!m) throw noMapping(name, org);
      return mappingOut(m);
    },
  });

  api.route({
    method: "PUT",
    url: "/api/integrations/:name/mappings/:org",
    summary: "Create or update a mapping (entity id/name and overrides). 201 when created.",
    tag,
    roles: ADMIN_ROLES,
    action: "change mappings",
    body: PutMappingBody,
    handler: async ({ caller, params, body, reply }) => {
      const { name, org } = params as { name: string; org: string };
      checkOrgAccess(caller, org);
      const res = await setMapping(bf, name, org, { entityId: body.entity_id, entityName: body.entity_name, config: body.config }, actorOf(caller));
      if (res.created) void reply.code(201);
      return { mapping: mappingOut(res.mapping), created: res.created, changed: res.changed, changes: changeOut(res.config) };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/integrations/:name/mappings/:org",
    summary: "Remove a mapping together with the organization's overrides.",
    tag,
    roles: ADMIN_ROLES,
    action: "remove mappings",
    handler: async ({ caller, params }) => {
      const { name, org } = params as { name: string; org: string };
      checkOrgAccess(caller, org);
      const res = await removeMapping(bf, name, org, actorOf(caller));
      if (!res.removed) throw noMapping(name, org);
      return { deleted: true, integration: name, org, deleted_overrides: res.deletedOverrides };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/mappings/:org/config",
    summary: "Get the organization's stored overrides (not merged; secrets masked).",
    tag,
    roles: ADMIN_ROLES,
    action: "read config overrides",
    handler: async ({ caller, params }) => {
      const { name, org } = params as { name: string; org: string };
      checkOrgAccess(caller, org);
      return { integration: name, org, config: await getStoredConfig(bf, name, org) };
    },
  });

  api.route({
    method: "PATCH",
    url: "/api/integrations/:name/mappings/:org/config",
    summary: "Set overrides key by key; null deletes an override (falls back to the default). Creates an empty mapping if needed.",
    tag,
    roles: ADMIN_ROLES,
    action: "change config overrides",
    body: ConfigValues,
    handler: async ({ caller, params, body }) => {
      const { name, org } = params as { name: string; org: string };
      checkOrgAccess(caller, org);
      const res = await setConfig(bf, name, org, body, {}, actorOf(caller));
      return { integration: name, org, config: await getStoredConfig(bf, name, org), changes: changeOut(res.change), mapping_created: res.mappingCreated };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/resolved",
    summary:
      "Merged config (defaults + the org's overrides) with PLAINTEXT secrets, entity and mapping state, for remote workflow execution. The only route that returns plaintext.",
    tag: "resolved",
    // Plaintext is for workflow execution only: org_admin is a management role and never sees it.
    roles: WORKFLOW_READERS,
    action: "read resolved integrations",
    query: ResolvedQuery,
    handler: async ({ caller, params, query, reply, request }) => {
      void reply.header("cache-control", "no-store");
      const name = params.name as string;
      const slug = query.org ?? caller.orgSlug;
      // A remote execution names itself: its secret.read entry carries the execution id (a malformed one is ignored).
      const execution = request.headers[EXECUTION_HEADER];
      const executionId = typeof execution === "string" && /^[A-Za-z0-9-]{1,64}$/.test(execution) ? execution : null;
      const answer = async () => {
        let org = null;
        if (slug !== null) {
          checkOrgAccess(caller, slug);
          org = await bf.resolver.findOrg(slug);
          if (!org) throw orgNotFound(slug);
        }
        const resolved = await bf.resolver.resolve(name, org);
        if (!resolved) {
          await requireIntegration(bf.store, name); // the standard 404 (or 422 for an invalid name)
          throw new NotFoundError(`Integration "${name}" does not exist.`, { integration: name }); // deleted meanwhile
        }
        const config: Record<string, ConfigValue> = {};
        for (const key of resolved.config.keys()) config[key] = resolved.config.get(key) as ConfigValue;
        if (query.include === "schema") {
          const integration = await requireIntegration(bf.store, name);
          return { ...resolvedOut(resolved, org?.slug ?? null, config), ...resolvedSchemaOut(resolved, integration.configSchema) };
        }
        return {
          integration: resolved.name,
          org: org?.slug ?? null,
          entity_id: resolved.entityId,
          entity_name: resolved.entityName,
          mapped: resolved.mapped,
          config,
          oauth: resolvedOAuthOut(resolved.oauth),
        };
      };
      return executionId === null ? answer() : withAuditContext({ ...auditContext(), executionId }, answer);
    },
  });
}
