/** test_connection: the console's test-connection logic (GET base_url + path with the org's resolved auth, body redacted). */
import { PLATFORM_ONLY } from "../../auth.js";
import { testConnection } from "../../routes/console-support.js";
import { TestConnectionInput, TestConnectionOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const testConnectionTool = defineTool({
  name: "test_connection",
  title: "Test an integration's connection",
  description:
    "GET base_url + path with the organization's resolved auth (its OAuth bearer token when connected) through the guarded fetch (https only, no redirects, size cap, timeout). Answers status, latency and the first 2 KB of the body with every secret and token redacted. platform_admin only, like the console's test connection.",
  input: TestConnectionInput,
  output: TestConnectionOutput,
  // A GET to the external API: nothing of ours changes, but it reaches outside (and may mint or refresh a token).
  annotations: { readOnlyHint: true, openWorldHint: true },
  roles: PLATFORM_ONLY,
  action: "test integration connections",
  run: (ctx, args) => testConnection(ctx.oauthDeps, ctx.resolver, { integration: args.integration, ...(args.org ? { org: args.org } : {}), path: args.path }),
});
