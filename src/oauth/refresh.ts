import { randomUUID } from "node:crypto";
import type { BifrostError } from "../core/errors.js";
import { recordAudit } from "../kernel/audit.js";
import type { Deps } from "../kernel/deps.js";
import type { Store, StoredOAuthToken } from "../storage/store.js";
import { OAuthNeedsReauthError, OAuthNotConnectedError, OAuthTransientError } from "./errors.js";
import { recordEvent } from "./events.js";
import { authorizationServer, classify, clientCredentialsGrant, type OAuthFailure, type ProviderContext, refreshGrant, type TokenSet, toBifrostError, UNKNOWN_FAILURE } from "./grants.js";
import { backoffDelayMs, type OAuthOptions } from "./options.js";
import { isFresh, isUnexpired, type LoadedProvider, tokenPatch, tokenSecretContext } from "./tokens.js";

/** Identifies this process in the in-flight marker (refresh_owner). */
const OWNER = `${process.pid}:${randomUUID().slice(0, 8)}`;

export const INTERRUPTED_REFRESH_ERROR =
  "interrupted_refresh: the provider rejected the refresh token (invalid_grant) right after an earlier refresh of this connection was interrupted before it was saved; the provider had most likely already rotated the token. Reconnect to restore access.";
export const REVOKED_ERROR = "invalid_grant: the provider rejected the refresh token (revoked, expired or reused). Reconnect to restore access.";

/** Test-only hooks (real process behaviour around the commit window). */
export interface RefreshHooks {
  /** Called after the provider answered and before the new token is committed. */
  afterTokenResponse?: () => void | Promise<void>;
}

export interface RefreshDeps extends Deps {
  oauth: OAuthOptions & { hooks?: RefreshHooks };
}

export interface RefreshTarget {
  integration: { id: string; name: string };
  provider: LoadedProvider;
  /** Entity id of the mapping that owns the token (fills {entity_id}); null for org/integration-level tokens. */
  entityId: string | null;
  /** The org being served, when known: names the org of the refresh's audit entry without a lookup. */
  org?: { id: string; slug: string } | null;
}

export interface RefreshMode {
  /** Refresh even if the token looks fresh (forced refresh, 401 from the API) unless the version moved on. */
  force?: boolean;
  /** Refresh when the token expires within this many seconds (background refresher); default the skew. */
  aheadSeconds?: number;
}

/** In-process single-flight: callers of one token row share one refresh. */
const inflight = new Map<string, Promise<StoredOAuthToken>>();

/** The newest row each refresh of this process returned (newer versions only replace older ones). */
const latest = new Map<string, StoredOAuthToken>();

type LockOutcome = { ok: StoredOAuthToken } | { error: BifrostError; row: StoredOAuthToken | null };

/**
 * Return a usable token row for `row`, refreshing (or minting, for client credentials) at most once per
 * credential across callers and processes: single-flight here, the store's lock, then a re-read.
 */
export async function ensureFresh(deps: RefreshDeps, target: RefreshTarget, row: StoredOAuthToken, mode: RefreshMode = {}): Promise<StoredOAuthToken> {
  const ahead = mode.aheadSeconds ?? deps.oauth.skewSeconds;
  if (!mode.force && isFresh(row, Date.now(), ahead)) return row;
  if (row.state === "needs_reauth") throw needsReauth(target, row);
  // A caller whose read predates a refresh this process just finished takes that result: no DB work.
  const known = latest.get(row.id);
  if (!mode.force && known && known.version > row.version && isFresh(known, Date.now(), ahead)) return known;
  let flight = inflight.get(row.id);
  if (!flight) {
    flight = refreshUnderLock(deps, target, row, mode, ahead)
      .then((r) => {
        if (latest.size > 10_000) latest.clear();
        latest.set(row.id, r);
        return r;
      })
      .finally(() => inflight.delete(row.id));
    inflight.set(row.id, flight);
  }
  return flight;
}

function needsReauth(target: RefreshTarget, row: StoredOAuthToken): OAuthNeedsReauthError {
  const reason = (row.lastError ?? "invalid_grant").split(":")[0];
  return new OAuthNeedsReauthError(
    `The OAuth connection of "${target.integration.name}" needs to be reconnected (${reason}). Run \`bifrost oauth connect ${target.integration.name}\`${row.orgId ? " with --org" : ""}.`,
    { integration: target.integration.name, state: row.state, reason, interrupted: row.lastError?.startsWith("interrupted_refresh") ?? false },
  );
}

/** Whether a row re-read after waiting on another refresher can be handed out as is. */
function usableAfterWait(row: StoredOAuthToken, seenVersion: number, mode: RefreshMode, ahead: number): boolean {
  const nowMs = Date.now();
  if (row.version !== seenVersion && row.state === "connected" && isUnexpired(row, nowMs)) return true;
  return !mode.force && isFresh(row, nowMs, ahead);
}

/**
 * Whether `lockedRefresh` sends a refresh for `row` (when the row is still this one under the lock):
 * its decision, without the "someone else refreshed" case. Time only makes a refresh more due, so a
 * refresh due now is due when the lock is held.
 */
