/**
 * Tool input and output schemas. Inputs are built from the zod schemas that validate the matching
 * REST bodies and queries (src/server/schemas.ts), so a tool accepts exactly what the route accepts.
 * Outputs describe the structured results; the objects that reuse the API's views are "loose" so a
 * field the API adds later passes through instead of failing validation.
 */
import { z } from "zod";
import { GenerateSdkBody } from "../routes/sdk.js";
import { TestConnectionBody, TestConnectionResult } from "../test-connection.js";
import { ConfigSchemaItemBody, ConfigValues, EventsQuery, integrationName, OAuthStatusQuery, orgSlug, PutMappingBody } from "../schemas.js";

// ---------------------------------------------------------------------------------------------
// Inputs

export const NoInput = z.strictObject({});

export const GetIntegrationInput = z.strictObject({
  integration: integrationName,
  org: orgSlug.optional().describe("Organization whose merged config to show. platform_admin: omitted = the integration defaults only; org_admin: omitted = its own organization."),
});

export const SetConfigInput = z.strictObject({
  integration: integrationName,
  org: orgSlug.optional().describe("Set this organization's overrides. Omitted = the integration-level defaults (platform_admin only)."),
  values: ConfigValues,
});

export const SetMappingInput = z.strictObject({
  integration: integrationName,
  org: orgSlug.describe("Organization to map (org_admin: its own only)."),
  ...PutMappingBody.shape,
});

export const OAuthStatusInput = OAuthStatusQuery;

export const ConnectLinkInput = z.strictObject({
  integration: integrationName,
  org: orgSlug.describe("Organization the connection will belong to."),
  expires: z.string().max(16).optional().describe("Link lifetime, e.g. 30m, 4h, 7d."),
});

export const TestConnectionInput = z.strictObject({ integration: integrationName, ...TestConnectionBody.shape });

export const ListEventsInput = z.strictObject({
  ...EventsQuery.shape,
  limit: z.number().int().min(1).max(1000).optional().describe("At most this many events (default 100, max 1000)."),
});

export const GenerateSdkInput = z.strictObject({ integration: integrationName, ...GenerateSdkBody.shape });

// ---------------------------------------------------------------------------------------------
// Outputs

/** Config values as the management API shows them: secrets as `{ set: true, fingerprint }`, never plaintext. */
const MaskedValues = z.record(z.string(), z.unknown()).describe("Config values by key; secrets are { set: true, fingerprint }.");
const ConfigChangeOut = z.object({ set: z.array(z.string()), unset: z.array(z.string()), unchanged: z.array(z.string()) });
const SchemaItemOut = ConfigSchemaItemBody.loose();

const IntegrationOut = z.looseObject({
  name: z.string(),
  description: z.string().nullable(),
  config_schema: z.array(SchemaItemOut),
  defaults: MaskedValues,
  mapping_count: z.number().int().optional().describe("platform_admin only."),
  created_at: z.string(),
  updated_at: z.string(),
});

const MappingOut = z.looseObject({
  integration: z.string(),
  org: z.string(),
  entity_id: z.string().nullable(),
  entity_name: z.string().nullable(),
  config: MaskedValues,
  created_at: z.string(),
  updated_at: z.string(),
});

export const ListIntegrationsOutput = z.object({ integrations: z.array(IntegrationOut) });

export const GetIntegrationOutput = z.object({
  integration: z.string(),
  description: z.string().nullable(),
  org: z.string().nullable(),
  mapped: z.boolean(),
  entity_id: z.string().nullable(),
  entity_name: z.string().nullable(),
  config: MaskedValues.describe("Defaults merged with the organization's overrides, key by key; secrets masked."),
  sources: z.record(z.string(), z.enum(["default", "override"])).describe("Where each value in config comes from."),
  missing_required: z.array(z.string()).describe("Required keys without a value after the merge (integrations.get() would fail)."),
  config_schema: z.array(SchemaItemOut),
  oauth_flow: z.string().nullable().describe("The OAuth provider's flow, or null without a provider."),
});

export const SetConfigOutput = z.object({
  integration: z.string(),
  org: z.string().nullable(),
  values: MaskedValues.describe("The stored values of this level after the change (defaults or the organization's overrides, not merged)."),
  changes: ConfigChangeOut,
  mapping_created: z.boolean(),
});

export const SetMappingOutput = z.object({ mapping: MappingOut, created: z.boolean(), changed: z.boolean(), changes: ConfigChangeOut });

export const OAuthStatusOutput = z.object({
  connections: z.array(
    z.looseObject({
      integration: z.string(),
      org: z.string().nullable(),
      level: z.string(),
      state: z.string(),
      expires_at: z.string().nullable(),
      last_error: z.string().nullable(),
      has_refresh_token: z.boolean(),
    }),
  ),
});

export const ConnectLinkOutput = z.object({ url: z.string(), expires_at: z.string(), id: z.string() });

export const TestConnectionOutput = TestConnectionResult;

export const ListEventsOutput = z.object({
  events: z.array(z.looseObject({ id: z.string(), type: z.string(), integration: z.string(), org: z.string().nullable(), payload: z.record(z.string(), z.unknown()), created_at: z.string() })),
});

export const GenerateSdkOutput = z.object({
  module: z.string(),
  auth: z.string().describe("The --auth choice the module was generated with (recorded in its header)."),
  file_name: z.string(),
  export: z.string(),
  source: z.string().describe("The generated TypeScript module; save it as file_name."),
  operations: z.number().int(),
  schemas: z.number().int(),
  renamed: z.array(z.unknown()),
  config_keys_added: z.array(SchemaItemOut),
  config_keys_existing: z.array(z.string()),
  warnings: z.array(z.string()),
});
