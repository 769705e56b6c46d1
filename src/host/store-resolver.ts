import { ConfigError } from "../core/errors.js";
import type { ConfigSchemaItem, ConfigValue } from "../core/types.js";
import type { SecretBox } from "../crypto/secret-box.js";
import type { ResolveRows, Store, StoredConfigValue } from "../storage/store.js";
import { IntegrationConfig } from "../runtime/config-map.js";
import type { CredentialLevel, ExecutionOrg, OAuthCredentials } from "../kernel/types.js";
import type { IntegrationResolver, IntegrationSummary, ResolvedIntegration, ResolverShare } from "../runtime/types.js";
import type { ResolvedCredentials } from "../oauth/credentials.js";
import { makeResolved } from "../runtime/resolved.js";
import { clientFetch } from "./client-fetch.js";
import type { OAuthDeps } from "../oauth/service.js";
import { resolveOptions } from "../oauth/options.js";
import { OAuthNotConnectedError } from "../oauth/errors.js";
import type { RefreshDeps } from "../oauth/refresh.js";
import type { CacheTable } from "../cache/change-feed.js";
import { type Clock, systemClock } from "../kernel/clock.js";
import { plainValue } from "../services/config-values.js";
import { AuditBuffer, type AuditContext, auditContext, withAuditContext } from "../kernel/audit.js";
import { currentContext, type ExecutionContext } from "../runtime/context.js";

/** The fixed part of a `secret.read` entry for one resolved object. */
interface SecretRead {
  readonly integration: { readonly id: string; readonly name: string };
  readonly keys: readonly string[];
  readonly detail: { readonly oauth_token: boolean };
}

interface ParsedSchema {
  keys: ReadonlySet<string>;
  required: readonly string[];
}

/** Schemas are parsed once per distinct text; the cache is bounded by the number of integrations. */
const schemaCache = new Map<string, ParsedSchema>();

