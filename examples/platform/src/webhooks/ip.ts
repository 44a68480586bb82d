import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * IP classification is ipaddr.js's (its IANA special-purpose registries), not ours: a webhook may
 * reach `unicast` addresses only, and an IPv6 address that carries an IPv4 one is judged by that
 * IPv4 address.
 */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A strict IP literal (dotted quad or IPv6, brackets and zone allowed); undefined for anything else. */
export function parseIp(text: string): IpAddress | undefined {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // node:net first: ipaddr.js also takes legacy spellings (0x7f.1, 2130706433) as addresses.
  if (!isIPv4(address) && !isIPv6(address)) return undefined;
  return ipaddr.parse(address.split('%')[0]!);
}

export function formatIp(address: IpAddress): string {
  return address.toString();
}

export interface Cidr {
  address: IpAddress;
  prefix: number;
}

/** `10.0.0.0/8`, `fc00::/7`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  if (slash < 0) return { address, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { address, prefix: Number(prefixText) };
}

export function inCidr(address: IpAddress, cidr: Cidr): boolean {
  if (address.kind() !== cidr.address.kind()) return false;
  return address.match(cidr.address, cidr.prefix);
}

const v4 = (bytes: number[]) => ipaddr.fromByteArray(bytes) as ipaddr.IPv4;

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms that embed one a host
 * may end up talking to: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
 */
export function embeddedIPv4(address: ipaddr.IPv6): { ipv4: ipaddr.IPv4; form: string } | undefined {
  const b = address.toByteArray();
  const range = address.range();
  if (range === 'ipv4Mapped') return { ipv4: v4(b.slice(12)), form: 'IPv4-mapped' };
  if (range === 'rfc6145') return { ipv4: v4(b.slice(12)), form: 'IPv4-translated' };
  if (range === 'rfc6052' && address.match(ipaddr.parse('64:ff9b::') as ipaddr.IPv6, 96))
    return { ipv4: v4(b.slice(12)), form: 'NAT64' };
  if (range === '6to4') return { ipv4: v4(b.slice(2, 6)), form: '6to4' };
  // ::/96 minus :: and ::1, which ipaddr.js classes as unspecified and loopback.
  if (b.slice(0, 12).every((x) => x === 0) && range !== 'unspecified' && range !== 'loopback')
    return { ipv4: v4(b.slice(12)), form: 'IPv4-compatible' };
  return undefined;
}

const DESCRIPTIONS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (incl. cloud metadata 169.254.169.254)',
  loopback: 'loopback',
  carrierGradeNat: 'shared (carrier-grade NAT)',
  private: 'private',
  reserved: 'reserved (documentation, benchmarking, future use)',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  teredo: 'Teredo (embeds an IPv4 address)',
  rfc6052: 'local-use NAT64',
};

/** Why an address is not public unicast, or undefined when it is. */
export function nonPublicReason(address: IpAddress): string | undefined {
  if (address.kind() === 'ipv6') {
    const embedded = embeddedIPv4(address as ipaddr.IPv6);
    if (embedded) {
      const reason = nonPublicReason(embedded.ipv4);
      return reason && `${reason}, embedded in IPv6 (${embedded.form})`;
    }
  }
  const range = address.range();
  if (range === 'unicast') return undefined;
  return DESCRIPTIONS[range] ?? `${range} (not unicast)`;
}
