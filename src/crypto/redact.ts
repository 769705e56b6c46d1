/**
 * One redactor for logs, error messages and anything else that leaves the process.
 */

/** Object keys whose values are always replaced in logs. */
export const SENSITIVE_KEYS = [
  "access_token",
  "accessToken",
  "refresh_token",
  "refreshToken",
  "id_token",
  "client_secret",
  "clientSecret",
  "code_verifier",
  "password",
  "api_key",
  "apiKey",
  "authorization",
  "cookie",
  "secret",
  "key",
  "token",
] as const;

/** Pino redact paths: the keys above at the top level and one or two levels down, plus headers. */
export const LOG_REDACT_PATHS: string[] = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const QUERY_SECRETS = /([?&](?:code|access_token|refresh_token|state|client_secret|api_key)=)[^&#\s]+/gi;
const API_KEYS = /\bbfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\b/g;

/** Replace known secret values, bearer/basic credentials, sensitive query values and API keys. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join("[REDACTED]");
  }
  return out.replace(BEARER, "$1 [REDACTED]").replace(QUERY_SECRETS, "$1[REDACTED]").replace(API_KEYS, "bfk_[REDACTED]");
}
