/**
 * `bifrost/client`: the runtime of generated API clients. See src/client/README.md and types.ts.
 * No top-level side effects. `createClient()` holds only what every call needs (auth, base URL,
 * parameters, JSON/text bodies, retries, redirects, refresh-on-401, errors); pagination (`paginate`)
 * and the form / multipart / binary body encoders are separate exports that a generated module imports
 * only for the operations that use them, so a one-call bundle leaves them out.
 * @module
 */
import { setTimeout as wait } from "node:timers/promises";
import { redactText } from "../crypto/redact.js";
import { currentContext } from "../runtime/context.js";
import { integrations, refreshIntegrationOAuth } from "../runtime/integrations.js";
import type { ResolvedIntegration } from "../runtime/types.js";
import { ApiError, ClientError } from "./errors.js";
import { buildPath, cookieHeader, isJson, simpleQuery, str } from "./serialize.js";
import type { Client, Extension, ClientOptions, ClientSpec, EncodedBodyInit, OperationSpec, Page, RequestArgs, SecurityRequirement } from "./types.js";

export type * from "./types.js";
export { ApiError, ClientError, type ClientErrorCode } from "./errors.js";
export { binaryBody, formBody, multipartBody, styledParams } from "./serialize.js";
export { paginate } from "./paginate.js";

const NO_AUTH: Auth = { headers: [], query: "", cookies: [], token: null };

interface Auth {
  headers: Array<[string, string]>;
  query: string;
  cookies: Array<[string, string]>;
  /** The OAuth access token sent, for the 401 refresh. */
  token: string | null;
}

interface Sent {
  res: Response;
  /** The URL requested last (after redirects), without credential query parameters. */
  url: string;
  method: string;
  /** The attempt's timeout timer, cleared once the body is read. */
  timer: ReturnType<typeof setTimeout>;
}

const cfg = (integ: ResolvedIntegration, key: string): string | undefined => {
  const v = integ.config.has(key) ? integ.config.get(key) : undefined;
  return v === undefined || v === null || v === "" ? undefined : str(v);
};

const secrets = (): string[] => [...(currentContext()?.secrets ?? [])];
const orgSlug = (): string | null => currentContext()?.org?.slug ?? null;

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<unknown> =>
  wait(ms, undefined, signal && { signal }).catch(() => {
    throw signal?.reason;
  });

/** `Retry-After` in ms (delta-seconds or HTTP date), or undefined. */
export function retryAfterMs(h: string | null, nowMs = Date.now()): number | undefined {
  if (!h) return undefined;
  if (/^\s*\d+\s*$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Redact every string inside a parsed JSON value. */
function scrub(v: unknown, s: string[]): unknown {
  if (typeof v === "string") return redactText(v, s);
  if (Array.isArray(v)) return v.map((x) => scrub(x, s));
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, s)]));
  return v;
}

async function drain(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // already consumed or aborted
  }
}

