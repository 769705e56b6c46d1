/** test_connection: the console's test connection (any method and auth form, through the runtime's integration.fetch() path, body redacted). */
import { PLATFORM_ONLY } from "../../auth.js";
import { testConnection } from "../../test-connection.js";
import { TestConnectionInput, TestConnectionOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const testConnectionTool = defineTool({
  name: "test_connection",
  title: "Test an integration's connection",
  description:
    "One request (method GET, HEAD, POST, PUT, PATCH or DELETE; body for the last four) to base_url + path with the organization's resolved credentials for `auth` (oauth, bearer, basic, api-key:header:NAME, api-key:query:NAME, none — as `bifrost sdk generate --auth`, from the config keys bearer_token, username + password, api_key; default oauth with an OAuth provider, else none), through the same path as integration.fetch(): trust rule, outbound policy, no redirects followed, size cap, timeout. Answers the auth used (kind and config key names), status, duration, a header subset and the first 2 KB of the body with every secret and token redacted. platform_admin only, like the console's test connection.",
  input: TestConnectionInput,
  output: TestConnectionOutput,
  // Nothing of ours changes, but it reaches outside (may mint or refresh a token) and a POST/PUT/PATCH/DELETE may change the external system.
  annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  roles: PLATFORM_ONLY,
  action: "test integration connections",
  run: (ctx, args) => testConnection(ctx.oauthDeps, ctx.resolver, args),
});
