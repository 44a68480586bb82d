import { describe, expect, it } from 'vitest';
import { formatIp, inCidr, nonPublicReason, parseCidr, parseIp } from './ip.js';

const reason = (address: string) => nonPublicReason(parseIp(address)!);

describe('nonPublicReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['100.64.0.1', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.200', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['::ffff:0:a9fe:a9fe', 'embedded in IPv6 (IPv4-translated)'],
    ['::ffff:0:127.0.0.1', 'loopback, embedded'],
    ['::a9fe:a9fe', 'embedded in IPv6 (IPv4-compatible)'],
    ['::127.0.0.1', 'loopback, embedded'],
    ['64:ff9b:1::a9fe:a9fe', 'local-use NAT64'],
    ['2002:c0a8:0101::1', 'private, embedded in IPv6 (6to4)'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback, embedded in IPv6 (IPv4-mapped)'],
    ['::ffff:7f00:1', 'loopback, embedded'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'embedded in IPv6 (NAT64)'],
    ['2002:c0a8:0101::1', 'private'],
  ])('%s is %s', (address, expected) => {
    expect(reason(address)).toContain(expected);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '192.169.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
    '::ffff:0:808:808',
    '::8.8.8.8',
    '192.0.3.1',
    '203.0.114.1',
    '2001:db9::1',
  ])('%s is public', (address) => {
    expect(reason(address)).toBeUndefined();
  });
});

describe('parseIp / parseCidr', () => {
  it('parses compressed, bracketed and embedded forms', () => {
    expect(formatIp(parseIp('[::1]')!)).toBe('::1');
    expect(formatIp(parseIp('1:0::0')!)).toBe('1::');
    expect(formatIp(parseIp('::ffff:1.2.3.4')!)).toBe('::ffff:102:304');
    expect(formatIp(parseIp('fe80::1%eth0')!)).toBe('fe80::1');
    expect(parseIp('localhost')).toBeUndefined();
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('0x7f.1')).toBeUndefined();
    expect(parseIp('2130706433')).toBeUndefined();
  });
  it('matches CIDRs of both families, never across them', () => {
    expect(inCidr(parseIp('127.0.0.1')!, parseCidr('127.0.0.1/32')!)).toBe(true);
    expect(inCidr(parseIp('127.0.0.2')!, parseCidr('127.0.0.1/32')!)).toBe(false);
    expect(inCidr(parseIp('10.200.3.4')!, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(inCidr(parseIp('172.20.0.1')!, parseCidr('172.16.0.0/12')!)).toBe(true);
    expect(inCidr(parseIp('fd00::5')!, parseCidr('fd00::/8')!)).toBe(true);
    expect(inCidr(parseIp('::ffff:127.0.0.1')!, parseCidr('127.0.0.1/32')!)).toBe(false);
    expect(inCidr(parseIp('1.2.3.4')!, parseCidr('0.0.0.0/0')!)).toBe(true);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0/x')).toBeUndefined();
  });
});
