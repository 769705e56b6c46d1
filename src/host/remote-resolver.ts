/**
 * Remote mode: the workflow SDK over the HTTP API. `RemoteResolver` implements IntegrationResolver with
 * `BIFROST_URL` + `BIFROST_API_KEY` (a `workflow` key scoped to one organization, or a `platform_admin`
 * key), so `integrations.get()`, `integrations.list()` and generated clients work unchanged on a laptop
 * against a shared server. Nothing local is opened: no store, no keyring.
 *
 * The API key is sent only in the Authorization header and never appears in an error message.
 */
import {
  ApplyFileError,
  BifrostError,
  ConfigError,
  ConflictError,
  DecryptError,
  type ErrorDetails,
  ForbiddenError,
  IntegrationNotFoundError,
  KeyringError,
  NotFoundError,
  SchemaChangeError,
  UnauthenticatedError,
  ValidationError,
  ValueTooLargeError,
} from "../core/errors.js";
import { nodeCrypto } from "../core/node-crypto.js";
import type { ConfigValue } from "../core/types.js";
import { redactText } from "../crypto/redact.js";
import {
  OAuthAuthorizationDeniedError,
  OAuthClientRejectedError,
  OAuthConfigError,
  OAuthIssuerMismatchError,
  OAuthNeedsReauthError,
  OAuthNoProviderError,
  OAuthNotConnectedError,
  OAuthProtocolError,
  OAuthStateError,
  OAuthTransientError,
  OAuthUrlRefusedError,
} from "../oauth/errors.js";
import { checkOutboundUrl } from "../net/outbound-policy.js";
import { IntegrationConfig } from "../runtime/config-map.js";
import { makeResolved } from "../runtime/resolved.js";
import { clientFetch } from "./client-fetch.js";
import type { CredentialLevel, ExecutionOrg, OAuthConnectionStatus, OAuthCredentials } from "../kernel/types.js";
import type { IntegrationResolver, IntegrationSummary, ResolvedIntegration } from "../runtime/types.js";
import { currentContext } from "../runtime/context.js";

/** The header naming the workflow execution a remote request is made for (audit trail only; see docs/remote.md). */
export const EXECUTION_HEADER = "x-bifrost-execution-id";

function executionHeader(): Record<string, string> {
  const id = currentContext()?.executionId;
  return id ? { [EXECUTION_HEADER]: id } : {};
}

/** The server could not be reached, or answered with something that is not the Bifrost API. */
export class RemoteUnavailableError extends BifrostError {
  constructor(message: string, details?: ErrorDetails) {
    super("BIFROST_REMOTE_UNAVAILABLE", 503, message, details);
  }
}

/**
 * The fingerprint a caller sends instead of an access token (`POST …/oauth/refresh-if-stale`): SHA-256,
 * hex. Tokens never travel back to the server, and never in a URL.
 */
export function tokenFingerprint(token: string): string {
  return nodeCrypto().createHash("sha256").update(token, "utf8").digest("hex");
}

type AnyErrorClass = abstract new (...args: never[]) => BifrostError;