function refreshDue(row: StoredOAuthToken, mode: RefreshMode, ahead: number, flow: string, nowMs: number): boolean {
  if (!mode.force && isFresh(row, nowMs, ahead)) return false;
  if (row.state === "needs_reauth") return false;
  if (!mode.force && row.nextAttemptAt && Date.parse(row.nextAttemptAt) > nowMs) return false;
  return !(flow === "authorization_code" && !row.refreshToken);
}

/**
 * Cross-process part: take the lock if it is free. The one process that gets it refreshes; the
 * others wait on a shared lock (released together at the holder's commit), re-read the row in the
 * same round trip and use the holder's token without taking the exclusive lock one by one. If the
 * holder did not leave a usable token (it failed or was killed), try again, and in the end take the
 * lock and decide there. The first attempt carries a claim when a refresh of `seen` is due: the
 * store sets the in-flight marker in the lock's own round trip if the row is still `seen` then.
 */
async function refreshUnderLock(deps: RefreshDeps, target: RefreshTarget, seen: StoredOAuthToken, mode: RefreshMode, ahead: number): Promise<StoredOAuthToken> {
  const { store, clock } = deps;
  const id = seen.id;
  const seenVersion = seen.version;
  // With a claim, the row read under the lock already carries this caller's marker: the body gets it as
  // it was just before (the claim changed only these four columns; anything else, such as a rewrapped
  // ciphertext, is taken as read under the lock).
  const beforeMarker = (row: StoredOAuthToken): StoredOAuthToken => ({ ...row, state: seen.state, refreshStartedAt: seen.refreshStartedAt, refreshOwner: seen.refreshOwner, updatedAt: seen.updatedAt });
  const body = (tx: Store, row: StoredOAuthToken | null, claimed = false): Promise<LockOutcome> => lockedRefresh(deps, target, claimed && row ? beforeMarker(row) : row, seenVersion, mode, ahead, tx, claimed);
  const due = refreshDue(seen, mode, ahead, target.provider.settings.flow, Date.now());
  let outcome: LockOutcome | null = null;
  for (let attempt = 0; attempt < 3 && outcome === null; attempt++) {
    const claim = attempt === 0 && due ? { owner: OWNER, at: clock.now(), seen: { version: seen.version, updatedAt: seen.updatedAt } } : null;
    const tried = await store.lockOrAwaitOAuthToken(id, claim, body);
    if (tried.locked) {
      outcome = tried.value;
      break;
    }
    const after = tried.row;
    if (!after) throw new OAuthNotConnectedError(`The OAuth connection of "${target.integration.name}" was removed.`, { integration: target.integration.name });
    if (after.state === "needs_reauth") throw needsReauth(target, after);
    if (usableAfterWait(after, seenVersion, mode, ahead)) return after;
  }
  outcome ??= await store.withOAuthTokenLock(id, body);
  if ("ok" in outcome) return outcome.ok;
  // A transient failure while the old token is still valid: hand out the old token.
  if (!mode.force && outcome.row && outcome.error instanceof OAuthTransientError && isUnexpired(outcome.row, Date.now())) return outcome.row;
  throw outcome.error;
}

/**
 * Whether a failed attempt may have been delivered without us seeing the answer (a timeout or a
 * connection lost after connecting): only then is the in-flight marker kept, so that a following
 * invalid_grant is classified as an interrupted refresh. An attempt that never left (URL or address
 * refused, DNS failure, connection refused, TLS failure) or that got an answer clears it.
 */
function mayHaveReachedProvider(f: OAuthFailure): boolean {
  if (f.kind !== "transient") return false;
  if (!f.own) return f.reason === UNKNOWN_FAILURE;
  const reason = f.own.details?.reason;
  return reason === "timeout" || reason === "network";
}

/**
 * The decision and the refresh, holding the lock (`row` was read holding it): return early when someone
 * else refreshed, else refresh and write. `claimed`: the lock set this caller's in-flight marker on the
 * row it decided on (`row` is the row as it was just before), so the refresh is sent at once.
 */
