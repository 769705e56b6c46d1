/**
 * Test connection (POST /api/integrations/:name/test-connection, the MCP tool test_connection, the
 * console panel): one request to `base_url + path` with any method and any auth kind `bifrost sdk
 * generate --auth` knows, sent through the client runtime's request path (`probeFetch`, the path of
 * `integration.fetch()`): the same auth appliers and config key names, the trust rule (DESIGN §9.1),
 * the outbound policy, the 401 refresh. Redirects are answered, never followed; the body read is
 * capped; every secret, token and credential value sent is redacted from what is answered.
 * @module
 */
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { BifrostError, IntegrationNotFoundError, ValidationError } from "../core/errors.js";
import type { ConfigSchemaItem } from "../core/types.js";
import { redactText } from "../crypto/redact.js";
import { requireIntegration, requireOrg } from "../kernel/lookup.js";
import type { OAuthDeps } from "../oauth/service.js";
import { resolveOptions } from "../oauth/options.js";
import { createContext, runInContext } from "../runtime/context.js";
import { configString, targetOf } from "../runtime/request-policy.js";
import type { ResolvedIntegration } from "../runtime/types.js";
import { probeFetch, type ProbeScheme } from "../client/integration-fetch.js";
import type { StoreResolver } from "../host/store-resolver.js";
import { AUTH_FORMS, parseAuthChoice } from "../generator/index.js";
import { readAtMost } from "../net/read-body.js";

const TEST_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
type TestMethod = (typeof TEST_METHODS)[number];

/** The `--auth` forms a test connection accepts (`spec` needs a spec: not here). */
const TEST_AUTH_FORMS = AUTH_FORMS.split(", ").filter((f) => f !== "spec");

export const TestConnectionBody = z.strictObject({
  org: z.string().min(1).max(200).optional().describe("Organization slug whose resolved config and OAuth connection are used; omitted = the integration defaults."),
  path: z.string().min(1).max(2048).describe("Path (and query) appended to the integration's base_url; must start with a single `/`."),
  method: z.enum(TEST_METHODS).optional().describe("HTTP method (default GET)."),
  body: z
    .unknown()
    .optional()
    .describe("Request body for POST, PUT, PATCH, DELETE: a string is sent as text/plain, any other JSON value as application/json. Refused for GET and HEAD."),
  auth: z
    .string()
    .max(200)
    .optional()
    .describe(
      `How to authenticate, as \`bifrost sdk generate --auth\`: ${TEST_AUTH_FORMS.join(", ")}. Credentials come from the org's resolved config keys (bearer_token; username + password; api_key) or its OAuth connection. Default: oauth when the integration has an OAuth provider, else none.`,
    ),
});

const AuthUsed = z.object({
  choice: z.string().describe("The auth form used (e.g. `api-key:header:X-Api-Key`)."),
  kind: z.enum(["oauth", "bearer", "basic", "api-key", "none"]),
  config_keys: z.array(z.string()).describe("Config keys the credentials came from (never their values); empty for oauth and none."),
  source: z.enum(["request", "default"]).describe("`request`: asked for; `default`: chosen because the request named none."),
});

export const TestConnectionResult = z.object({
  integration: z.string(),
  org: z.string().nullable(),
  method: z.enum(TEST_METHODS),
  url: z.string().describe("The URL requested (credential query parameters are never part of it)."),
  auth: AuthUsed,
  status: z.number().int(),
  latency_ms: z.number().describe("Duration of the request, sending to the end of the body read."),
  content_type: z.string().nullable(),
  headers: z.record(z.string(), z.string()).describe("A subset of the response headers (content, location, authentication challenge, rate limit, request id), redacted."),
  bytes: z.number().int().describe("Body bytes read (at most 256 KiB are read)."),
  truncated: z.boolean(),
  body: z.string().describe("The first 2 KB of the response body, with every secret and token redacted."),
});
type TestConnectionOut = z.infer<typeof TestConnectionResult>;

export const TestConnectionOptions = z.object({
  integration: z.string(),
  default_auth: z.string().describe("The auth used when a request names none."),
  auth_choices: z
    .array(z.object({ form: z.string().describe("An `auth` value; NAME is the header or query parameter name to fill in."), kind: AuthUsed.shape.kind, config_keys: z.array(z.string()) }))
    .describe("The auth forms this integration can use: oauth with an OAuth provider, the others when its schema has their config keys; none always."),
  methods: z.array(z.enum(TEST_METHODS)),
});

