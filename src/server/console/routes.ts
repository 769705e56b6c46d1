/**
 * The web console's server side: session sign-in/out (POST/GET/DELETE /api/session) and static
 * serving of the built console (dist/console) at `/` and `/assets/*`. The static files are answered
 * from an onRequest hook rather than routes, so the OpenAPI document lists API routes only.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ForbiddenError, UnauthenticatedError } from "../../core/errors.js";
import { resolveOptions } from "../../oauth/options.js";
import { createApiKey, verifyApiKey } from "../../services/api-keys.js";
import { ALL_ROLES } from "../auth.js";
import { parseWith } from "../errors.js";
import type { Api } from "../route.js";
import { SESSION_COOKIE, SESSION_MAX_MS, sessionsFor } from "./sessions.js";

const tag = "console";

export const SessionBody = z.strictObject({ api_key: z.string().min(1).max(512).describe("An API key (platform_admin or org_admin).") });

/** Content-Security-Policy of the console: only its own scripts and styles, no inline code. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** dist/console next to the compiled server (dist/server/console → dist/console), or from src/ under tsx. */
export function findConsoleDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../../console"), resolve(here, "../../../dist/console")];
  for (const c of candidates) if (existsSync(join(c, "index.html"))) return c;
  return null;
}

function cookieHeader(value: string, opts: { secure: boolean; maxAgeSeconds: number }): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${opts.maxAgeSeconds}${opts.secure ? "; Secure" : ""}`;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", CONSOLE_CSP)
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .header("referrer-policy", "same-origin")
    .header("cross-origin-opener-policy", "same-origin-allow-popups");
}

/** Name of the platform_admin key `bifrost dev` creates (once) for dev-login sessions; its plaintext is discarded. */
export const DEV_LOGIN_KEY_NAME = "bifrost dev login";
/** Dev login must be asked for with this header: a cross-site form cannot send it (login CSRF). */
export const DEV_LOGIN_HEADER = "x-bifrost-dev-login";

function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addr);
}

export function consoleRoutes(api: Api, opts: { consoleDir?: string | null; devLogin?: boolean } = {}): void {
  const bf = api.bifrost;
  const publicUrl = resolveOptions(api.oauthDeps.oauth).publicUrl;
  const secure = publicUrl.startsWith("https:");
  const sessions = sessionsFor(bf);

  api.publicRoute({
    method: "POST",
    url: "/api/session",
    summary: "Console sign-in: exchange an API key (platform_admin or org_admin) for an HttpOnly session cookie; returns the CSRF token.",
    tag,
    handler: async (request, reply) => {
      const body = parseWith(SessionBody, request.body ?? {}, "body");
      const principal = await verifyApiKey(bf, body.api_key.trim());
      if (!principal) throw new UnauthenticatedError("That API key is not valid (unknown, malformed or revoked).");
      if (principal.role === "workflow") throw new ForbiddenError("A workflow key may not sign in to the console; use a platform_admin or org_admin key.");
      const stored = (await bf.store.listApiKeys()).find((k) => k.id === principal.keyId);
      if (!stored) throw new UnauthenticatedError();
      const org = principal.orgId ? await bf.store.getOrgById(principal.orgId) : null;
      if (principal.orgId && !org) throw new UnauthenticatedError();
      const session = sessions.create(principal.keyId, stored.prefix);
      void reply
        .code(201)
        .header("cache-control", "no-store")
        .header("set-cookie", cookieHeader(session.id, { secure, maxAgeSeconds: Math.floor(SESSION_MAX_MS / 1000) }));
      return { csrf_token: session.csrfToken, role: principal.role, org: org?.slug ?? null, key: { prefix: stored.prefix, name: stored.name } };
    },
  });

  api.route({
    method: "GET",
    url: "/api/session",
    summary: "The console session: who is signed in and the CSRF token to send in X-CSRF-Token.",
    tag,
    roles: ALL_ROLES,
    action: "read the session",
    handler: async ({ caller, reply }) => {
      void reply.header("cache-control", "no-store");
      const session = caller.sessionId ? sessions.get(caller.sessionId) : null;
      return { csrf_token: session?.csrfToken ?? null, role: caller.role, org: caller.orgSlug, via: session ? "session" : "bearer", public_url: publicUrl };
    },
  });

  api.route({
    method: "DELETE",
    url: "/api/session",
    summary: "Console sign-out: deletes the session and clears the cookie.",
    tag,
    roles: ALL_ROLES,
    action: "sign out",
    handler: async ({ caller, reply }) => {
      const deleted = caller.sessionId ? sessions.delete(caller.sessionId) : false;
      void reply.header("set-cookie", cookieHeader("", { secure, maxAgeSeconds: 0 }));
      return { deleted };
    },
  });

  if (opts.devLogin === true) {
    // Registered only in `bifrost dev` (startServer refuses devLogin off loopback); otherwise these routes do not exist (404).
    api.publicRoute({
      method: "GET",
      url: "/api/session/dev",
      summary: "Dev mode only (`bifrost dev`): says that dev login is available. Absent (404) otherwise.",
      tag,
      handler: async (_request, reply) => {
        void reply.header("cache-control", "no-store");
        return { dev_login: true };
      },
    });
    api.publicRoute({
      method: "POST",
      url: "/api/session/dev",
      summary: "Dev mode only (`bifrost dev`, loopback): sign in as platform_admin without a key (needs the X-Bifrost-Dev-Login: 1 header). Absent (404) otherwise.",
      tag,
      handler: async (request, reply) => {
        if (!isLoopbackAddress(request.socket.remoteAddress)) throw new ForbiddenError("Dev login is only available from the loopback interface.");
        if (request.headers[DEV_LOGIN_HEADER] !== "1") throw new ForbiddenError(`Dev login needs the ${DEV_LOGIN_HEADER}: 1 header.`);
        let key = (await bf.store.listApiKeys()).find((k) => k.name === DEV_LOGIN_KEY_NAME && k.role === "platform_admin" && !k.revokedAt && k.orgId === null);
        if (!key) {
          const created = await createApiKey(bf, { role: "platform_admin", name: DEV_LOGIN_KEY_NAME });
          key = (await bf.store.listApiKeys()).find((k) => k.id === created.apiKey.id);
          if (!key) throw new UnauthenticatedError();
        }
        request.log.warn({ keyPrefix: key.prefix }, "dev login: platform_admin console session created without an API key (bifrost dev)");
        const session = sessions.create(key.id, key.prefix);
        void reply
          .code(201)
          .header("cache-control", "no-store")
          .header("set-cookie", cookieHeader(session.id, { secure, maxAgeSeconds: Math.floor(SESSION_MAX_MS / 1000) }));
        return { csrf_token: session.csrfToken, role: "platform_admin", org: null, key: { prefix: key.prefix, name: key.name }, dev_login: true };
      },
    });
  }

  // Static console files.
  const dir = opts.consoleDir === undefined ? findConsoleDir() : opts.consoleDir;
  const root = dir ? resolve(dir) : null;
  api.app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "GET" && request.method !== "HEAD") return;
    const path = (request.url.split("?")[0] ?? "").split("#")[0] ?? "";
    if (path !== "/" && path !== "/index.html" && !path.startsWith("/assets/") && path !== "/favicon.svg") return;
    if (!root) {
      if (path.startsWith("/assets/")) return;
      return securityHeaders(reply)
        .code(503)
        .header("content-type", "text/plain; charset=utf-8")
        .send("The Bifrost console is not built. Run `npm run build` (it builds the server and the console).\n");
    }
    let rel: string;
    try {
      rel = decodeURIComponent(path === "/" ? "/index.html" : path);
    } catch {
      return;
    }
    const file = resolve(root, `.${rel}`);
    if (!file.startsWith(root + sep) || rel.includes("\0")) return;
    let ok = false;
    try {
      ok = statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) return; // falls through to the JSON 404
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    securityHeaders(reply)
      .header("content-type", type)
      .header("cache-control", rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    return reply.send(readFileSync(file));
  });
}
