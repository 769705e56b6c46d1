/**
 * Security-scheme appliers: one per scheme kind, exported separately so that a generated module imports
 * only those its spec's schemes use (see `AuthApplier` in types.ts) and a one-call bundle carries no other.
 * @module
 */
import type { AuthApplier } from "./types.js";

/** `apiKey` in a header, from the secret config key `configKey`. */
export const apiKeyHeader: AuthApplier = (s, cfg, _token, out) => {
  if (s.type !== "apiKey" || s.in !== "header") return false;
  const v = cfg(s.configKey);
  if (v === undefined) return `"${s.configKey}"`;
  out.headers.push([s.name.toLowerCase(), v]);
  return true;
};

/** `apiKey` in the query string, from the secret config key `configKey`. */
export const apiKeyQuery: AuthApplier = (s, cfg, _token, out) => {
  if (s.type !== "apiKey" || s.in !== "query") return false;
  const v = cfg(s.configKey);
  if (v === undefined) return `"${s.configKey}"`;
  out.query += `${out.query ? "&" : ""}${encodeURIComponent(s.name)}=${encodeURIComponent(v)}`;
  return true;
};

/** `apiKey` in a cookie, from the secret config key `configKey`. */
export const apiKeyCookie: AuthApplier = (s, cfg, _token, out) => {
  if (s.type !== "apiKey" || s.in !== "cookie") return false;
  const v = cfg(s.configKey);
  if (v === undefined) return `"${s.configKey}"`;
  out.cookie += `${out.cookie ? "; " : ""}${s.name}=${encodeURIComponent(v)}`;
  return true;
};

/** HTTP basic from the config keys `usernameKey` / `passwordKey`. */
export const basicAuth: AuthApplier = (s, cfg, _token, out) => {
  if (s.type !== "http" || s.scheme !== "basic") return false;
  const u = cfg(s.usernameKey);
  if (u === undefined) return `"${s.usernameKey}"+"${s.passwordKey}"`;
  out.headers.push(["authorization", `Basic ${Buffer.from(`${u}:${cfg(s.passwordKey) ?? ""}`).toString("base64")}`]);
  return true;
};

/** oauth2, openIdConnect, http bearer: `Authorization: Bearer` with the OAuth token, else the secret config key `configKey`. */
export const bearerAuth: AuthApplier = (s, cfg, token, out) => {
  const { scheme, configKey: k } = s as { scheme?: string; configKey?: string };
  if (s.type === "apiKey" || scheme === "basic") return false;
  const v = token ?? (k ? cfg(k) : undefined);
  if (v === undefined) return `OAuth${k ? ` or "${k}"` : ""}`;
  out.headers.push(["authorization", `Bearer ${v}`]);
  if (token) out.token = token;
  return true;
};
