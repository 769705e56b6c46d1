/**
 * The address policy of every outbound request to a URL that comes from configuration (OAuth
 * endpoints, OpenAPI specs, test connections): an undici agent whose connect-time DNS lookup refuses
 * private, link-local, CGNAT, unique-local, multicast, NAT64 and (unless allowed) loopback addresses.
 * The addresses checked are the ones the socket connects to: no time-of-check/time-of-use gap.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import { Agent } from "undici";
import { ValidationError } from "../core/errors.js";

function ipv4Parts(ip: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  return m ? m.slice(1).map(Number) : null;
}

/** Expand an IPv6 address to its 8 groups (numbers); null if it is not one. */
function ipv6Groups(ip: string): number[] | null {
  if (isIP(ip) !== 6) return null;
  let s = ip.toLowerCase().split("%")[0] as string;
  // Trailing dotted IPv4 (::ffff:1.2.3.4) → two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const p = ipv4Parts(v4[1] as string) as number[];
    s = s.slice(0, -(v4[1] as string).length) + `${((p[0] as number) * 256 + (p[1] as number)).toString(16)}:${((p[2] as number) * 256 + (p[3] as number)).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? (s.split("::") as [string, string]) : [s, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === null ? [] : Array<string>(8 - h.length - t.length).fill("0");
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g || "0", 16));
  return groups.length === 8 ? groups : null;
}

/**
 * Why an address must not be contacted, or null. Refused: private (RFC 1918, CGNAT, IPv6 ULA),
 * link-local (169.254/16, fe80::/10), loopback (unless loopback is allowed), unspecified, multicast,
 * and IPv4-mapped/compatible IPv6 forms of any of those.
 */
export function refusedAddress(ip: string, allowLoopback: boolean): string | null {
  const v4 = ipv4Parts(ip);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    if (a === 127) return allowLoopback ? null : "a loopback address";
    if (a === 0) return "an unspecified address";
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "a private address";
    if (a === 100 && b >= 64 && b <= 127) return "a shared (CGNAT) address";
    if (a === 169 && b === 254) return "a link-local address";
    if (a >= 224) return "a multicast or reserved address";
    return null;
  }
  const g = ipv6Groups(ip);
  if (!g) return "not an IP address";
  const [g0, , , , , g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroPrefix = g.slice(0, 5).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): judge the embedded IPv4 address.
  if (zeroPrefix && (g5 === 0xffff || (g5 === 0 && (g6 !== 0 || g7 > 1)))) {
    return refusedAddress(`${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`, allowLoopback);
  }
  if (g.every((x) => x === 0)) return "an unspecified address";
  if (g.slice(0, 7).every((x) => x === 0) && g7 === 1) return allowLoopback ? null : "a loopback address";
  if ((g0 & 0xfe00) === 0xfc00) return "a private (unique local) address";
  if ((g0 & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g0 & 0xff00) === 0xff00) return "a multicast address";
  if (g0 === 0x64 && g[1] === 0xff9b) return "a NAT64 address";
  return null;
}

/** A refusal raised inside the connect-time DNS lookup; found again in fetch's error cause chain. */
export class AddressRefused extends Error {
  constructor(readonly reason: string) {
    super(`address refused: ${reason}`);
  }
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The DNS lookup used when a connection is opened: the addresses the socket will connect to are the
 * ones checked here (no second resolution, so no time-of-check/time-of-use gap).
 */
function guardedLookup(allowLoopback: boolean, httpOnlyLoopback: boolean, privateNetwork: boolean) {
  return (hostname: string, options: LookupOptions, cb: LookupCb): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, "");
      const list = addresses as LookupAddress[];
      for (const a of list) {
        let why = refusedAddress(a.address, allowLoopback);
        // private_network: private ranges are allowed (on-premises servers); link-local never.
        if (why && privateNetwork && /private/.test(why)) why = null;
        if (why) return cb(new AddressRefused(why) as NodeJS.ErrnoException, "");
        if (httpOnlyLoopback && refusedAddress(a.address, false) === null) return cb(new AddressRefused("not a loopback address (plain http)") as NodeJS.ErrnoException, "");
      }
      if (list.length === 0) return cb(Object.assign(new Error("no address"), { code: "ENOTFOUND" }), "");
      if (options.all) return cb(null, list);
      const first = list[0] as LookupAddress;
      cb(null, first.address, first.family);
    });
  };
}

const agents = new Map<string, Agent>();
/** One pooled agent per policy (https vs http-to-loopback, loopback allowed or not). */
export function guardedAgent(protocol: string, allowLoopback: boolean, privateNetwork = false): Agent {
  const httpOnlyLoopback = protocol === "http:";
  const key = `${httpOnlyLoopback}:${allowLoopback}:${privateNetwork}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({ connect: { lookup: guardedLookup(allowLoopback, httpOnlyLoopback, privateNetwork) as never }, keepAliveTimeout: 10_000 });
    agents.set(key, a);
  }
  return a;
}

export function refusedCause(err: unknown): AddressRefused | null {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof AddressRefused) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** The thin check's refusals carry BIFROST_VALIDATION (422) and name the URL's origin. */
const OutboundUrlRefused = ValidationError;

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/i;

/**
 * The outbound policy's URL check (before connecting): https only; plain http only to a loopback
 * host when `allowHttpLoopback` (BIFROST_ALLOW_HTTP_LOOPBACK=1); an https IP literal is judged here
 * (it is never looked up). The addresses a host name resolves to are checked at connect time by
 * `guardedAgent`.
 */
export function checkOutboundUrl(raw: string, opts: { allowHttpLoopback: boolean; privateNetwork?: boolean }): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new OutboundUrlRefused("The URL is not a valid absolute URL.");
  }
  if (u.username || u.password) throw new OutboundUrlRefused(`${u.origin}: credentials in the URL are not allowed.`, { origin: u.origin });
  if (u.protocol === "https:") {
    const literal = u.hostname.replace(/^\[|\]$/g, "");
    if (isIP(literal)) {
      let why = refusedAddress(literal, opts.allowHttpLoopback);
      if (why && opts.privateNetwork && /private/.test(why)) why = null;
      if (why) throw new OutboundUrlRefused(`${u.origin} is ${why}; refused.`, { origin: u.origin, reason: "address" });
    }
    return u;
  }
  if (u.protocol === "http:") {
    if (!opts.allowHttpLoopback || !LOOPBACK_HOST.test(u.hostname)) {
      throw new OutboundUrlRefused(`${u.origin} uses plain http; only https is allowed (BIFROST_ALLOW_HTTP_LOOPBACK=1 permits http to loopback for local development).`, { origin: u.origin });
    }
    return u;
  }
  throw new OutboundUrlRefused(`The URL scheme ${u.protocol} is not allowed; use https.`, { scheme: u.protocol });
}
