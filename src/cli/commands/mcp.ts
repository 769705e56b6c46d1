import type { Command } from "commander";
import { cliWarn } from "../context.js";

export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve the MCP tools on stdin/stdout for an AI assistant (local store; BIFROST_API_KEY limits it to that key's role)")
    .action(async () => {
      // Loaded on use: the MCP SDK is not needed by other commands.
      const { runStdioServer } = await import("../../server/mcp/stdio.js");
      await runStdioServer({ warn: cliWarn });
    });
}
