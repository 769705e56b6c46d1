/**
 * One MCP tool: its schemas, annotations, the roles that may ever call it, and what it does. `register`
 * wraps every tool the same way: role check (403 like the REST route), the call, one attribution log
 * line, and errors as tool errors carrying the API's error envelope (redacted, never a value).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { BifrostError } from "../../core/errors.js";
import type { ApiKeyRole } from "../../core/types.js";
import { withAuditContext } from "../../kernel/audit.js";
import { auditContextOf, requireRole } from "../auth.js";
import { envelopeOf, InternalError } from "../errors.js";
import { actorFields, type McpContext } from "./context.js";

export interface ToolDef<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  /** Roles that may ever call this tool (the matching REST route's); others get BIFROST_FORBIDDEN first. */
  roles: readonly ApiKeyRole[];
  /** For the 403 message ("change mappings"). */
  action: string;
  /**
   * The structured result. Checked against `output` at run time by the SDK (and the tests): the views it
   * reuses are typed as interfaces, which the loose output objects' index signatures would not accept.
   */
  run(ctx: McpContext, args: z.output<I>): Promise<object>;
}

/** Identity helper that keeps each tool's input and output types tied together. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

/** A tool error: the same envelope the HTTP API answers (`{statusCode, code, message, details?}`), as JSON text. */
function toolError(err: BifrostError): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(envelopeOf(err)) }], isError: true };
}

/** Run a tool for the context's caller and attribute the call. */
async function callTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDef<I, O>, ctx: McpContext, args: z.output<I>): Promise<CallToolResult> {
  const requestId = ctx.requestId();
  const who = { request_id: requestId, tool: def.name, ...actorFields(ctx.actor), role: ctx.caller.role, org: ctx.caller.orgSlug };
  try {
    requireRole(ctx.caller, def.roles, def.action);
    const structured = (await withAuditContext(auditContextOf(ctx.caller, requestId, "mcp"), () => def.run(ctx, args))) as Record<string, unknown>;
    ctx.log.info({ ...who, outcome: "ok" }, "mcp tool call");
    return { content: [{ type: "text", text: JSON.stringify(structured) }], structuredContent: structured };
  } catch (err) {
    if (err instanceof BifrostError) {
      ctx.log.info({ ...who, outcome: err.code }, "mcp tool call");
      if (err.statusCode >= 500) ctx.log.error({ ...who, err }, "mcp tool failed");
      return toolError(err);
    }
    // The raw error may quote a secret: the log gets it through the redacting serializer, the caller a generic message.
    ctx.log.error({ ...who, err }, "mcp tool failed unexpectedly");
    return toolError(new InternalError(requestId));
  }
}

/** Register `def` on `server` for the context's caller. */
export function register<I extends z.ZodObject, O extends z.ZodObject>(server: McpServer, ctx: McpContext, def: ToolDef<I, O>): void {
  server.registerTool(
    def.name,
    { title: def.title, description: def.description, inputSchema: def.input, outputSchema: def.output, annotations: { title: def.title, ...def.annotations } },
    // The SDK has already validated `args` against def.input (a failure is a tool error naming the field).
    ((args: z.output<I>) => callTool(def, ctx, args)) as Parameters<McpServer["registerTool"]>[2],
  );
}