/** Server error codes → the classes the in-process SDK throws, so `instanceof` checks behave the same. */
const ERROR_CLASSES: Readonly<Record<string, AnyErrorClass>> = {
  BIFROST_VALIDATION: ValidationError,
  BIFROST_VALUE_TOO_LARGE: ValueTooLargeError,
  BIFROST_NOT_FOUND: NotFoundError,
  BIFROST_CONFLICT: ConflictError,
  BIFROST_SCHEMA_CHANGE_REFUSED: SchemaChangeError,
  BIFROST_CONFIG_MISSING_REQUIRED: ConfigError,
  BIFROST_DECRYPT_FAILED: DecryptError,
  BIFROST_KEYRING_INVALID: KeyringError,
  BIFROST_UNAUTHENTICATED: UnauthenticatedError,
  BIFROST_FORBIDDEN: ForbiddenError,
  BIFROST_APPLY_FILE: ApplyFileError,
  BIFROST_INTEGRATION_NOT_FOUND: IntegrationNotFoundError,
  BIFROST_OAUTH_CONFIG_INVALID: OAuthConfigError,
  BIFROST_OAUTH_NO_PROVIDER: OAuthNoProviderError,
  BIFROST_OAUTH_URL_REFUSED: OAuthUrlRefusedError,
  BIFROST_OAUTH_STATE_INVALID: OAuthStateError,
  BIFROST_OAUTH_ISSUER_MISMATCH: OAuthIssuerMismatchError,
  BIFROST_OAUTH_AUTHORIZATION_DENIED: OAuthAuthorizationDeniedError,
  BIFROST_OAUTH_NEEDS_REAUTH: OAuthNeedsReauthError,
  BIFROST_OAUTH_CLIENT_REJECTED: OAuthClientRejectedError,
  BIFROST_OAUTH_TRANSIENT: OAuthTransientError,
  BIFROST_OAUTH_PROTOCOL: OAuthProtocolError,
  BIFROST_OAUTH_NOT_CONNECTED: OAuthNotConnectedError,
};

/** The API sends details in snake_case; the core's details use camelCase at the top level. */
function camelDetails(details: unknown): ErrorDetails | undefined {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return undefined;
  const out: ErrorDetails = {};
  for (const [k, v] of Object.entries(details)) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  return out;
}

/**
 * An error envelope → an instance of the same class the in-process code throws (same code, status,
 * message and details). Classes' constructors differ, so the base constructor runs with the subclass
 * as `new.target`: the prototype, `name` and fields come out exactly as with `new ConfigError(…)`.
 */
