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
import { redactText } from "../crypto/redact.js";
import { currentContext } from "../runtime/context.js";
import { refreshIntegrationOAuth, requireIntegration } from "../runtime/integrations.js";
import { connectRefused, Deadline, outbound } from "../runtime/outbound.js";
import { errorReport, noBaseUrl, readAnswer, retryAfterMs } from "../runtime/request-policy.js";
import { checkTrusted, type Cred, credentialsFor, type Target, targetOf } from "./trust.js";
import type { ResolvedIntegration } from "../runtime/types.js";
import { ApiError, clientError as err } from "./errors.js";
import { buildPath, jsonBody, simpleQuery, str } from "./serialize.js";
import { apiKeyCookie, apiKeyHeader, apiKeyQuery, basicAuth, bearerAuth } from "./auth.js";
import type { AuthApplier, Client, Extension, ClientOptions, ClientSpec, EncodedBodyInit, OperationSpec, Page, RequestArgs, SecurityRequirement } from "./types.js";

export type * from "./types.js";
export { ApiError, ClientError, isApiError, type ClientErrorCode, type ErrorsOf } from "./errors.js";
export { binaryBody, formBody, jsonBody, multipartBody, styledParams } from "./serialize.js";
export { paginate } from "./paginate.js";
export { apiKeyCookie, apiKeyHeader, apiKeyQuery, basicAuth, bearerAuth } from "./auth.js";


interface Sent {
  res: Response;
  /** The URL requested last (after redirects), without credential query parameters. */
  url: string;
  method: string;
  /** The attempt's timeout, cleared once the body is read. */
  deadline: Deadline;
}

const secrets = (): string[] => [...(currentContext()?.secrets ?? [])];
const redact = (text: string): string => redactText(text, secrets());

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

