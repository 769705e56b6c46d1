import { partialEchoWindows, redactForms, redactionForms, redactPartialEchoes, redactPatterns } from "../crypto/redact.js";

/**
 * Form and query parameters whose values are credentials. Other parameters (grant_type, scope,
 * redirect_uri, client_id, audience, token_type_hint) stay visible in provider text.
 */
const SENSITIVE_PARAMS = new Set([
  "code",
  "code_verifier",
  "refresh_token",
  "client_secret",
  "client_assertion",
  "assertion",
  "token",
  "access_token",
  "id_token",
  "password",
  "subject_token",
  "actor_token",
  "device_code",
]);

/** Provider text is cut to this many characters before it is redacted (and later to 200 for display). */
const PROVIDER_TEXT_MAX = 4096;

function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/**
 * Every credential sent in one request to a provider (token, revocation, introspection endpoint):
 * tokens, authorization code, PKCE verifier, client secret or assertion, the Authorization header and
 * its parts. Text produced about the response (stored `last_error`, events, error messages) passes
 * through `redact()`, which removes each value in every form it may come back in (as is, URL-encoded,
 * JSON/HTML-escaped, base64/base64url, and runs of 12+ characters copied from a long value).
 * The client id is not recorded: it may stay visible.
 */
export class SentValues {
  readonly #values = new Set<string>();
  /** Derived from #values on first use, dropped when a value is added. */
  #forms: string[] | null = null;
  #windows: Set<string> | null = null;

  /** Record values (null, undefined and empty strings are ignored). */
  add(...values: Array<string | null | undefined>): this {
    for (const v of values) {
      if (typeof v === "string" && v.length > 0 && !this.#values.has(v)) {
        this.#values.add(v);
        this.#forms = null;
        this.#windows = null;
      }
    }
    return this;
  }

  /**
   * Record what an outgoing request carries: sensitive form and query parameters, and the
   * Authorization header (its whole value, the credential after the scheme and, for Basic, the
   * secret part of the decoded `id:secret`, raw and form-decoded).
   */
  addRequest(url: string, init: { body?: unknown; headers?: unknown }): void {
    const params: Array<[string, string]> = [];
    try {
      for (const [k, v] of new URL(url).searchParams) params.push([k, v]);
    } catch {
      // Not a URL: nothing to read from it.
    }
    const body = init.body;
    if (body instanceof URLSearchParams) params.push(...body);
    else if (typeof body === "string") params.push(...new URLSearchParams(body));
    for (const [k, v] of params) if (SENSITIVE_PARAMS.has(k)) this.add(v);
    let auth: string | null = null;
    try {
      auth = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).get("authorization");
    } catch {
      auth = null;
    }
    if (!auth) return;
    this.add(auth);
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(auth);
    if (!m) return;
    const [, scheme, credential] = m as unknown as [string, string, string];
    this.add(credential);
    if (scheme.toLowerCase() === "basic") {
      const decoded = Buffer.from(credential, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) {
        const secret = decoded.slice(colon + 1);
        // Not the decoded `id:secret` as a whole: the client id may stay visible, the secret part goes.
        this.add(secret, formDecode(secret));
      }
    }
  }

  get size(): number {
    return this.#values.size;
  }

  /** Provider text made safe to store and show: cut, every sent value removed, generic credential patterns removed. */
  redact(text: string): string {
    const cut = text.length > PROVIDER_TEXT_MAX ? text.slice(0, PROVIDER_TEXT_MAX) : text;
    this.#forms ??= redactionForms(this.#values);
    this.#windows ??= partialEchoWindows(this.#values);
    return redactPatterns(redactPartialEchoes(redactForms(cut, this.#forms), this.#windows));
  }

  /** Redact every string inside a JSON-like value (objects and arrays are copied). */
  redactDeep<T>(value: T): T {
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (typeof value === "object" && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}

const sentByError = new WeakMap<object, SentValues>();

/** Remember which values the failed request sent, so whoever classifies the error can redact its text. */
export function attachSent<E>(err: E, sent: SentValues): E {
  if (typeof err === "object" && err !== null && !sentByError.has(err)) sentByError.set(err, sent);
  return err;
}

/** The values sent by the request that failed with `err` (empty when unknown). */
export function sentValuesOf(err: unknown): SentValues {
  return (typeof err === "object" && err !== null ? sentByError.get(err) : undefined) ?? new SentValues();
}
