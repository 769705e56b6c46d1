/** The MCP server for one caller: every tool registered with the caller's role and organization bound in. */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { packageVersion } from "../../core/package-info.js";
import type { McpContext } from "./context.js";
import { register } from "./tool.js";
import { setConfigTool, setMappingTool } from "./tools/config.js";
import { getIntegrationTool, listIntegrationsTool } from "./tools/integrations.js";
import { createConnectLinkTool, listEventsTool, oauthStatusTool } from "./tools/oauth.js";
import { generateSdkTool } from "./tools/sdk.js";
import { testConnectionTool } from "./tools/test-connection.js";

const INSTRUCTIONS =
  "Bifrost manages integrations (external APIs) for many client organizations: config with defaults and per-organization overrides, mappings to external entities, OAuth connections. " +
  "Every tool acts with the caller's API key role: platform_admin (everything), org_admin (its own organization only). Secrets are never shown, only { set, fingerprint }.";

export function buildMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer({ name: "bifrost", version: packageVersion() }, { instructions: INSTRUCTIONS });
  register(server, ctx, listIntegrationsTool);
  register(server, ctx, getIntegrationTool);
  register(server, ctx, setConfigTool);
  register(server, ctx, setMappingTool);
  register(server, ctx, oauthStatusTool);
  register(server, ctx, createConnectLinkTool);
  register(server, ctx, testConnectionTool);
  register(server, ctx, listEventsTool);
  register(server, ctx, generateSdkTool);
  return server;
}
