/**
 * `bifrost/client`: the runtime of generated API clients. See src/client/README.md and types.ts.
 * No top-level side effects; `createClient()` returns two closures.
 * @module
 */
import { redactText } from "../crypto/redact.js";
import { currentContext } from "../runtime/context.js";
import { integrations, refreshIntegrationOAuth } from "../runtime/integrations.js";
import type { ResolvedIntegration } from "../runtime/types.js";
import { ApiError, ClientError } from "./errors.js";
import { type BodyInit, buildPath, buildQuery, cookieHeader, encodeBody, isJson, str } from "./serialize.js";
import type { Client, ClientOptions, ClientSpec, OperationSpec, PaginationSpec, RequestArgs, SecurityRequirement } from "./types.js";

export type * from "./types.js";
export { ApiError, ClientError, type ClientErrorCode } from "./errors.js";

const RETRY_STATUS = [408, 429, 500, 502, 503, 504];
const IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];
const REQUEST_ID_HEADERS = ["x-request-id", "request-id", "x-amzn-requestid", "x-amz-request-id", "x-ms-request-id", "x-github-request-id", "x-correlation-id", "cf-ray"];
/** Request headers never sent to another origin than the integration's. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `Retry-After` in ms (delta-seconds or HTTP date), or undefined. */
export function retryAfterMs(h: string | null, nowMs = Date.now()): number | undefined {
  if (!h) return undefined;
  if (/^\s*\d+\s*$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function pick(body: unknown, path: readonly string[] | undefined): unknown {
  let v = body;
  for (const k of path ?? []) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** `<https://…?page=2>; rel="next", <…>; rel="last"` → the next URL. */
function nextLink(h: string | null): string | undefined {
  if (!h) return undefined;
  for (const m of h.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    if (/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?/i.test(m[2] ?? "")) return m[1];
  }
  return undefined;
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
  const bases = new WeakMap<ResolvedIntegration, { base: string; origin: string }>();
  const apiKeyHeaders = Object.values(spec.securitySchemes).flatMap((s) => (s.type === "apiKey" && s.in === "header" ? [s.name.toLowerCase()] : []));

  function baseOf(integ: ResolvedIntegration): { base: string; origin: string } {
    let b = bases.get(integ);
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
        const org = currentContext()?.org?.slug;
        throw new ClientError(
          "BIFROST_CLIENT_NO_BASE_URL",
          409,
          `Integration "${integ.name}" has no absolute base URL${org ? ` for organization "${org}"` : ""}${base ? ` (the spec's server is "${base}")` : ""}: set config key "${baseKey}" with \`bifrost config set ${integ.name} ${baseKey}=https://…${org ? ` --org ${org}` : ""}\`.`,
          { integration: integ.name, org: org ?? null, key: baseKey },
        );
      }
      base = new URL(base).href.replace(/\/+$/, "");
      b = { base, origin: new URL(base).origin };
      bases.set(integ, b);
    }
    return b;
  }

  /** The first satisfiable security requirement, as headers / query / cookies to add. */
  function authFor(integ: ResolvedIntegration, op: OperationSpec): Auth {
    const reqs: SecurityRequirement[] = op.security ?? spec.security ?? [];
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
            wanted.push(`config key "${s.configKey}"`);
          } else if (s.in === "header") auth.headers.push([s.name.toLowerCase(), v]);
          else if (s.in === "query") auth.query += `${auth.query ? "&" : ""}${encodeURIComponent(s.name)}=${encodeURIComponent(v)}`;
          else auth.cookies.push([s.name, v]);
        } else if (s.type === "http" && s.scheme === "basic") {
          const u = cfg(integ, s.usernameKey);
          if (u === undefined) {
            ok = false;
            wanted.push(`config keys "${s.usernameKey}" and "${s.passwordKey}"`);
          } else auth.headers.push(["authorization", `Basic ${Buffer.from(`${u}:${cfg(integ, s.passwordKey) ?? ""}`).toString("base64")}`]);
        } else {
          // oauth2, openIdConnect, http bearer: the OAuth token first, else a secret config key.
          const token = integ.oauth?.accessToken;
          const v = token ?? (s.configKey ? cfg(integ, s.configKey) : undefined);
          if (v === undefined) {
            ok = false;
            wanted.push(`an OAuth connection (\`bifrost oauth connect ${integ.name}\`)${s.configKey ? ` or config key "${s.configKey}"` : ""}`);
          } else {
            auth.headers.push(["authorization", `Bearer ${v}`]);
            if (token) auth.token = token;
          }
        }
      }
      if (ok) return auth;
    }
    if (reqs.length === 0) return { headers: [], query: "", cookies: [], token: null };
    const org = currentContext()?.org?.slug ?? null;
    throw new ClientError(
      "BIFROST_CLIENT_CREDENTIALS_MISSING",
      409,
      `Integration "${integ.name}" has no credentials for ${org ? `organization "${org}"` : "the integration defaults (no organization)"}: set ${[...new Set(wanted)].join(", or ") || "a supported security scheme"} (\`bifrost config set ${integ.name} KEY=VALUE${org ? ` --org ${org}` : ""}\`).`,
      { integration: integ.name, org, operationId: op.id },
    );
  }

  async function send(op: OperationSpec, args: RequestArgs, absUrl?: string): Promise<Sent> {
    let integ = await integrations.require(spec.integration);
    const { base, origin } = baseOf(integ);
    let url = absUrl ?? base + buildPath(op, args.path);
    if (!absUrl) {
      const q = buildQuery(op, args.query);
      if (q) url += `?${q}`;
    }
    let method: string = op.method;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
    if (args.headers) for (const [k, v] of Object.entries(args.headers)) if (v !== undefined) headers[k.toLowerCase()] = str(v);
    const cookies: Array<[string, string]> = [];
    if (args.cookies) for (const [k, v] of Object.entries(args.cookies)) if (v !== undefined) cookies.push([k, str(v)]);
    let body: BodyInit | undefined;
    let replayable = true;
    if (args.body !== undefined && op.body) {
      const mt = args.contentType ?? op.body.mediaTypes[0] ?? "application/json";
      const e = encodeBody(op, args.body, mt);
      body = e.body;
      replayable = e.replayable;
      if (e.type) headers["content-type"] = e.type;
    } else if (op.body?.required) {
      throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: a request body is required.`, { operationId: op.id });
    }
    if (!headers.accept) headers.accept = "application/json, */*;q=0.8";
    const idempotent = IDEMPOTENT.includes(method) || headers["idempotency-key"] !== undefined;
    const maxRetries = replayable ? (args.maxRetries ?? opts.maxRetries ?? 2) : 0;
    const timeoutMs = args.timeoutMs ?? opts.timeoutMs ?? 30_000;
    const baseMs = opts.retryBaseMs ?? 250;
    const capMs = opts.retryMaxMs ?? 30_000;
    const doFetch = opts.fetch ?? fetch;
    let attempt = 0;
    let redirects = 0;
    let refreshed = false;
    const backoff = (): number => Math.random() * Math.min(capMs, baseMs * 2 ** attempt);

    for (;;) {
      const same = url.startsWith(origin) && (url.length === origin.length || "/?#".includes(url[origin.length] ?? ""));
      const h: Record<string, string> = { ...headers };
      let target = url;
      let auth: Auth | null = null;
      if (same) {
        auth = authFor(integ, op);
        for (const [k, v] of auth.headers) h[k] = v;
        if (auth.query) target += (target.includes("?") ? "&" : "?") + auth.query;
        const all = [...auth.cookies, ...cookies];
        if (all.length) h.cookie = cookieHeader(all);
      } else {
        // Another origin (an absolute `next` link, a redirect): no credentials at all.
        for (const k of [...CREDENTIAL_HEADERS, ...apiKeyHeaders]) delete h[k];
      }
      // A plain timer (cheaper than AbortSignal.timeout), cleared when the body has been read.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
      const signal = args.signal ? AbortSignal.any([args.signal, timeout.signal]) : timeout.signal;
      let res: Response;
      try {
        const init: RequestInit & { duplex?: "half" } = { method, headers: h, signal, redirect: "manual" };
        if (body !== undefined) init.body = body;
        if (!replayable) init.duplex = "half";
        res = await doFetch(target, init);
      } catch (err) {
        clearTimeout(timer);
        if (args.signal?.aborted) throw args.signal.reason;
        const timedOut = timeout.signal.aborted;
        const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
        const e = timedOut
          ? new ClientError("BIFROST_CLIENT_TIMEOUT", 504, `${op.id}: ${method} ${redactText(url, secrets())} timed out after ${timeoutMs} ms.`, { operationId: op.id, timeoutMs })
          : new ClientError("BIFROST_CLIENT_NETWORK", 502, `${op.id}: ${method} ${redactText(url, secrets())} failed: ${redactText(cause, secrets())}.`, { operationId: op.id });
        if (idempotent && attempt < maxRetries) {
          await sleep(backoff(), args.signal);
          attempt++;
          continue;
        }
        throw e;
      }
      const status = res.status;
      const location = status >= 300 && status < 400 ? res.headers.get("location") : null;
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
          clearTimeout(timer);
          await drain(res);
          continue;
        }
      }
      if (RETRY_STATUS.includes(status) && idempotent && attempt < maxRetries) {
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
    for (const k of REQUEST_ID_HEADERS) if ((requestId = res.headers.get(k)) !== null) break;
    const b = body as Record<string, unknown> | string;
    const raw = typeof b === "string" ? b : (b?.message ?? b?.error_description ?? b?.error ?? b?.detail ?? b?.title);
    const summary = typeof raw === "string" && raw ? `: ${raw.slice(0, 200)}` : "";
    const url = redactText(sent.url, s);
    return new ApiError(
      `${op.id}: ${sent.method} ${url} ${why ?? `failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`}${requestId ? ` (request id ${requestId})` : ""}${why ? "" : summary}`,
      { status: res.status, body, requestId, operationId: op.id, method: sent.method, url },
    );
  }

  async function read(op: OperationSpec, sent: Sent, how: NonNullable<RequestArgs["parseAs"]>): Promise<unknown> {
    try {
      return await parse(op, sent, how);
    } finally {
      clearTimeout(sent.timer);
    }
  }

  async function parse(op: OperationSpec, sent: Sent, how: NonNullable<RequestArgs["parseAs"]>): Promise<unknown> {
    const { res } = sent;
    if (res.status < 200 || res.status > 299) throw await fail(op, sent);
    if (how === "response") return res;
    if (how === "stream") return res.body;
    try {
      if (how === "blob") return await res.blob();
      if (how === "arrayBuffer") return await res.arrayBuffer();
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
          throw await fail(op, { ...sent, res: new Response(t, { status: res.status, headers: res.headers }) }, "returned a body that is not valid JSON");
        }
      }
      if (how === "text" || ct === "" || /^text\/|xml|urlencoded/i.test(ct)) return await res.text();
      return await res.blob();
    } catch (err) {
      if (err instanceof ClientError) throw err;
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new ClientError("BIFROST_CLIENT_TIMEOUT", 504, `${op.id}: reading the response of ${sent.method} ${redactText(sent.url, secrets())} was aborted (${err.name}).`, { operationId: op.id });
      }
      throw err;
    }
  }

  async function request<T = unknown>(op: OperationSpec, args: RequestArgs = {}): Promise<T> {
    return (await read(op, await send(op, args), args.parseAs ?? "auto")) as T;
  }

  async function* paginate<T = unknown>(op: OperationSpec, args: RequestArgs = {}): AsyncGenerator<T, void, undefined> {
    const p: PaginationSpec | undefined = op.pagination;
    if (!p) throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id} has no pagination pattern.`, { operationId: op.id });
    const query: Record<string, unknown> = { ...args.query };
    let next: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < 100_000; page++) {
      const sent = await send(op, { ...args, query }, next);
      const body = await read(op, sent, "json");
      const items = pick(body, p.itemsPath);
      if (items === undefined || items === null) return;
      if (!Array.isArray(items)) {
        throw new ClientError("BIFROST_CLIENT_INVALID_REQUEST", 422, `${op.id}: expected an array of items at ${(p.itemsPath ?? []).join(".") || "the response body"}.`, { operationId: op.id });
      }
      for (const item of items) yield item as T;
      if (items.length === 0) return;
      let marker: string;
      if (p.style === "link") {
        const link = nextLink(sent.res.headers.get("link"));
        if (!link) return;
        next = new URL(link, sent.url).href;
        marker = next;
      } else if (p.style === "cursor") {
        const c = pick(body, p.responsePath);
        if (c === undefined || c === null || c === "") return;
        query[p.param] = c;
        marker = str(c);
      } else {
        const size = Number((p.style === "page" ? p.sizeParam : p.limitParam) && query[(p.style === "page" ? p.sizeParam : p.limitParam) as string]);
        if (size > 0 && items.length < size) return;
        const cur = Number(query[p.param] ?? (p.style === "page" ? (p.start ?? 1) : 0));
        query[p.param] = p.style === "page" ? cur + 1 : cur + items.length;
        marker = str(query[p.param]);
      }
      // A server that repeats its cursor or link would loop forever.
      if (seen.has(marker)) return;
      seen.add(marker);
    }
  }

  return { request, paginate };
}
