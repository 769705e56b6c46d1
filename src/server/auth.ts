import { createHash } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { BifrostError, ForbiddenError, NotFoundError, UnauthenticatedError } from "../core/errors.js";
import type { ApiKeyRole } from "../core/types.js";
import { type AuditContext, LOCAL_CLI_CONTEXT } from "../kernel/audit.js";
import type { Actor } from "../services/actor.js";
import { verifyApiKey } from "../services/api-keys.js";
import type { Deps } from "../kernel/deps.js";
import { CSRF_HEADER, csrfMatches, readCookie, SAFE_METHODS, SESSION_COOKIE, sessionsFor } from "./console/sessions.js";

/** The authenticated caller of one request. */
export interface Caller {
  keyId: string;
  /** The key's public prefix and name (attribution in the audit trail); absent for the local stdio MCP caller. */
  keyPrefix?: string;
  keyName?: string;
  role: ApiKeyRole;
  /** The org an org_admin / workflow key is bound to (null for platform_admin). */
  orgId: string | null;
  orgSlug: string | null;
  /** Set when the request was authenticated by a console session cookie instead of a bearer key. */
  sessionId?: string;
}

export const ALL_ROLES: readonly ApiKeyRole[] = ["platform_admin", "org_admin", "workflow"];
export const ADMIN_ROLES: readonly ApiKeyRole[] = ["platform_admin", "org_admin"];
export const PLATFORM_ONLY: readonly ApiKeyRole[] = ["platform_admin"];

const TOUCH_EVERY_MS = 60_000;

/** Record `lastUsedAt` at most once a minute per key, so authentication is not a write per request. */
const lastTouch = new Map<string, number>();

async function touch(deps: Deps, keyId: string, request: FastifyRequest): Promise<void> {
  const now = Date.now();
  if (now - (lastTouch.get(keyId) ?? 0) < TOUCH_EVERY_MS) return;
  lastTouch.set(keyId, now);
  if (lastTouch.size > 10_000) lastTouch.clear();
  try {
    await deps.store.touchApiKey(keyId, deps.clock.now());
  } catch (err) {
    request.log.warn({ err }, "could not record API key use");
  }
}

/**
 * The console session named by the cookie → its key's principal, or null when there is no cookie.
 * Unknown/expired sessions and revoked keys → 401. A state-changing request must carry the session's
 * CSRF token in `X-CSRF-Token` → otherwise 403.
 */
async function sessionPrincipal(deps: Deps, request: FastifyRequest): Promise<{ keyId: string; keyPrefix: string; keyName: string; role: ApiKeyRole; orgId: string | null; sessionId: string } | null> {
  const id = readCookie(request, SESSION_COOKIE);
  if (id === null) return null;
  const sessions = sessionsFor(deps);
  const session = sessions.get(id);
  if (!session) throw new UnauthenticatedError("Your console session has ended; sign in again.");
  const stored = await deps.store.getApiKeyByPrefix(session.keyPrefix);
  if (!stored || stored.id !== session.keyId || stored.revokedAt) {
    sessions.deleteForKey(session.keyId);
    throw new UnauthenticatedError("The API key of this console session was revoked; sign in again.");
  }
  if (!SAFE_METHODS.has(request.method) && !csrfMatches(session, request.headers[CSRF_HEADER])) {
    throw new BifrostError("BIFROST_FORBIDDEN", 403, "Missing or invalid CSRF token: cookie-authenticated requests that change state must send the X-CSRF-Token header from GET /api/session.", { reason: "csrf" });
  }
  return { keyId: stored.id, keyPrefix: stored.prefix, keyName: stored.name, role: stored.role, orgId: stored.orgId, sessionId: session.id };
}

/**
 * `Authorization: Bearer <key>` → Caller, else the console session cookie (with CSRF check on
 * state-changing methods), or 401 BIFROST_UNAUTHENTICATED. A bearer header always wins.
 */
export async function authenticate(deps: Deps, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const feed = deps.store.changes;
  if (m && feed) {
    // Verified bearer keys are cached briefly (by a hash of the key), cleared by any key/org change.
    const cache = feed.table<Caller>("api-keys");
    const id = createHash("sha256").update(m[1] as string).digest("base64");
    const hit = cache.get(id);
    if (hit) {
      await touch(deps, hit.keyId, request);
      return { ...hit };
    }
    const epoch = feed.epoch;
    const caller = await authenticateUncached(deps, request, m);
    cache.set(id, caller, epoch);
    return caller;
  }
  return authenticateUncached(deps, request, m);
}

