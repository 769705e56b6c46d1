/**
 * The request policy of the client runtime's requests (DESIGN §9.1), part of the SDK core: where one
 * integration's requests go (the base URL in effect, the trusted origins), the messages of refusals, and
 * what an error answer reports (redacted body, request id).
 * Also the rule itself — which credential may go where — with its per-integration caches, and how an
 * attempt's failure or an answer becomes a ClientError / ApiError: loaded with the SDK rather than
 * bundled into each generated module.
 * @module
 */
import type { ErrorDetails } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";
import type { CredentialLevel, ExecutionOrg } from "../kernel/types.js";
import { currentContext } from "./context.js";
import { ApiError, ClientError, clientError } from "./client-errors.js";
import { connectRefused, type Deadline } from "./outbound.js";
import { connectionError, trustOf } from "./resolved.js";
import type { ResolvedIntegration } from "./types.js";

/** The config value of `key` as text (objects as JSON); undefined when unset or empty. */
export function configString(integ: ResolvedIntegration, key: string): string | undefined {
  const v = integ.config.has(key) ? integ.config.get(key) : undefined;
  return v === undefined || v === null || v === "" ? undefined : typeof v === "object" ? JSON.stringify(v) : String(v);
}
/** A spec server: URL template and its variables (a subset of the client's ServerSpec). */
interface Server {
  url: string;
  variables?: Record<string, { default: string; configKey?: string }>;
}

/**
 * The origins integration-level credentials may go to: the default (integration-level) value of
 * `baseKey`, the spec's servers with variables from the defaults, and the integration's `trusted_origins`.
 * An org override never adds to this set.
 */
function trustedOrigins(integ: ResolvedIntegration, servers: readonly Server[], baseKey: string): Set<string> {
  const trust = trustOf(integ);
  const def = (k: string): string | undefined => (integ.config.levelOf(k) === "org" ? trust.defaults.get(k) || undefined : configString(integ, k));
  const out = new Set<string>();
  const add = (u: string | undefined): void => {
    if (u && /^https?:\/\//i.test(u)) {
      try {
        out.add(new URL(u).origin);
      } catch {
        // not a URL: nothing to trust
      }
    }
  };
  add(def(baseKey));
  for (const s of servers) add(s.url.replace(/\{([^}]+)\}/g, (_m, n: string) => def(s.variables?.[n]?.configKey ?? n) ?? s.variables?.[n]?.default ?? ""));
  for (const o of trust.trustedOrigins) add(o);
  return out;
}

/** Where one client's requests for one resolved integration go. */
export interface Target {
  /** The base URL in effect, without a trailing slash; "" when there is no absolute one. */
  base: string;
  /** The base URL as configured, for the error when it is not absolute. */
  raw: string | null;
  /** The origin of the base URL in effect (an org-level credential may go there). */
  origin: string;
  /** The integration's trusted origins (see `trustedOrigins`). */
  trusted: ReadonlySet<string>;
  privateNetwork: boolean;
  org: ExecutionOrg | null;
  /** The base URL carries user info: every URL goes through the full outbound check. */
  userInfo: boolean;
}

/**
 * The base URL in effect for the org: config `baseKey` if set, else the first server's URL with
 * variables from config (`variables[v].configKey ?? v`) then their defaults; and the trust inputs.
 */
export function targetOf(integ: ResolvedIntegration, servers: readonly Server[], baseKey: string): Target {
  const trust = trustOf(integ);
  const get = (k: string): string | undefined => configString(integ, k);
  let base = get(baseKey);
  const server = servers[0];
  if (!base && server) base = server.url.replace(/\{([^}]+)\}/g, (_m, n: string) => get(server.variables?.[n]?.configKey ?? n) ?? server.variables?.[n]?.default ?? "");
  const u = /^https?:\/\//i.test(base ?? "") ? new URL(base as string) : null;
  return { base: u ? u.href.replace(/\/+$/, "") : "", raw: base ?? null, origin: u?.origin ?? "", trusted: trustedOrigins(integ, servers, baseKey), privateNetwork: trust.privateNetwork, org: trust.org, userInfo: !!(u && (u.username || u.password)) };
}

