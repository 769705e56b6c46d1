/**
 * `bifrost/client`: the runtime of generated API clients. See src/client/README.md and types.ts.
 * No top-level side effects. `createClientWith()` holds only what every call needs (base URL,
 * parameters, retries, redirects, refresh-on-401, errors); the security-scheme appliers (auth.ts), the
 * body extensions (`jsonBody`, form / multipart / binary) and pagination (`paginate`) are separate
 * exports that a generated module imports only when its spec / operations use them, so a one-call
 * bundle leaves the others out. `createClient()` is the everything-included variant for hand-written code.
 * @module
 */
import { setTimeout as wait } from "node:timers/promises";
import { currentContext } from "../runtime/context.js";
import { refreshIntegrationOAuth, requireIntegration } from "../runtime/integrations.js";
import { Deadline, dispatchRequest, outboundOf } from "../runtime/outbound.js";
import { attemptFailure, checkTrusted, type Cred, credentialsOf, noBaseUrl, readSent, retryAfterMs, type Route, routeOf, type Sent } from "../runtime/request-policy.js";
import type { ResolvedIntegration } from "../runtime/types.js";
import { clientError as err } from "./errors.js";
import { buildPath, jsonBody, simpleQuery, str } from "./serialize.js";
import { apiKeyCookie, apiKeyHeader, apiKeyQuery, basicAuth, bearerAuth } from "./auth.js";
import type { AuthApplier, Client, Extension, ClientOptions, ClientSpec, EncodedBodyInit, OperationSpec, Page, RequestArgs } from "./types.js";

export type * from "./types.js";
export { ApiError, ClientError, isApiError, type ClientErrorCode, type ErrorsOf } from "./errors.js";
export { binaryBody, formBody, jsonBody, multipartBody, styledParams } from "./serialize.js";
export { paginate } from "./paginate.js";
export { apiKeyCookie, apiKeyHeader, apiKeyQuery, basicAuth, bearerAuth } from "./auth.js";

export { retryAfterMs } from "../runtime/request-policy.js";

/** Discard a body (already consumed or aborted: nothing to do). */
const drain = (res: Response): Promise<void> | undefined => res.body?.cancel().catch(() => undefined);

/**
 * A client for hand-written code: applies every kind of security scheme and encodes JSON / `text/*`
 * bodies (`jsonBody`) without being asked. Generated modules use `createClientWith` and pass only
 * what they need.
 */
export function createClient(spec: ClientSpec, opts?: ClientOptions): Client {
  // Not createClientWith: a hand-written client does not decide how integration.fetch() authenticates.
  const c = createClientRuntime(spec, [apiKeyHeader, apiKeyQuery, apiKeyCookie, basicAuth, bearerAuth], opts);
  const x = (ext: readonly Extension[] = []): Extension[] => [...ext, jsonBody];
  return {
    request: (op, args, ext) => c.request(op, args, x(ext)),
    page: (op, args, ext, url) => c.page(op, args, x(ext), url),
  };
}

/** Per operation: what does not change between calls. */
interface OpPlan {
  /** Retries are allowed for the method (without an Idempotency-Key). */
  idempotent: boolean;
}

const plans = new WeakMap<OperationSpec, OpPlan>();
function planOf(op: OperationSpec): OpPlan {
  let p = plans.get(op);
  if (!p) plans.set(op, (p = { idempotent: /^(GET|HEAD|OPTIONS|PUT|DELETE|TRACE)$/.test(op.method) }));
  return p;
}

const ACCEPT_DEFAULT = "application/json, */*;q=0.8";

/** Internal: how `integration.fetch()` drives one request through the runtime. */
export interface RawCall {
  integ: ResolvedIntegration;
  /** The absolute URL requested: credentials go only to its origin, if the trust rule allows. */
  url: string;
  /** Never send the OAuth token (the caller named config keys, or none). */
  noToken: boolean;
  /** Answer a redirect as it is instead of following it (test connection). */
  noRedirects?: boolean;
  /** The loopback switch of the caller (the server's setting); default BIFROST_ALLOW_HTTP_LOOPBACK. */
  allowHttpLoopback?: boolean;
}

/** The spec of the generated module created last per integration (its servers and `--auth` / spec security), for `integration.fetch()`. */
export const generatedSpecs = new Map<string, ClientSpec>();

/** The runtime of one client plus the entry point `integration.fetch()` uses. */
export interface ClientRuntime extends Client {
  /** The request sent (the answer unread: integration-fetch.ts reads it, or hands a probe the Response whatever its status). */
  raw(op: OperationSpec, args: RequestArgs, ext: readonly Extension[], call: RawCall): Promise<Sent>;
  /** The base URL in effect for `integ` ("" when none), from the same per-integration cache as the calls. */
  base(integ: ResolvedIntegration): string;
}

/**
 * Create the runtime of one generated module with the security-scheme appliers its schemes need
 * (`apiKeyHeader`, `apiKeyQuery`, `apiKeyCookie`, `basicAuth`, `bearerAuth`; see `AuthApplier`).
 * Pure: call it at the top level of generated code with a PURE annotation.
 */
