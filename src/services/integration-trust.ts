/**
 * Validation of an integration's trust fields (platform admins only): `trusted_origins`, the origins its
 * integration-level credentials may be sent to besides the default base_url and the spec's servers, and
 * `private_network`, which lets its outbound calls reach private ranges (on-premises servers).
 */
import { ValidationError } from "../core/errors.js";
import { checkOutboundUrl, OutboundRefusedError } from "../net/outbound-policy.js";

const MAX_TRUSTED_ORIGINS = 50;

/**
 * Each entry normalized to `URL.origin`: https (http only to loopback with BIFROST_ALLOW_HTTP_LOOPBACK=1),
 * no path, query, fragment, credentials or wildcard. Duplicates (after normalization) are dropped.
 */
export function checkTrustedOrigins(input: unknown, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!Array.isArray(input)) throw new ValidationError("trusted_origins must be a list of origins such as https://api.example.com.", { path: "trusted_origins" });
  if (input.length > MAX_TRUSTED_ORIGINS) throw new ValidationError(`trusted_origins has ${input.length} entries; at most ${MAX_TRUSTED_ORIGINS} are allowed.`, { path: "trusted_origins" });
  const out: string[] = [];
  input.forEach((raw, i) => {
    const path = `trusted_origins[${i}]`;
    const bad = (why: string) => new ValidationError(`${path} ${why}`, { path });
    if (typeof raw !== "string" || raw.trim() === "") throw bad("must be an origin string such as https://api.example.com.");
    if (raw !== raw.trim()) throw bad("must not have surrounding whitespace.");
    if (raw.includes("*")) throw bad(`("${raw.slice(0, 200)}") must not contain a wildcard: list each origin, e.g. https://eu.api.example.com.`);
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw bad(`("${raw.slice(0, 200)}") is not a valid origin; write scheme and host, e.g. https://api.example.com.`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw bad(`uses ${u.protocol}; an origin is https://host[:port].`);
    if (u.username || u.password) throw bad("must not contain credentials (user:password@).");
    if (u.pathname !== "/" || u.search !== "" || u.hash !== "" || /[?#]/.test(raw)) throw bad(`("${u.origin}…") must be an origin only: no path, query or fragment (use ${u.origin}).`);
    try {
      checkOutboundUrl(u.toString(), { allowHttpLoopback: env.BIFROST_ALLOW_HTTP_LOOPBACK === "1", privateNetwork: true, subject: path });
    } catch (err) {
      // Addresses are judged when a request is made (with private_network); scheme rules apply now.
      if (!(err instanceof OutboundRefusedError)) throw err;
      if (err.reason !== "address") throw new ValidationError(err.message, { path, origin: err.origin });
    }
    if (!out.includes(u.origin)) out.push(u.origin);
  });
  return out;
}

export function checkPrivateNetwork(input: unknown): boolean {
  if (typeof input !== "boolean") throw new ValidationError("private_network must be true or false.", { path: "private_network" });
  return input;
}
