import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Whether a webhook may be sent to `address`: only a global unicast address. Private, loopback,
 * link-local, carrier-grade NAT, unspecified, broadcast, multicast, documentation and other
 * reserved ranges are refused, and so are addresses that embed an IPv4 one (IPv4-mapped IPv6 is
 * judged by the IPv4 address inside; NAT64, 6to4 and Teredo are refused outright, since the host
 * they reach is not the address shown). Anything but an address in its standard spelling (what a
 * resolver answers) is refused too: ipaddr.js would read `1.2.3` as an address.
 */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 0) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
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
 * several the client would pick). Unless private targets are allowed, any address that is not
 * public refuses the URL. The caller connects to the returned address only, never resolving the
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
  const [first] = addresses;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