/** Why `level` credentials may not go to `origin`, and how a platform admin or the organization fixes it. */
function untrustedOriginMessage(integ: ResolvedIntegration, origin: string, level: CredentialLevel): string {
  const org = trustOf(integ).org?.slug ?? null;
  const what = level === "integration" ? "integration-level credentials (defaults or the integration's OAuth connection)" : "this organization's credentials";
  const where =
    level === "integration" ? "the integration's trusted origins (the default base URL, the spec's servers, trusted_origins)" : "the integration's trusted origins nor the organization's own base URL";
  return (
    `${integ.name}: refusing to send ${what} to ${origin}${org ? ` for organization "${org}"` : ""}: it is not one of ${where}; nothing was sent. ` +
      `A platform admin can trust it by adding "${origin}" to the integration's trusted_origins (\`trusted_origins:\` in bifrost.yaml, or PATCH /api/integrations/${integ.name}); ` +
      `or the organization sets its own credential (\`bifrost config set ${integ.name} KEY=VALUE --org SLUG\`, \`bifrost oauth connect ${integ.name} --org SLUG\`).`
  );
}

/** Message and details of BIFROST_CLIENT_NO_BASE_URL: whether the base URL is unset or set but not absolute, and how to fix it. */
export function noBaseUrl(integ: ResolvedIntegration, raw: string | null, key: string): [string, ErrorDetails] {
  const why = raw ? `the base URL in effect is not an absolute http(s) URL; set config key "${key}" to a full URL such as https://api.example.com` : `no base URL; set config key "${key}"`;
  return [`${integ.name}: ${why}`, { integration: integ.name, org: currentContext()?.org?.slug ?? null, key, server: raw }];
}

/**
 * What a non-2xx answer reports: its body (JSON with every string value redacted, else the redacted text
 * truncated to 4 KiB), the API's request id, and a short summary of its message for the error text.
 */
function errorReport(res: Response, text: string, secrets: readonly string[]): { body: unknown; requestId: string | null; summary: string } {
  let body: unknown;
  if (text && text.length <= 1 << 20 && /[+/]json\b/i.test(res.headers.get("content-type") ?? "")) {
    try {
      body = JSON.parse(text, (_k, v: unknown) => (typeof v === "string" ? redactText(v, secrets) : v));
    } catch {
      // not JSON after all: keep the text
    }
  }
  if (body === undefined) {
    const t = redactText(text, secrets);
    body = t.length > 4096 ? `${t.slice(0, 4096)}…` : t;
  }
  let requestId: string | null = null;
  // x-request-id, request-id, x-amzn-requestid, x-amz-request-id, x-ms-request-id, x-github-request-id, x-correlation-id, cf-ray
  for (const [k, v] of res.headers) if (/^((x-(amzn?-|ms-|github-)?)?request-?id|x-correlation-id|cf-ray)$/.test(k)) requestId ??= v;
  const b = body as Record<string, unknown> | undefined;
  const raw = typeof body === "string" ? body : (b?.message ?? b?.error_description ?? b?.error ?? b?.detail ?? b?.title);
  return { body, requestId, summary: typeof raw === "string" && raw ? `: ${raw.slice(0, 200)}` : "" };
}

/** The level of credentials built from config keys `keys` (and the OAuth token when `token`): null when none. */
function credentialLevel(integ: ResolvedIntegration, keys: readonly string[], token: boolean): CredentialLevel | null {
  const levels = keys.map((k) => integ.config.levelOf(k));
  if (token) levels.push(trustOf(integ).oauthLevel ?? "integration");
  return levels.includes("integration") ? "integration" : levels[0] ? "org" : null;
}

/** `integration: no credentials for organization "org"; set "key" or OAuth`. */
function credentialsMissingMessage(integ: ResolvedIntegration, org: string | null, wanted: readonly string[]): string {
  return `${integ.name}: no credentials${org ? ` for organization "${org}"` : ""}; set ${wanted.join(" or ")}`;
}