export function createClientWith(spec: ClientSpec, appliers: readonly AuthApplier[], opts: ClientOptions = {}): Client {
  // integration.fetch() without an `auth` option authenticates as the integration's generated module does.
  generatedSpecs.set(spec.integration, spec);
  const { raw: _raw, ...client } = createClientRuntime(spec, appliers, opts);
  return client;
}

/** `createClientWith`, plus `raw()` for `integration.fetch()`. */
export function createClientRuntime(spec: ClientSpec, appliers: readonly AuthApplier[], opts: ClientOptions = {}): ClientRuntime {
  const baseKey = spec.baseUrlKey ?? "base_url";
  const maxRetriesDefault = opts.maxRetries ?? 2;
  const timeoutDefault = opts.timeoutMs ?? 30_000;
  const baseMs = opts.retryBaseMs ?? 250;
  const capMs = opts.retryMaxMs ?? 30_000;
  const doFetch = opts.fetch;
  /** Request headers never sent to another origin than the integration's. */
  const credentialHeaders = "authorization proxy-authorization cookie".split(" ");
  for (const s of Object.values(spec.securitySchemes)) if (s.type === "apiKey" && s.in === "header") credentialHeaders.push(s.name.toLowerCase());
  /** Per resolved integration (a new object after a refresh or config change): base URL and auth per requirement list. */
  const perInteg = new WeakMap<ResolvedIntegration, Route>();
  /** Per execution context: the integration (saves the async `integrations.require` chain on every call). */
  const perCtx = new WeakMap<object, ResolvedIntegration>();

  function infoOf(integ: ResolvedIntegration): Route {
    let b = perInteg.get(integ);
    if (!b) perInteg.set(integ, (b = routeOf(integ, spec.servers, baseKey)));
    return b;
  }

  /** Cache `integ` for the current execution context. */
  function remember(integ: ResolvedIntegration): ResolvedIntegration {
    const ctx = currentContext();
    if (ctx) perCtx.set(ctx, integ);
    return integ;
  }

  async function integration(): Promise<ResolvedIntegration> {
    return remember(await requireIntegration(spec.integration));
  }

  /** The integration cached for the current execution context (no await on the warm path). */
  function cachedIntegration(): ResolvedIntegration | undefined {
    const ctx = currentContext();
    return ctx && perCtx.get(ctx);
  }

  async function send(op: OperationSpec, args: RequestArgs, ext: readonly Extension[] = [], absUrl?: string, call?: RawCall): Promise<Sent> {
    let integ = call?.integ ?? cachedIntegration() ?? (await integration());
    let info = infoOf(integ);
    if (!info.base && !absUrl) {
      const [message, details] = noBaseUrl(integ, info.raw, baseKey);
      throw err("NO_BASE_URL", 409, message, details);
    }
    let url: string;
    if (absUrl) url = absUrl;
    else {
      const params = ext.find((x) => x.params)?.params ?? ((o, where, v) => (where === "path" ? buildPath(o, v) : simpleQuery(v ?? {})));
      url = info.base + params(op, "path", args.path);
      const q = args.query && params(op, "query", args.query);
      if (q) url += `?${q}`;
    }
    let method: string = op.method;
    const headers: Record<string, string> = {};
    for (const o of [opts.headers, args.headers] as Array<Record<string, unknown> | undefined>) for (const k in o) if (o[k] !== undefined) headers[k.toLowerCase()] = str(o[k]);
    const ac = args.cookies;
    if (ac) {
      const cookies: string[] = [];
      for (const k in ac) if (ac[k] !== undefined) cookies.push(`${k}=${encodeURIComponent(str(ac[k]))}`);
      if (cookies[0]) headers.cookie = cookies.join("; ");
    }
    let body: EncodedBodyInit | undefined;
    let replayable = true;
    if (op.body && (args.body !== undefined || op.body.required)) {
      const e = ext.find((x) => x.encode)?.encode?.(op, args, ext);
      if (!e) throw err("INVALID_REQUEST", 422, `${op.id}: no body encoder`, { operationId: op.id });
      body = e.body;
      replayable = e.replayable;
      if (e.type) headers["content-type"] = e.type;
    }
    headers.accept ??= ACCEPT_DEFAULT;
    // Retries only for idempotent requests (or with an Idempotency-Key) whose body can be sent again.
    const idempotent = planOf(op).idempotent || headers["idempotency-key"] !== undefined;
    const maxRetries = replayable && idempotent ? (args.maxRetries ?? maxRetriesDefault) : 0;
    const timeoutMs = args.timeoutMs ?? timeoutDefault;
    let attempt = 0;
    let redirects = 0;
    let refreshed = false;
    const backoff = (): number => Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
    const retry = async (ms: number): Promise<void> => {
      const signal = args.signal;
      await wait(ms, undefined, signal && { signal }).catch(() => {
        throw signal?.reason;
      });
      attempt++;
    };

    let res: Response;
    let deadline: Deadline;
    // Sent straight through the dispatcher (no WHATWG fetch objects or streams) when the runtime owns the
    // transport, the answer is read whole, and the body is text or bytes; fetch otherwise.
    const direct = !doFetch && !call && !args.signal && args.parseAs !== "stream" && args.parseAs !== "response" && headers["accept-encoding"] === undefined;
    // Credentials go only to this origin (a generated call: the base URL's; integration.fetch(): the URL's), if trusted for them.
    const credOrigin = call ? new URL(url).origin : info.origin;
    for (;;) {
      const h: Record<string, string> = { ...headers };
      let target = url;
      let auth: Cred | null = null;
      // The outbound policy (https; http only to loopback when allowed), before anything is sent.
      const { origin, dispatcher } = outboundOf(info, url, call?.allowHttpLoopback);
      if (origin === credOrigin) {
        auth = credentialsOf(integ, info, spec.securitySchemes, appliers, op.security ?? spec.security ?? [], op.id, call?.noToken);
        // The trust rule for these credentials (decided once per resolved integration for the base URL's origin).
        checkTrusted(integ, info, origin, auth, op.id);
        for (const [k, v] of auth.headers) h[k] = v;
        if (auth.query) target += (target.includes("?") ? "&" : "?") + auth.query;
        if (auth.cookie) h.cookie = h.cookie ? `${auth.cookie}; ${h.cookie}` : auth.cookie;
      } else {
        // Another origin (an absolute `next` link, a redirect): no credentials at all.
        for (const k of credentialHeaders) delete h[k];
      }
      // The timeout: a timer and a dispatcher that aborts the request (no AbortSignal: fetch following
      // one costs more than the rest of the call); a signal only for a caller-supplied fetch. Cleared when the body has been read.
      deadline = new Deadline(dispatcher, timeoutMs, !!doFetch);
      const ds = deadline.signal;
      const signal = ds && args.signal ? AbortSignal.any([args.signal, ds]) : (ds ?? args.signal);
      try {
        // duplex "half" is needed for a stream body and harmless for others.
        // The dispatcher checks the addresses connected to (private ranges only with private_network).
        if (direct && (body === undefined || (typeof body === "string" && h["content-type"] !== undefined) || body instanceof Uint8Array)) {
          // As fetch would: a User-Agent unless one was given (some APIs refuse requests without).
          h["user-agent"] ??= "node";
          // (The buffered answer has what the runtime reads of a Response: status, headers, text / blob / arrayBuffer, body.cancel.)
          res = (await dispatchRequest(deadline.dispatcher, target, method, h, body)) as unknown as Response;
        } else res = await (doFetch ?? fetch)(target, { method, headers: h, signal, redirect: "manual", body, duplex: "half", dispatcher: deadline.dispatcher } as RequestInit);
      } catch (x) {
        deadline.clear();
        if (args.signal?.aborted) throw args.signal.reason;
        // An address the outbound policy refused when connecting (final): nothing was sent, and retrying cannot help.
        const f = attemptFailure(x, info, url, call?.allowHttpLoopback, deadline.expired, op.id, method, timeoutMs);
        if (!f.final && attempt < maxRetries) {
          await retry(backoff());
          continue;
        }
        throw f.error;
      }
      const status = res.status;
      if (status < 300) break;
      let location;
      if (status < 400 && !call?.noRedirects && (location = res.headers.get("location")) !== null && redirects++ < 5) {
        await drain(res);
        url = new URL(location, url).href;
        if (status === 303 || (status > 300 && status < 303 && method === "POST")) {
          if (method !== "HEAD") method = "GET";
          body = undefined;
          delete headers["content-type"];
        } else if (!replayable) break;
        deadline.clear();
        continue;
      }
      if (status === 401 && auth?.token && !refreshed && replayable) {
        refreshed = true;
        const fresh = await refreshIntegrationOAuth(spec.integration, auth.token, call ? info.org : undefined);
        if (fresh?.oauth && fresh.oauth.accessToken !== auth.token) {
          info = infoOf((integ = remember(fresh)));
          deadline.clear();
          await drain(res);
          continue;
        }
      }
      if ([408, 429, 500, 502, 503, 504].includes(status) && attempt < maxRetries) {
        const delay = Math.min(capMs, retryAfterMs(res.headers.get("retry-after")) ?? backoff());
        deadline.clear();
        await drain(res);
        await retry(delay);
        continue;
      }
      break;
    }
    return { res, url, method, deadline };
  }

  return {
    raw: (op: OperationSpec, args: RequestArgs, ext: readonly Extension[], call: RawCall): Promise<Sent> => send(op, args, ext, call.url, call),
    base: (integ: ResolvedIntegration): string => infoOf(integ).base,
    async request<T = unknown>(op: OperationSpec, args: RequestArgs = {}, ext?: readonly Extension[]): Promise<T> {
      return (await readSent(op.id, await send(op, args, ext), args.parseAs ?? "auto")) as T;
    },
    async page(op: OperationSpec, args: RequestArgs, ext?: readonly Extension[], url?: string): Promise<Page> {
      const sent = await send(op, args, ext, url);
      return { body: await readSent(op.id, sent, "json"), headers: sent.res.headers, url: sent.url };
    },
  };
}