export function errorFromEnvelope(status: number, envelope: { code?: unknown; message?: unknown; details?: unknown }, secrets: readonly string[] = []): BifrostError {
  const code = typeof envelope.code === "string" && /^BIFROST_[A-Z_]+$/.test(envelope.code) ? envelope.code : "BIFROST_INTERNAL";
  const message = redactText(typeof envelope.message === "string" ? envelope.message : `The Bifrost server answered HTTP ${status}.`, secrets);
  const details = camelDetails(envelope.details);
  const cls = ERROR_CLASSES[code];
  const args: [string, number, string, ErrorDetails | undefined] = [code, status, message, details];
  // Errors whose constructors take no details (401/403) carry none in-process either.
  if (cls === UnauthenticatedError || cls === ForbiddenError) args[3] = undefined;
  return cls ? (Reflect.construct(BifrostError, args, cls) as BifrostError) : new BifrostError(...args);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** `GET /api/integrations/:name/resolved?include=schema` */
interface ResolvedBody {
  integration: string;
  org: string | null;
  entity_id: string | null;
  entity_name: string | null;
  mapped: boolean;
  config: Record<string, ConfigValue>;
  oauth: { access_token: string; token_type: string; expires_at: string | null; scopes: string[] } | null;
  schema_keys?: string[];
  secret_fingerprints?: Record<string, string>;
  /** The OAuth connection's state (null without a provider); absent from older servers. */
  connection?: { state: OAuthConnectionStatus["state"]; reason: string | null; since: string | null } | null;
  /** Who set each config value; absent from older servers (then every value counts as a default). */
  levels?: Record<string, CredentialLevel>;
  /** The trust inputs of the client runtime (see src/runtime/resolved.ts); absent from older servers. */
  trust?: { defaults: Record<string, string>; trusted_origins: string[]; private_network: boolean; oauth_level: CredentialLevel | null };
}

function oauthIn(o: ResolvedBody["oauth"]): OAuthCredentials | null {
  if (!o) return null;
  return { accessToken: o.access_token, tokenType: o.token_type, expiresAt: o.expires_at ? new Date(o.expires_at) : null, scopes: o.scopes };
}

/** The same ResolvedIntegration object `buildResolved` makes in-process: typo guard, masking and freezing included. */
function resolvedFromBody(body: ResolvedBody, org: ExecutionOrg | null = null): ResolvedIntegration {
  const values = new Map<string, ConfigValue>();
  for (const [k, v] of Object.entries(body.config)) values.set(k, deepFreeze(v));
  const secrets = new Map<string, string>(Object.entries(body.secret_fingerprints ?? {}));
  const schemaKeys = new Set<string>(body.schema_keys ?? Object.keys(body.config));
  const levels = body.levels ? new Map<string, CredentialLevel>(Object.entries(body.levels).map(([k, l]) => [k, l === "org" ? "org" : "integration"])) : null;
  const oauth = oauthIn(body.oauth);
  const t = body.trust;
  const c = body.connection;
  return makeResolved(
    {
      name: body.integration,
      entityId: body.entity_id,
      entityName: body.entity_name,
      mapped: body.mapped,
      config: new IntegrationConfig(body.integration, values, schemaKeys, secrets, levels),
      oauth,
      connection: c ? { state: c.state, reason: c.reason, since: c.since } : null,
    },
    {
      org,
      defaults: new Map(Object.entries(t?.defaults ?? {}).filter((e): e is [string, string] => typeof e[1] === "string")),
      trustedOrigins: Array.isArray(t?.trusted_origins) ? t.trusted_origins.filter((o) => typeof o === "string") : [],
      privateNetwork: t?.private_network === true,
      // Unknown (older server): an integration-level token, the conservative reading.
      oauthLevel: t ? (t.oauth_level === "org" ? "org" : t.oauth_level === "integration" ? "integration" : null) : oauth ? "integration" : null,
    },
    clientFetch,
  );
}

export interface RemoteResolverOptions {
  /** The server's base URL (BIFROST_URL), e.g. https://bifrost.example.com. */
  url: string;
  /** A `workflow` (org-scoped) or `platform_admin` key (BIFROST_API_KEY). Never logged. */
  apiKey: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** BIFROST_ALLOW_HTTP_LOOPBACK=1: plain http is allowed to loopback only (default: read from the environment). */
  allowHttpLoopback?: boolean;
  /** For tests. */
  fetch?: typeof fetch;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNullableString = (v: unknown): boolean => v === null || typeof v === "string";

function isOAuthBody(v: unknown): boolean {
  return v === null || (isRecord(v) && typeof v.access_token === "string" && typeof v.token_type === "string" && isNullableString(v.expires_at) && Array.isArray(v.scopes));
}

/** The fields of `GET …/resolved` the SDK relies on (other fields are mapped where they are read). */
function isResolvedBody(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v.integration === "string" &&
    isNullableString(v.entity_id) &&
    isNullableString(v.entity_name) &&
    typeof v.mapped === "boolean" &&
    isRecord(v.config) &&
    isOAuthBody(v.oauth) &&
    (v.schema_keys === undefined || (Array.isArray(v.schema_keys) && v.schema_keys.every((k) => typeof k === "string"))) &&
    (v.secret_fingerprints === undefined || isRecord(v.secret_fingerprints))
  );
}

function isIntegrationList(v: unknown): boolean {
  return isRecord(v) && Array.isArray(v.integrations) && v.integrations.every((i) => isRecord(i) && typeof i.name === "string" && typeof i.mapped === "boolean" && isNullableString(i.entity_id) && isNullableString(i.entity_name));
}

/** IntegrationResolver over the HTTP API. */
export class RemoteResolver implements IntegrationResolver {
  readonly url: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: RemoteResolverOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ValidationError(`BIFROST_URL is not a valid URL: use the server's base address, for example https://bifrost.example.com.`, { path: "BIFROST_URL" });
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") {
      throw new ValidationError(`BIFROST_URL must be an http(s) URL (got "${u.protocol}").`, { path: "BIFROST_URL" });
    }
    if (u.username || u.password) {
      throw new ValidationError("BIFROST_URL must not contain credentials; put the API key in BIFROST_API_KEY.", { path: "BIFROST_URL" });
    }
    // The outbound policy, before anything is sent: the API key never travels over plain http except to
    // loopback with the switch. A Bifrost server on the operator's own private network is allowed.
    checkOutboundUrl(u.toString(), { allowHttpLoopback: opts.allowHttpLoopback ?? process.env.BIFROST_ALLOW_HTTP_LOOPBACK === "1", privateNetwork: true, subject: "BIFROST_URL" });
    if (u.search || u.hash) throw new ValidationError("BIFROST_URL must not have a query or fragment.", { path: "BIFROST_URL" });
    if (!opts.apiKey || /\s/.test(opts.apiKey)) {
      throw new ValidationError("BIFROST_API_KEY is missing or malformed: remote mode needs a workflow (or platform_admin) API key (`bifrost keys create --role workflow --org SLUG` on the server).", { path: "BIFROST_API_KEY" });
    }
    this.url = u.toString().replace(/\/+$/, "");
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  /** From BIFROST_URL and BIFROST_API_KEY; null when BIFROST_URL is unset (in-process mode). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): RemoteResolver | null {
    const url = env.BIFROST_URL?.trim();
    if (!url) return null;
    return new RemoteResolver({ url, apiKey: env.BIFROST_API_KEY?.trim() ?? "", allowHttpLoopback: env.BIFROST_ALLOW_HTTP_LOOPBACK === "1" });
  }

  #redact(text: string): string {
    return redactText(text, [this.#apiKey]);
  }

  /** One request; resolves to `{ status, body }` for 2xx and 404, throws the server's error class otherwise. */
  async #call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const target = `${this.url}${path}`;
    let res: Response;
    try {
      res = await this.#fetch(target, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: "application/json",
          // The server's audit trail names the execution that read the secrets.
          ...executionHeader(),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // The key must never follow a redirect to another host.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === "TimeoutError" ? `no answer within ${this.#timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new RemoteUnavailableError(this.#redact(`Cannot reach the Bifrost server at BIFROST_URL=${this.url} (${why}). Check BIFROST_URL and that the server is running.`), {
        url: this.url,
      });
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new RemoteUnavailableError(
        this.#redact(`The server at BIFROST_URL=${this.url} answered with a redirect (HTTP ${res.status}); API keys are not sent across redirects. Set BIFROST_URL to the final address.`),
        { url: this.url, status: res.status },
      );
    }
    const type = (res.headers.get("content-type") ?? "").toLowerCase();
    if (!/^application\/(problem\+)?json\b/.test(type)) {
      await res.body?.cancel().catch(() => undefined);
      throw new RemoteUnavailableError(
        this.#redact(`BIFROST_URL=${this.url} answered HTTP ${res.status} with ${type ? `content type ${type.split(";")[0]}` : "no content type"} instead of JSON for ${method} ${path}: is it the Bifrost server?`),
        { url: this.url, status: res.status },
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      throw new RemoteUnavailableError(this.#redact(`The connection to BIFROST_URL=${this.url} failed while reading the answer to ${method} ${path}.`), { url: this.url, status: res.status });
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const envelope = typeof parsed === "object" && parsed !== null ? (parsed as { code?: unknown; message?: unknown; details?: unknown }) : undefined;
    if (res.ok) {
      if (parsed === undefined || parsed === null || typeof parsed !== "object") {
        throw new RemoteUnavailableError(this.#redact(`BIFROST_URL=${this.url} did not answer with JSON for ${method} ${path}: is it the Bifrost server?`), { url: this.url, status: res.status });
      }
      return { status: res.status, body: parsed };
    }
    if (!envelope || typeof envelope.code !== "string") {
      throw new RemoteUnavailableError(this.#redact(`BIFROST_URL=${this.url} answered HTTP ${res.status} without a Bifrost error for ${method} ${path}: is it the Bifrost server?`), {
        url: this.url,
        status: res.status,
      });
    }
    if (res.status === 404 && envelope.code === "BIFROST_NOT_FOUND") return { status: 404, body: envelope };
    throw errorFromEnvelope(res.status, envelope, [this.#apiKey]);
  }

  /** A 2xx body of the wrong shape means BIFROST_URL is not (this version of) the Bifrost API. */
  #expect<T>(ok: boolean, body: unknown, what: string): T {
    if (!ok) throw new RemoteUnavailableError(this.#redact(`BIFROST_URL=${this.url} answered ${what} with JSON of an unexpected shape: is it the Bifrost server (and the same version)?`), { url: this.url });
    return body as T;
  }

  static #orgQuery(org: ExecutionOrg | null, sep: "?" | "&"): string {
    return org ? `${sep}org=${encodeURIComponent(org.slug)}` : "";
  }

  /** Whether a 404 is about the integration itself (→ null), not about the organization (→ thrown). */
  static #isUnknownIntegration(body: unknown, name: string): boolean {
    const d = (body as { details?: Record<string, unknown> }).details;
    return d !== undefined && d.integration === name && d.org === undefined;
  }

  async resolve(name: string, org: ExecutionOrg | null): Promise<ResolvedIntegration | null> {
    const res = await this.#call("GET", `/api/integrations/${encodeURIComponent(name)}/resolved?include=schema${RemoteResolver.#orgQuery(org, "&")}`);
    if (res.status === 404) {
      if (RemoteResolver.#isUnknownIntegration(res.body, name)) return null;
      throw errorFromEnvelope(404, res.body as object, [this.#apiKey]);
    }
    return resolvedFromBody(this.#expect<ResolvedBody>(isResolvedBody(res.body), res.body, "a resolved integration"), org);
  }

  async list(org: ExecutionOrg | null): Promise<IntegrationSummary[]> {
    // Every page: the list is paginated (next_cursor null on the last page; a server without pagination sends none).
    const out: IntegrationSummary[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10_000; pages++) {
      const query = `?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}${RemoteResolver.#orgQuery(org, "&")}`;
      const res = await this.#call("GET", `/api/workflow/integrations${query}`);
      if (res.status === 404) throw errorFromEnvelope(404, res.body as object, [this.#apiKey]);
      const body = this.#expect<{ integrations: Array<{ name: string; mapped: boolean; entity_id: string | null; entity_name: string | null }>; next_cursor?: unknown }>(
        isIntegrationList(res.body),
        res.body,
        "the integration list",
      );
      out.push(...body.integrations.map((i) => ({ name: i.name, mapped: i.mapped, entityId: i.entity_id, entityName: i.entity_name })));
      cursor = typeof body.next_cursor === "string" ? body.next_cursor : null;
      if (cursor === null) break;
    }
    return out;
  }

  /** Null for an organization that does not exist, or that an org-scoped key may not see (the server answers 404 for both). */
  async findOrg(slug: string): Promise<ExecutionOrg | null> {
    const res = await this.#call("GET", `/api/workflow/orgs/${encodeURIComponent(slug)}`);
    if (res.status === 404) return null;
    const o = this.#expect<{ id: string; slug: string; name: string }>(isRecord(res.body) && typeof res.body.id === "string" && typeof res.body.slug === "string" && typeof res.body.name === "string", res.body, "an organization");
    return { id: o.id, slug: o.slug, name: o.name };
  }

  /** The server refreshes only if its stored token is still the one we saw (compared by fingerprint). */
  async refreshOAuth(name: string, org: ExecutionOrg | null, seenAccessToken: string): Promise<OAuthCredentials | null> {
    const res = await this.#call("POST", `/api/integrations/${encodeURIComponent(name)}/oauth/refresh-if-stale`, {
      ...(org ? { org: org.slug } : {}),
      seen_access_token_fingerprint: tokenFingerprint(seenAccessToken),
    });
    if (res.status === 404) {
      if (RemoteResolver.#isUnknownIntegration(res.body, name)) return null;
      throw errorFromEnvelope(404, res.body as object, [this.#apiKey]);
    }
    return oauthIn(this.#expect<{ oauth: ResolvedBody["oauth"] }>(isRecord(res.body) && isOAuthBody(res.body.oauth), res.body, "an OAuth refresh").oauth);
  }
}
