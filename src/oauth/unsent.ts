/**
 * Whether a failed fetch never delivered its request: the failure happened before a connection (and,
 * for https, a TLS session) existed, so no byte of the request reached the provider. Used to tell an
 * attempt that certainly did not reach the provider (refused, unresolvable, unroutable, bad
 * certificate) from one whose outcome is unknown (reset or timeout after connecting).
 */
const BEFORE_SENDING = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NODATA",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** The error codes at the leaves of a fetch error (its cause chain and AggregateError members). */
function leafCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== "object" || err === null || depth > 5) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const nested = [...(Array.isArray(e.errors) ? e.errors : []), ...(e.cause !== undefined ? [e.cause] : [])].flatMap((c) => leafCodes(c, depth + 1));
  if (nested.length > 0) return nested;
  return typeof e.code === "string" ? [e.code] : [];
}

export function failedBeforeSending(err: unknown): boolean {
  const codes = leafCodes(err);
  return codes.length > 0 && codes.every((c) => BEFORE_SENDING.has(c));
}
