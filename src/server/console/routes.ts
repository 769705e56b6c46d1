/**
 * The web console's server side: session sign-in/out (POST/GET/DELETE /api/session) and static
 * serving of the built console (dist/console) at `/` and `/assets/*` through Fastify's own plugins:
 * @fastify/cookie (session cookie), @fastify/static (streamed files, precompressed .br/.gz variants,
 * ETag) and @fastify/helmet (security headers). The static routes are hidden from the OpenAPI
 * document (`schema.hide`), which lists API routes only.
 */
import { existsSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import fastifyCookie from "@fastify/cookie";
import fastifyHelmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from "fastify";
import { z } from "zod";
import { ForbiddenError, UnauthenticatedError } from "../../core/errors.js";
import { packageRoot } from "../../core/package-info.js";
import { resolveOptions } from "../../oauth/options.js";
import { createApiKey, verifyApiKey } from "../../services/api-keys.js";
import { ALL_ROLES } from "../auth.js";
import { parseWith } from "../errors.js";
import type { Api } from "../route.js";
import { SESSION_COOKIE, SESSION_MAX_MS, sessionsFor } from "./sessions.js";

const tag = "console";

const SessionBody = z.strictObject({ api_key: z.string().min(1).max(512).describe("An API key (platform_admin or org_admin).") });

const Role = z.enum(["platform_admin", "org_admin", "workflow"]);
/** Answer of a sign-in (OpenAPI document). */
const SignedIn = z.object({
  csrf_token: z.string().describe("Send it as X-CSRF-Token on cookie-authenticated requests that change state."),
  role: Role,
  org: z.string().nullable().describe("Organization slug of an org_admin key; null for platform_admin."),
  key: z.object({ prefix: z.string(), name: z.string() }),
  dev_login: z.literal(true).optional().describe("Present on dev-login sessions (`bifrost dev`)."),
});
const SessionInfo = z.object({
  csrf_token: z.string().nullable().describe("The session's CSRF token; null for bearer callers."),
  role: Role,
  org: z.string().nullable(),
  via: z.enum(["session", "bearer"]),
  public_url: z.string().describe("The server's public URL (OAuth callback URLs start with it)."),
});

/** Content-Security-Policy directives of the console: only its own scripts and styles, no inline code. */
const CONSOLE_CSP_DIRECTIVES: Record<string, string[]> = {
  "default-src": ["'none'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

/** The console's Content-Security-Policy header value, exactly as helmet writes it (directives joined by ";"). */
export const CONSOLE_CSP = Object.entries(CONSOLE_CSP_DIRECTIVES)
  .map(([name, values]) => `${name} ${values.join(" ")}`)
  .join(";");

/**
 * Security headers of every console response (helmet): the CSP above, frames denied, nosniff,
 * same-origin referrers, and a popup-friendly opener policy (the OAuth Connect popup). HSTS is left
 * to the TLS-terminating proxy (the server usually listens on plain http behind it). The OAuth
 * callback page sets its own stricter headers (src/server/callback-page.ts).
 */
const CONSOLE_HELMET: FastifyHelmetOptions = {
  global: false,
  contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP_DIRECTIVES },
  crossOriginOpenerPolicy: { policy: "same-origin-allow-popups" },
  referrerPolicy: { policy: "same-origin" },
  xFrameOptions: { action: "deny" },
  strictTransportSecurity: false,
};

/** Hashed build output under assets/ never changes under its name. */
const ASSET_CACHE = { immutable: true, maxAge: 365 * 24 * 60 * 60 * 1000 };

/**
 * The Fastify plugins the console needs, registered (and loaded) before any route so their hooks
 * and decorators apply everywhere: cookie parsing for `authenticate`, `reply.sendFile` with
 * precompressed variants, and `reply.helmet` / the per-route `helmet` option.
 */
export async function registerConsolePlugins(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, CONSOLE_HELMET);
  await app.register(fastifyStatic, { serve: false, preCompressed: true, dotfiles: "ignore" });
}

/** The built console, dist/console under the package root (whether the server runs from dist/, the CLI bundle or src/). */
export function findConsoleDir(): string | null {
  const dir = join(packageRoot(), "dist", "console");
  return existsSync(join(dir, "index.html")) ? dir : null;
}

const COOKIE_BASE = { path: "/", httpOnly: true, sameSite: "lax" } as const;

function setSessionCookie(reply: FastifyReply, value: string, opts: { secure: boolean; maxAgeSeconds: number }): FastifyReply {
  return reply.setCookie(SESSION_COOKIE, value, { ...COOKIE_BASE, maxAge: opts.maxAgeSeconds, ...(opts.secure ? { secure: true } : {}) });
}

/** Name of the platform_admin key `bifrost dev` creates (once) for dev-login sessions; its plaintext is discarded. */
export const DEV_LOGIN_KEY_NAME = "bifrost dev login";
/** Dev login must be asked for with this header: a cross-site form cannot send it (login CSRF). */
const DEV_LOGIN_HEADER = "x-bifrost-dev-login";

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
    body: SessionBody,
    response: SignedIn,
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
      void setSessionCookie(reply.code(201).header("cache-control", "no-store"), session.id, { secure, maxAgeSeconds: Math.floor(SESSION_MAX_MS / 1000) });
      return { csrf_token: session.csrfToken, role: principal.role, org: org?.slug ?? null, key: { prefix: stored.prefix, name: stored.name } };
    },
  });

  api.route({
    method: "GET",
    url: "/api/session",
    summary: "The console session: who is signed in and the CSRF token to send in X-CSRF-Token.",
    tag,
    response: SessionInfo,
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
    response: z.object({ deleted: z.boolean() }),
    roles: ALL_ROLES,
    action: "sign out",
    handler: async ({ caller, reply }) => {
      const deleted = caller.sessionId ? sessions.delete(caller.sessionId) : false;
      void setSessionCookie(reply, "", { secure, maxAgeSeconds: 0 });
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
      response: z.object({ dev_login: z.literal(true) }),
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
      response: SignedIn,
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
        void setSessionCookie(reply.code(201).header("cache-control", "no-store"), session.id, { secure, maxAgeSeconds: Math.floor(SESSION_MAX_MS / 1000) });
        return { csrf_token: session.csrfToken, role: "platform_admin", org: null, key: { prefix: key.prefix, name: key.name }, dev_login: true };
      },
    });
  }

  // Static console files: `/` and `/index.html` (no-cache), `/assets/*` (hashed names: immutable).
  // Missing files and paths outside dist/console fall through to the JSON 404.
  const dir = opts.consoleDir === undefined ? findConsoleDir() : opts.consoleDir;
  const root = dir ? resolve(dir) : null;
  // `hide` is the usual marker for routes outside the API document (FastifySchema does not declare it).
  const hidden = { schema: { hide: true } as FastifySchema, helmet: {} };
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!root) {
      return reply
        .code(503)
        .header("cache-control", "no-store")
        .type("text/plain; charset=utf-8")
        .send("The Bifrost console is not built. Run `npm run build` (it builds the server and the console).\n");
    }
    return reply.header("cache-control", "no-cache").header("vary", "accept-encoding").sendFile("index.html", root, { cacheControl: false });
  };
  const sendAsset = async (request: FastifyRequest, reply: FastifyReply) => {
    const rel = safeRelative(root, request.url);
    if (!root || rel === null) return reply.callNotFound();
    void reply.header("vary", "accept-encoding");
    return rel.startsWith("assets/") ? reply.sendFile(rel, root, ASSET_CACHE) : reply.header("cache-control", "no-cache").sendFile(rel, root, { cacheControl: false });
  };
  for (const url of ["/", "/index.html"]) api.app.route({ method: "GET", url, ...hidden, handler: sendIndex });
  for (const url of ["/assets/*", "/favicon.svg"]) api.app.route({ method: "GET", url, ...hidden, handler: sendAsset });
}

/** The request path relative to `root` when it names a file inside it (decoded, no `..` escape, no NUL), else null. */
function safeRelative(root: string | null, url: string): string | null {
  if (!root) return null;
  let path: string;
  try {
    path = decodeURIComponent((url.split("?")[0] ?? "").split("#")[0] ?? "");
  } catch {
    return null;
  }
  if (path.includes("\0")) return null;
  const file = resolve(root, `.${path}`);
  if (!file.startsWith(root + sep)) return null;
  return file.slice(root.length + 1).split(sep).join("/");
}
