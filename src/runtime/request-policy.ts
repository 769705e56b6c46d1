/**
 * The request policy of the client runtime's requests (DESIGN §9.1), part of the SDK core: where one
 * integration's requests go (the base URL in effect, the trusted origins), the messages of refusals, and
 * what an error answer reports (redacted body, request id).
 * The rule itself — which credential may go where — is in src/client/trust.ts; this part is loaded with
 * the SDK rather than bundled into each generated module.
 * @module
 */
import type { ErrorDetails } from "../core/errors.js";
import { redactText } from "../crypto/redact.js";
import type { CredentialLevel, ExecutionOrg } from "../kernel/types.js";
import { currentContext } from "./context.js";
import { trustOf } from "./resolved.js";
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
  return { base: u ? u.href.replace(/\/+$/, "") : "", raw: base ?? null, origin: u?.origin ?? "", trusted: trustedOrigins(integ, servers, baseKey), privateNetwork: trust.privateNetwork, org: trust.org };
}

/** Why `level` credentials may not go to `origin`, and how a platform admin or the organization fixes it. */
export function untrustedOriginMessage(integ: ResolvedIntegration, origin: string, level: CredentialLevel): string {
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
export function errorReport(res: Response, text: string, secrets: readonly string[]): { body: unknown; requestId: string | null; summary: string } {
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
export function credentialLevel(integ: ResolvedIntegration, keys: readonly string[], token: boolean): CredentialLevel | null {
  const levels = keys.map((k) => integ.config.levelOf(k));
  if (token) levels.push(trustOf(integ).oauthLevel ?? "integration");
  return levels.includes("integration") ? "integration" : levels[0] ? "org" : null;
}

/** `integration: no credentials for organization "org"; set "key" or OAuth`. */
export function credentialsMissingMessage(integ: ResolvedIntegration, org: string | null, wanted: readonly string[]): string {
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
export async function readAnswer(res: Response, how: string, method: string): Promise<{ value: unknown } | string> {
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