/** The body shown: at most this many characters (after decoding and redaction). */
const TEST_BODY_CHARS = 2048;
/** At most this many body bytes are read (the rest is not downloaded). */
const TEST_MAX_BYTES = 256 * 1024;
/** Request bodies larger than this are refused. */
const TEST_MAX_REQUEST_BYTES = 64 * 1024;
const TEST_TIMEOUT_MS = 10_000;
/** Response headers worth showing for a test; values redacted. Never set-cookie. */
const SHOWN_HEADERS = /^(content-(type|length|encoding|language)|location|www-authenticate|retry-after|(x-)?ratelimit-.*|x-rate-limit-.*|((x-(amzn?-|ms-|github-)?)?request-?id)|x-correlation-id|cf-ray|server|date)$/;

type Kind = z.infer<typeof AuthUsed>["kind"];

/** One auth form: its security scheme for the client runtime and the config keys it reads. */
interface AuthPlan {
  choice: string;
  kind: Kind;
  keys: string[];
  scheme: ProbeScheme;
}

/** The config keys each form reads: the names `bifrost sdk generate --auth` adds to the schema. */
function planOf(choice: string): AuthPlan {
  if (choice === "none") return { choice, kind: "none", keys: [], scheme: null };
  if (choice === "oauth") return { choice, kind: "oauth", keys: [], scheme: { type: "oauth2" } };
  if (choice === "bearer") return { choice, kind: "bearer", keys: ["bearer_token"], scheme: { type: "http", scheme: "bearer", configKey: "bearer_token" } };
  if (choice === "basic") return { choice, kind: "basic", keys: ["username", "password"], scheme: { type: "http", scheme: "basic", usernameKey: "username", passwordKey: "password" } };
  const [, where, ...rest] = choice.split(":");
  const name = rest.join(":");
  return { choice, kind: "api-key", keys: ["api_key"], scheme: { type: "apiKey", in: where as "header" | "query", name, configKey: "api_key" } };
}

/** The forms this integration can use (see TestConnectionOptions), and its default. */
function choicesOf(schema: readonly ConfigSchemaItem[], hasProvider: boolean): { forms: Array<{ form: string; kind: Kind; config_keys: string[] }>; fallback: string } {
  const keys = new Set(schema.map((k) => k.key));
  const forms: Array<{ form: string; kind: Kind; config_keys: string[] }> = [];
  if (hasProvider) forms.push({ form: "oauth", kind: "oauth", config_keys: [] });
  if (keys.has("bearer_token")) forms.push({ form: "bearer", kind: "bearer", config_keys: ["bearer_token"] });
  if (keys.has("username")) forms.push({ form: "basic", kind: "basic", config_keys: ["username", "password"] });
  if (keys.has("api_key")) for (const where of ["header", "query"]) forms.push({ form: `api-key:${where}:NAME`, kind: "api-key", config_keys: ["api_key"] });
  forms.push({ form: "none", kind: "none", config_keys: [] });
  return { forms, fallback: hasProvider ? "oauth" : "none" };
}

/** The `auth` value checked against the integration: a 422 naming `auth` and what it can use, before anything is sent. */
function authPlan(name: string, raw: string | undefined, schema: readonly ConfigSchemaItem[], hasProvider: boolean): AuthPlan & { source: "request" | "default" } {
  const { forms, fallback } = choicesOf(schema, hasProvider);
  const usable = forms.map((f) => f.form).join(", ");
  if (raw === undefined) return { ...planOf(fallback), source: "default" };
  const refuse = (why: string) => new ValidationError(`auth ${why} Integration "${name}" can use: ${usable}.`, { path: "auth", accepted: forms.map((f) => f.form) });
  let choice: string;
  try {
    choice = parseAuthChoice(raw);
  } catch {
    throw refuse(`"${raw.slice(0, 80)}" is not one of ${TEST_AUTH_FORMS.join(", ")} (e.g. api-key:header:X-Api-Key).`);
  }
  if (choice === "spec") throw refuse(`"spec" needs an OpenAPI spec; name the scheme instead.`);
  const plan = planOf(choice);
  if (plan.kind === "oauth" && !hasProvider) throw refuse(`"oauth": the integration has no OAuth provider.`);
  const keys = new Set(schema.map((k) => k.key));
  const missing = plan.kind === "basic" ? (keys.has("username") ? [] : ["username"]) : plan.keys.filter((k) => !keys.has(k));
  if (missing.length) throw refuse(`"${choice}" reads config key ${missing.map((k) => `"${k}"`).join(", ")}, which the schema does not have (\`bifrost sdk generate --auth ${choice}\` adds it).`);
  return { ...plan, source: "request" };
}

