/**
 * The URL half of the outbound policy, shared by every request we make (OAuth, spec download, test
 * connection, webhooks, generated clients, remote mode): https only; plain http only to loopback with
 * BIFROST_ALLOW_HTTP_LOOPBACK=1; no credentials in the URL; IP literals judged at once (host names are
 * judged at connect time by guarded-agent.ts).
 */
import { BifrostError, type ErrorDetails } from "../core/errors.js";
import { isLoopbackAddress, judgeAddress, parseIpLiteral } from "./address-policy.js";

export type OutboundRefusal = "invalid" | "scheme" | "credentials" | "address";

/** An outbound URL (or the address it resolves to) is refused by the policy. Nothing was sent. */
export class OutboundRefusedError extends BifrostError {
  readonly origin: string | null;
  readonly reason: OutboundRefusal;
  readonly fix: string;
  constructor(message: string, details: ErrorDetails & { origin: string | null; reason: OutboundRefusal; fix: string }) {
    super("BIFROST_OUTBOUND_REFUSED", 422, message, details);
    this.origin = details.origin;
    this.reason = details.reason;
    this.fix = details.fix;
  }
}

export interface OutboundOptions {
  /** BIFROST_ALLOW_HTTP_LOOPBACK=1: plain http is allowed, but only to loopback. Loopback addresses are allowed. */
  allowHttpLoopback: boolean;
  /** The integration has `private_network: true`: private ranges (never link-local or metadata) are allowed. */
  privateNetwork?: boolean;
  /** What the URL is, for the message ("OAuth endpoint", "Spec URL", "BIFROST_URL"). Default "Outbound request to". */
  subject?: string;
}

const HTTP_FIX = "use https (plain http is allowed only to loopback, with BIFROST_ALLOW_HTTP_LOOPBACK=1 for local development)";

/** The fix to suggest for an address refusal. */
function addressFix(reason: string, privateNetwork: boolean): string {
  if (/loopback/.test(reason)) return "loopback is allowed only with BIFROST_ALLOW_HTTP_LOOPBACK=1 (tests and local development)";
  if (!privateNetwork && /private|CGNAT/.test(reason) && !/metadata|link-local/.test(reason)) {
    return "for an on-premises server, a platform admin sets private_network: true on the integration";
  }
  return "use a public https address; this range is never reachable from Bifrost";
}

/** True for host names that are loopback by definition (plain http may go there with the switch). */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  // Literals: 127/8 or ::1 only (an IPv4-mapped form is not accepted for plain http).
  const literal = parseIpLiteral(h);
  if (!literal) return false;
  return literal.kind() === "ipv4" ? isLoopbackAddress(literal.toString()) : literal.toNormalizedString() === "0:0:0:0:0:0:0:1";
}

/** Parse and check an outbound URL; throws OutboundRefusedError naming the origin, the reason and the fix. */
export function checkOutboundUrl(raw: string, opts: OutboundOptions): URL {
  const subject = opts.subject ?? "Outbound request to";
  const refuse = (origin: string | null, reason: OutboundRefusal, what: string, fix: string, extra: ErrorDetails = {}) =>
    new OutboundRefusedError(`${subject} ${origin ?? "(invalid URL)"} refused: ${what}; ${fix}.`, { origin, reason, fix, ...extra });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw refuse(null, "invalid", "not a valid absolute URL", "give a full https:// URL");
  }
  const origin = u.protocol === "http:" || u.protocol === "https:" ? u.origin : `${u.protocol}//`;
  if (u.protocol !== "https:" && u.protocol !== "http:") throw refuse(origin, "scheme", `the scheme ${u.protocol} is not allowed`, "use https", { scheme: u.protocol });
  if (u.username || u.password) throw refuse(origin, "credentials", "the URL carries credentials", "remove user:password from the URL and configure the credential as a secret");
  const loopbackHost = isLoopbackHost(u.hostname);
  if (u.protocol === "http:") {
    if (!opts.allowHttpLoopback) throw refuse(origin, "scheme", "plain http is not allowed", HTTP_FIX, { scheme: "http:" });
    if (!loopbackHost) throw refuse(origin, "scheme", "plain http to a non-loopback host is not allowed", HTTP_FIX, { scheme: "http:" });
  }
  const literal = u.hostname.replace(/^\[|\]$/g, "");
  if (parseIpLiteral(literal)) {
    const why = judgeAddress(literal, { allowLoopback: opts.allowHttpLoopback, privateNetwork: opts.privateNetwork ?? false });
    if (why) throw refuse(origin, "address", `the address is ${why}`, addressFix(why, opts.privateNetwork ?? false));
  } else if (/^\[|:/.test(u.hostname) || /^[0-9.]+$/.test(u.hostname)) {
    // Anything numeric that is not a canonical literal (URL parsing already canonicalizes 0x7f.1 and friends).
    throw refuse(origin, "address", "the host is not a valid address", "use a host name or a four-part decimal IPv4 / valid IPv6 address");
  }
  return u;
}

/** The same refusal for an address found when connecting (host names are judged then). */
export function connectRefusal(url: URL, reason: string, opts: OutboundOptions): OutboundRefusedError {
  const subject = opts.subject ?? "Outbound request to";
  const fix = addressFix(reason, opts.privateNetwork ?? false);
  return new OutboundRefusedError(`${subject} ${url.origin} refused: it resolves to ${reason}; ${fix}.`, { origin: url.origin, reason: "address", fix });
}
