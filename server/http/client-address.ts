import ipaddr from "ipaddr.js";

/** Headers by which a proxy says a request came from elsewhere. */
const PROXY_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;

/** Matches addresses against the configured trusted proxies (IPs and CIDR ranges). */
export class TrustedProxies {
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(entries: readonly string[]) {
    this.ranges = entries.map((e) => {
      if (e.includes("/")) return ipaddr.parseCIDR(e);
      const addr = ipaddr.parse(e);
      return [addr, addr.kind() === "ipv4" ? 32 : 128];
    });
  }

  has(address: string): boolean {
    const addr = parse(address);
    if (!addr) return false;
    return this.ranges.some(
      ([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits),
    );
  }
}

/** Parses an address, turning IPv4-mapped IPv6 (::ffff:1.2.3.4) into IPv4. */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const addr = ipaddr.parse(address);
  return addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()
    ? (addr as ipaddr.IPv6).toIPv4Address()
    : addr;
}

/**
 * The client's address. The socket peer, unless the peer is a trusted proxy: then the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy.
 */
export function clientAddress(
  peer: string | undefined,
  headers: Headers,
  trusted: TrustedProxies,
): string | undefined {
  if (!peer || !trusted.has(peer)) return peer;
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => ipaddr.isValid(h));
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trusted.has(hops[i]!)) return hops[i];
  }
  return hops[0] ?? peer;
}

/** True when the request came straight from this host: a loopback peer and no proxy headers. */
export function isDirectLoopback(peer: string | undefined, headers: Headers): boolean {
  if (!peer) return false;
  const addr = parse(peer);
  if (addr?.range() !== "loopback") return false;
  return PROXY_HEADERS.every((h) => !headers.has(h));
}
