/**
 * `bifrost mcp`: the MCP server on stdin/stdout, working on the local store (BIFROST_HOME /
 * DATABASE_URL) like every other CLI command. It acts with the local CLI's authority (platform_admin),
 * or, when BIFROST_API_KEY is set, with that key's role and organization, looked up in the local store
 * exactly as the HTTP API authenticates it. stdout carries only the protocol; logs go to stderr.
 */
import { randomUUID } from "node:crypto";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import pino from "pino";
import { createLogger } from "../../logger.js";
import { resolveOptions } from "../../oauth/options.js";
import { type Caller, callerFromApiKey } from "../auth.js";
import { openBifrost } from "../../host/bootstrap.js";
import { StoreResolver } from "../../host/store-resolver.js";
import { type Actor, actorForKey, type McpContext } from "./context.js";
import { buildMcpServer } from "./server.js";

/** The local CLI's principal: it already holds the store and the keyring. */
const LOCAL_CLI_CALLER: Caller = { keyId: "local-cli", role: "platform_admin", orgId: null, orgSlug: null };

export interface StdioOptions {
  env?: NodeJS.ProcessEnv;
  /** Keyring warnings (stderr). */
  warn?: (message: string) => void;
}

/** Serve MCP on stdin/stdout until stdin closes or the process is told to stop. */
export async function runStdioServer(opts: StdioOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const bf = await openBifrost({ env, ...(opts.warn ? { warn: opts.warn } : {}) });
  try {
    const key = env.BIFROST_API_KEY;
    let caller: Caller = LOCAL_CLI_CALLER;
    let actor: Actor = { kind: "local_cli" };
    if (key !== undefined && key !== "") {
      caller = await callerFromApiKey(bf, key);
      actor = await actorForKey(bf, caller, key);
      // `bifrost keys list` shows when a key was last used, as for HTTP requests.
      await bf.store.touchApiKey(caller.keyId, bf.clock.now());
    }
    const options = resolveOptions(undefined);
    const logger = createLogger({ destination: pino.destination(2) });
    const ctx: McpContext = {
      bifrost: bf,
      oauthDeps: { store: bf.store, box: bf.box, clock: bf.clock },
      resolver: new StoreResolver(bf.store, bf.box, { clock: bf.clock }),
      caller,
      actor,
      log: logger,
      requestId: () => randomUUID(),
      allowHttpLoopback: options.allowHttpLoopback,
    };
    const server = buildMcpServer(ctx);
    const closed = new Promise<void>((done) => {
      server.server.onclose = () => done();
    });
    const stop = () => void server.close();
    process.stdin.once("end", stop);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await server.connect(new StdioServerTransport());
    logger.info({ role: caller.role, org: caller.orgSlug, actor: actor.kind === "local_cli" ? "local CLI" : "api_key" }, "MCP server on stdio");
    await closed;
    await ctx.resolver.flushAudit();
  } finally {
    await bf.close();
  }
}
