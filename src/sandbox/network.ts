// A sandboxed server's network allow-list (docs/sandbox.md, "Network"): `host:port`
// entries, matched exactly (the host case-insensitively, the port as a number), and the
// addresses a name may resolve to. A name may reach only public addresses: one that
// resolves to a loopback, private, link-local or otherwise non-public address is refused
// (DNS rebinding: a public name turned toward the host's own services) unless the entry
// names that place itself: an IP literal, or `localhost` (loopback only).

import { BlockList, isIP } from 'node:net';

/** One allow-list entry: a host (lower case; an IPv6 literal without brackets) and a port. */
export interface NetworkEntry {
  readonly host: string;
  readonly port: number;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?)*$/;

/** A host as a request or an entry names it: lower case, no trailing dot, no brackets. */
export function normalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** A host and port as text: `[::1]:80` for an IPv6 literal. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** `host:port` (`[v6]:port`) as an entry, or the problem with it. */
export function parseNetworkEntry(text: string): NetworkEntry | string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  if (match === null) return 'a network entry is "host:port" ("[::1]:port" for IPv6)';
  const host = normalHost(match[1] as string);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return 'a port is 1 to 65535';
  if (isIP(host) === 0 && !HOST_NAME.test(host)) return `"${host}" is not a host name`;
  return { host, port };
}

/** The entry that allows `host:port`, or undefined. */
export function allowedEntry(
  list: readonly NetworkEntry[],
  host: string,
  port: number,
): NetworkEntry | undefined {
  const wanted = normalHost(host);
  return list.find((entry) => entry.host === wanted && entry.port === port);
}

/**
 * Addresses no name may resolve to (IANA special-purpose registries, and multicast), one
 * list per family: Node checks an IPv4 address against IPv6 rules as IPv4-mapped, which
 * the IPv6 list refuses whole.
 */
const NON_PUBLIC_V4 = new BlockList();
const NON_PUBLIC_V6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC_V4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-mapped, IPv4-compatible and translated addresses: refused whole rather than unpacked.
  ['::ffff:0:0', 96],
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC_V6.addSubnet(net, prefix, 'ipv6');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * Why `entry` may not connect to `address` (one of the addresses its host resolved to), or
 * null. An IP literal reaches itself only; `localhost` reaches loopback only; any other
 * name reaches public addresses only.
 */
export function addressProblem(entry: NetworkEntry, address: string): string | null {
  if (isIP(address) === 0) return `${address} is not an IP address`;
  if (isIP(entry.host) !== 0) {
    return normalHost(address) === entry.host ? null : `${address} is not ${entry.host}`;
  }
  if (entry.host === 'localhost') {
    return LOOPBACK.check(address, familyOf(address))
      ? null
      : `localhost resolved to ${address}, not a loopback address`;
  }
  const family = familyOf(address);
  return (family === 'ipv4' ? NON_PUBLIC_V4 : NON_PUBLIC_V6).check(address, family)
    ? `${entry.host} resolved to ${address}, a loopback, private or reserved address (allow it by its address, not its name)`
    : null;
}
