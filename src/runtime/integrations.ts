import { ForbiddenError, IntegrationNotFoundError, NotFoundError } from "../core/errors.js";
import { type ExecutionContext, requireContext } from "./context.js";
import { withOAuth } from "./resolved.js";
import type { ExecutionOrg, OAuthCredentials } from "../kernel/types.js";
import type { ConfigFor, IntegrationName, IntegrationSummary, ResolvedIntegration } from "./types.js";

export interface GetOptions {
  /** Another organization's slug; only callers with a platform-level credential may ask. */
  org?: string;
}

async function targetOrg(ctx: ExecutionContext, opts: GetOptions | undefined): Promise<ExecutionOrg | null> {
  if (opts?.org === undefined || opts.org === ctx.org?.slug) return ctx.org;
  if (!ctx.caller.platform) {
    throw new ForbiddenError(`This workflow runs as organization "${ctx.org?.slug ?? "(none)"}" and may not read "${opts.org}": that needs a platform-level credential.`);
  }
  const org = await ctx.resolver.findOrg(opts.org);
  if (!org) throw new NotFoundError(`Organization "${opts.org}" does not exist.`, { org: opts.org });
  return org;
}

const cacheKey = (name: string, org: ExecutionOrg | null): string => `${org?.id ?? "_"}\u0000${name}`;

function remember(ctx: ExecutionContext, oauth: OAuthCredentials): void {
  ctx.secrets.add(oauth.accessToken);
  if (oauth.refreshToken) ctx.secrets.add(oauth.refreshToken);
}

function get(ctx: ExecutionContext, name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
  const key = cacheKey(name, org);
  let hit = ctx.cache.get(key);
  if (!hit) {
    hit = ctx.resolver.resolve(name, org).then((r) => {
      if (r) for (const s of r.config.secretValues()) ctx.secrets.add(s);
      if (r?.oauth) remember(ctx, r.oauth);
      return r;
    });
    // A failed lookup is not cached: the next call tries again.
    hit.catch(() => ctx.cache.delete(key));
    ctx.cache.set(key, hit);
  }
  return hit;
}

/** `integrations.get()` for any name (the runtime's own callers; workflows use the typed `integrations`). */
export async function resolveIntegration(name: string, opts?: GetOptions): Promise<ResolvedIntegration | null> {
  const ctx = requireContext("integrations.get()");
  return get(ctx, name, await targetOrg(ctx, opts));
}

/** `integrations.require()` for any name: throws IntegrationNotFoundError instead of returning null. */
export async function requireIntegration(name: string, opts?: GetOptions): Promise<ResolvedIntegration> {
  const found = await resolveIntegration(name, opts);
  if (!found) throw new IntegrationNotFoundError(name);
  return found;
}

/**
 * The workflow-facing SDK. Names and config keys are typed by the declarations `bifrost types` writes
 * (see IntegrationRegistry); without them any name is accepted and `config.get<T>()` is loose.
 */
export interface Integrations {
  /**
   * Merged config, entity mapping and credentials of `name` for the current organization.
   * Returns null when no integration has that name. Without a mapping: defaults and `entityId: null`.
   * Throws ConfigError when a required key has no value.
   */
  get<N extends IntegrationName>(name: N, opts?: GetOptions): Promise<ResolvedIntegration<ConfigFor<N>> | null>;
  /** Like get(), but throws IntegrationNotFoundError instead of returning null. */
  require<N extends IntegrationName>(name: N, opts?: GetOptions): Promise<ResolvedIntegration<ConfigFor<N>>>;
  /** Every integration, with whether (and to which entity) the current organization is mapped. */
  list(opts?: GetOptions): Promise<IntegrationSummary[]>;
}

/** `await integrations.get("HaloPSA")`. The typed views are the same objects: only the declared types differ. */
export const integrations: Integrations = {
  get: resolveIntegration as Integrations["get"],
  require: requireIntegration as Integrations["require"],
  async list(opts?: GetOptions): Promise<IntegrationSummary[]> {
    const ctx = requireContext("integrations.list()");
    return ctx.resolver.list(await targetOrg(ctx, opts));
  },
};

/**
 * After an API answered 401 to `seenAccessToken`: have the resolver force one OAuth refresh of `name`
 * for the current org (unless the stored token already changed) and update this execution's cached
 * integration so later `integrations.get()` calls see the new token. Null when the resolver cannot
 * refresh (no OAuth connection, or a resolver without `refreshOAuth`). Used by `bifrost/client`.
 */
export async function refreshIntegrationOAuth(name: string, seenAccessToken: string, org?: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
  const ctx = requireContext("refreshIntegrationOAuth()");
  if (!ctx.resolver.refreshOAuth) return null;
  // `org`: the organization the integration was resolved for (integration.fetch() of another org's integration).
  const target = org === undefined ? ctx.org : org;
  const oauth = await ctx.resolver.refreshOAuth(name, target, seenAccessToken);
  if (!oauth) return null;
  remember(ctx, oauth);
  const current = await get(ctx, name, target);
  if (!current) return null;
  const updated = withOAuth(current, oauth);
  ctx.cache.set(cacheKey(name, target), Promise.resolve(updated));
  return updated;
}
