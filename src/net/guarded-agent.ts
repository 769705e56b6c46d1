/**
 * The connect-time half of the outbound policy: an undici agent whose DNS lookup judges every address
 * the socket will connect to (src/net/address-policy.ts). The addresses checked are the ones used: no
 * time-of-check/time-of-use gap. Plain http may reach loopback addresses only.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { Agent } from "undici";
import { isLoopbackAddress, judgeAddress } from "./address-policy.js";

/**
 * Why an address must not be contacted, or null. Refused: every address the IANA special-purpose
 * registries do not mark globally reachable, the GR anycast/AS112/AMT blocks, multicast, IPv6 outside
 * 2000::/3, cloud metadata addresses, and IPv6 forms embedding a refused IPv4 address. Loopback is
 * allowed with `allowLoopback`; RFC 1918, CGNAT and unique-local addresses with `privateNetwork`.
 */
export function refusedAddress(ip: string, allowLoopback: boolean, privateNetwork = false): string | null {
  return judgeAddress(ip, { allowLoopback, privateNetwork });
}

/** A refusal raised inside the connect-time DNS lookup; found again in fetch's error cause chain. */
export class AddressRefused extends Error {
  constructor(readonly reason: string) {
    super(`address refused: ${reason}`);
  }
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The DNS lookup used when a connection is opened: every address of the answer is judged (one refused
 * address refuses the host, so a round-robin answer cannot smuggle a private target in).
 */
function guardedLookup(allowLoopback: boolean, privateNetwork: boolean, httpOnlyLoopback: boolean) {
  return (hostname: string, options: LookupOptions, cb: LookupCb): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, "");
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = refusedAddress(a.address, allowLoopback, privateNetwork);
        if (why) return cb(new AddressRefused(why) as NodeJS.ErrnoException, "");
        if (httpOnlyLoopback && !isLoopbackAddress(a.address)) return cb(new AddressRefused("not a loopback address (plain http)") as NodeJS.ErrnoException, "");
      }
      if (list.length === 0) return cb(Object.assign(new Error("no address"), { code: "ENOTFOUND" }), "");
      if (options.all) return cb(null, list);
      const first = list[0] as LookupAddress;
      cb(null, first.address, first.family);
    });
  };
}

const agents = new Map<string, Agent>();
/** One pooled agent per policy (https vs http-to-loopback, loopback allowed or not, private network or not). */
export function guardedAgent(protocol: string, allowLoopback: boolean, privateNetwork = false): Agent {
  const httpOnlyLoopback = protocol === "http:";
  const key = `${httpOnlyLoopback}:${allowLoopback}:${privateNetwork}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({ connect: { lookup: guardedLookup(allowLoopback, privateNetwork, httpOnlyLoopback) as never }, keepAliveTimeout: 10_000 });
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
