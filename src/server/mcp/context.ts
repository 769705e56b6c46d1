/** Who is calling the MCP tools, and what they run against: one context per MCP request (HTTP) or process (stdio). */
import type { OAuthDeps } from "../../oauth/service.js";
import type { Caller } from "../auth.js";
import type { Bifrost } from "../../host/bootstrap.js";
import type { Deps } from "../../kernel/deps.js";
import type { StoreResolver } from "../../host/store-resolver.js";

/** How a call is attributed in the log: the API key (id, prefix, name) or the local CLI. Never a key's secret part. */
export type Actor = { kind: "api_key"; keyId: string; keyPrefix: string; keyName: string } | { kind: "local_cli" };

/** Where attribution lines go: the server's request logger, or the stdio process's stderr logger. */
interface McpLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface McpContext {
  /** Store, keyring, clock and the workflow resolver. */
  bifrost: Pick<Bifrost, "store" | "box" | "clock">;
  /** The same plus OAuth settings (public URL, loopback switch, timeouts). */
  oauthDeps: OAuthDeps;
  /** Resolver for test_connection (OAuth tokens are read and refreshed through it). */
  resolver: StoreResolver;
  /** The role and org every tool checks, exactly like the REST routes. */
  caller: Caller;
  actor: Actor;
  /** Receives one attribution line per tool call (tool name, actor, outcome; never argument values). */
  log: McpLog;
  /** The request id the attribution line carries (HTTP: the server's request id; stdio: one per call). */
  requestId(): string;
  /** Whether plain-http loopback URLs are allowed for spec downloads (tests and local development). */
  allowHttpLoopback: boolean;
}

/** The key's non-secret prefix: `bfk_<prefix>_<secret>`. */
function keyPrefixOf(presented: string): string | null {
  return /^bfk_([0-9a-f]{12})_/.exec(presented)?.[1] ?? null;
}

/** The actor for a verified bearer key: its id, prefix and stored name. */
export async function actorForKey(deps: Deps, caller: Caller, presented: string): Promise<Actor> {
  const prefix = keyPrefixOf(presented) ?? "";
  const stored = prefix ? await deps.store.getApiKeyByPrefix(prefix) : null;
  return { kind: "api_key", keyId: caller.keyId, keyPrefix: prefix, keyName: stored?.name ?? "" };
}

/** The actor fields of a log line. */
export function actorFields(actor: Actor): Record<string, string> {
  return actor.kind === "local_cli" ? { actor: "local CLI" } : { actor: "api_key", key_id: actor.keyId, key_prefix: actor.keyPrefix, key_name: actor.keyName };
}
