import type { FetchGuardOptions } from "./guarded-fetch.js";

/** Runtime settings of the OAuth core; defaults come from the environment. */
export interface OAuthOptions extends FetchGuardOptions {
  /** BIFROST_PUBLIC_URL: callbacks are `${publicUrl}/api/oauth/callback/${integration}`. */
  publicUrl: string;
  /** Refresh a token this many seconds before it expires (capped at half its lifetime). */
  skewSeconds: number;
  /** Authorization states live this long (10 minutes). */
  stateTtlSeconds: number;
  /** Backoff after transient failures: base and cap, in ms (full jitter). */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export function oauthOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OAuthOptions {
  return {
    publicUrl: (env.BIFROST_PUBLIC_URL || "http://127.0.0.1:3000").replace(/\/+$/, ""),
    allowHttpLoopback: env.BIFROST_ALLOW_HTTP_LOOPBACK === "1",
    timeoutMs: 10_000,
    maxResponseBytes: 1024 * 1024,
    skewSeconds: 60,
    stateTtlSeconds: 600,
    backoffBaseMs: 5_000,
    backoffMaxMs: 15 * 60_000,
  };
}

export function resolveOptions(partial: Partial<OAuthOptions> | undefined): OAuthOptions {
  return { ...oauthOptionsFromEnv(), ...(partial ?? {}) };
}

/** Full-jitter exponential backoff: a random delay in [base, min(cap, base·2^n)]. */
export function backoffDelayMs(failures: number, opts: Pick<OAuthOptions, "backoffBaseMs" | "backoffMaxMs">): number {
  const ceiling = Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** Math.min(failures, 20));
  return Math.round(opts.backoffBaseMs + Math.random() * Math.max(0, ceiling - opts.backoffBaseMs));
}

/**
 * The same deps with the integration's outbound policy applied to its OAuth requests: `private_network`
 * lets its endpoints be private addresses (never link-local or metadata).
 */
export function withIntegrationPolicy<T extends { oauth: OAuthOptions }>(deps: T, integration: { privateNetwork?: boolean }): T {
  if (!integration.privateNetwork) return deps;
  return { ...deps, oauth: { ...deps.oauth, privateNetwork: true } };
}
