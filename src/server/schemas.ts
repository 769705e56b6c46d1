/**
 * Request schemas (zod 4). They validate the bodies and queries, and the OpenAPI document is
 * generated from them: one source for both. Field names are snake_case, as in bifrost.yaml.
 */
import { z } from "zod";
import { INTEGRATION_NAME_PATTERN, ORG_SLUG_PATTERN } from "../core/names.js";
import { API_KEY_ROLES, CONFIG_TYPES } from "../core/types.js";

export const integrationName = z
  .string()
  .regex(INTEGRATION_NAME_PATTERN, "Integration names start with a letter, then up to 63 letters, digits, '_', '-' or '.' (no spaces or path characters)")
  .describe("Integration name, as used in `integrations.get(name)`.");

export const orgSlug = z
  .string()
  .regex(ORG_SLUG_PATTERN, "Organization slugs are 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit")
  .describe("Organization slug.");

/** `key: value` pairs; `null` deletes the stored value. Values are checked against the config schema. */
export const ConfigValues = z
  .record(z.string(), z.unknown())
  .describe("Config values by key. Values are coerced to the key's type; null deletes the value; a masked secret ({set:true,fingerprint} or the fingerprint) keeps the stored secret.");

export const ConfigSchemaItemBody = z.strictObject({
  key: z.string().describe("Config key: letters, digits and '_', not starting with a digit."),
  type: z.enum(CONFIG_TYPES),
  required: z.boolean().optional(),
  description: z.string().nullable().optional(),
  options: z.array(z.union([z.string(), z.number().int()])).optional().describe("Allowed values (string and int keys)."),
  org_override: z.boolean().optional().describe("false: only platform admins may set per-organization values of this key (default true)."),
});

const ConfigSchemaBody = z.array(ConfigSchemaItemBody).describe("The integration's config schema.");

const description = z.string().max(2000).nullable().optional();

export const CreateOrgBody = z.strictObject({
  slug: orgSlug,
  name: z.string().min(1).max(200).optional().describe("Display name; defaults to the slug."),
});

export const UpdateOrgBody = z.strictObject({
  slug: orgSlug.optional(),
  name: z.string().min(1).max(200).optional(),
});

const trustedOrigins = z
  .array(z.string().max(2048))
  .max(50)
  .optional()
  .describe("Platform admins only. Origins (https://host[:port], no path, query or wildcard) that integration-level credentials may also be sent to, besides the default base_url's origin and the spec's servers.");
const privateNetwork = z
  .boolean()
  .optional()
  .describe("Platform admins only. true lets this integration's outbound calls (OAuth endpoints, test connection, generated clients) reach private ranges (RFC 1918, CGNAT, unique-local) for on-premises servers; never link-local or cloud metadata addresses.");

export const CreateIntegrationBody = z.strictObject({
  name: integrationName,
  description,
  config_schema: ConfigSchemaBody.optional(),
  defaults: ConfigValues.optional(),
  trusted_origins: trustedOrigins,
  private_network: privateNetwork,
});

export const UpdateIntegrationBody = z.strictObject({
  name: integrationName.optional().describe("Rename the integration."),
  description,
  config_schema: ConfigSchemaBody.optional(),
  defaults: ConfigValues.optional(),
  trusted_origins: trustedOrigins,
  private_network: privateNetwork,
  force: z.boolean().optional().describe("Allow a schema change that deletes stored values."),
});

export const PutSchemaBody = z.strictObject({
  config_schema: ConfigSchemaBody,
  force: z.boolean().optional().describe("Allow a schema change that deletes stored values."),
});

const entity = z.union([z.string(), z.number().int(), z.null()]);

export const PutMappingBody = z.strictObject({
  entity_id: entity.optional().describe("External tenant / company id; null clears it."),
  entity_name: z.union([z.string(), z.null()]).optional(),
  config: ConfigValues.optional().describe("This organization's config overrides (null deletes one)."),
});

export const CreateKeyBody = z.strictObject({
  role: z.enum(API_KEY_ROLES as readonly ["platform_admin", "org_admin", "workflow"]),
  org: orgSlug.nullable().optional().describe("Required for org_admin and workflow keys; omitted for platform_admin."),
  name: z.string().max(200).optional(),
});

export const RunWorkflowBody = z.strictObject({
  input: z.unknown().optional().describe("Passed to the workflow handler."),
  org: orgSlug.optional().describe("Organization to run as; required for platform_admin keys, optional (must be its own) for org-scoped keys."),
});

export const ForceQuery = z.strictObject({
  force: z.enum(["true", "false"]).optional().describe("true to delete the integration together with its mappings and overrides."),
});

