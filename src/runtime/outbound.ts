/**
 * The outbound policy of the client runtime's requests (generated calls and `integration.fetch()`),
 * part of the SDK core: the URL rule and the connect-time address check of src/net, loaded with the
 * SDK rather than bundled into each generated module.
 */
import { guardedAgent, refusedCause } from "../net/guarded-agent.js";
export { Deadline } from "../net/deadline.js";
export { dispatchRequest } from "../net/dispatch-request.js";
import { checkOutboundUrl, connectRefusal, type OutboundRefusedError } from "../net/outbound-policy.js";

/**
 * Origins already accepted, per switch setting, with their dispatcher. The URL rule depends only on
 * the scheme, the user info and the host (and the two switches), so a URL without user info whose
 * origin passed once passes again: the checks are not repeated on every request. Refusals are not cached.
 */
const accepted = new Map<string, unknown>();

/**
 * The outbound policy for one request URL (`allowHttpLoopback`: the switch in effect): https only, plain http only to loopback with
 * BIFROST_ALLOW_HTTP_LOOPBACK=1 (throws before sending), and the dispatcher that checks the addresses
 * connected to (private ranges only with the integration's `private_network`).
 */
function outbound(url: string, privateNetwork: boolean, allowHttpLoopback: boolean): { url: URL; dispatcher: unknown } {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // checkOutboundUrl gives the refusal
  }
  const key = parsed && !parsed.username && !parsed.password && (parsed.protocol === "https:" || parsed.protocol === "http:") ? `${allowHttpLoopback}|${privateNetwork}|${parsed.origin}` : null;
  const hit = key === null ? undefined : accepted.get(key);
  if (parsed && hit !== undefined) return { url: parsed, dispatcher: hit };
  const u = checkOutboundUrl(url, { allowHttpLoopback, privateNetwork });
  const dispatcher = guardedAgent(u.protocol, allowHttpLoopback, privateNetwork);
  if (key !== null) {
    if (accepted.size > 1_000) accepted.clear();
    accepted.set(key, dispatcher);
  }
  return { url: u, dispatcher };
}

/**
 * The outbound policy's refusal when a failed request was refused at connect time (a host name that
 * resolved to an address the policy refuses); null for any other failure.
 */
export function connectRefused(err: unknown, url: string, privateNetwork: boolean, allowLoopback?: boolean): OutboundRefusedError | null {
  const refused = refusedCause(err);
  if (!refused) return null;
  return connectRefusal(new URL(url), refused.reason, { allowHttpLoopback: loopback(allowLoopback), privateNetwork });
}

/** The loopback switch in effect: the caller's (the server's setting), else BIFROST_ALLOW_HTTP_LOOPBACK. */
const loopback = (allow: boolean | undefined): boolean => allow ?? process.env.BIFROST_ALLOW_HTTP_LOOPBACK === "1";

/** A base URL and its cached outbound decision (see request-policy.ts `Route`). */
interface Base {
  base: string;
  origin: string;
  userInfo: boolean;
  privateNetwork: boolean;
  accepted?: { allowHttpLoopback: boolean; dispatcher: unknown };
}

/**
 * The URL is the base URL followed by a path, a query or nothing, so its origin is the base URL's
 * (a remainder such as "@host" or ":port" would change the authority and takes the full check).
 */
function underBase(url: string, base: string): boolean {
  if (!base || !url.startsWith(base)) return false;
  const next = url.charCodeAt(base.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/**
 * The outbound policy for `url` of a client's request (https; http only to loopback when allowed),
 * before anything is sent: its origin and the dispatcher that checks the addresses connected to. A URL
 * under the base URL reuses the base URL's decision made under the same switch setting (kept in `b`);
 * anything else is checked by `outbound()` (which caches accepted origins itself).
 */
export function outboundOf(b: Base, url: string, allowLoopback: boolean | undefined): { origin: string; dispatcher: unknown } {
  const allowHttpLoopback = loopback(allowLoopback);
  const a = b.accepted;
  const same = !b.userInfo && underBase(url, b.base);
  if (same && a && a.allowHttpLoopback === allowHttpLoopback) return { origin: b.origin, dispatcher: a.dispatcher };
  const { url: u, dispatcher } = outbound(url, b.privateNetwork, allowHttpLoopback);
  if (same && u.origin === b.origin) b.accepted = { allowHttpLoopback, dispatcher };
  return { origin: u.origin, dispatcher };
}
