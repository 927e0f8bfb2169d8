import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4-compatible IPv6 (`::a.b.c.d`, deprecated by RFC 4291): ipaddr.js has no range for it and calls it unicast. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');
/** NAT64's well-known prefix (RFC 6052), the IPv4 host in the last 32 bits; ipaddr.js's rfc6052 also has the local-use 64:ff9b:1::/48. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * Where clouds serve instance metadata, and with it the host's credentials: IPv4 link-local (AWS, GCP, Azure, OCI
 * at 169.254.169.254, ECS task credentials at 169.254.170.2), IPv6 link-local, AWS's fd00:ec2::254 and Alibaba's
 * 100.100.100.200. No webhook receiver lives there, so these are refused even where private targets are allowed.
 */
const INSTANCE_METADATA = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32'].map((cidr) => ipaddr.parseCIDR(cidr));

/**
 * `address` parsed, or null when it is not an address in a standard spelling (ipaddr.js would read
 * `1.2.3` as one). IPv6 goes through the URL parser's hexadecimal spelling first: ipaddr.js reads
 * `::a.b.c.d` as `::ffff:a.b.c.d`, and a resolver may answer `::8.8.8.8` for `::808:808`.
 */
function parseAddress(address: string): Address | null {
  const version = isIP(address);
  if (version === 4) return ipaddr.IPv4.parse(address);
  if (version !== 6) return null;
  try {
    return ipaddr.IPv6.parse(new URL(`http://[${address}]/`).hostname.slice(1, -1));
  } catch {
    return null; // a zone index (fe80::1%eth0), which URLs cannot carry
  }
}

function inAny(address: Address, ranges: readonly [Address, number][]): boolean {
  return ranges.some((range) => address.kind() === range[0].kind() && address.match(range));
}

/** The IPv4 address in the last 32 bits of an IPv6 one. */
function lastIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  return new ipaddr.IPv4(address.toByteArray().slice(12));
}

/**
 * The IPv4 host a packet to `address` reaches when `address` embeds one (IPv4-mapped, IPv4-compatible,
 * IPv4-translated, NAT64's well-known prefix, 6to4), the address itself when it does not, and null
 * when it embeds one that cannot be read off it (local-use NAT64 puts it where the operator chose;
 * Teredo reaches a relay's client).
 */
function destinationOf(address: Address): Address | null {
  if (address.kind() === 'ipv4') return address;
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || (range === 'unicast' && v6.match(IPV4_COMPATIBLE))) return lastIPv4(v6);
  if (range === '6to4') return new ipaddr.IPv4(v6.toByteArray().slice(2, 6));
  if (range === 'teredo') return null;
  if (range === 'rfc6052') return v6.match(NAT64_WELL_KNOWN) ? lastIPv4(v6) : null;
  return v6;
}

/**
 * Whether a webhook may be sent to `address`: only a global unicast address. Private, loopback,
 * link-local, carrier-grade NAT, unspecified, broadcast, multicast, documentation and other
 * reserved ranges are refused, and so are addresses that embed an IPv4 one (IPv4-mapped IPv6 is
 * judged by the IPv4 address inside; NAT64, 6to4, Teredo and the deprecated IPv4-compatible
 * `::a.b.c.d` are refused outright, since the host they reach is not the address shown). Anything
 * but an address in its standard spelling (what a resolver answers) is refused too.
 */
export function isPublicAddress(address: string): boolean {
  let parsed = parseAddress(address);
  if (parsed === null) return false;
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast' && !(parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE));
}

/**
 * Whether `address` is, or may reach, a cloud instance metadata service, in any spelling that
 * embeds one: refused whatever WEBHOOK_ALLOW_PRIVATE says. So is anything that is not an address,
 * and an embedded IPv4 host that cannot be told.
 */
export function mayReachInstanceMetadata(address: string): boolean {
  const parsed = parseAddress(address);
  const destination = parsed && destinationOf(parsed);
  return destination === null || inAny(destination, INSTANCE_METADATA);
}

/** One resolved address of a webhook's host: the one the request then connects to. */
export interface WebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (node's resolver by default; tests give their own). */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** A URL that may not be called: said in words a platform admin can act on. */
export class RefusedWebhookUrl extends Error {}

/**
 * Resolves the URL's host and checks every address it resolves to (an attacker controls which of
 * several the client would pick). An address where cloud instance metadata may be served always
 * refuses the URL; unless private targets are allowed, so does any address that is not public. The caller connects to the returned address only, never resolving the
 * name again, so a DNS answer that changes between this check and the request (DNS rebinding)
 * cannot point the request elsewhere.
 */
export async function resolveWebhookTarget(raw: string, options: { allowPrivate: boolean; resolve?: Resolve }): Promise<WebhookTarget> {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RefusedWebhookUrl('the URL must be http or https');
  // URL keeps an IPv6 literal in brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  try {
    addresses = await (options.resolve ?? systemResolve)(host);
  } catch {
    throw new RefusedWebhookUrl(`its host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new RefusedWebhookUrl(`its host ${host} does not resolve`);
  if (!options.allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) throw new RefusedWebhookUrl(`its host ${host} resolves to ${refused.address}, which is not a public address`);
  }
  const metadata = addresses.find((a) => mayReachInstanceMetadata(a.address));
  if (metadata) {
    throw new RefusedWebhookUrl(
      `its host ${host} resolves to ${metadata.address}, where cloud instance metadata may be served (link-local); refused even with WEBHOOK_ALLOW_PRIVATE`,
    );
  }
  const [first] = addresses;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
