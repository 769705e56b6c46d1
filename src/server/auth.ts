import type { FastifyRequest } from "fastify";
import { ForbiddenError, NotFoundError, UnauthenticatedError } from "../core/errors.js";
import type { ApiKeyRole } from "../core/types.js";
import { verifyApiKey } from "../services/api-keys.js";
import type { Deps } from "../services/deps.js";

/** The authenticated caller of one request. */
export interface Caller {
  keyId: string;
  role: ApiKeyRole;
  /** The org an org_admin / workflow key is bound to (null for platform_admin). */
  orgId: string | null;
  orgSlug: string | null;
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

/** `Authorization: Bearer <key>` → Caller, or 401 BIFROST_UNAUTHENTICATED. */
export async function authenticate(deps: Deps, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new UnauthenticatedError();
  const principal = await verifyApiKey(deps, m[1] as string);
  if (!principal) throw new UnauthenticatedError();
  let orgSlug: string | null = null;
  if (principal.orgId !== null) {
    const org = await deps.store.getOrgById(principal.orgId);
    // The key's organization is gone: the key can no longer act for anything.
    if (!org) throw new UnauthenticatedError();
    orgSlug = org.slug;
  }
  await touch(deps, principal.keyId, request);
  return { keyId: principal.keyId, role: principal.role, orgId: principal.orgId, orgSlug };
}

export function isPlatform(caller: Caller): boolean {
  return caller.role === "platform_admin";
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
