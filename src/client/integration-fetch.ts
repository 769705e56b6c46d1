/**
 * `integration.fetch(pathOrUrl, init?)`: one request through the client runtime's request path
 * (base URL, auth, the trust rule, the outbound policy, retries, the 401 refresh, ApiError), for APIs
 * or endpoints no generated module covers. Loaded on first use by src/runtime/resolved.ts.
 * @module
 */
import { readSent, type Sent } from "../runtime/request-policy.js";
import type { FetchAuth, IntegrationFetchInit, ResolvedIntegration } from "../runtime/types.js";
import { apiKeyCookie, apiKeyHeader, apiKeyQuery, basicAuth, bearerAuth } from "./auth.js";
import { clientError } from "./errors.js";
import { type ClientRuntime, createClientRuntime, generatedSpecs, type RawCall } from "./index.js";
import type { ClientSpec, EncodedBodyInit, Extension, HttpMethod, OperationSpec, SecurityScheme } from "./types.js";

const APPLIERS = [apiKeyHeader, apiKeyQuery, apiKeyCookie, basicAuth, bearerAuth];

/** The security scheme for an `auth` option; null for "none". */
function schemeOf(auth: FetchAuth | undefined): SecurityScheme | null | undefined {
  if (auth === undefined) return undefined;
  if (auth === "none") return null;
  if ("bearer" in auth) return { type: "http", scheme: "bearer", configKey: auth.bearer };
  if ("basic" in auth) return { type: "http", scheme: "basic", usernameKey: auth.basic[0], passwordKey: auth.basic[1] };
  if ("header" in auth) return { type: "apiKey", in: "header", name: auth.header, configKey: auth.key };
  if ("query" in auth) return { type: "apiKey", in: "query", name: auth.query, configKey: auth.key };
  throw clientError("INVALID_REQUEST", 422, `integration.fetch(): unknown auth option; use { bearer: KEY }, { header: NAME, key: KEY }, { query: NAME, key: KEY }, { basic: [USER_KEY, PASS_KEY] } or "none"`, {});
}

/** One runtime per integration and auth option (its caches are per resolved integration). */
const runtimes = new Map<string, ClientRuntime>();
/** One runtime per generated module's spec (no `auth` option: the module's servers and security). */
const generated = new WeakMap<ClientSpec, ClientRuntime>();

function runtimeFor(integ: ResolvedIntegration, scheme: SecurityScheme | null | undefined): { rt: ClientRuntime; spec: ClientSpec | null } {
  const gen = scheme === undefined ? generatedSpecs.get(integ.name) : undefined;
  if (gen) {
    let rt = generated.get(gen);
    if (!rt) generated.set(gen, (rt = createClientRuntime(gen, APPLIERS)));
    return { rt, spec: gen };
  }
  return { rt: runtimeOf(integ, scheme), spec: null };
}

function runtimeOf(integ: ResolvedIntegration, scheme: SecurityScheme | null | undefined): ClientRuntime {
  // Default: the OAuth bearer token when the integration has an OAuth provider, else no credentials.
  const s = scheme === undefined ? (integ.connection || integ.oauth ? ({ type: "oauth2" } as const) : null) : scheme;
  const key = `${integ.name}\u0000${JSON.stringify(s)}`;
  let rt = runtimes.get(key);
  if (!rt) {
    const spec: ClientSpec = { integration: integ.name, servers: [], securitySchemes: s ? { auth: s } : {}, security: s ? [{ auth: [] }] : [] };
    rt = createClientRuntime(spec, APPLIERS);
    if (runtimes.size > 1_000) runtimes.clear();
    runtimes.set(key, rt);
  }
  return rt;
}

const REPLAYABLE = (b: unknown): boolean => typeof b === "string" || b instanceof Uint8Array || b instanceof ArrayBuffer || b instanceof URLSearchParams || b instanceof Blob || b instanceof FormData;

export async function integrationFetch(integ: ResolvedIntegration, pathOrUrl: string | URL, init: IntegrationFetchInit = {}): Promise<Response> {
  // Other RequestInit fields (redirect, credentials, mode, …) are the runtime's: redirects are followed by it, credentials stripped across origins.
  const scheme = schemeOf(init.auth);
  const sent = await send(integ, runtimeFor(integ, scheme), pathOrUrl, init, { noToken: scheme !== undefined });
  return (await readSent(sent.op, sent, "response")) as Response;
}

/** How a probe authenticates: one security scheme (its credentials from config keys, or the OAuth token for `oauth2`), or none. */
export type ProbeScheme = SecurityScheme | null;

/** A probe's request: integration.fetch()'s options without `auth`. */
export type ProbeInit = Omit<IntegrationFetchInit, "auth">;

/**
 * Test connection's request: the same path as `integration.fetch()` (base URL, auth appliers, trust rule,
 * outbound policy, the 401 refresh), with the security scheme given (the OAuth token only for `oauth2`),
 * redirects answered rather than followed, and the Response resolved whatever its status.
 * `allowHttpLoopback`: the server's loopback switch.
 */
export function probeFetch(integ: ResolvedIntegration, pathOrUrl: string, init: ProbeInit, scheme: ProbeScheme, allowHttpLoopback: boolean): Promise<Response> {
  const rt = { rt: runtimeOf(integ, scheme), spec: null };
  // The Response whatever its status (no ApiError for a non-2xx one); the body is the caller's to read.
  return send(integ, rt, pathOrUrl, init, { noToken: scheme?.type !== "oauth2", noRedirects: true, allowHttpLoopback }).then((sent) => {
    sent.deadline.clear();
    return sent.res;
  });
}

async function send(integ: ResolvedIntegration, { rt, spec }: { rt: ClientRuntime; spec: ClientSpec | null }, pathOrUrl: string | URL, init: ProbeInit, call: Omit<RawCall, "integ" | "url">): Promise<Sent & { op: string }> {
  const { timeoutMs, maxRetries, method: m, headers: h, body, signal } = init;
  const method = (m ?? "GET").toUpperCase() as HttpMethod;
  const headers: Record<string, string> = {};
  new Headers(h).forEach((v, k) => void (headers[k] = v));
  const raw = String(pathOrUrl);
  let url = raw;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    // A relative path is joined to the base URL in effect (config base_url), as for generated calls.
    const key = spec?.baseUrlKey ?? "base_url";
    const base = rt.base(integ);
    if (!base) throw clientError("NO_BASE_URL", 409, `${integ.name}: no base URL for integration.fetch("${raw}"); set config key "${key}" or pass an absolute URL`, { integration: integ.name, key });
    url = base + (raw === "" || raw.startsWith("/") ? "" : "/") + raw;
  }
  const op: OperationSpec = { id: `${integ.name}.fetch`, method, path: "", ...(body != null ? { body: { mediaTypes: [] } } : {}) };
  const ext: Extension[] = body != null ? [{ encode: () => ({ body: body as EncodedBodyInit, type: undefined, replayable: REPLAYABLE(body) }) }] : [];
  const args = { headers, ...(body != null ? { body } : {}), ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(maxRetries !== undefined ? { maxRetries } : {}) };
  return { ...(await rt.raw(op, args, ext, { integ, url, ...call })), op: op.id };
}
