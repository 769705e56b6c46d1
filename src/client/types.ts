/**
 * The contract between a generated API client module and the `bifrost/client` runtime.
 *
 * Everything here is plain data (no classes, no functions): a generated module emits object literals
 * of these types and passes them to `createClient()` / `client.request()`. Types only — this file
 * produces no JavaScript, so importing it costs nothing in a bundle.
 * @module
 */

import type { AuthParts } from "../runtime/request-policy.js";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE";

export type ParamStyle = "form" | "simple" | "label" | "matrix" | "spaceDelimited" | "pipeDelimited" | "deepObject";

/**
 * How one parameter is serialised. Only parameters that need something other than the OpenAPI default
 * must be listed (defaults: query/cookie → form + explode, path/header → simple, no explode).
 * Parameters present in `RequestArgs` but not listed are sent with the defaults.
 */
export interface ParamSpec {
  /** The wire name (as in the spec), which is also the key in `RequestArgs.path/query/headers/cookies`. */
  name: string;
  in: "path" | "query" | "header" | "cookie";
  style?: ParamStyle;
  explode?: boolean;
  required?: boolean;
  /** Query only: do not percent-encode RFC 3986 reserved characters (`:/?#[]@!$&'()*+,;=`). */
  allowReserved?: boolean;
  /** The parameter uses `content:` instead of `schema:` (e.g. `application/json`): the value is JSON-encoded. */
  contentType?: string;
}

export interface BodySpec {
  /**
   * Media types the operation accepts, in spec order. The runtime picks `RequestArgs.contentType` if
   * given, else the first one. Recognised: JSON (`application/json`, `*+json`),
   * `application/x-www-form-urlencoded`, `multipart/form-data`, `text/*`, anything else is sent as
   * binary (Uint8Array / ArrayBuffer / Blob / ReadableStream / string).
   */
  mediaTypes: string[];
  required?: boolean;
}

/** `{ schemeName: scopes }`; every scheme in one requirement must be satisfiable; `{}` means "no auth". */
export type SecurityRequirement = Record<string, string[]>;

export type SecurityScheme =
  /** API key from the secret config key `configKey`. */
  | { type: "apiKey"; in: "header" | "query" | "cookie"; name: string; configKey: string }
  /** `Authorization: Bearer` from `integration.oauth.accessToken`, else from the secret config key `configKey` if given. */
  | { type: "http"; scheme: "bearer"; configKey?: string }
  /** HTTP basic from two config keys. */
  | { type: "http"; scheme: "basic"; usernameKey: string; passwordKey: string }
  /** `Authorization: Bearer` from `integration.oauth.accessToken` (refreshed by the OAuth core), else the secret config key `configKey` if given. */
  | { type: "oauth2" | "openIdConnect"; configKey?: string };

/**
 * Pagination pattern, when the generator can tell it from the spec. `itemsPath` is where the items are
 * in the response body (property names; `[]` or absent = the body itself is the array).
 */
export type PaginationSpec =
  /** RFC 8288 `Link: <…>; rel="next"` (absolute or relative URL). */
  | { style: "link"; itemsPath?: string[] }
  /** Cursor / next-token: the value at `responsePath` in the body goes into query param `param`; stop when absent/empty. */
  | { style: "cursor"; param: string; responsePath: string[]; itemsPath?: string[] }
  /** Page number in query param `param` (starting at `start`, default 1, or the caller's value); stop on an empty page. */
  | { style: "page"; param: string; itemsPath?: string[]; sizeParam?: string; start?: number }
  /** Item offset in query param `param` (starting at the caller's value or 0), advanced by the items received; stop on an empty page. */
  | { style: "offset"; param: string; limitParam?: string; itemsPath?: string[] }
  /**
   * A next-page URL in the body at `responsePath` (absolute, or relative to the request URL): OData
   * `@odata.nextLink`, Twilio `next_page_uri`. Stop when absent/empty. A link to another origin is
   * requested without credentials.
   */
  | { style: "nextUrl"; responsePath: string[]; itemsPath?: string[] }
  /**
   * The id of the last item (at `idPath` inside an item) goes into query param `param`, while the body
   * value at `hasMorePath` is true: Stripe `has_more` + `starting_after`.
   */
  | { style: "lastItemCursor"; param: string; idPath: string[]; hasMorePath: string[]; itemsPath?: string[] };

export interface OperationSpec {
  /** The operationId (or generated name), used in errors. */
  id: string;
  method: HttpMethod;
  /** Path template relative to the base URL, e.g. `/tickets/{id}`. */
  path: string;
  params?: ParamSpec[];
  body?: BodySpec;
  /** Operation-level security; `undefined` = the spec default (`ClientSpec.security`); `[]` = no auth. */
  security?: SecurityRequirement[];
  /** Status (`"200"`, `"2XX"`, `"default"`) → media types. Informational; the runtime parses by the response's Content-Type. */
  responses?: { [status: string]: string[] };
  pagination?: PaginationSpec;
}

export interface ServerVariable {
  default: string;
  /** Config key whose value (if set for the org) fills the variable. Default: the variable name. */
  configKey?: string;
  enum?: string[];
}

export interface ClientSpec {
  /** Integration name as registered in Bifrost (`integrations.require(integration)`). */
  integration: string;
  /** The spec's servers; the first one is the fallback base URL. May be empty if `base_url` is required. */
  servers: Array<{ url: string; variables?: Record<string, ServerVariable> }>;
  securitySchemes: Record<string, SecurityScheme>;
  /** Spec-level default security requirements. */
  security?: SecurityRequirement[];
  /** Config key holding the base URL override. Default `"base_url"`. */
  baseUrlKey?: string;
}