/** The slug of a key's organization (null for platform keys); 401 when the organization is gone: the key can no longer act for anything. */
async function principalOrgSlug(deps: Deps, orgId: string | null): Promise<string | null> {
  if (orgId === null) return null;
  const org = await deps.store.getOrgById(orgId);
  if (!org) throw new UnauthenticatedError();
  return org.slug;
}

async function authenticateUncached(deps: Deps, request: FastifyRequest, m: RegExpExecArray | null): Promise<Caller> {
  const header = request.headers.authorization;
  let principal: { keyId: string; keyPrefix: string; keyName: string; role: ApiKeyRole; orgId: string | null; sessionId?: string } | null;
  if (m) principal = await verifyApiKey(deps, m[1] as string);
  else if (header === undefined) principal = await sessionPrincipal(deps, request);
  else throw new UnauthenticatedError();
  if (!principal) throw new UnauthenticatedError();
  const orgSlug = await principalOrgSlug(deps, principal.orgId);
  await touch(deps, principal.keyId, request);
  return {
    keyId: principal.keyId,
    keyPrefix: principal.keyPrefix,
    keyName: principal.keyName,
    role: principal.role,
    orgId: principal.orgId,
    orgSlug,
    ...(principal.sessionId ? { sessionId: principal.sessionId } : {}),
  };
}

export function isPlatform(caller: Caller): boolean {
  return caller.role === "platform_admin";
}

/**
 * The organization (id) an org-scoped caller's reads are confined to; null for platform admins. Fails
 * closed: a non-platform key bound to no organization may read no `what`.
 */
export function readScopeOf(caller: Caller, what: string): string | null {
  if (isPlatform(caller)) return null;
  if (caller.orgId === null) throw new ForbiddenError(`This key is bound to no organization, so it may read no ${what}.`);
  return caller.orgId;
}

/** The caller as the services see it (tenant rules of DESIGN.md §9.3). */
export function actorOf(caller: Caller): Actor {
  return { platform: isPlatform(caller) };
}

/** The caller as the audit trail names it: the API key (id, prefix, name) and how it acted. */
export function auditContextOf(caller: Caller, requestId: string, via: "api" | "mcp" = "api"): AuditContext {
  if (caller.keyPrefix === undefined) return { ...LOCAL_CLI_CONTEXT, requestId };
  return {
    actor: { kind: "api_key", keyId: caller.keyId, keyPrefix: caller.keyPrefix, keyName: caller.keyName ?? "", via: caller.sessionId !== undefined ? "console" : via },
    requestId,
  };
}

/** 403 for an action this role can never perform, whatever the object. */
export function requireRole(caller: Caller, roles: readonly ApiKeyRole[], action: string): void {
  if (!roles.includes(caller.role)) {
    throw new ForbiddenError(`A ${caller.role} key may not ${action}; this needs a ${roles.join(" or ")} key.`);
  }
}

/** The same error (message and details) the services raise for an organization that does not exist. */
export function orgNotFound(slug: string): NotFoundError {
  return new NotFoundError(`Organization "${slug}" does not exist. List them with \`bifrost orgs list\`.`, { org: slug });
}

/**
 * Org-scoped keys see only their own organization: any other slug answers exactly like an
 * organization that does not exist (404), so one tenant cannot probe for another.
 */
export function checkOrgAccess(caller: Caller, slug: string): void {
  if (isPlatform(caller)) return;
  if (caller.orgSlug !== slug) throw orgNotFound(slug);
}

/**
 * A bearer API key → its Caller, without an HTTP request (the `bifrost mcp` stdio server with
 * BIFROST_API_KEY): the same verification as `authenticate`, and the same 401 for an unknown,
 * malformed or revoked key or a key whose organization is gone.
 */
export async function callerFromApiKey(deps: Deps, presented: string): Promise<Caller> {
  const principal = await verifyApiKey(deps, presented);
  if (!principal) throw new UnauthenticatedError();
  return { keyId: principal.keyId, keyPrefix: principal.keyPrefix, keyName: principal.keyName, role: principal.role, orgId: principal.orgId, orgSlug: await principalOrgSlug(deps, principal.orgId) };
}