function parsedSchema(text: string): ParsedSchema {
  let s = schemaCache.get(text);
  if (!s) {
    const items = JSON.parse(text) as ConfigSchemaItem[];
    s = { keys: new Set(items.map((i) => i.key)), required: items.filter((i) => i.required).map((i) => i.key) };
    if (schemaCache.size > 10_000) schemaCache.clear();
    schemaCache.set(text, s);
  }
  return s;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Merge defaults and overrides (shallow, key by key), decrypt the winners, check required keys. Also
 * returns the keys whose values are secrets (what a `secret.read` entry names).
 */
function buildResolved(box: SecretBox, rows: ResolveRows, org: ExecutionOrg | null, oauth: OAuthCredentials | null = null, creds?: ResolvedCredentials): { resolved: ResolvedIntegration; secretKeys: string[] } {
  const schema = parsedSchema(rows.integration.configSchema);
  const winners = new Map<string, StoredConfigValue>();
  /** Defaults the org overrides (their values are the trust inputs: the default base URL, server variables). */
  const shadowed = new Map<string, StoredConfigValue>();
  for (const v of rows.values) {
    if (!schema.keys.has(v.key)) continue;
    if (v.orgId === null) {
      if (!winners.has(v.key)) winners.set(v.key, v);
      else shadowed.set(v.key, v);
    } else {
      const prev = winners.get(v.key);
      if (prev?.orgId === null) shadowed.set(v.key, prev);
      winners.set(v.key, v);
    }
  }
  const values = new Map<string, ConfigValue>();
  const secrets = new Map<string, string>();
  const levels = new Map<string, CredentialLevel>();
  for (const [key, v] of winners) {
    values.set(key, deepFreeze(plainValue(box, v)));
    if (v.isSecret) secrets.set(key, v.fingerprint ?? "");
    levels.set(key, v.orgId === null ? "integration" : "org");
  }
  const defaults = new Map<string, string>();
  for (const [key, v] of shadowed) {
    if (v.orgId !== null || v.isSecret) continue;
    const plain = plainValue(box, v);
    if (typeof plain === "string") defaults.set(key, plain);
  }
  const missing = schema.required.filter((k) => !values.has(k));
  if (missing.length > 0) {
    const who = org ? `organization "${org.slug}"` : "the integration defaults (no organization)";
    throw new ConfigError(
      `Integration "${rows.integration.name}" is missing required config key(s) ${missing.join(", ")} for ${who}. ` +
        `Set a default with \`bifrost config set ${rows.integration.name} KEY=VALUE\`${org ? ` or an override with \`--org ${org.slug}\`` : ""}.`,
      { integration: rows.integration.name, org: org?.slug ?? null, missing },
    );
  }
  const resolved = makeResolved(
    {
      name: rows.integration.name,
      entityId: rows.mapping?.entityId ?? null,
      entityName: rows.mapping?.entityName ?? null,
      mapped: rows.mapping !== null,
      config: new IntegrationConfig(rows.integration.name, values, schema.keys, secrets, levels),
      oauth: creds ? creds.credentials : oauth,
      connection: creds ? creds.connection : null,
    },
    {
      org,
      defaults,
      trustedOrigins: rows.integration.trustedOrigins ?? [],
      privateNetwork: rows.integration.privateNetwork ?? false,
      oauthLevel: creds ? creds.level : oauth ? "integration" : null,
    },
    clientFetch,
  );
  return { resolved, secretKeys: [...secrets.keys()] };
}

const resolvedKey = (name: string, org: ExecutionOrg | null): string => `${org?.id ?? ""}\u0000${org?.slug ?? ""}\u0000${name}`;

/** Resolver that reads the store directly (in-process workflows and the server). */
export class StoreResolver implements IntegrationResolver {
  readonly #store: Store;
  readonly #box: SecretBox;
  readonly #oauth: RefreshDeps;
  /** secret.read entries, written in batches off the hot path (flushAudit() writes them now). */
  readonly #audit: AuditBuffer;
  /** Resolved integrations without OAuth, by org id + name (see src/cache/change-feed.ts); null = no cache. */
  readonly #resolved: CacheTable<ResolvedIntegration> | null;
  readonly #orgs: CacheTable<ExecutionOrg> | null;

  /** `opts.oauth` tunes the OAuth core (timeouts, skew, public URL); defaults come from the environment. */
  constructor(store: Store, box: SecretBox, opts: { clock?: Clock; oauth?: OAuthDeps["oauth"] } = {}) {
    this.#store = store;
    this.#box = box;
    this.#audit = new AuditBuffer({ store, clock: opts.clock ?? systemClock });
    // What withOAuth() (oauth/service.ts) builds, without loading the OAuth client: the token and refresh
    // code (oauth4webapi, undici) is imported when an integration with OAuth is resolved or refreshed.
    this.#oauth = { store, box, clock: opts.clock ?? systemClock, oauth: { ...resolveOptions(opts.oauth), ...(opts.oauth?.hooks ? { hooks: opts.oauth.hooks } : {}) } };
    this.#resolved = store.changes?.table<ResolvedIntegration>("resolved") ?? null;
    this.#orgs = store.changes?.table<ExecutionOrg>("orgs-by-slug") ?? null;
  }

  /** Resolves in flight, by org + name, with the change-feed epoch they started in (see `resolve`). */
  readonly #inflight = new Map<string, { epoch: number; promise: Promise<ResolvedIntegration | null> }>();

  /**
   * One store read for integrations without OAuth (the resolve query also says whether a provider is
   * attached); with a provider, the token is read and refreshed when needed.
   *
   * Identical concurrent resolves are coalesced: a caller arriving while a resolve of the same org and
   * name is in flight, and no write of this process happened since it started (the change feed's epoch
   * is unchanged), shares its answer: one query, one refresh decision and one build serve N callers. A
   * caller after a write starts its own resolve, so a process always reads its own writes. Without a
   * change feed nothing is coalesced (writes could not be told apart).
   */
  async resolve(name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
    // Inside a workflow execution, what this read records (and any refresh it triggers) names the execution.
    const execution = currentContext();
    const outer = auditContext();
    const audit = execution ? { ...outer, executionId: execution.executionId } : outer;
    const key = resolvedKey(name, org);
    // A cached answer touches nothing that records; only a store read (and a refresh) runs in the context.
    const built = this.#resolved?.get(key) ?? (await withAuditContext(audit, () => this.#resolve(name, org, key)));
    if (built) this.#recordRead(built, org, execution, audit);
    return built;
  }

  #resolve(name: string, org: ExecutionOrg | null, key: string): Promise<ResolvedIntegration | null> {
    const feed = this.#store.changes;
    if (!feed) return this.#resolveNow(name, org, key, 0);
    const epoch = feed.epoch;
    const running = this.#inflight.get(key);
    if (running && running.epoch === epoch) return running.promise;
    const promise = this.#resolveNow(name, org, key, epoch);
    const entry = { epoch, promise };
    this.#inflight.set(key, entry);
    const done = (): void => void (this.#inflight.get(key) === entry && this.#inflight.delete(key));
    promise.then(done, done);
    return promise;
  }

  async #resolveNow(name: string, org: ExecutionOrg | null, key: string, epoch: number): Promise<ResolvedIntegration | null> {
    const cache = this.#resolved;
    const rows = await this.#store.resolve(name, org?.id ?? null);
    if (!rows) return null;
    const creds = rows.hasOAuth ? await (await import("../oauth/credentials.js")).resolveConnection(this.#oauth, rows, org) : undefined;
    const { resolved: built, secretKeys } = buildResolved(this.#box, rows, org, null, creds);
    // What a secret.read entry says about this object, computed once with it (cached objects reuse it).
    const integration = Object.freeze({ id: rows.integration.id, name: rows.integration.name });
    const read = secretKeys.length > 0 || built.oauth !== null ? Object.freeze({ integration, keys: Object.freeze(secretKeys), detail: Object.freeze({ oauth_token: built.oauth !== null }) }) : null;
    this.#reads.set(built, read);
    // Integrations with OAuth are never cached: their token rows go through the refresh logic on every get().
    if (cache && !rows.hasOAuth) cache.set(key, built, epoch);
    return built;
  }

  #share: ResolverShare | null | undefined;

  /**
   * Workflow workers reuse a resolved integration while it is this resolver's cached entry: the same
   * expiry, and void as soon as the change feed is invalidated (its epoch is in shared memory).
   * Integrations with OAuth are never cached, so never reused (their tokens go through the refresh logic).
   */
  share(): ResolverShare | null {
    if (this.#share !== undefined) return this.#share;
    const feed = this.#store.changes;
    const table = this.#resolved;
    if (!feed || !table) return (this.#share = null);
    const epochs = feed.sharedEpoch();
    this.#share = {
      epochs,
      lease: (name, org, resolved) => {
        const until = table.lease(resolvedKey(name, org), resolved);
        return until === null ? null : { epoch: feed.epoch | 0, until, secret: Boolean(this.#reads.get(resolved)) };
      },
      recordRead: (resolved, org) => this.#recordRead(resolved, org, currentContext(), auditContext()),
    };
    return this.#share;
  }

  /** Write the queued `secret.read` entries now (called at close; tests call it before reading the trail). */
  flushAudit(): Promise<void> {
    return this.#audit.flush();
  }

  /**
   * What a `secret.read` of each resolved object records (integration, secret keys, whether an OAuth
   * token is included); null = it hands out no secret. Set when the object is built.
   */
  readonly #reads = new WeakMap<ResolvedIntegration, SecretRead | null>();
  /** Integrations whose secrets each execution has read (recorded once per execution per integration and org). */
  readonly #readBy = new WeakMap<ExecutionContext, Set<string>>();

  /**
   * `secret.read`: plaintext secrets or an OAuth token were handed out. Once per execution per integration
   * (and org); outside an execution (the `/resolved` route, test connection) once per call. Only queued
   * here (synchronously): the entry is built when its batch is written.
   */
  #recordRead(built: ResolvedIntegration, org: ExecutionOrg | null, execution: ExecutionContext | undefined, ctx: AuditContext): void {
    const read = this.#reads.get(built);
    if (!read) return;
    if (execution) {
      // Repeated get()s in one execution stop here.
      let seen = this.#readBy.get(execution);
      const once = `${org?.id ?? ""}\u0000${read.integration.id}`;
      if (seen?.has(once)) return;
      if (!seen) this.#readBy.set(execution, (seen = new Set<string>()));
      seen.add(once);
    }
    this.#audit.record("secret.read", { ...read, org: org ? { id: org.id, slug: org.slug } : null }, ctx);
  }

  /** In-flight and recent forced refreshes, keyed by org + integration + the token the API rejected. */
  readonly #forced = new Map<string, Promise<OAuthCredentials | null>>();

  /**
   * Forced refresh after a 401 (see IntegrationResolver.refreshOAuth). Callers that saw the same token
   * share one refresh; a token that already changed in the store is returned as is. The OAuth core's
   * single-flight and row lock cover other processes.
   */
  refreshOAuth(name: string, org: ExecutionOrg | null, seenAccessToken: string): Promise<OAuthCredentials | null> {
    const key = `${org?.id ?? "_"}\u0000${name}\u0000${seenAccessToken}`;
    let p = this.#forced.get(key);
    if (!p) {
      p = this.#forceRefresh(name, org, seenAccessToken);
      if (this.#forced.size > 1_000) this.#forced.clear();
      this.#forced.set(key, p);
      // Keep the answer briefly for late 401s on the same old token; forget failures at once.
      const forget = (): void => void setTimeout(() => this.#forced.get(key) === p && this.#forced.delete(key), 30_000).unref();
      p.then(forget, () => this.#forced.delete(key));
    }
    return p;
  }

  async #forceRefresh(name: string, org: ExecutionOrg | null, seenAccessToken: string): Promise<OAuthCredentials | null> {
    const current = (await this.resolve(name, org))?.oauth ?? null;
    if (!current || current.accessToken !== seenAccessToken) return current;
    const { refreshConnection } = await import("../oauth/service.js");
    try {
      await refreshConnection(this.#oauth, { integration: name, org: org?.slug ?? null });
    } catch (err) {
      // The org has no own connection: the token in use is the integration-level one.
      if (!(err instanceof OAuthNotConnectedError) || org === null) throw err;
      await refreshConnection(this.#oauth, { integration: name, org: null });
    }
    return (await this.resolve(name, org))?.oauth ?? null;
  }

  async list(org: ExecutionOrg | null): Promise<IntegrationSummary[]> {
    return this.#store.listForOrg(org?.id ?? null);
  }

  async findOrg(slug: string): Promise<ExecutionOrg | null> {
    const hit = this.#orgs?.get(slug);
    if (hit) return hit;
    const epoch = this.#store.changes?.epoch ?? 0;
    const o = await this.#store.getOrgBySlug(slug);
    if (!o) return null;
    const org = Object.freeze({ id: o.id, slug: o.slug, name: o.name });
    this.#orgs?.set(slug, org, epoch);
    return org;
  }
}