interface Info extends Target {
  auth: Map<unknown, Cred>;
  /**
   * The base URL's outbound decision, for URLs made of the base URL plus a path (same origin): the
   * switch setting it was made under and the dispatcher that checks the addresses at connect time.
   * Unset until a request passed the policy; a refusal is not kept.
   */
  accepted?: { allowHttpLoopback: boolean; dispatcher: unknown };
  /** The base URL carries user info: every URL goes through the full outbound check. */
  userInfo: boolean;
  /** Per security requirement list: the trust rule passed for the base URL's origin with these credentials. */
  trustedAuth: WeakSet<Cred>;
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

/**
 * The URL is the base URL followed by a path, a query or nothing, so its origin is the base URL's
 * (a remainder such as "@host" or ":port" would change the authority and takes the full check).
 */
function underBase(url: string, base: string): boolean {
  if (!base || !url.startsWith(base)) return false;
  const next = url.charCodeAt(base.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
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
  /** Resolve with the Response whatever its status, instead of throwing ApiError for a non-2xx one (test connection). */
  anyStatus?: boolean;
  /** The loopback switch of the caller (the server's setting); default BIFROST_ALLOW_HTTP_LOOPBACK. */
  allowHttpLoopback?: boolean;
}

/** The spec of the generated module created last per integration (its servers and `--auth` / spec security), for `integration.fetch()`. */
export const generatedSpecs = new Map<string, ClientSpec>();

/** The runtime of one client plus the entry point `integration.fetch()` uses. */
export interface ClientRuntime extends Client {
  raw(op: OperationSpec, args: RequestArgs, ext: readonly Extension[], call: RawCall): Promise<Response>;
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
  const perInteg = new WeakMap<ResolvedIntegration, Info>();
  /** Per execution context: the integration (saves the async `integrations.require` chain on every call). */
  const perCtx = new WeakMap<object, ResolvedIntegration>();

  function infoOf(integ: ResolvedIntegration): Info {
    let b = perInteg.get(integ);
    if (!b) {
      const t = targetOf(integ, spec.servers, baseKey);
      const u = t.base ? new URL(t.base) : null;
      perInteg.set(integ, (b = { ...t, auth: new Map(), userInfo: !!(u && (u.username || u.password)), trustedAuth: new WeakSet() }));
    }
    return b;
  }

  /** The first satisfiable security requirement, as headers / query / cookies to add (cached per integration). */
  function authFor(integ: ResolvedIntegration, cache: Map<unknown, Cred>, op: OperationSpec, noToken = false): Cred {
    const reqs: SecurityRequirement[] = op.security ?? spec.security ?? [];
    let hit = cache.get(reqs);
    if (!hit) cache.set(reqs, (hit = credentialsFor(integ, spec.securitySchemes, appliers, reqs, op.id, noToken)));
    return hit;
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

  /**
   * The outbound policy for `url` (https; http only to loopback when allowed), before anything is
   * sent. A URL under the base URL reuses the base URL's decision made under the same switch setting;
   * anything else is checked by `outbound()` (which caches accepted origins itself).
   */
  function outboundOf(info: Info, url: string, allowLoopback: boolean | undefined): { origin: string; dispatcher: unknown } {
    const allowHttpLoopback = allowLoopback ?? process.env.BIFROST_ALLOW_HTTP_LOOPBACK === "1";
    const a = info.accepted;
    const same = !info.userInfo && underBase(url, info.base);
    if (same && a && a.allowHttpLoopback === allowHttpLoopback) return { origin: info.origin, dispatcher: a.dispatcher };
    const { url: u, dispatcher } = outbound(url, info.privateNetwork, allowHttpLoopback);
    if (same && u.origin === info.origin) info.accepted = { allowHttpLoopback, dispatcher };
    return { origin: u.origin, dispatcher };
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
    // Credentials go only to this origin (a generated call: the base URL's; integration.fetch(): the URL's), if trusted for them.
    const credOrigin = call ? new URL(url).origin : info.origin;
    for (;;) {
      const h: Record<string, string> = { ...headers };
      let target = url;
      let auth: Cred | null = null;
      // The outbound policy (https; http only to loopback when allowed), before anything is sent.
      const { origin, dispatcher } = outboundOf(info, url, call?.allowHttpLoopback);
      if (origin === credOrigin) {
        auth = authFor(integ, info.auth, op, call?.noToken);
        // The trust rule for these credentials at the base URL's origin is decided once per resolved integration.
        if (origin !== info.origin || !info.trustedAuth.has(auth)) {
          checkTrusted(integ, info, origin, auth.level, op.id);
          if (origin === info.origin) info.trustedAuth.add(auth);
        }
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
        res = await (doFetch ?? fetch)(target, { method, headers: h, signal, redirect: "manual", body, duplex: "half", dispatcher: deadline.dispatcher } as RequestInit);
      } catch (x) {
        deadline.clear();
        if (args.signal?.aborted) throw args.signal.reason;
        // An address the outbound policy refused when connecting: nothing was sent, and retrying cannot help.
        const refused = connectRefused(x, url, info.privateNetwork, call?.allowHttpLoopback);
        if (refused) throw refused;
        if (attempt < maxRetries) {
          await retry(backoff());
          continue;
        }
        const what = `${op.id}: ${method} ${redact(url)}`;
        throw deadline.expired
          ? err("TIMEOUT", 504, `${what} timeout ${timeoutMs} ms`, { operationId: op.id, timeoutMs })
          : err("NETWORK", 502, `${what}: ${redact(((x as Error)?.cause as Error | undefined)?.message ?? (x as Error)?.message ?? String(x))}`, { operationId: op.id });
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

  /** `text`: the body, when already read. */
  async function fail(op: OperationSpec, sent: Sent, why?: string, text?: string): Promise<ApiError> {
    const { res } = sent;
    const s = secrets();
    // An unreadable body (aborted): the status alone.
    const { body, requestId, summary } = errorReport(res, text ?? (await res.text().catch(() => "")), s);
    const url = redactText(sent.url, s);
    return new ApiError(
      `${op.id}: ${sent.method} ${url} ${why ?? `failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`}${requestId ? ` (request id ${requestId})` : ""}${why ? "" : summary}`,
      { status: res.status, body, requestId, operationId: op.id, method: sent.method, url },
    );
  }

  async function read(op: OperationSpec, sent: Sent, how: NonNullable<RequestArgs["parseAs"]>): Promise<unknown> {
    const { res } = sent;
    try {
      if (res.status > 299) throw await fail(op, sent);
      const out = await readAnswer(res, how, sent.method);
      if (typeof out === "string") throw await fail(op, sent, "returned invalid JSON", out);
      return out.value;
    } catch (e) {
      // (A ClientError is named ClientError / ApiError: passed through.)
      throw e instanceof Error && (sent.deadline.expired || /^(Timeout|Abort)Error$/.test(e.name))
        ? err("TIMEOUT", 504, `${op.id}: ${sent.method} ${redact(sent.url)} ${e.name} reading body`, { operationId: op.id })
        : e;
    } finally {
      sent.deadline.clear();
    }
  }

  return {
    async raw(op: OperationSpec, args: RequestArgs, ext: readonly Extension[], call: RawCall): Promise<Response> {
      const sent = await send(op, args, ext, call.url, call);
      if (!call.anyStatus) return (await read(op, sent, "response")) as Response;
      sent.deadline.clear();
      return sent.res;
    },
    async request<T = unknown>(op: OperationSpec, args: RequestArgs = {}, ext?: readonly Extension[]): Promise<T> {
      return (await read(op, await send(op, args, ext), args.parseAs ?? "auto")) as T;
    },
    async page(op: OperationSpec, args: RequestArgs, ext?: readonly Extension[], url?: string): Promise<Page> {
      const sent = await send(op, args, ext, url);
      return { body: await read(op, sent, "json"), headers: sent.res.headers, url: sent.url };
    },
  };
}
