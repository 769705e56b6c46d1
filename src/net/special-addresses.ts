/**
 * The reviewed table of special-purpose address blocks (IANA IPv4 and IPv6 Special-Purpose Address
 * Registries, with their "Globally Reachable" flag), plus multicast and the cloud metadata addresses.
 * ipaddr.js is used to parse addresses only: its `range()` names miss entries (100:0:0:1::/64,
 * GR anycast, NAT64 embedding), so the decision is made from this table. Review it against
 * https://www.iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry.
 *
 * `kind` decides what happens to an address in the block (the most specific block wins):
 * - `loopback`: allowed only with the loopback switch (tests, local development);
 * - `private`: allowed only for integrations with `private_network: true` (RFC 1918, CGNAT, ULA);
 * - `metadata`: never (cloud instance metadata and similar host services), whatever the switches;
 * - `denied`: never (not globally reachable, or anycast/AS112/AMT services nobody calls with a credential);
 * - `global`: a more specific block inside a denied one that the registry marks globally reachable;
 * - `mapped`, `compatible`, `nat64`, `nat64-local`, `6to4`, `teredo`: carry an IPv4 address that is judged again.
 */
export type BlockKind = "loopback" | "private" | "metadata" | "denied" | "global" | "mapped" | "compatible" | "nat64" | "nat64-local" | "6to4" | "teredo";

export interface SpecialBlock {
  cidr: string;
  /** What users read in an error: "a documentation address (192.0.2.0/24)". */
  name: string;
  /** IANA "Globally Reachable" (null: N/A in the registry, or not a registry entry). */
  globallyReachable: boolean | null;
  kind: BlockKind;
}

export const IPV4_BLOCKS: readonly SpecialBlock[] = [
  { cidr: "0.0.0.0/8", name: "an unspecified ('this network') address", globallyReachable: false, kind: "denied" },
  { cidr: "10.0.0.0/8", name: "a private address (RFC 1918)", globallyReachable: false, kind: "private" },
  { cidr: "100.64.0.0/10", name: "a shared (CGNAT) address", globallyReachable: false, kind: "private" },
  { cidr: "100.100.100.200/32", name: "a cloud metadata address", globallyReachable: null, kind: "metadata" },
  { cidr: "127.0.0.0/8", name: "a loopback address", globallyReachable: false, kind: "loopback" },
  { cidr: "168.63.129.16/32", name: "a cloud metadata address (Azure host service)", globallyReachable: null, kind: "metadata" },
  { cidr: "169.254.0.0/16", name: "a link-local address", globallyReachable: false, kind: "denied" },
  { cidr: "169.254.169.254/32", name: "a link-local cloud metadata address", globallyReachable: false, kind: "metadata" },
  { cidr: "169.254.170.2/32", name: "a link-local cloud metadata address (container credentials)", globallyReachable: false, kind: "metadata" },
  { cidr: "172.16.0.0/12", name: "a private address (RFC 1918)", globallyReachable: false, kind: "private" },
  { cidr: "192.0.0.0/24", name: "an IETF protocol assignment address", globallyReachable: false, kind: "denied" },
  { cidr: "192.0.0.9/32", name: "an anycast service address (PCP)", globallyReachable: true, kind: "denied" },
  { cidr: "192.0.0.10/32", name: "an anycast service address (TURN)", globallyReachable: true, kind: "denied" },
  { cidr: "192.0.2.0/24", name: "a documentation address (TEST-NET-1)", globallyReachable: false, kind: "denied" },
  { cidr: "192.31.196.0/24", name: "an AS112 service address", globallyReachable: true, kind: "denied" },
  { cidr: "192.52.193.0/24", name: "an AMT anycast address", globallyReachable: true, kind: "denied" },
  // Terminated 6to4 relay anycast (RFC 7526); 192.88.99.2/32 (6a44) is still listed with GR false.
  { cidr: "192.88.99.0/24", name: "a deprecated 6to4 relay address", globallyReachable: false, kind: "denied" },
  { cidr: "192.168.0.0/16", name: "a private address (RFC 1918)", globallyReachable: false, kind: "private" },
  { cidr: "192.175.48.0/24", name: "an AS112 service address", globallyReachable: true, kind: "denied" },
  { cidr: "198.18.0.0/15", name: "a benchmarking address", globallyReachable: false, kind: "denied" },
  { cidr: "198.51.100.0/24", name: "a documentation address (TEST-NET-2)", globallyReachable: false, kind: "denied" },
  { cidr: "203.0.113.0/24", name: "a documentation address (TEST-NET-3)", globallyReachable: false, kind: "denied" },
  { cidr: "224.0.0.0/4", name: "a multicast address", globallyReachable: null, kind: "denied" },
  { cidr: "240.0.0.0/4", name: "a reserved address", globallyReachable: false, kind: "denied" },
  { cidr: "255.255.255.255/32", name: "the broadcast address", globallyReachable: false, kind: "denied" },
];

