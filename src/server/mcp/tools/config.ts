/**
 * set_config and set_mapping: the same service calls as PATCH …/defaults, PATCH …/mappings/:org/config
 * and PUT …/mappings/:org, so every validation and role rule of the services applies. All-or-nothing:
 * a value that fails validation is a tool error naming the key, and nothing is stored.
 */
import { actorOf, ADMIN_ROLES, checkOrgAccess, PLATFORM_ONLY, requireRole } from "../../auth.js";
import { changeOut, mappingOut } from "../../views.js";
import { updateIntegration } from "../../../services/integrations.js";
import { getStoredConfig, setConfig, setMapping } from "../../../services/mappings.js";
import { SetConfigInput, SetConfigOutput, SetMappingInput, SetMappingOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const setConfigTool = defineTool({
  name: "set_config",
  title: "Set config values",
  description:
    "Set config values key by key, coerced and validated by the integration's schema (\"30\" for an int becomes 30). With org: that organization's overrides; without: the integration-level defaults (platform_admin only). null deletes a value (an override then falls back to the default). A masked secret ({set, fingerprint}) keeps the stored one. An invalid or unknown key fails the whole call and nothing is stored.",
  input: SetConfigInput,
  output: SetConfigOutput,
  // Deleting values with null is possible; the same values twice leave the same state.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "change config values",
  run: async (ctx, args) => {
    if (args.org === undefined) {
      requireRole(ctx.caller, PLATFORM_ONLY, "change integration defaults (give org to set that organization's overrides)");
      const res = await updateIntegration(ctx.bifrost, args.integration, { defaults: args.values });
      return { integration: res.integration.name, org: null, values: res.integration.defaults, changes: changeOut(res.defaults), mapping_created: false };
    }
    checkOrgAccess(ctx.caller, args.org);
    const res = await setConfig(ctx.bifrost, args.integration, args.org, args.values, {}, actorOf(ctx.caller));
    return { integration: args.integration, org: args.org, values: await getStoredConfig(ctx.bifrost, args.integration, args.org), changes: changeOut(res.change), mapping_created: res.mappingCreated };
  },
});

export const setMappingTool = defineTool({
  name: "set_mapping",
  title: "Map an organization to an integration",
  description:
    "Create or update an organization's mapping to an integration: the external entity (entity_id = tenant / company id, entity_name; null clears) and optionally config overrides (validated like set_config). Fields left out are kept.",
  input: SetMappingInput,
  output: SetMappingOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  roles: ADMIN_ROLES,
  action: "change mappings",
  run: async (ctx, args) => {
    checkOrgAccess(ctx.caller, args.org);
    const res = await setMapping(ctx.bifrost, args.integration, args.org, { entityId: args.entity_id, entityName: args.entity_name, config: args.config }, actorOf(ctx.caller));
    return { mapping: mappingOut(res.mapping), created: res.created, changed: res.changed, changes: changeOut(res.config) };
  },
});