async function lockedRefresh(deps: RefreshDeps, target: RefreshTarget, row: StoredOAuthToken | null, seenVersion: number, mode: RefreshMode, ahead: number, tx: Store, claimed: boolean): Promise<LockOutcome> {
  const { store, box, clock } = deps;
  const flow = target.provider.settings.flow;
  if (!row) return { error: new OAuthNotConnectedError(`The OAuth connection of "${target.integration.name}" was removed.`, { integration: target.integration.name }), row: null };
  const id = row.id;
  if (!claimed) {
    const nowMs = Date.now();
    // Someone else refreshed while we waited for the lock: use their token.
    if (row.version !== seenVersion && row.state === "connected" && isUnexpired(row, nowMs)) return { ok: row };
    if (!mode.force && isFresh(row, nowMs, ahead)) return { ok: row };
    if (row.state === "needs_reauth") return { error: needsReauth(target, row), row };
    if (!mode.force && row.nextAttemptAt && Date.parse(row.nextAttemptAt) > nowMs) {
      if (isUnexpired(row, nowMs)) return { ok: row };
      return {
        error: new OAuthTransientError(`The OAuth token of "${target.integration.name}" expired and the provider failed recently; next attempt after ${row.nextAttemptAt} (${row.lastError ?? "transient error"}).`, { integration: target.integration.name, nextAttemptAt: row.nextAttemptAt }),
        row,
      };
    }
    if (flow === "authorization_code" && !row.refreshToken) {
      if (isUnexpired(row, nowMs) && !mode.force) return { ok: row };
      const at = clock.now();
      const dead = (await tx.updateOAuthTokenReturning(id, { state: "needs_reauth", lastError: "no_refresh_token: the token expired and the provider issued no refresh token. Reconnect.", updatedAt: at }, { bumpVersion: true })) as StoredOAuthToken;
      await recordEvent(tx, clock, { type: "needs_reauth", integrationId: row.integrationId, orgId: row.orgId, payload: { reason: "no_refresh_token" } });
      return { error: needsReauth(target, dead), row: dead };
    }
  }
  const interrupted = row.refreshStartedAt !== null;
  const ctx: ProviderContext = { integration: target.integration.name, settings: target.provider.settings, clientSecret: target.provider.clientSecret, entityId: target.entityId };
  // The provider's metadata (discovery: a GET without credentials, usually cached) is fetched while
  // the marker commits; both are needed before the token request. Its failure is reported by the grant.
  const server = authorizationServer(ctx, deps.oauth);
  server.catch(() => undefined);
  // The in-flight marker is committed outside the lock transaction, so it survives a crash of this process.
  if (!claimed) await store.markOAuthRefreshStarted(id, OWNER, clock.now(), { version: row.version, updatedAt: row.updatedAt });
  let tokens: TokenSet | null = null;
  let failure: OAuthFailure | null = null;
  try {
    tokens = flow === "client_credentials" ? await clientCredentialsGrant(ctx, deps.oauth, server) : await refreshGrant(ctx, deps.oauth, box.decrypt(row.refreshToken as string, tokenSecretContext(row, "refresh_token")), server);
  } catch (err) {
    failure = classify(err);
  }
  if (tokens) {
    await deps.oauth.hooks?.afterTokenResponse?.();
    const patch = tokenPatch(box, row, tokens, new Date(), target.provider.settings.scopes);
    const saved = (await tx.updateOAuthTokenReturning(id, patch, { bumpVersion: true })) as StoredOAuthToken;
    await recordAudit({ store: tx, clock }, "oauth.refresh", {
      integration: target.integration,
      org: row.orgId ? (target.org?.id === row.orgId ? target.org : { id: row.orgId }) : null,
      detail: { flow, level: row.ownerKey.startsWith("m:") ? "mapping" : row.ownerKey.startsWith("o:") ? "org" : "integration", forced: mode.force === true },
    });
    if (row.state === "error") {
      await recordEvent(tx, clock, { type: "refreshed_after_failure", integrationId: row.integrationId, orgId: row.orgId, payload: { failures: row.failureCount, previousError: row.lastError } });
    }
    return { ok: saved };
  }
  const f = failure as OAuthFailure;
  const at = clock.now();
  if (f.kind === "invalid_grant" && flow === "authorization_code") {
    const lastError = interrupted ? INTERRUPTED_REFRESH_ERROR : REVOKED_ERROR;
    const dead = (await tx.updateOAuthTokenReturning(id, { state: "needs_reauth", lastError, refreshStartedAt: null, refreshOwner: null, nextAttemptAt: null, updatedAt: at }, { bumpVersion: true })) as StoredOAuthToken;
    await recordEvent(tx, clock, { type: "needs_reauth", integrationId: row.integrationId, orgId: row.orgId, payload: { reason: interrupted ? "interrupted_refresh" : "invalid_grant" } });
    return { error: needsReauth(target, dead), row: dead };
  }
  // Transient (and configuration) failures: keep the refresh token, back off with jitter.
  const ambiguous = mayHaveReachedProvider(f);
  const failures = row.failureCount + 1;
  const next = new Date(Date.now() + backoffDelayMs(failures - 1, deps.oauth)).toISOString();
  const after = (await tx.updateOAuthTokenReturning(id, {
    state: "error",
    lastError: `${f.kind}: ${f.reason}`.slice(0, 500),
    failureCount: failures,
    nextAttemptAt: next,
    // A timeout leaves it open whether the provider rotated the token: keep the marker for classification.
    ...(ambiguous ? {} : { refreshStartedAt: null, refreshOwner: null }),
    updatedAt: at,
  })) as StoredOAuthToken;
  await recordEvent(tx, clock, { type: "refresh_failed", integrationId: row.integrationId, orgId: row.orgId, payload: { kind: f.kind, reason: f.reason.slice(0, 300), failures, nextAttemptAt: next } });
  return { error: toBifrostError(f, target.integration.name, flow === "client_credentials" ? "client credentials grant" : "token refresh"), row: after };
}
