/**
 * Whether an IP address may be contacted by an outbound request: parsed with ipaddr.js (IPv4 only in
 * four-part decimal), judged against the reviewed table in special-addresses.ts, with IPv4 embedded
 * in IPv6 (mapped, compatible, NAT64, 6to4, Teredo) unwrapped and judged again, and every IPv6 address
 * outside global unicast (2000::/3) refused.
 */
import ipaddr from "ipaddr.js";
import { type BlockKind, IPV4_BLOCKS, IPV6_BLOCKS, type SpecialBlock } from "./special-addresses.js";

export interface AddressPolicy {
  /** Loopback addresses are allowed (BIFROST_ALLOW_HTTP_LOOPBACK=1: tests and local development). */
  allowLoopback: boolean;
  /** The integration has `private_network: true`: RFC 1918, CGNAT and unique-local addresses are allowed. */
  privateNetwork?: boolean;
}

interface CompiledBlock {
  bytes: number[];
  bits: number;
  block: SpecialBlock;
}

function compile(blocks: readonly SpecialBlock[]): CompiledBlock[] {
  return blocks.map((block) => {
    const [addr, bits] = ipaddr.parseCIDR(block.cidr);
    return { bytes: addr.toByteArray(), bits, block };
  });
}

/** The tables, compiled on first use: every workflow worker and `bifrost run` load this module, few contact a host. */
let v4: CompiledBlock[] | null = null;
let v6: CompiledBlock[] | null = null;
const V4 = (): CompiledBlock[] => (v4 ??= compile(IPV4_BLOCKS));
const V6 = (): CompiledBlock[] => (v6 ??= compile(IPV6_BLOCKS));

function inPrefix(bytes: readonly number[], c: CompiledBlock): boolean {
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((c.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The most specific block containing the address, or null. */
function lookupBlock(bytes: readonly number[], table: readonly CompiledBlock[]): SpecialBlock | null {
  let best: CompiledBlock | null = null;
  for (const c of table) if (inPrefix(bytes, c) && (!best || c.bits > best.bits)) best = c;
  return best?.block ?? null;
}

/**
 * Parse an IP literal strictly: IPv4 only in four-part decimal (`0x7f.1`, `2130706433`, `017700000001`
 * are not addresses here), IPv6 with optional brackets and zone id. Null when it is not an IP literal.
 */
export function parseIpLiteral(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const s = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (!s.includes(":")) return null;
  // ipaddr.js reads any dotted tail as IPv4-mapped (`::8.8.8.8` → `::ffff:8.8.8.8`): spell the tail in hex first.
  const tail = /(?<=:)(\d+\.\d+\.\d+\.\d+)(%.*)?$/.exec(s);
  let v6 = s;
  if (tail) {
    const v4 = tail[1] as string;
    if (!ipaddr.IPv4.isValidFourPartDecimal(v4)) return null;
    const [a, b, c, d] = ipaddr.IPv4.parse(v4).octets as [number, number, number, number];
    v6 = `${s.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${tail[2] ?? ""}`;
  }
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : null;
}

function v4String(bytes: readonly number[]): string {
  return bytes.join(".");
}

function judgeKind(kind: BlockKind, name: string, policy: AddressPolicy): string | null {
  switch (kind) {
    case "global":
      return null;
    case "loopback":
      return policy.allowLoopback ? null : name;
    case "private":
      return policy.privateNetwork ? null : name;
    default:
      return name;
  }
}

function judgeV4(bytes: readonly number[], policy: AddressPolicy): string | null {
  const block = lookupBlock(bytes, V4());
  return block ? judgeKind(block.kind, block.name, policy) : null;
}

/** The embedded IPv4 judged again: a reason naming both layers, or null when the embedded address is fine. */
function embedded(name: string, v4: readonly number[], policy: AddressPolicy): string | null {
  const why = judgeV4(v4, policy);
  return why ? `${name} embedding ${v4String(v4)}, ${why}` : null;
}

function judgeV6(bytes: readonly number[], policy: AddressPolicy): string | null {
  const block = lookupBlock(bytes, V6());
  if (!block) return ((bytes[0] ?? 0) & 0xe0) === 0x20 ? null : "an IPv6 address outside global unicast (2000::/3)";
  switch (block.kind) {
    case "mapped":
      // ::ffff:a.b.c.d is the IPv4 address itself on a dual-stack socket.
      return judgeV4(bytes.slice(12), policy);
    case "nat64":
      // A NAT64 gateway forwards to the embedded address; loopback never means this host there.
      return embedded(block.name, bytes.slice(12), { ...policy, allowLoopback: false });
    case "compatible":
      return embedded(block.name, bytes.slice(12), policy) ?? `${block.name} (deprecated; not reachable)`;
    case "nat64-local":
      // RFC 6052 /48: the IPv4 address sits in bytes 6, 7, 9 and 10 (byte 8 is reserved).
      return embedded(block.name, [bytes[6] ?? 0, bytes[7] ?? 0, bytes[9] ?? 0, bytes[10] ?? 0], policy) ?? block.name;
    case "6to4":
      return embedded(block.name, bytes.slice(2, 6), policy) ?? `${block.name} (transition relays are not used for outbound calls)`;
    case "teredo": {
      // The Teredo client address is the last 32 bits, inverted.
      const client = bytes.slice(12).map((b) => b ^ 0xff);
      return embedded(block.name, client, policy) ?? `${block.name} (transition relays are not used for outbound calls)`;
    }
    default:
      return judgeKind(block.kind, block.name, policy);
  }
}

/** Why an address must not be contacted under the policy ("a link-local address", …), or null. */
export function judgeAddress(ip: string, policy: AddressPolicy): string | null {
  const addr = parseIpLiteral(ip);
  if (!addr) return "not an IP address";
  const bytes = addr.toByteArray();
  return addr.kind() === "ipv4" ? judgeV4(bytes, policy) : judgeV6(bytes, policy);
}

/** True for loopback addresses (127/8, ::1, ::ffff:127.x.y.z): the only targets plain http may reach. */
export function isLoopbackAddress(ip: string): boolean {
  const addr = parseIpLiteral(ip);
  if (!addr) return false;
  let bytes = addr.toByteArray();
  if (addr.kind() === "ipv6") {
    const block = lookupBlock(bytes, V6());
    if (block?.kind === "loopback") return true;
    if (block?.kind !== "mapped") return false;
    bytes = bytes.slice(12);
  }
  return lookupBlock(bytes, V4())?.kind === "loopback";
}