/** `Retry-After` in ms (delta-seconds or HTTP date), or undefined. */
export function retryAfterMs(h: string | null, nowMs = Date.now()): number | undefined {
  const at = /^\s*\d+\s*$/.test(h ?? "") ? nowMs + Number(h) * 1000 : Date.parse(h ?? "");
  return isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * A 2xx answer read as asked (`parseAs`): `auto` is JSON when the Content-Type is JSON, text for `text/*`,
 * XML, urlencoded or none, else a Blob; 204 / 205 / HEAD are undefined. `{ value }`, or the text when
 * JSON was expected and it does not parse.
 */
async function readAnswer(res: Response, how: string, method: string): Promise<{ value: unknown } | string> {
  if (how === "stream") return { value: res.body };
  if (how === "response") return { value: res };
  if (how === "blob" || how === "arrayBuffer") return { value: await res[how]() };
  if (res.status === 204 || res.status === 205 || method === "HEAD") {
    await res.body?.cancel().catch(() => undefined);
    return { value: undefined };
  }
  const ct = res.headers.get("content-type") ?? "";
  if (how === "json" || (how === "auto" && /[+/]json\b/i.test(ct))) {
    const t = await res.text();
    try {
      return { value: t ? (JSON.parse(t) as unknown) : undefined };
    } catch {
      return t;
    }
  }
  return { value: how === "text" || ct === "" || /^text\/|xml|urlencoded/i.test(ct) ? await res.text() : await res.blob() };
}

/** Credentials of one satisfied security requirement, as an `AuthApplier` fills them in. */
export interface AuthParts {
  /** Lower-case header name → value. */
  headers: Array<[string, string]>;
  /** Encoded `name=value` pairs joined with `&`. */
  query: string;
  /** Encoded `name=value` pairs joined with `; `. */
  cookie: string;
  /** The OAuth access token sent, for the one refresh on 401. */
  token: string | null;
}

/** One satisfied security requirement and the level of the credentials in it (null: none sent). */
export type Cred = AuthParts & { level: CredentialLevel | null };

/** Where one client's requests for one resolved integration go, with what is decided once for it. */
export interface Route extends Target {
  /** Per security requirement list: the credentials. */
  auth: Map<unknown, Cred>;
  /** The credentials the trust rule passed for the base URL's origin. */
  trustedAuth: WeakSet<Cred>;
  /**
   * The base URL's outbound decision, for URLs made of the base URL plus a path (same origin): the
   * switch setting it was made under and the dispatcher that checks the addresses at connect time.
   * Unset until a request passed the policy; a refusal is not kept.
   */
  accepted?: { allowHttpLoopback: boolean; dispatcher: unknown };
}

/** `targetOf` plus the per-integration caches of `credentialsOf`, `checkTrusted` and `outboundOf`. */
export const routeOf = (integ: ResolvedIntegration, servers: readonly Server[], baseKey: string): Route => ({ ...targetOf(integ, servers, baseKey), auth: new Map(), trustedAuth: new WeakSet() });

/**
 * The first satisfiable security requirement of `reqs` (none: one empty requirement, "no auth"), as
 * headers / query / cookies to add, with the level of its credentials; cached in `route` per `reqs`.
 * `appliers` are the client's (`AuthApplier`); `noToken`: the OAuth token is not offered
 * (integration.fetch() with config-key auth). Throws BIFROST_OAUTH_NEEDS_REAUTH (or
 * BIFROST_OAUTH_TRANSIENT) when only the OAuth token would do and the connection is broken, else
 * BIFROST_CLIENT_CREDENTIALS_MISSING naming the keys to set.
 */
export function credentialsOf<S>(
  integ: ResolvedIntegration,
  route: Route,
  schemes: Record<string, S>,
  appliers: ReadonlyArray<(scheme: S, cfg: (key: string) => string | undefined, token: string | undefined, out: AuthParts) => boolean | string>,
  reqs: readonly object[],
  operationId: string,
  noToken?: boolean,
): Cred {
  let hit = route.auth.get(reqs);
  if (hit) return hit;
  const wanted: string[] = [];
  const token = noToken ? undefined : integ.oauth?.accessToken;
  for (const req of reqs[0] ? reqs : [{}]) {
    const auth: Cred = { headers: [], query: "", cookie: "", token: null, level: null };
    // The config keys this requirement's credentials came from: their levels decide where they may go.
    const used: string[] = [];
    const get = (k: string): string | undefined => {
      const v = configString(integ, k);
      if (v !== undefined) used.push(k);
      return v;
    };
    let ok = true;
    for (const name in req) {
      const s = schemes[name];
      let r: boolean | string = false;
      if (s) for (const a of appliers) if ((r = a(s, get, token, auth)) !== false) break;
      if (r !== true) {
        ok = false;
        if (r) wanted.push(r);
      }
    }
    if (ok) {
      auth.level = credentialLevel(integ, used, !!auth.token);
      route.auth.set(reqs, (hit = auth));
      return hit;
    }
  }
  const org = currentContext()?.org?.slug ?? null;
  const w = [...new Set(wanted)];
  // The OAuth connection is broken: say so (and how to fix it) instead of "no credentials".
  const broken = w.some((x) => x.startsWith("OAuth")) ? connectionError(integ) : null;
  if (broken) throw broken;
  throw new ClientError("BIFROST_CLIENT_CREDENTIALS_MISSING", 409, credentialsMissingMessage(integ, org, w), { integration: integ.name, org, operationId, wanted: w });
}

/**
 * Throws BIFROST_CLIENT_UNTRUSTED_ORIGIN (before anything is sent) unless `auth`'s credentials may go
 * to `origin`: any trusted origin, and for org-level credentials also the org's own base URL. Decided
 * once per resolved integration for the base URL's origin.
 */
export function checkTrusted(integ: ResolvedIntegration, route: Route, origin: string, auth: Cred, operationId: string): void {
  const base = origin === route.origin;
  if (base && route.trustedAuth.has(auth)) return;
  const level = auth.level;
  if (level && !route.trusted.has(origin) && !(level === "org" && base)) {
    throw new ClientError("BIFROST_CLIENT_UNTRUSTED_ORIGIN", 403, untrustedOriginMessage(integ, origin, level), { integration: integ.name, org: route.org?.slug ?? null, origin, level, operationId });
  }
  if (base) route.trustedAuth.add(auth);
}

/** What the client runtime sent and got back. */
export interface Sent {
  res: Response;
  /** The URL requested last (after redirects), without credential query parameters. */
  url: string;
  method: string;
  /** The attempt's timeout, cleared once the body is read. */
  deadline: Deadline;
}

const secrets = (): string[] => [...(currentContext()?.secrets ?? [])];
const redact = (text: string): string => redactText(text, secrets());

/**
 * Why an attempt that got no answer failed: the outbound policy's refusal at connect time (`final`:
 * nothing was sent and retrying cannot help), else BIFROST_CLIENT_TIMEOUT / BIFROST_CLIENT_NETWORK.
 */
export function attemptFailure(x: unknown, route: Target, url: string, allowLoopback: boolean | undefined, expired: boolean, operationId: string, method: string, timeoutMs: number): { error: Error; final: boolean } {
  const refused = connectRefused(x, url, route.privateNetwork, allowLoopback);
  if (refused) return { error: refused, final: true };
  const what = `${operationId}: ${method} ${redact(url)}`;
  const e = x as Error | undefined;
  return {
    error: expired
      ? clientError("TIMEOUT", 504, `${what} timeout ${timeoutMs} ms`, { operationId, timeoutMs })
      : clientError("NETWORK", 502, `${what}: ${redact((e?.cause as Error | undefined)?.message ?? e?.message ?? String(x))}`, { operationId }),
    final: false,
  };
}

/** The ApiError of a non-2xx answer, or (`why`) of one that cannot be read as asked. `text`: the body, when already read. */
async function apiError(operationId: string, sent: Sent, why?: string, text?: string): Promise<ApiError> {
  const { res, method } = sent;
  const s = secrets();
  // An unreadable body (aborted): the status alone.
  const { body, requestId, summary } = errorReport(res, text ?? (await res.text().catch(() => "")), s);
  const url = redactText(sent.url, s);
  return new ApiError(
    `${operationId}: ${method} ${url} ${why ?? `failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`}${requestId ? ` (request id ${requestId})` : ""}${why ? "" : summary}`,
    { status: res.status, body, requestId, operationId, method, url },
  );
}

/**
 * The value of a 2xx answer read as asked (`readAnswer`); ApiError for any other status or JSON that
 * does not parse, BIFROST_CLIENT_TIMEOUT when the deadline (or an abort) cut the body. Clears the deadline.
 */
export async function readSent(operationId: string, sent: Sent, how: string): Promise<unknown> {
  const { res } = sent;
  try {
    if (res.status > 299) throw await apiError(operationId, sent);
    const out = await readAnswer(res, how, sent.method);
    if (typeof out === "string") throw await apiError(operationId, sent, "returned invalid JSON", out);
    return out.value;
  } catch (e) {
    // (A ClientError is named ClientError / ApiError: passed through.)
    throw e instanceof Error && (sent.deadline.expired || /^(Timeout|Abort)Error$/.test(e.name))
      ? clientError("TIMEOUT", 504, `${operationId}: ${sent.method} ${redact(sent.url)} ${e.name} reading body`, { operationId })
      : e;
  } finally {
    sent.deadline.clear();
  }
}
