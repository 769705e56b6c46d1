/**
 * `POST /mcp`: MCP over streamable HTTP, stateless (a fresh server and transport per request, no
 * `Mcp-Session-Id`). The bearer API key is checked by the REST API's authentication; each tool then
 * applies the key's role and organization exactly like the matching route. Console session cookies
 * are not accepted here, and a browser request from another origin is refused. `GET /mcp` answers 405
 * (there is no server-initiated event stream).
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import { BifrostError, UnauthenticatedError } from "../../core/errors.js";
import { resolveOptions } from "../../oauth/options.js";
import { ALL_ROLES, authenticate } from "../auth.js";
import { envelopeOf, InternalError } from "../errors.js";
import type { Api } from "../route.js";
import { StoreResolver } from "../../host/store-resolver.js";
import { actorForKey, type McpContext } from "./context.js";
import { buildMcpServer } from "./server.js";

const MCP_PATH = "/mcp";

/** `Origin` was sent by a browser page on another origin: refused before authentication. */
class OriginRefusedError extends BifrostError {
  constructor(origin: string) {
    super(
      "BIFROST_MCP_ORIGIN_REFUSED",
      403,
      `Origin ${JSON.stringify(origin.slice(0, 200))} may not call ${MCP_PATH}: MCP over HTTP answers requests without an Origin header (MCP clients), from the server's own public origin (BIFROST_PUBLIC_URL), or from its own loopback origin.`,
      { origin: origin.slice(0, 200) },
    );
  }
}

/** 405 for methods other than POST on /mcp. */
class MethodNotAllowedError extends BifrostError {
  constructor(method: string) {
    super("BIFROST_METHOD_NOT_ALLOWED", 405, `${method} ${MCP_PATH} is not supported: this MCP server is stateless and has no event stream; send JSON-RPC messages with POST.`, { allow: "POST" });
  }
}

/** 127.0.0.0/8, ::1 and localhost. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * No Origin header (not a browser): fine, the bearer key decides. Otherwise the Origin must be the
 * server's public origin, or the origin the request was sent to when that is a loopback host (a DNS
 * rebinding page has its own host name, so it never matches).
 */
function checkOrigin(request: FastifyRequest, publicOrigin: string | null): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (publicOrigin !== null && origin === publicOrigin) return;
  const host = request.headers.host ?? "";
  const hostname = host.replace(/:\d+$/, "");
  if (host !== "" && isLoopbackName(hostname) && (origin === `http://${host}` || origin === `https://${host}`)) return;
  throw new OriginRefusedError(origin);
}

function bearerOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  // Only API keys: a console session cookie is not accepted for MCP.
  if (!m) throw new UnauthenticatedError(`Missing or invalid API key. ${MCP_PATH} needs 'Authorization: Bearer <key>' (create one with \`bifrost keys create\`).`);
  return m[1] as string;
}

export function mcpRoutes(api: Api): void {
  const bf = api.bifrost;
  const oauthDeps = api.oauthDeps;
  const options = resolveOptions(oauthDeps.oauth);
  const resolver = new StoreResolver(bf.store, bf.box, { clock: bf.clock, ...(oauthDeps.oauth ? { oauth: oauthDeps.oauth } : {}) });
  // Its queued secret.read audit entries are written before the server stops.
  api.app.addHook("onClose", () => resolver.flushAudit());
  const publicOrigin = originOf(options.publicUrl);
  const summary = "MCP (Model Context Protocol) over streamable HTTP, stateless: JSON-RPC requests in, JSON responses out. Bearer API key; each tool applies the key's role (docs/mcp.md).";

  api.docs.push({ method: "POST", url: MCP_PATH, summary, tag: "mcp", roles: ALL_ROLES, status: 200 });
  api.app.route({
    method: "POST",
    url: MCP_PATH,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      checkOrigin(request, publicOrigin);
      const presented = bearerOf(request);
      const caller = await authenticate(bf, request);
      const ctx: McpContext = {
        bifrost: bf,
        oauthDeps,
        resolver,
        caller,
        actor: await actorForKey(bf, caller, presented),
        log: request.log,
        requestId: () => String(request.id),
        allowHttpLoopback: options.allowHttpLoopback,
      };
      const server = buildMcpServer(ctx);
      // No sessionIdGenerator: stateless mode, one transport per request.
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      reply.hijack();
      reply.raw.on("close", () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err }, "MCP request failed");
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify(envelopeOf(new InternalError(String(request.id)))));
      }
    },
  });

  api.docs.push({ method: "GET", url: MCP_PATH, summary: "Not supported (405): the MCP server is stateless and offers no server-sent event stream.", tag: "mcp", roles: ALL_ROLES, status: 405 });
  api.app.route({
    method: "GET",
    url: MCP_PATH,
    handler: async (request, reply) => {
      void reply.header("allow", "POST");
      throw new MethodNotAllowedError(request.method);
    },
  });
}