export const IPV6_BLOCKS: readonly SpecialBlock[] = [
  { cidr: "::/128", name: "the unspecified address", globallyReachable: false, kind: "denied" },
  { cidr: "::1/128", name: "a loopback address", globallyReachable: false, kind: "loopback" },
  // Deprecated IPv4-compatible addresses (::a.b.c.d); :: and ::1 above are more specific.
  { cidr: "::/96", name: "an IPv4-compatible address", globallyReachable: null, kind: "compatible" },
  { cidr: "::ffff:0:0/96", name: "an IPv4-mapped address", globallyReachable: false, kind: "mapped" },
  { cidr: "64:ff9b::/96", name: "a NAT64 address", globallyReachable: true, kind: "nat64" },
  { cidr: "64:ff9b:1::/48", name: "a local-use NAT64 address", globallyReachable: false, kind: "nat64-local" },
  { cidr: "100::/64", name: "a discard-only address", globallyReachable: false, kind: "denied" },
  { cidr: "100:0:0:1::/64", name: "a dummy address (RFC 9780)", globallyReachable: false, kind: "denied" },
  { cidr: "2001::/23", name: "an IETF protocol assignment address", globallyReachable: false, kind: "denied" },
  { cidr: "2001::/32", name: "a Teredo address", globallyReachable: null, kind: "teredo" },
  { cidr: "2001:1::1/128", name: "an anycast service address (PCP)", globallyReachable: true, kind: "denied" },
  { cidr: "2001:1::2/128", name: "an anycast service address (TURN)", globallyReachable: true, kind: "denied" },
  { cidr: "2001:1::3/128", name: "an anycast service address (DNS-SD SRP)", globallyReachable: true, kind: "denied" },
  { cidr: "2001:2::/48", name: "a benchmarking address", globallyReachable: false, kind: "denied" },
  { cidr: "2001:3::/32", name: "an AMT address", globallyReachable: true, kind: "denied" },
  { cidr: "2001:4:112::/48", name: "an AS112 service address", globallyReachable: true, kind: "denied" },
  { cidr: "2001:20::/28", name: "an ORCHIDv2 address", globallyReachable: true, kind: "global" },
  { cidr: "2001:30::/28", name: "a DET address", globallyReachable: true, kind: "global" },
  { cidr: "2001:db8::/32", name: "a documentation address", globallyReachable: false, kind: "denied" },
  { cidr: "2002::/16", name: "a 6to4 address", globallyReachable: null, kind: "6to4" },
  { cidr: "2620:4f:8000::/48", name: "an AS112 service address", globallyReachable: true, kind: "denied" },
  { cidr: "3fff::/20", name: "a documentation address", globallyReachable: false, kind: "denied" },
  { cidr: "5f00::/16", name: "a segment routing (SRv6) address", globallyReachable: false, kind: "denied" },
  { cidr: "fc00::/7", name: "a private (unique local) address", globallyReachable: false, kind: "private" },
  { cidr: "fd00:ec2::23/128", name: "a cloud metadata address (AWS DNS)", globallyReachable: false, kind: "metadata" },
  { cidr: "fd00:ec2::254/128", name: "a cloud metadata address", globallyReachable: false, kind: "metadata" },
  { cidr: "fe80::/10", name: "a link-local address", globallyReachable: false, kind: "denied" },
  { cidr: "fec0::/10", name: "a deprecated site-local address", globallyReachable: null, kind: "denied" },
  { cidr: "ff00::/8", name: "a multicast address", globallyReachable: null, kind: "denied" },
];
