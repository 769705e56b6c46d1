import type { IntegrationConfig } from "./config-map.js";

/** OAuth credentials handed to a workflow (filled by the OAuth capability). */
export interface OAuthCredentials {
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  scopes: string[];
  refreshToken?: string;
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

export interface ExecutionOrg {
  id: string;
  slug: string;
  name: string;
}

export interface Caller {
  kind: "cli" | "api_key";
  /** platform-level callers may read other orgs' integrations. */
  platform: boolean;
  keyId?: string;
}
