import { toWireSchema } from "../../core/config-schema.js";
import { createIntegration, deleteIntegration, getIntegration, listIntegrationsPage, updateIntegration } from "../../services/integrations.js";
import { ADMIN_ROLES, PLATFORM_ONLY } from "../auth.js";
import type { Api } from "../route.js";
import { ConfigValues, CreateIntegrationBody, ForceQuery, PageQuery, PutSchemaBody, UpdateIntegrationBody } from "../schemas.js";
import { changeOut, integrationOut } from "../views.js";

const tag = "integrations";

export function integrationRoutes(api: Api): void {
  const bf = api.bifrost;

  api.route({
    method: "GET",
    url: "/api/integrations",
    summary: "List integrations by name with their schema and defaults (secrets masked), paginated (q: name or description).",
    tag,
    roles: ADMIN_ROLES,
    action: "list integrations",
    query: PageQuery,
    handler: async ({ caller, query }) => {
      const page = await listIntegrationsPage(bf, query);
      return { integrations: page.rows.map((v) => integrationOut(v, caller)), next_cursor: page.nextCursor };
    },
  });

  api.route({
    method: "POST",
    url: "/api/integrations",
    summary: "Create an integration.",
    tag,
    roles: PLATFORM_ONLY,
    action: "create integrations",
    body: CreateIntegrationBody,
    status: 201,
    handler: async ({ caller, body }) => {
      const view = await createIntegration(bf, { name: body.name, description: body.description ?? null, configSchema: body.config_schema, defaults: body.defaults, trustedOrigins: body.trusted_origins, privateNetwork: body.private_network });
      return integrationOut(view, caller);
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name",
    summary: "Get one integration (secrets masked).",
    tag,
    roles: ADMIN_ROLES,
    action: "read integrations",
    handler: async ({ caller, params }) => integrationOut(await getIntegration(bf, params.name as string), caller),
  });

  api.route({
    method: "PATCH",
    url: "/api/integrations/:name",
    summary: "Update name, description, schema (guarded: removing keys with values needs force) and defaults in one transaction.",
    tag,
    roles: PLATFORM_ONLY,
    action: "change integrations",
    body: UpdateIntegrationBody,
    handler: async ({ caller, params, body }) => {
      const res = await updateIntegration(bf, params.name as string, {
        name: body.name,
        description: body.description,
        configSchema: body.config_schema,
        defaults: body.defaults,
        trustedOrigins: body.trusted_origins,
        privateNetwork: body.private_network,
        force: body.force,
      });
      return {
        integration: integrationOut(res.integration, caller),
        changed: res.changed,
        schema_changed: res.schemaChanged,
        deleted_values: res.deletedValues,
        changes: changeOut(res.defaults),
      };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/integrations/:name",
    summary: "Delete an integration; refused while it has mappings unless ?force=true.",
    tag,
    roles: PLATFORM_ONLY,
    action: "delete integrations",
    query: ForceQuery,
    handler: async ({ params, query }) => {
      const res = await deleteIntegration(bf, params.name as string, { force: query.force === "true" });
      return { deleted: true, integration: params.name, deleted_mappings: res.deletedMappings };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/schema",
    summary: "Get the config schema.",
    tag,
    roles: ADMIN_ROLES,
    action: "read integrations",
    handler: async ({ params }) => {
      const v = await getIntegration(bf, params.name as string);
      return { integration: v.name, config_schema: toWireSchema(v.configSchema) };
    },
  });

  api.route({
    method: "PUT",
    url: "/api/integrations/:name/schema",
    summary: "Replace the config schema; a change that would delete stored values answers 409 unless force is true.",
    tag,
    roles: PLATFORM_ONLY,
    action: "change integration schemas",
    body: PutSchemaBody,
    handler: async ({ params, body }) => {
      const res = await updateIntegration(bf, params.name as string, { configSchema: body.config_schema, force: body.force });
      return {
        integration: res.integration.name,
        config_schema: toWireSchema(res.integration.configSchema),
        schema_changed: res.schemaChanged,
        deleted_values: res.deletedValues,
      };
    },
  });

  api.route({
    method: "GET",
    url: "/api/integrations/:name/defaults",
    summary: "Get the integration-level defaults (secrets masked).",
    tag,
    roles: ADMIN_ROLES,
    action: "read integrations",
    handler: async ({ params }) => {
      const v = await getIntegration(bf, params.name as string);
      return { integration: v.name, defaults: v.defaults };
    },
  });

  api.route({
    method: "PATCH",
    url: "/api/integrations/:name/defaults",
    summary: "Set defaults key by key; null deletes a default; a masked secret keeps the stored one.",
    tag,
    roles: PLATFORM_ONLY,
    action: "change integration defaults",
    body: ConfigValues,
    handler: async ({ params, body }) => {
      const res = await updateIntegration(bf, params.name as string, { defaults: body });
      return { integration: res.integration.name, defaults: res.integration.defaults, changes: changeOut(res.defaults) };
    },
  });
}
