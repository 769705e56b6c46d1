import type { ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import type { IntegrationConfig } from "./config-map.js";

/**
 * Which credentials `integration.fetch()` sends when the caller names them (instead of the OAuth token):
 * config keys of the integration (secret or not), read for the current organization.
 */
export type FetchAuth =
  | { bearer: string }
  | { header: string; key: string }
  | { query: string; key: string }
  | { basic: [usernameKey: string, passwordKey: string] }
  /** No credentials at all (not even the OAuth token). */
  | "none";

/** `integration.fetch(pathOrUrl, init)`: a standard RequestInit plus the client runtime's per-call options. */
export interface IntegrationFetchInit extends RequestInit {
  /** Credentials from config keys; default: the OAuth bearer token when the integration has OAuth, else none. */
  auth?: FetchAuth;
  /** Per-attempt timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Retries for idempotent methods (default 2). */
  maxRetries?: number;
}

/** What `integrations.get(name)` returns inside a workflow. */
export interface ResolvedIntegration {
  readonly name: string;
  /** External tenant / company id from the org's mapping; null when the org has no mapping or none was set. */
  readonly entityId: string | null;
  readonly entityName: string | null;
  /** Whether the current org has a mapping to this integration. */
  readonly mapped: boolean;
  readonly config: IntegrationConfig;
  readonly oauth: OAuthCredentials | null;
  /**
   * The OAuth connection's state when the integration has an OAuth provider (null otherwise): why
   * `oauth` is null (`needs_reauth`, `error`, `not_connected`), or `connected`.
   */
  readonly connection: OAuthConnectionStatus | null;
  /**
   * A request with this integration's base URL, auth, trust rule, outbound policy, retries and errors,
   * exactly like a generated client call: a relative path is joined to the base URL; an absolute URL
   * gets credentials only at a trusted origin (else BIFROST_CLIENT_UNTRUSTED_ORIGIN). Resolves with the
   * Response of a 2xx answer; rejects with ApiError otherwise.
   */
  fetch(pathOrUrl: string | URL, init?: IntegrationFetchInit): Promise<Response>;
}

export interface IntegrationSummary {
  name: string;
  mapped: boolean;
  entityId: string | null;
  entityName: string | null;
}

/** Where the runtime gets resolved integrations from: the store in-process, or the HTTP API remotely. */
export interface IntegrationResolver {
  resolve(name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null>;
  list(org: ExecutionOrg | null): Promise<IntegrationSummary[]>;
  /** Look up another org by slug (platform-level callers only). */
  findOrg(slug: string): Promise<ExecutionOrg | null>;
  /**
   * Optional: force an OAuth refresh after the API rejected `seenAccessToken` (401). Version-conditional:
   * when the stored token already differs from `seenAccessToken`, return it without refreshing.
   * Null when the integration has no OAuth connection for the org.
   */
  refreshOAuth?(name: string, org: ExecutionOrg | null, seenAccessToken: string): Promise<OAuthCredentials | null>;
}

export interface Caller {
  kind: "cli" | "api_key";
  /** platform-level callers may read other orgs' integrations. */
  platform: boolean;
  keyId?: string;
}

/** One piece of a workflow's console output, already redacted. */
export interface WorkflowOutput {
  executionId: string;
  /** Where the workflow meant it to go. */
  stream: "stdout" | "stderr";
  /** The console method (`log`, `info`, `debug`, `trace`, `warn`, `error`) or `write` for process.stdout/stderr.write. */
  method: OutputMethod;
  /** The formatted text (as console.log would print it, without the trailing newline), redacted. */
  text: string;
}

export type OutputMethod = "log" | "info" | "debug" | "trace" | "warn" | "error" | "write";
export type OutputSink = (output: WorkflowOutput) => void;