/** The request body as sent, and its content type; a 422 naming `body` for GET/HEAD or an oversized body. */
function bodyOf(method: TestMethod, body: unknown): { body: string; type: string } | null {
  if (body === undefined) return null;
  if (method === "GET" || method === "HEAD") throw new ValidationError(`body: a ${method} request has no body; remove body or use POST, PUT, PATCH or DELETE.`, { path: "body" });
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (Buffer.byteLength(text) > TEST_MAX_REQUEST_BYTES) throw new ValidationError(`body: at most ${TEST_MAX_REQUEST_BYTES} bytes.`, { path: "body" });
  return { body: text, type: typeof body === "string" ? "text/plain; charset=utf-8" : "application/json" };
}

/**
 * `base_url` + `path` as one URL that stays under the base URL (same origin, same path prefix).
 * Refused: a path not starting with one `/` (schemes, `//host`), backslashes, whitespace or control
 * characters, fragments, and `.` / `..` segments (also percent-encoded).
 */
export function testConnectionUrl(baseUrl: string, path: string): URL {
  const refuse = (why: string) => new ValidationError(`path ${why}`, { path: "path" });
  if (!path.startsWith("/")) throw refuse("must start with / (a path under the integration's base_url, not a URL).");
  if (path.startsWith("//")) throw refuse("must not start with // (that would name another host).");
  if (/[\\\s\x00-\x1f\x7f]/.test(path)) throw refuse("must not contain backslashes, spaces or control characters.");
  if (path.includes("#")) throw refuse("must not contain a fragment (#).");
  const pathname = path.split("?")[0] as string;
  for (const seg of pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw refuse("has malformed percent-encoding.");
    }
    if (decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\")) throw refuse("must not contain . or .. segments (or encoded slashes).");
  }
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ValidationError("The integration's base_url is not a valid absolute URL.", { path: "base_url" });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new ValidationError(`The integration's base_url must be http(s); it is ${base.protocol}.`, { path: "base_url" });
  const prefix = base.pathname.replace(/\/+$/, "");
  const url = new URL(`${base.origin}${prefix}${path}`);
  if (url.origin !== base.origin || !(url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))) throw refuse("leaves the integration's base_url.");
  return url;
}

/** Every value whose text must not come back: secrets, tokens, and each credential value this auth sends (a basic user name too). */
function secretsOf(integ: ResolvedIntegration, plan: AuthPlan): string[] {
  const out = [...integ.config.secretValues()];
  if (integ.oauth) out.push(integ.oauth.accessToken, ...(integ.oauth.refreshToken ? [integ.oauth.refreshToken] : []));
  const values = plan.keys.map((k) => configString(integ, k));
  for (const v of values) if (v !== undefined) out.push(v);
  if (plan.kind === "basic" && values[0] !== undefined) out.push(`${values[0]}:${values[1] ?? ""}`);
  return out.filter((s) => typeof s === "string" && s !== "");
}

/** An error of the request path, redacted and saying it is the test that failed. */
function testError(err: BifrostError, secrets: readonly string[]): BifrostError {
  return new BifrostError(err.code, err.statusCode, `Test connection failed: ${redactText(err.message, secrets)}`, err.details);
}

/** What `GET /api/integrations/:name/test-connection` answers: the auth forms and methods this integration can test with. */
export async function testConnectionOptions(deps: OAuthDeps, name: string): Promise<z.infer<typeof TestConnectionOptions>> {
  const integration = await requireIntegration(deps.store, name);
  const provider = await deps.store.getOAuthProvider(integration.id);
  const { forms, fallback } = choicesOf(integration.configSchema, provider !== null);
  return { integration: integration.name, default_auth: fallback, auth_choices: forms, methods: [...TEST_METHODS] };
}

export interface TestConnectionInput {
  integration: string;
  org?: string | undefined;
  path: string;
  method?: TestMethod | undefined;
  body?: unknown;
  auth?: string | undefined;
}

