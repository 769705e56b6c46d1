/** The console's one HTTP client: same-origin cookie session, CSRF header on state-changing calls, error envelope → ApiError. */

export interface Envelope {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The field this error is about: the config key for value errors, else details.path. */
  get field(): string | null {
    if (typeof this.details.key === "string") return this.details.key;
    if (typeof this.details.path === "string") return this.details.path;
    return null;
  }
}

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export async function api<T = unknown>(method: string, url: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, "NETWORK", "The server could not be reached.");
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const env = (json ?? {}) as Partial<Envelope>;
    const err = new ApiError(res.status, env.code ?? "HTTP_" + res.status, env.message ?? `Request failed (${res.status}).`, env.details ?? {});
    if (res.status === 401 && !url.startsWith("/api/session")) window.dispatchEvent(new CustomEvent("bifrost:signed-out"));
    throw err;
  }
  return json as T;
}

export const enc = encodeURIComponent;

/** Types of the API responses the console reads. */
export type ConfigType = "string" | "int" | "bool" | "json" | "secret";
export interface SchemaItem {
  key: string;
  type: ConfigType;
  required?: boolean;
  description?: string | null;
  options?: Array<string | number>;
}
export interface MaskedSecret {
  set: true;
  fingerprint: string;
}
export interface Integration {
  name: string;
  description: string | null;
  config_schema: SchemaItem[];
  defaults: Record<string, unknown>;
  mapping_count?: number;
}
export interface Mapping {
  integration: string;
  org: string;
  entity_id: string | null;
  entity_name: string | null;
  config: Record<string, unknown>;
}
export interface Org {
  slug: string;
  name: string;
  created_at: string;
}
export type ConnState = "not_connected" | "connected" | "refreshing" | "needs_reauth" | "error";
export interface Connection {
  integration: string;
  org: string | null;
  level: string;
  entity_id: string | null;
  state: ConnState;
  expires_at: string | null;
  last_refresh_at: string | null;
  last_error: string | null;
  has_refresh_token: boolean;
}
export interface OAuthProvider {
  flow: "authorization_code" | "client_credentials";
  client_id: string;
  client_secret?: MaskedSecret | string;
  authorization_url?: string;
  token_url?: string;
  issuer?: string;
  revocation_url?: string;
  scopes?: string[];
  token_auth_method?: string;
  [k: string]: unknown;
}
export interface SessionInfo {
  csrf_token: string | null;
  role: "platform_admin" | "org_admin" | "workflow";
  org: string | null;
  public_url?: string;
}

export function isMasked(v: unknown): v is MaskedSecret {
  return typeof v === "object" && v !== null && (v as { set?: unknown }).set === true && typeof (v as { fingerprint?: unknown }).fingerprint === "string";
}