/** Create the runtime of one generated module. Pure: call it at the top level of generated code with a PURE annotation. */
export function createClient(spec: ClientSpec, opts: ClientOptions = {}): Client {
  const baseKey = spec.baseUrlKey ?? "base_url";
  const maxRetriesDefault = opts.maxRetries ?? 2;
  const timeoutDefault = opts.timeoutMs ?? 30_000;
  const baseMs = opts.retryBaseMs ?? 250;
  const capMs = opts.retryMaxMs ?? 30_000;
  const doFetch = opts.fetch;
  const defaultHeaders: Record<string, string> = {};
  for (const k in opts.headers) defaultHeaders[k.toLowerCase()] = opts.headers[k] as string;
  /** Request headers never sent to another origin than the integration's. */
  const credentialHeaders = ["authorization", "proxy-authorization", "cookie"];
  for (const s of Object.values(spec.securitySchemes)) if (s.type === "apiKey" && s.in === "header") credentialHeaders.push(s.name.toLowerCase());
  /** Per resolved integration (a new object after a refresh or config change): base URL and auth per requirement list. */
  const perInteg = new WeakMap<ResolvedIntegration, { base: string; origin: string; auth: Map<unknown, Auth> }>();
  /** Per execution context: the integration (saves the async `integrations.require` chain on every call). */
  const perCtx = new WeakMap<object, ResolvedIntegration>();

  function infoOf(integ: ResolvedIntegration): { base: string; origin: string; auth: Map<unknown, Auth> } {
    let b = perInteg.get(integ);
    if (!b) {
      let base = cfg(integ, baseKey);
      const server = spec.servers[0];
      if (!base && server) {
        base = server.url.replace(/\{([^}]+)\}/g, (_m, n: string) => {
          const v = server.variables?.[n];
          return cfg(integ, v?.configKey ?? n) ?? v?.default ?? "";
        });
      }
      if (!base || !/^https?:\/\//i.test(base)) {
        const org = orgSlug();
        throw new ClientError("BIFROST_CLIENT_NO_BASE_URL", 409, `${integ.name}: no absolute base URL${org ? ` for organization "${org}"` : ""}; set config key "${baseKey}"`, {
          integration: integ.name,
          org,
          key: baseKey,
          server: base ?? null,
        });
      }
      const u = new URL(base);
      b = { base: u.href.replace(/\/+$/, ""), origin: u.origin, auth: new Map() };
      perInteg.set(integ, b);
    }
    return b;
  }

  /** The first satisfiable security requirement, as headers / query / cookies to add (cached per integration). */
  function authFor(integ: ResolvedIntegration, cache: Map<unknown, Auth>, op: OperationSpec): Auth {
    const reqs: SecurityRequirement[] = op.security ?? spec.security ?? [];
    const hit = cache.get(reqs);
    if (hit) return hit;
    const wanted: string[] = [];
    for (const req of reqs) {
      const auth: Auth = { headers: [], query: "", cookies: [], token: null };
      let ok = true;
      for (const name of Object.keys(req)) {
        const s = spec.securitySchemes[name];
        if (!s) {
          ok = false;
          continue;
        }
        if (s.type === "apiKey") {
          const v = cfg(integ, s.configKey);
          if (v === undefined) {
            ok = false;
            wanted.push(`"${s.configKey}"`);
          } else if (s.in === "header") auth.headers.push([s.name.toLowerCase(), v]);
          else if (s.in === "query") auth.query += `${auth.query ? "&" : ""}${encodeURIComponent(s.name)}=${encodeURIComponent(v)}`;
          else auth.cookies.push([s.name, v]);
        } else if (s.type === "http" && s.scheme === "basic") {
          const u = cfg(integ, s.usernameKey);
          if (u === undefined) {
            ok = false;
            wanted.push(`"${s.usernameKey}"+"${s.passwordKey}"`);
          } else auth.headers.push(["authorization", `Basic ${Buffer.from(`${u}:${cfg(integ, s.passwordKey) ?? ""}`).toString("base64")}`]);
        } else {
          // oauth2, openIdConnect, http bearer: the OAuth token first, else a secret config key.
          const token = integ.oauth?.accessToken;
          const v = token ?? (s.configKey ? cfg(integ, s.configKey) : undefined);
          if (v === undefined) {
            ok = false;
            wanted.push(`OAuth${s.configKey ? ` or "${s.configKey}"` : ""}`);
          } else {
            auth.headers.push(["authorization", `Bearer ${v}`]);
            if (token) auth.token = token;
          }
        }
      }
      if (ok) {
        cache.set(reqs, auth);
        return auth;
      }
    }
    if (reqs.length === 0) return NO_AUTH;
    const org = orgSlug();
    throw new ClientError("BIFROST_CLIENT_CREDENTIALS_MISSING", 409, `${integ.name}: no credentials for ${org ? `organization "${org}"` : "defaults"}; set config key ${[...new Set(wanted)].join(" or ")}`, {
      integration: integ.name,
      org,
      operationId: op.id,
      wanted: [...new Set(wanted)],
    });
  }

  async function integration(): Promise<ResolvedIntegration> {
    const ctx = currentContext();
    let integ = ctx && perCtx.get(ctx);
    if (!integ) {
      integ = await integrations.require(spec.integration);
      if (ctx) perCtx.set(ctx, integ);
    }
    return integ;
  }

  async function send(op: OperationSpec, args: RequestArgs, ext: readonly Extension[] = [], absUrl?: string): Promise<Sent> {
    let integ = await integration();
    let info = infoOf(integ);
    let url: string;
    if (absUrl) url = absUrl;
    else {
      const styled = ext.find((x) => x.params)?.params;
      url = info.base + (styled ? styled(op, "path", args.path) : buildPath(op, args.path));
      if (args.query) {
        const q = styled ? styled(op, "query", args.query) : simpleQuery(args.query);
        if (q) url += `?${q}`;
      }
    }
    let method: string = op.method;
    const headers: Record<string, string> = { ...defaultHeaders };
    const ah = args.headers;
    if (ah) for (const k in ah) if (ah[k] !== undefined) headers[k.toLowerCase()] = str(ah[k]);
    let cookies: Array<[string, string]> | undefined;
    const ac = args.cookies;
    if (ac) for (const k in ac) if (ac[k] !== undefined) (cookies ??= []).push([k, str(ac[k])]);
    let body: EncodedBodyInit | undefined;
    let replayable = true;
    if (args.body !== undefined && op.body) {
      const mt = args.contentType ?? op.body.mediaTypes[0] ?? "application/json";
      if (isJson(mt) || /^text\//i.test(mt)) {
        body = isJson(mt) ? JSON.stringify(args.body) : str(args.body);
        headers["content-type"] = mt;
      } else {
        let e;
        for (const x of ext) if ((e = x.body?.(args.body, mt, op))) break;
        if (!e) throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: no encoder for ${mt}`, { operationId: op.id, mediaType: mt });
        body = e.body;
        replayable = e.replayable;
        if (e.type) headers["content-type"] = e.type;
      }
    } else if (op.body?.required) {
      throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: body required`, { operationId: op.id });
    }
    headers.accept ??= "application/json, */*;q=0.8";
    const idempotent = /^(?:GET|HEAD|OPTIONS|PUT|DELETE|TRACE)$/.test(method) || headers["idempotency-key"] !== undefined;
    const maxRetries = replayable ? (args.maxRetries ?? maxRetriesDefault) : 0;
    const timeoutMs = args.timeoutMs ?? timeoutDefault;
    let attempt = 0;
    let redirects = 0;
    let refreshed = false;
    const backoff = (): number => Math.random() * Math.min(capMs, baseMs * 2 ** attempt);

    for (;;) {
      const { origin } = info;
      const same = url.startsWith(origin) && (url.length === origin.length || "/?#".includes(url[origin.length] as string));
      const h: Record<string, string> = { ...headers };
      let target = url;
      let auth: Auth | null = null;
      if (same) {
        auth = authFor(integ, info.auth, op);
        for (const [k, v] of auth.headers) h[k] = v;
        if (auth.query) target += (target.includes("?") ? "&" : "?") + auth.query;
        if (auth.cookies.length || cookies) h.cookie = cookieHeader(cookies ? [...auth.cookies, ...cookies] : auth.cookies);
      } else {
        // Another origin (an absolute `next` link, a redirect): no credentials at all.
        for (const k of credentialHeaders) delete h[k];
      }
      // A plain timer (cheaper than AbortSignal.timeout), cleared when the body has been read.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new DOMException("timeout", "TimeoutError")), timeoutMs);
      const signal = args.signal ? AbortSignal.any([args.signal, timeout.signal]) : timeout.signal;
      let res: Response;
      try {
        const init: RequestInit & { duplex?: "half" } = { method, headers: h, signal, redirect: "manual" };
        if (body !== undefined) init.body = body;
        if (!replayable) init.duplex = "half";
        res = await (doFetch ?? fetch)(target, init);
      } catch (err) {
        clearTimeout(timer);
        if (args.signal?.aborted) throw args.signal.reason;
        const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
        const u = redactText(url, secrets());
        const e = timeout.signal.aborted
          ? new ClientError("BIFROST_CLIENT_TIMEOUT", 504, `${op.id}: ${method} ${u} timeout ${timeoutMs} ms`, { operationId: op.id, timeoutMs })
          : new ClientError("BIFROST_CLIENT_NETWORK", 502, `${op.id}: ${method} ${u}: ${redactText(cause, secrets())}`, { operationId: op.id });
        if (idempotent && attempt < maxRetries) {
          await sleep(backoff(), args.signal);
          attempt++;
          continue;
        }
        throw e;
      }
      const status = res.status;
      if (status < 300) return { res, url, method, timer };
      const location = status < 400 ? res.headers.get("location") : null;
      if (location !== null && redirects++ < 5) {
        await drain(res);
        url = new URL(location, url).href;
        if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
          if (method !== "HEAD") method = "GET";
          body = undefined;
          delete headers["content-type"];
        } else if (!replayable) return { res, url, method, timer };
        clearTimeout(timer);
        continue;
      }
      if (status === 401 && auth?.token && !refreshed && replayable) {
        refreshed = true;
        const fresh = await refreshIntegrationOAuth(spec.integration, auth.token);
        if (fresh?.oauth && fresh.oauth.accessToken !== auth.token) {
          integ = fresh;
          info = infoOf(integ);
          const ctx = currentContext();
          if (ctx) perCtx.set(ctx, integ);
          clearTimeout(timer);
          await drain(res);
          continue;
        }
      }
      if ((status === 408 || status === 429 || (status >= 500 && status <= 504 && status !== 501)) && idempotent && attempt < maxRetries) {
        const delay = Math.min(capMs, retryAfterMs(res.headers.get("retry-after")) ?? backoff());
        clearTimeout(timer);
        await drain(res);
        await sleep(delay, args.signal);
        attempt++;
        continue;
      }
      return { res, url, method, timer };
    }
  }

  async function fail(op: OperationSpec, sent: Sent, why?: string): Promise<ApiError> {
    const { res } = sent;
    const s = secrets();
    let text = "";
    try {
      text = await res.text();
    } catch {
      // body unreadable (aborted): status alone
    }
    let body: unknown;
    if (text && text.length <= 1 << 20 && isJson(res.headers.get("content-type") ?? "")) {
      try {
        body = scrub(JSON.parse(text), s);
      } catch {
        // not JSON after all: keep the text
      }
    }
    if (body === undefined) {
      text = redactText(text, s);
      body = text.length > 4096 ? `${text.slice(0, 4096)}…` : text;
    }
    let requestId: string | null = null;
    // x-request-id, request-id, x-amzn-requestid, x-amz-request-id, x-ms-request-id, x-github-request-id, x-correlation-id, cf-ray
    for (const [k, v] of res.headers) if (/^(?:x-(?:amzn?-|ms-|github-)?)?request-?id$|^x-correlation-id$|^cf-ray$/.test(k)) requestId ??= v;
    const b = body as Record<string, unknown> | string;
    const raw = typeof b === "string" ? b : (b?.message ?? b?.error_description ?? b?.error ?? b?.detail ?? b?.title);
    const summary = typeof raw === "string" && raw && !why ? `: ${raw.slice(0, 200)}` : "";
    const url = redactText(sent.url, s);
    return new ApiError(
      `${op.id}: ${sent.method} ${url} ${why ?? `failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`}${requestId ? ` (request id ${requestId})` : ""}${summary}`,
      { status: res.status, body, requestId, operationId: op.id, method: sent.method, url },
    );
  }

  async function read(op: OperationSpec, sent: Sent, how: NonNullable<RequestArgs["parseAs"]>): Promise<unknown> {
    const { res } = sent;
    try {
      if (res.status < 200 || res.status > 299) throw await fail(op, sent);
      if (how === "response" || how === "stream") return how === "stream" ? res.body : res;
      if (how === "blob" || how === "arrayBuffer") return await res[how]();
      if (res.status === 204 || res.status === 205 || sent.method === "HEAD") {
        await drain(res);
        return undefined;
      }
      const ct = res.headers.get("content-type") ?? "";
      if (how === "json" || (how === "auto" && isJson(ct))) {
        const t = await res.text();
        if (!t) return undefined;
        try {
          return JSON.parse(t) as unknown;
        } catch {
          throw await fail(op, { ...sent, res: new Response(t, { status: res.status, headers: res.headers }) }, "returned invalid JSON");
        }
      }
      if (how === "text" || ct === "" || /^text\/|xml|urlencoded/i.test(ct)) return await res.text();
      return await res.blob();
    } catch (err) {
      if (err instanceof ClientError) throw err;
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new ClientError("BIFROST_CLIENT_TIMEOUT", 504, `${op.id}: ${sent.method} ${redactText(sent.url, secrets())} ${err.name} reading body`, { operationId: op.id });
      }
      throw err;
    } finally {
      clearTimeout(sent.timer);
    }
  }

  return {
    async request<T = unknown>(op: OperationSpec, args: RequestArgs = {}, ext?: readonly Extension[]): Promise<T> {
      return (await read(op, await send(op, args, ext), args.parseAs ?? "auto")) as T;
    },
    async page(op: OperationSpec, args: RequestArgs, ext?: readonly Extension[], url?: string): Promise<Page> {
      const sent = await send(op, args, ext, url);
      return { body: await read(op, sent, "json"), headers: sent.res.headers, url: sent.url };
    },
  };
}