/**
 * Test connection. Callers check the role first. Refusals (bad method / auth / body / path, missing
 * credentials, an untrusted origin, the outbound policy) happen before anything is sent.
 */
export async function testConnection(deps: OAuthDeps, resolver: StoreResolver, input: TestConnectionInput): Promise<TestConnectionOut> {
  const name = input.integration;
  const method: TestMethod = input.method ?? "GET";
  const sent = bodyOf(method, input.body);
  const integration = await requireIntegration(deps.store, name);
  const provider = await deps.store.getOAuthProvider(integration.id);
  const plan = authPlan(name, input.auth, integration.configSchema, provider !== null);
  const org = input.org ? await requireOrg(deps.store, input.org) : null;
  const execOrg = org ? { id: org.id, slug: org.slug, name: org.name } : null;
  const resolved = await resolver.resolve(name, execOrg);
  if (!resolved) throw new IntegrationNotFoundError(name);
  const base = targetOf(resolved, [], "base_url");
  if (base.raw === null) {
    throw new ValidationError(`Integration "${name}" has no base_url value${org ? ` for organization "${org.slug}"` : ""}; add a string key base_url to the schema and set it.`, { path: "base_url" });
  }
  const url = testConnectionUrl(base.raw, input.path);
  // The request runs as an execution of its own: the 401 refresh and the runtime's redaction use it.
  const ctx = createContext({ org: execOrg, caller: { kind: "api_key", platform: true }, resolver, executionId: `test-connection-${randomUUID()}` });
  for (const s of secretsOf(resolved, plan)) ctx.secrets.add(s);
  const secrets = (): string[] => [...ctx.secrets];
  const allowHttpLoopback = resolveOptions(deps.oauth).allowHttpLoopback;
  const timeout = AbortSignal.timeout(TEST_TIMEOUT_MS);
  const headers: Record<string, string> = { accept: "application/json, text/plain;q=0.9, */*;q=0.5", "user-agent": "bifrost-test-connection" };
  if (sent) headers["content-type"] = sent.type;
  const started = performance.now();
  let res: Response;
  let read: { bytes: Uint8Array; capped: boolean };
  try {
    ({ res, read } = await runInContext(ctx, async () => {
      const r = await probeFetch(resolved, url.toString(), { method, headers, ...(sent ? { body: sent.body } : {}), signal: timeout, maxRetries: 0, timeoutMs: TEST_TIMEOUT_MS }, plan.scheme, allowHttpLoopback);
      try {
        return { res: r, read: await readAtMost(r, TEST_MAX_BYTES) };
      } catch (x) {
        if (timeout.aborted) throw x;
        // The connection failed after the answer started (reset while reading the body).
        throw new BifrostError("BIFROST_CLIENT_NETWORK", 502, `the connection to ${url.origin} failed while reading the response.`, { origin: url.origin });
      }
    }));
  } catch (err) {
    if (timeout.aborted) throw new BifrostError("BIFROST_CLIENT_TIMEOUT", 504, `Test connection failed: no complete answer from ${url.origin} within ${TEST_TIMEOUT_MS} ms.`, { origin: url.origin, timeoutMs: TEST_TIMEOUT_MS });
    if (err instanceof BifrostError) throw testError(err, secrets());
    throw err;
  }
  const latency = Math.round(performance.now() - started);
  const s = secrets();
  // Redact the whole text before cutting it, so a secret straddling the cut cannot leak a prefix.
  const text = redactText(new TextDecoder("utf-8").decode(read.bytes), s);
  const binary = text.includes("\u0000");
  const shown: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (SHOWN_HEADERS.test(k)) shown[k] = redactText(v, s);
  });
  return {
    integration: name,
    org: org?.slug ?? null,
    method,
    url: redactText(url.toString(), s),
    auth: { choice: plan.choice, kind: plan.kind, config_keys: plan.keys, source: plan.source },
    status: res.status,
    latency_ms: latency,
    content_type: res.headers.get("content-type"),
    headers: shown,
    bytes: read.bytes.byteLength,
    truncated: read.capped || (!binary && text.length > TEST_BODY_CHARS),
    body: binary ? `(binary body, ${read.bytes.byteLength} bytes)` : text.slice(0, TEST_BODY_CHARS),
  };
}
