import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { ApiKeyRole } from "../core/types.js";
import type { OAuthDeps } from "../oauth/service.js";
import type { Bifrost } from "../host/bootstrap.js";
import { SYSTEM_CONTEXT, withAuditContext } from "../kernel/audit.js";
import { auditContextOf, authenticate, type Caller, requireRole } from "./auth.js";
import { parseWith, UnsupportedMediaTypeError } from "./errors.js";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

interface RouteContext<B, Q> {
  caller: Caller;
  params: Record<string, string>;
  body: B;
  query: Q;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined> {
  method: Method;
  /** Fastify path, `:param` style. */
  url: string;
  summary: string;
  tag: string;
  /** Roles that may ever call this route; others get 403 before the body is looked at. */
  roles: readonly ApiKeyRole[];
  /** What the route does, for the 403 message ("create integrations"). */
  action: string;
  body?: BS;
  query?: QS;
  /** Success status (default 200). */
  status?: number;
  /** Shape of the success body, for the OpenAPI document only (not checked at run time); omitted = undocumented. */
  response?: z.ZodType;
  handler: (ctx: RouteContext<Out<BS>, Out<QS>>) => Promise<unknown>;
}

/** What the OpenAPI document is generated from: one entry per route, with the zod schemas that validate it. */
export interface RouteDoc {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  roles: readonly ApiKeyRole[] | null;
  body?: z.ZodType;
  query?: z.ZodType;
  status: number;
  /** Response media type (default application/json). */
  produces?: string;
  /** Shape of the success body (OpenAPI document only). */
  response?: z.ZodType;
}

/** Registers routes on Fastify and records them for the OpenAPI document. */
export class Api {
  readonly docs: RouteDoc[] = [];
  /** Store, keyring and clock plus the OAuth settings (public URL, loopback switch, timeouts) for the OAuth routes. */
  readonly oauthDeps: OAuthDeps;

  constructor(
    readonly app: FastifyInstance,
    readonly bifrost: Bifrost,
    oauth?: OAuthDeps["oauth"],
  ) {
    this.oauthDeps = { store: bifrost.store, box: bifrost.box, clock: bifrost.clock, ...(oauth ? { oauth } : {}) };
  }

  route<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined>(spec: RouteSpec<BS, QS>): void {
    const status = spec.status ?? 200;
    this.docs.push({
      method: spec.method,
      url: spec.url,
      summary: spec.summary,
      tag: spec.tag,
      roles: spec.roles,
      status,
      ...(spec.body ? { body: spec.body } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.response ? { response: spec.response } : {}),
    });
    this.app.route({
      method: spec.method,
      url: spec.url,
      handler: async (request, reply) => {
        const caller = await authenticate(this.bifrost, request);
        requireRole(caller, spec.roles, spec.action);
        const query = (spec.query ? parseWith(spec.query, request.query, "query") : undefined) as Out<QS>;
        const body = (spec.body ? parseWith(spec.body, request.body ?? {}, "body") : undefined) as Out<BS>;
        const params = request.params as Record<string, string>;
        const result = await withAuditContext(auditContextOf(caller, String(request.id)), () => spec.handler({ caller, params, body, query, request, reply }));
        if (reply.statusCode === 200 && status !== 200) void reply.code(status);
        return result;
      },
    });
  }

  /** A route without authentication (health, OpenAPI). */
  publicRoute(spec: {
    method: Method;
    url: string;
    summary: string;
    tag: string;
    /** Response media type for the OpenAPI document (default application/json). */
    produces?: string;
    /** Fastify log level for this route ("warn" keeps request URLs carrying one-time codes out of the info log). */
    logLevel?: "warn" | "error" | "silent";
    query?: z.ZodType;
    /** The request body's schema, for the OpenAPI document (the handler parses the body itself). */
    body?: z.ZodType;
    /** Shape of the success body (OpenAPI document only). */
    response?: z.ZodType;
    /**
     * Accept an HTML form POST (`application/x-www-form-urlencoded`, at most 1 KiB, contents ignored).
     * Only such routes: any other route still answers 415 to a form body (cookie-session routes stay JSON-only).
     */
    acceptsForm?: boolean;
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  }): void {
    this.docs.push({
      method: spec.method,
      url: spec.url,
      summary: spec.summary,
      tag: spec.tag,
      roles: null,
      status: 200,
      ...(spec.produces ? { produces: spec.produces } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      ...(spec.response ? { response: spec.response } : {}),
    });
    // Only ever raise the level (a silent app logger stays silent).
    const order = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
    const raise = spec.logLevel !== undefined && order.indexOf(this.app.log.level) < order.indexOf(spec.logLevel);
    // No caller: what a public route writes (the OAuth callback) is attributed by the service itself.
    const handler = (request: FastifyRequest, reply: FastifyReply) => withAuditContext({ ...SYSTEM_CONTEXT, requestId: String(request.id) }, () => spec.handler(request, reply));
    if (spec.acceptsForm) this.acceptForm(`${spec.method} ${spec.url}`);
    this.app.route({ method: spec.method, url: spec.url, handler, ...(raise ? { logLevel: spec.logLevel } : {}) });
  }

  readonly #formRoutes = new Set<string>();

  /** One urlencoded parser for the app that accepts only the routes named here (others: 415 as before). */
  private acceptForm(route: string): void {
    if (this.#formRoutes.size === 0) {
      this.app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 1024 }, (request, _body, done) => {
        if (this.#formRoutes.has(`${request.method} ${request.routeOptions.url}`)) done(null, {});
        else done(new UnsupportedMediaTypeError(), undefined);
      });
    }
    this.#formRoutes.add(route);
  }
}
