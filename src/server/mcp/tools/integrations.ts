/** list_integrations and get_integration: the management views (secrets masked), never the workflow resolver's plaintext. */
import { getOAuthProvider } from "../../../oauth/service.js";
import { ADMIN_ROLES } from "../../auth.js";
import { connectionOrg } from "../../routes/oauth.js";
import { integrationOut } from "../../views.js";
import { getIntegration, listIntegrations } from "../../../services/integrations.js";
import { getMapping } from "../../../services/mappings.js";
import { GetIntegrationInput, GetIntegrationOutput, ListIntegrationsOutput, NoInput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const listIntegrationsTool = defineTool({
  name: "list_integrations",
  title: "List integrations",
  description: "Every integration with its config schema and integration-level defaults (secrets as {set, fingerprint}, never their value).",
  input: NoInput,
  output: ListIntegrationsOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "list integrations",
  run: async (ctx) => ({ integrations: (await listIntegrations(ctx.bifrost)).map((v) => integrationOut(v, ctx.caller)) }),
});

export const getIntegrationTool = defineTool({
  name: "get_integration",
  title: "Get an integration for an organization",
  description:
    "One integration as an organization sees it: defaults merged with the organization's overrides (secrets as {set, fingerprint}), where each value comes from, required keys still missing, the mapping's entity and the OAuth flow. Without org (platform_admin): the defaults only.",
  input: GetIntegrationInput,
  output: GetIntegrationOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "read integrations",
  run: async (ctx, args) => {
    const view = await getIntegration(ctx.bifrost, args.integration);
    const org = connectionOrg(ctx.caller, args.org);
    const mapping = org === null ? null : await getMapping(ctx.bifrost, view.name, org);
    const config: Record<string, unknown> = {};
    const sources: Record<string, "default" | "override"> = {};
    for (const [k, v] of Object.entries(view.defaults)) {
      config[k] = v;
      sources[k] = "default";
    }
    for (const [k, v] of Object.entries(mapping?.config ?? {})) {
      config[k] = v;
      sources[k] = "override";
    }
    const provider = await getOAuthProvider(ctx.bifrost, view.name);
    return {
      integration: view.name,
      description: view.description,
      org,
      mapped: mapping !== null,
      entity_id: mapping?.entityId ?? null,
      entity_name: mapping?.entityName ?? null,
      config,
      sources,
      missing_required: view.configSchema.filter((i) => i.required && !Object.hasOwn(config, i.key)).map((i) => i.key),
      config_schema: view.configSchema,
      oauth_flow: provider?.flow ?? null,
    };
  },
});
