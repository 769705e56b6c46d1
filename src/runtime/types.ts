import type { CredentialLevel, ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import type { IntegrationConfig } from "./config-map.js";

/**
 * Typed config in workflows: empty here; `bifrost types` writes a declaration file that augments it
 * (`declare module "bifrost" { interface IntegrationRegistry { HaloPSA: { base_url: string; … } } }`),
 * one entry per stored integration, mapping each config key to the type `config.get(key)` returns.
 * While it is empty, integration names are plain strings and `config.get<T>(key)` stays loose.
 */
export interface IntegrationRegistry {}

type Registered = keyof IntegrationRegistry & string;

/** The names `integrations.get()` accepts: any string, or only the registered ones once `bifrost types` ran. */
export type IntegrationName = [Registered] extends [never] ? string : Registered;

/**
 * The config of one registered integration: `get(key)` accepts only its schema keys and returns the
 * key's type (`T | undefined` for optional keys; required keys are never undefined, because
 * `integrations.get()` throws ConfigError when one has no value).
 */
export interface TypedIntegrationConfig<S> extends Omit<IntegrationConfig, "get" | "has" | "levelOf"> {
  get<K extends keyof S & string>(key: K): S[K];
  has(key: keyof S & string): boolean;
  levelOf(key: keyof S & string): CredentialLevel | null;
}

/** The config type of integration `N`: typed when `N` is registered, else the loose IntegrationConfig. */
export type ConfigFor<N extends string> = N extends Registered ? TypedIntegrationConfig<IntegrationRegistry[N]> : IntegrationConfig;

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
  /**
   * Credentials from config keys. Default: as the integration's generated module authenticates (its
   * `--auth` choice or the spec's security, when that module is loaded), else the OAuth bearer token when
   * the integration has OAuth, else none.
   */
  auth?: FetchAuth;
  /** Per-attempt timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Retries for idempotent methods (default 2). */
  maxRetries?: number;
}

/**
 * What `integrations.get(name)` returns inside a workflow. `C` is the config's type: the loose
 * IntegrationConfig, or the typed view of a registered integration (see IntegrationRegistry).
 */
export interface ResolvedIntegration<C = IntegrationConfig> {
  readonly name: string;
  /** External tenant / company id from the org's mapping; null when the org has no mapping or none was set. */
  readonly entityId: string | null;
  readonly entityName: string | null;
  /** Whether the current org has a mapping to this integration. */
  readonly mapped: boolean;
  readonly config: C;
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
  /**
   * Optional: lets a workflow worker thread reuse what resolve() answered for as long as this resolver's
   * own cache would (host/workflow-pool.ts); null while nothing is cached.
   */
  share?(): ResolverShare | null;
}

/** See IntegrationResolver.share(). */
export interface ResolverShare {
  /** Changes (written with Atomics) whenever the resolver's cache is invalidated: shared with worker threads. */
  readonly epochs: Int32Array;
  /**
   * Until when (Date.now() ms) `resolved`, an answer of resolve(name, org), may be reused while
   * `epochs[0]` still equals `epoch`; null when it may not (not cached: OAuth, caching off). `secret`:
   * it hands out secrets, so each reuse must be recorded (recordRead).
   */
  lease(name: string, org: ExecutionOrg | null, resolved: ResolvedIntegration): { epoch: number; until: number; secret: boolean } | null;
  /** Record what reusing `resolved` for `org` hands out, as resolve() records it (a `secret.read` entry in the current audit context). */
  recordRead(resolved: ResolvedIntegration, org: ExecutionOrg | null): void;
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
