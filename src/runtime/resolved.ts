/**
 * Building a ResolvedIntegration (in-process and remote): the public fields, `fetch()`, and the
 * trust record the client runtime uses to decide where each credential may go (DESIGN §9.1). The
 * record is symbol-keyed: `JSON.stringify` and `toJSON()` output are unchanged, and it holds no secret.
 */
import { OAuthNeedsReauthError, OAuthTransientError } from "../oauth/errors.js";
import type { CredentialLevel, ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import type { IntegrationFetchInit, ResolvedIntegration } from "./types.js";

/** The key of the trust record on a ResolvedIntegration. */
const TRUST: unique symbol = Symbol.for("bifrost.trust") as never;

/** What the client runtime needs, besides the config, to bind credentials to origins. */
export interface TrustRecord {
  /** The organization the integration was resolved for (null: integration level). */
  readonly org: ExecutionOrg | null;
  /**
   * The integration-level (default) values of non-secret string keys the organization overrides; for
   * keys it does not override, the default is the config value itself (`config.levelOf(key) === "integration"`).
   */
  readonly defaults: ReadonlyMap<string, string>;
  /** The integration's platform-set `trusted_origins` (origins, e.g. `https://eu.api.example.com`). */
  readonly trustedOrigins: readonly string[];
  /** The integration's platform-set `private_network`: private address ranges allowed (never link-local). */
  readonly privateNetwork: boolean;
  /** Level of the OAuth connection in use (or broken); null without one. */
  readonly oauthLevel: CredentialLevel | null;
}

type Fields = Omit<ResolvedIntegration, "fetch">;

/** The trust record of `integ`; a conservative one (everything integration level) when it has none. */
export function trustOf(integ: ResolvedIntegration): TrustRecord {
  return (integ as { [TRUST]?: TrustRecord })[TRUST] ?? { org: null, defaults: new Map(), trustedOrigins: [], privateNetwork: false, oauthLevel: integ.oauth ? "integration" : null };
}

/** How `integration.fetch()` sends a request: the client runtime, supplied by whoever builds the integration. */
export type IntegrationFetchImpl = (integ: ResolvedIntegration, pathOrUrl: string | URL, init?: IntegrationFetchInit) => Promise<Response>;

/** Where a ResolvedIntegration keeps its fetch implementation, so `withOAuth` can rebuild it. */
const FETCH: unique symbol = Symbol("bifrost.fetch") as never;

/** The frozen ResolvedIntegration with its `fetch()` (sent through `fetchImpl`) and trust record. */
export function makeResolved(fields: Fields, trust: TrustRecord, fetchImpl: IntegrationFetchImpl): ResolvedIntegration {
  const integ = { ...fields } as ResolvedIntegration;
  const fetch = (pathOrUrl: string | URL, init?: IntegrationFetchInit): Promise<Response> => fetchImpl(integ, pathOrUrl, init);
  // Not enumerable: logging, spreading and comparing a resolved integration see its data only.
  Object.defineProperty(integ, "fetch", { value: fetch, enumerable: false });
  Object.defineProperty(integ, TRUST, { value: trust, enumerable: false });
  Object.defineProperty(integ, FETCH, { value: fetchImpl, enumerable: false });
  return Object.freeze(integ);
}

/** The same integration with new OAuth credentials (after a forced refresh). */
export function withOAuth(integ: ResolvedIntegration, oauth: OAuthCredentials): ResolvedIntegration {
  // An integration not built by makeResolved (a test double) keeps its own fetch().
  const fetchImpl: IntegrationFetchImpl = (integ as { [FETCH]?: IntegrationFetchImpl })[FETCH] ?? ((_i, pathOrUrl, init) => integ.fetch(pathOrUrl, init));
  return makeResolved({ ...integ, oauth, connection: integ.connection && { state: "connected", reason: null, since: integ.connection.since } }, trustOf(integ), fetchImpl);
}

/**
 * The error a call that needs the OAuth token throws when the connection is broken (`needs_reauth`,
 * or `error` without a usable token); null when the connection is not broken.
 */
export function connectionError(integ: ResolvedIntegration): Error | null {
  const c: OAuthConnectionStatus | null = integ.connection;
  if (!c || integ.oauth || (c.state !== "needs_reauth" && c.state !== "error")) return null;
  const trust = trustOf(integ);
  const orgLevel = trust.oauthLevel === "org" && trust.org !== null;
  const fix = `bifrost oauth connect ${integ.name}${orgLevel ? ` --org ${trust.org?.slug}` : ""}`;
  const whose = trust.org ? ` for organization "${trust.org.slug}"` : "";
  const details = { integration: integ.name, org: trust.org?.slug ?? null, state: c.state, reason: c.reason, since: c.since };
  if (c.state === "needs_reauth") {
    return new OAuthNeedsReauthError(
      `The OAuth connection of "${integ.name}"${whose} needs to be reconnected (${c.reason ?? "invalid_grant"}${c.since ? ` since ${c.since}` : ""}); no token is sent. Run \`${fix}\`.`,
      details,
    );
  }
  return new OAuthTransientError(
    `The OAuth token of "${integ.name}"${whose} expired and could not be renewed (${c.reason ?? "error"}); it is retried with backoff. If it persists, check \`bifrost oauth status ${integ.name}\` or run \`${fix}\`.`,
    details,
  );
}