export const ResolvedQuery = z.strictObject({
  org: orgSlug.optional().describe("Organization to resolve for; org-scoped keys default to (and may only name) their own."),
  include: z
    .enum(["schema"])
    .optional()
    .describe("schema: also return schema_keys (every key of the config schema, in order) and secret_fingerprints (secret key → fingerprint), as remote mode needs."),
});

const WorkflowOrgQuery = z.strictObject({
  org: orgSlug.optional().describe("Organization; org-scoped keys default to (and may only name) their own."),
});

export const RefreshIfStaleBody = z.strictObject({
  org: orgSlug.optional().describe("Organization; org-scoped keys default to (and may only name) their own."),
  seen_access_token_fingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe("SHA-256 (hex) of the access token the API rejected; the token itself is never sent."),
});

export const ErrorEnvelopeSchema = z.object({
  statusCode: z.number().int(),
  code: z.string().describe("Stable error code, e.g. BIFROST_NOT_FOUND."),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const oauthUrl = z.string().max(2048).describe("Absolute https URL; may contain {entity_id} and placeholders declared in url_defaults.");
const secretView = z.strictObject({ set: z.literal(true), fingerprint: z.string() });

/**
 * An OAuth provider block (the `oauth:` block of bifrost.yaml). This schema documents and
 * pre-checks the shape; the OAuth core validates URLs, placeholders and flow rules.
 */
export const OAuthProviderBody = z.strictObject({
  flow: z.enum(["authorization_code", "client_credentials"]),
  client_id: z.string().min(1).max(512),
  client_secret: z
    .union([z.string().min(1).max(4096), secretView])
    .optional()
    .describe("The client secret (stored encrypted, never returned). A masked echo ({set:true,fingerprint}, the fingerprint, or bullets) keeps the stored one."),
  authorization_url: oauthUrl.optional().describe("authorization_code only."),
  token_url: oauthUrl.optional(),
  issuer: oauthUrl.optional().describe("RFC 8414 discovery base and the expected `iss` of authorization responses (RFC 9207)."),
  revocation_url: oauthUrl.optional().describe("RFC 7009 revocation endpoint, used by disconnect."),
  scopes: z.array(z.string().max(256)).max(100).optional(),
  audience: z.string().max(2048).optional(),
  authorize_params: z.record(z.string(), z.string()).optional().describe("Extra authorization request parameters."),
  token_params: z.record(z.string(), z.string()).optional().describe("Extra token request parameters."),
  token_auth_method: z.enum(["client_secret_basic", "client_secret_post"]).optional().describe("Default client_secret_basic."),
  url_defaults: z.record(z.string(), z.string()).optional().describe("Placeholder defaults, e.g. { entity_id: common }."),
  entity_id_source: z
    .strictObject({ type: z.enum(["url_param", "token_field", "id_token_claim"]), key: z.string().max(128) })
    .optional()
    .describe("Where the callback captures the mapping's entity id (only when it is empty)."),
  quirks: z
    .strictObject({ form_encoded_token_response: z.boolean().optional(), default_token_type: z.string().optional(), expires_in_as_string: z.boolean().optional() })
    .optional()
    .describe("Explicit per-provider token endpoint quirks."),
});

export const OAuthOrgBody = z.strictObject({
  org: orgSlug.optional().describe("Organization whose connection this is; omitted = the integration-level connection (platform_admin) or the key's own org (org_admin)."),
});

export const OAuthOrgQuery = z.strictObject({
  org: orgSlug.optional().describe("Organization slug; org-scoped keys default to (and may only name) their own."),
});

export const ConnectLinkBody = z.strictObject({
  org: orgSlug.optional().describe("Organization the link connects; required for platform_admin, org_admin: its own org only (the default)."),
  expires: z.string().max(16).optional().describe("How long the link lasts: 30m, 12h, 7d (default 7d; 5m … 30d)."),
});

export const OAuthStatusQuery = z.strictObject({
  org: orgSlug.optional().describe("Only this organization's connections; org-scoped keys always see only their own."),
  integration: integrationName.optional(),
});

export const OAuthCallbackQuery = z
  .object({
    code: z.string().optional(),
    state: z.string().optional(),
    iss: z.string().optional(),
    error: z.string().optional(),
    error_description: z.string().optional(),
  })
  .describe("What the provider appends to the redirect URI; other provider parameters (e.g. realmId) are passed through.");

/** A page size query parameter: a whole number from 1 to `max`, as its text. */
function limitParam(max: number) {
  const message = `a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), message)
    .refine((s) => Number(s) >= 1 && Number(s) <= max, message)
    .optional();
}

export const EventsQuery = z.strictObject({
  integration: integrationName.optional(),
  org: orgSlug.optional().describe("Only this organization's events; org-scoped keys always see only their own."),
  type: z.string().max(64).optional().describe("connected, refreshed, refresh_failed, needs_reauth, disconnected, …"),
  after: z.string().max(64).optional().describe("Only events created after this timestamp (ISO 8601); combines with cursor."),
  limit: limitParam(1000).describe("Page size (default 100, max 1000)."),
  cursor: z.string().max(2000).optional().describe("Opaque: the next_cursor of the previous page (same filters)."),
  q: z.string().max(200).optional().describe("Case-insensitive substring of the event type."),
});

export const AuditListQuery = z.strictObject({
  org: orgSlug.optional().describe("Only this organization's entries. Org admins always see only their own organization's."),
  integration: integrationName.optional().describe("Only entries about this integration."),
  action: z.string().max(64).optional().describe("One action: config.write, secret.write, secret.read, mapping.write, schema.write, provider.write, oauth.connect, oauth.refresh, oauth.disconnect, key.create, key.revoke, import, export.with_secrets, keyring.rotate, keyring.rewrap."),
  since: z.string().max(64).optional().describe("Entries at or after this time: ISO 8601, or a duration back from now (30m, 24h, 7d)."),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "a whole number from 1 to 500")
    .refine((s) => Number(s) >= 1 && Number(s) <= 500, "a whole number from 1 to 500")
    .optional()
    .describe("Page size: 1-500 (default 100)."),
  cursor: z.string().max(200).optional().describe("Opaque: the next_cursor of the previous page."),
});

const AuditActorOut = z.union([
  z.object({ kind: z.literal("api_key"), key_id: z.string(), key_prefix: z.string(), key_name: z.string(), via: z.string().describe("api, console (a console session's key) or mcp") }),
  z.object({ kind: z.literal("local_cli") }),
  z.object({ kind: z.literal("system").describe("The server's own background work (token refresher)") }),
]);

const AuditEntryOut = z.object({
  id: z.string(),
  at: z.string(),
  action: z.string(),
  actor: AuditActorOut,
  target: z.object({ integration: z.string().nullable(), org: z.string().nullable(), keys: z.array(z.string()).describe("Config key names (or API key ids): never values") }),
  detail: z.record(z.string(), z.unknown()).describe("Non-secret facts: fields changed, flow, level, counts"),
  request_id: z.string().nullable(),
  execution_id: z.string().nullable(),
});

export const AuditPageOut = z.object({ entries: z.array(AuditEntryOut), next_cursor: z.string().nullable() });

// ---------------------------------------------------------------------------------------------
// Pagination (every list route): limit, cursor, q → the list's key plus next_cursor.

const pageLimitParam = limitParam(500).describe("Page size: 1-500 (default 100).");
const pageCursorParam = z.string().max(2000).optional().describe("Opaque: the next_cursor of the previous page (same filters and sort).");
const qParam = z.string().max(200).optional().describe("Case-insensitive substring of the row's name or slug.");

/** `limit`, `cursor`, `q`: spread into a list route's query schema. */
export const PAGE_PARAMS = { limit: pageLimitParam, cursor: pageCursorParam, q: qParam };
export const PageQuery = z.strictObject(PAGE_PARAMS);

/** The answer's `next_cursor`. */
export const nextCursor = z.string().nullable().describe("Pass as cursor for the next page; null = this is the last page.");

const connectionState = z.enum(["not_connected", "connected", "refreshing", "needs_reauth", "error"]);
const stateList = z
  .string()
  .max(200)
  .optional()
  .describe("Comma list of connection states: not_connected, connected, refreshing, needs_reauth, error.");
const unmappedParam = z.enum(["true", "false"]).optional().describe("true: only rows whose organization has no mapping for the integration, or a mapping without entity id.");

export const ConnectionsQuery = z.strictObject({
  ...PAGE_PARAMS,
  q: qParam.describe("Case-insensitive substring of the integration name, org slug or name, entity id or entity name."),
  state: stateList,
  integration: integrationName.optional().describe("Only this integration's rows."),
  org: orgSlug.optional().describe("Only this organization's rows (no integration-level rows)."),
  expiring_within_days: z
    .string()
    .regex(/^\d{1,5}$/, "a whole number of days, 0 or more")
    .optional()
    .describe("Connected rows whose access token expires within this many days (or has expired)."),
  unmapped: unmappedParam,
  sort: z
    .enum(["integration", "org", "state", "expires_at", "last_refresh_at"])
    .optional()
    .describe("integration (default: integration name, then org slug), org, state, expires_at or last_refresh_at; rows without the time sort last."),
  order: z.enum(["asc", "desc"]).optional().describe("asc (default) or desc."),
});

const ConnectionRowOut = z.object({
  integration: z.string(),
  org: z.string().nullable().describe("Organization slug; null = the integration-level connection."),
  org_name: z.string().nullable(),
  mapped: z.boolean().describe("The organization has a mapping for the integration."),
  entity_id: z.string().nullable(),
  entity_name: z.string().nullable(),
  flow: z.string().describe("authorization_code or client_credentials"),
  state: connectionState,
  expires_at: z.string().nullable(),
  last_refresh_at: z.string().nullable(),
  last_error: z.string().nullable().describe("Never contains a token."),
  has_refresh_token: z.boolean(),
});

export const ConnectionsPageOut = z.object({
  connections: z.array(ConnectionRowOut),
  next_cursor: nextCursor,
  total: z.number().int().describe("Rows matching the filters (all pages)."),
});

export const IntegrationOrgsQuery = z.strictObject({
  ...PAGE_PARAMS,
  q: qParam.describe("Case-insensitive substring of the org slug or name, entity id or entity name."),
  state: stateList,
  unmapped: unmappedParam,
});

const IntegrationOrgOut = z.object({
  org: z.string(),
  org_name: z.string(),
  mapped: z.boolean(),
  entity_id: z.string().nullable(),
  entity_name: z.string().nullable(),
  override_count: z.number().int().describe("This organization's config overrides for the integration."),
  state: connectionState.nullable().describe("null when the integration has no OAuth provider."),
  expires_at: z.string().nullable(),
  last_refresh_at: z.string().nullable(),
  last_error: z.string().nullable(),
});

export const IntegrationOrgsPageOut = z.object({
  organizations: z.array(IntegrationOrgOut),
  next_cursor: nextCursor,
  total: z.number().int().describe("Organizations matching the filters (all pages)."),
});

const stateCount = (state: string) => z.number().int().describe(`Organizations whose connection is ${state}.`);

export const IntegrationSummaryOut = z.object({
  integration: z.string(),
  organizations: z.number().int().describe("Every organization (an org admin: its own, so 0 or 1)."),
  mapped: z.number().int().describe("Organizations with a mapping for the integration."),
  unmapped: z.number().int().describe("Organizations without a mapping or with a mapping without entity id (the organizations list's unmapped=true)."),
  states: z
    .object({
      not_connected: stateCount("not connected"),
      connected: stateCount("connected"),
      refreshing: stateCount("being refreshed"),
      needs_reauth: stateCount("waiting for re-authorization"),
      error: stateCount("failing to refresh"),
    })
    .nullable()
    .describe("Per connection state (the organizations list's state filter); null when the integration has no OAuth provider."),
});

/** `GET /api/integrations/:name/oauth/status` and `…/oauth/links`: the org filter plus pagination. */
export const OAuthOrgPageQuery = z.strictObject({ ...OAuthOrgQuery.shape, ...PAGE_PARAMS });
export const OAuthLinksQuery = z.strictObject({ ...OAuthOrgQuery.shape, limit: PAGE_PARAMS.limit, cursor: PAGE_PARAMS.cursor });
export const OAuthStatusPageQuery = z.strictObject({ ...OAuthStatusQuery.shape, ...PAGE_PARAMS });
export const WorkflowIntegrationsQuery = z.strictObject({ ...WorkflowOrgQuery.shape, ...PAGE_PARAMS });

const OrgOut = z.object({ slug: z.string(), name: z.string(), created_at: z.string(), updated_at: z.string() });
export const OrgsPageOut = z.object({ organizations: z.array(OrgOut), next_cursor: nextCursor });
export const KeysPageOut = z.object({
  api_keys: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      prefix: z.string(),
      role: z.enum(API_KEY_ROLES as readonly ["platform_admin", "org_admin", "workflow"]),
      org: z.string().nullable(),
      created_at: z.string(),
      last_used_at: z.string().nullable(),
      revoked_at: z.string().nullable(),
    }),
  ),
  next_cursor: nextCursor,
});
export const WorkflowsPageOut = z.object({ workflows: z.array(z.string()).describe("Workflow names"), next_cursor: nextCursor });
export const WorkflowIntegrationsPageOut = z.object({
  org: z.string().nullable(),
  integrations: z.array(z.object({ name: z.string(), mapped: z.boolean(), entity_id: z.string().nullable(), entity_name: z.string().nullable() })),
  next_cursor: nextCursor,
});
