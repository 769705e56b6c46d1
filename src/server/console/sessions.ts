/**
 * Console sessions: an opaque random id in an HttpOnly cookie, the session itself in memory on the
 * server (the API key never leaves the login request; the session remembers only the key's id and
 * prefix, so a revoked key ends its sessions at the next request). Each session carries a CSRF token
 * that cookie-authenticated state-changing requests must echo in `X-CSRF-Token` (double submit bound
 * to the session). Sessions do not survive a restart: the console signs in again.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type {} from "@fastify/cookie"; // FastifyRequest.cookies
import type { FastifyRequest } from "fastify";
import type { Deps } from "../../kernel/deps.js";

export const SESSION_COOKIE = "bifrost_session";
export const CSRF_HEADER = "x-csrf-token";
/** A session ends after this much inactivity … */
const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
/** … and at the latest this long after sign-in. */
export const SESSION_MAX_MS = 24 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export interface ConsoleSession {
  id: string;
  keyId: string;
  keyPrefix: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly now: () => number = Date.now) {}

  create(keyId: string, keyPrefix: string): ConsoleSession {
    this.sweep();
    if (this.sessions.size >= MAX_SESSIONS) {
      // Drop the oldest (Map keeps insertion order).
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const t = this.now();
    const s: ConsoleSession = { id: randomBytes(32).toString("base64url"), keyId, keyPrefix, csrfToken: randomBytes(32).toString("base64url"), createdAt: t, lastSeenAt: t };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id (its idle timer restarted), or null. */
  get(id: string): ConsoleSession | null {
    const s = this.sessions.get(id);
    if (!s) return null;
    const t = this.now();
    if (t - s.lastSeenAt > SESSION_IDLE_MS || t - s.createdAt > SESSION_MAX_MS) {
      this.sessions.delete(id);
      return null;
    }
    s.lastSeenAt = t;
    return s;
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** End every session of a key (used when the key turns out to be revoked). */
  deleteForKey(keyId: string): void {
    for (const [id, s] of this.sessions) if (s.keyId === keyId) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (t - s.lastSeenAt > SESSION_IDLE_MS || t - s.createdAt > SESSION_MAX_MS) this.sessions.delete(id);
  }
}

/** One session store per Bifrost instance (keyed by its store object). */
const stores = new WeakMap<object, SessionStore>();

export function sessionsFor(deps: Deps): SessionStore {
  let s = stores.get(deps.store);
  if (!s) {
    s = new SessionStore();
    stores.set(deps.store, s);
  }
  return s;
}

/**
 * The value of one cookie, as parsed by @fastify/cookie (registered by `consoleRoutes`). Session ids
 * are opaque base64url: anything else (or no cookie plugin) reads as no cookie.
 */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const v = (request.cookies as Record<string, string | undefined> | undefined)?.[name];
  return typeof v === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : null;
}

/** Constant-time comparison of the presented CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  if (typeof presented !== "string" || presented.length === 0) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