/** What a generated operation function accepts (its typed args extend this shape). */
export interface RequestArgs {
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, string | number | boolean | undefined>;
  cookies?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Pick one of `op.body.mediaTypes` (default: the first). */
  contentType?: string;
  signal?: AbortSignal;
  /** Per-call timeout (whole call including retries' individual attempts); default from ClientOptions. */
  timeoutMs?: number;
  /** Per-call override of ClientOptions.maxRetries. */
  maxRetries?: number;
  /** How to read a successful response. Default `"auto"`: JSON if the Content-Type is JSON, text if `text/*`, else Blob; 204/HEAD → undefined. */
  parseAs?: "auto" | "json" | "text" | "blob" | "arrayBuffer" | "stream" | "response";
}

/** Options of `createClient()`; all optional. */
export interface ClientOptions {
  /** Per-attempt timeout in ms. Default 30 000. */
  timeoutMs?: number;
  /** Retries after the first attempt for retryable failures. Default 2. */
  maxRetries?: number;
  /** Base delay for exponential backoff (full jitter), ms. Default 250. */
  retryBaseMs?: number;
  /** Cap for one backoff delay and for `Retry-After`, ms. Default 30 000. */
  retryMaxMs?: number;
  /** Injected fetch (tests, proxies). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Extra headers on every request (e.g. User-Agent). */
  headers?: Record<string, string>;
}

/** A request body for fetch (no DOM lib here). */
export type EncodedBodyInit = NonNullable<RequestInit["body"]>;

/** What a body encoder produces: the fetch body and the Content-Type to send (undefined: fetch picks it, e.g. multipart boundary). */
export interface EncodedBody {
  body: EncodedBodyInit;
  type: string | undefined;
  /** False for one-shot streams: no retries, no redirects replaying the body. */
  replayable: boolean;
}

/** Encodes a request body for a media type other than JSON and `text/*`; undefined when `mediaType` is not its kind. */
export type BodyEncoder = (body: unknown, mediaType: string, op: OperationSpec) => EncodedBody | undefined;

/**
 * Optional request behaviour a generated operation passes to `client.request(op, args, [ext…])` only when
 * it needs it, so a one-call bundle carries nothing else. The runtime exports `jsonBody` (JSON and
 * `text/*` request bodies), `formBody`, `multipartBody`, `binaryBody` (the other body encoders; each
 * also brings the shared `encode`) and `styledParams` (parameters with a non-default
 * style / explode / allowReserved / content: any `op.params` entry in path or query). Without
 * `styledParams` the core serialises path params as `simple` and query params as `form` + explode.
 */
export interface Extension {
  /**
   * Encodes the request body (the first one found is called when the operation has a body): picks the
   * media type, encodes JSON and `text/*` itself and hands others to the `body` encoders in `ext`.
   * Without one, an operation with a body fails with BIFROST_CLIENT_INVALID_REQUEST.
   */
  encode?: (op: OperationSpec, args: RequestArgs, ext: readonly Extension[]) => EncodedBody;
  body?: BodyEncoder;
  /** `"path"`: the op's path template filled in; `"query"`: the query string (no `?`). */
  params?: (op: OperationSpec, where: "path" | "query", values: Record<string, unknown> | undefined) => string;
}

export type { AuthParts } from "../runtime/request-policy.js";
/**
 * Applies one kind of security scheme: returns false when `scheme` is not its kind, true once it has added
 * the credentials to `out`, or a description of the missing config key(s) (for
 * `BIFROST_CLIENT_CREDENTIALS_MISSING`). `cfg(key)` reads the org's config (undefined when unset or empty);
 * `token` is the integration's OAuth access token, if any. The runtime exports `apiKeyHeader`,
 * `apiKeyQuery`, `apiKeyCookie`, `basicAuth` and `bearerAuth` (oauth2, openIdConnect, http bearer); a
 * generated module passes only those its schemes need to `createClientWith(spec, auth, opts)`
 * (`createClient(spec, opts)` passes all of them). A scheme no applier accepts is not satisfiable.
 */
export type AuthApplier = (scheme: SecurityScheme, cfg: (key: string) => string | undefined, token: string | undefined, out: AuthParts) => boolean | string;

/** One page as `paginate()` sees it. */
export interface Page {
  body: unknown;
  headers: Headers;
  /** The URL requested last (after redirects), credential query parameters not included. */
  url: string;
}

/** What `createClient()` returns: plain closures, no class. Pagination is the separate `paginate(client, op, args)`. */
export interface Client {
  /**
   * One call. Resolves with the parsed body of a 2xx response; rejects with ApiError (or another
   * BIFROST_CLIENT_* error). `ext`: see Extension.
   */
  request<T = unknown>(op: OperationSpec, args?: RequestArgs, ext?: readonly Extension[]): Promise<T>;
  /** One page for `paginate()`: `url` (absolute) replaces the operation's path and query when given. Body parsed as JSON. */
  page(op: OperationSpec, args: RequestArgs, ext?: readonly Extension[], url?: string): Promise<Page>;
}

type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** Every HTTP status an `ApiError` can carry (300–599; `ErrorStatus<4>`: 400–499), as number literals. */
export type ErrorStatus<C extends 3 | 4 | 5 = 3 | 4 | 5> = `${C}${Digit}${Digit}` extends infer S ? (S extends `${infer N extends number}` ? N : never) : never;

/**
 * What a generated operation returns: a promise of the response body type; the phantom `~errors` (never
 * set at runtime) names the `ApiError`s the operation declares, by status, for `isApiError(e, operation)`.
 */
export type Call<R, E> = Promise<R> & { readonly "~errors"?: E };

