/**
 * The zod schema of a catalog entry: run by the catalog's tests and the docs generator, never on a
 * request path (the entries are constants shipped with the code).
 */
import { z } from "zod";
import { AUTH_KINDS } from "./types.js";

const https = z.string().regex(/^https:\/\/[^\s]+$/, "must be an https:// URL");
const params = z.record(z.string(), z.string());

const oauth = z
  .object({
    flow: z.enum(["authorization_code", "client_credentials"]),
    authorization_url: https.optional(),
    token_url: https,
    revocation_url: https.optional(),
    scopes: z.array(z.string().regex(/^\S+$/)).optional(),
    audience: z.string().min(1).optional(),
    authorize_params: params.optional(),
    token_params: params.optional(),
    token_auth_method: z.enum(["client_secret_basic", "client_secret_post"]).optional(),
    url_defaults: params.optional(),
    entity_id_source: z.object({ type: z.enum(["url_param", "token_field", "id_token_claim"]), key: z.string().min(1) }).strict().optional(),
    quirks: z.object({ form_encoded_token_response: z.boolean().optional(), default_token_type: z.string().optional(), expires_in_as_string: z.boolean().optional() }).strict().optional(),
  })
  .strict()
  .refine((o) => (o.flow === "authorization_code") === (o.authorization_url !== undefined), "authorization_url is required for authorization_code and absent for client_credentials");

export const catalogEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, "ids are lower-case letters, digits and '-'"),
    name: z.string().min(2).max(80),
    category: z.string().min(2).max(40),
    auth: z.array(z.enum(AUTH_KINDS)).min(1),
    api_base_url: https,
    oauth: oauth.optional(),
    config_schema: z.array(z.unknown()),
    defaults: z.record(z.string(), z.string()).optional(),
    test_request: z.object({ method: z.enum(["GET", "POST"]), path: z.string().regex(/^(\/\S*)?$/, "a path starting with / (or empty for the base URL itself)"), body: z.record(z.string(), z.unknown()).optional() }).strict(),
    docs_url: https,
    notes: z.string().min(10).optional(),
  })
  .strict()
  .refine((e) => e.auth.some((k) => k.startsWith("oauth2_")) === (e.oauth !== undefined), "an entry has an oauth block exactly when one of its auth kinds is oauth2_*");
