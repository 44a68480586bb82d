import { describe, expect, it } from 'vitest';
import { ValidationError } from '@forge/core';
import { WebhookUrlError } from './errors.js';
import { createUrlGuard, type Resolver } from './url-guard.js';

const dns: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['10.0.0.7'],
  'mixed.example.com': ['93.184.216.34', '192.168.0.10'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
  'empty.example.com': [],
};
const resolve: Resolver = async (host) => {
  const addresses = dns[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses;
};

async function failure(promise: Promise<unknown>): Promise<WebhookUrlError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookUrlError);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as WebhookUrlError).category).toBe('validation');
    return error as WebhookUrlError;
  }
  throw new Error('expected a WebhookUrlError');
}

describe('createUrlGuard().check', () => {
  const guard = createUrlGuard({ resolve });

  it('accepts a public host and keeps the query, dropping credentials into a Basic header', async () => {
    const ok = await guard.check('https://alice:s3cr%40t@hooks.example.com/forge?token=abc#frag');
    expect(ok.url.href).toBe('https://hooks.example.com/forge?token=abc');
    expect(ok.authorization).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
    expect(ok.display).toBe('https://hooks.example.com/forge?…');
    expect((await guard.check('http://8.8.8.8:8080/x')).display).toBe('http://8.8.8.8:8080/x');
  });

  it.each([
    ['', 'WEBHOOK_URL_INVALID'],
    ['not a url', 'WEBHOOK_URL_INVALID'],
    ['ftp://hooks.example.com/', 'WEBHOOK_URL_INVALID'],
    ['file:///etc/passwd', 'WEBHOOK_URL_INVALID'],
    [`https://hooks.example.com/${'a'.repeat(3000)}`, 'WEBHOOK_URL_INVALID'],
    ['https://nowhere.example.com/', 'WEBHOOK_URL_INVALID'],
    ['https://empty.example.com/', 'WEBHOOK_URL_INVALID'],
    ['http://127.0.0.1:8080/', 'WEBHOOK_URL_REFUSED'],
    ['http://2130706433/', 'WEBHOOK_URL_REFUSED'], // 127.0.0.1 spelled as a number
    ['http://0x7f.1/', 'WEBHOOK_URL_REFUSED'],
    ['http://[::1]/', 'WEBHOOK_URL_REFUSED'],
    ['http://[::ffff:169.254.169.254]/', 'WEBHOOK_URL_REFUSED'],
    ['http://[fd00::1]/', 'WEBHOOK_URL_REFUSED'],
    ['http://[::ffff:0:a9fe:a9fe]/', 'WEBHOOK_URL_REFUSED'], // IPv4-translated 169.254.169.254
    ['http://[::a9fe:a9fe]/', 'WEBHOOK_URL_REFUSED'], // IPv4-compatible
    ['http://[2001::1]/', 'WEBHOOK_URL_REFUSED'], // Teredo
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'WEBHOOK_URL_REFUSED'],
    ['http://[2002:a9fe:a9fe::1]/', 'WEBHOOK_URL_REFUSED'], // 6to4
    ['http://[64:ff9b::7f00:1]/', 'WEBHOOK_URL_REFUSED'], // NAT64
    ['http://[100::1]/', 'WEBHOOK_URL_REFUSED'], // discard-only
    ['http://192.0.2.10/', 'WEBHOOK_URL_REFUSED'], // documentation ranges
    ['http://198.51.100.10/', 'WEBHOOK_URL_REFUSED'],
    ['http://203.0.113.10/', 'WEBHOOK_URL_REFUSED'],
    ['http://[2001:db8::1]/', 'WEBHOOK_URL_REFUSED'],
    ['http://[fe80::1]/', 'WEBHOOK_URL_REFUSED'],
    ['http://0.0.0.0/', 'WEBHOOK_URL_REFUSED'],
    ['http://169.254.169.254/latest/meta-data/', 'WEBHOOK_URL_REFUSED'],
    ['http://localhost:3000/', 'WEBHOOK_URL_REFUSED'],
    ['http://internal.example.com/', 'WEBHOOK_URL_REFUSED'],
    ['http://metadata.example.com/', 'WEBHOOK_URL_REFUSED'],
    ['http://mapped.example.com/', 'WEBHOOK_URL_REFUSED'],
    ['http://mixed.example.com/', 'WEBHOOK_URL_REFUSED'], // one private address is enough
  ])('%s → %s', async (url, code) => {
    expect((await failure(guard.check(url))).code).toBe(code);
  });

  it('says which address and why, and never echoes credentials', async () => {
    const error = await failure(guard.check('http://user:hunter2@internal.example.com/'));
    expect(error.message).toContain('10.0.0.7');
    expect(error.message).toContain('private');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it('lets an allow-list of CIDRs, addresses and hostnames through, and nothing else', async () => {
    const allowing = createUrlGuard({
      resolve,
      allowPrivateNetworks: ['127.0.0.1/32', '10.0.0.0/8', '::1', 'metadata.example.com'],
    });
    await allowing.check('http://127.0.0.1:9/');
    await allowing.check('http://[::1]:9/');
    await allowing.check('http://internal.example.com/');
    await allowing.check('http://metadata.example.com/');
    await allowing.check('http://localhost/'); // 127.0.0.1 and ::1, both allowed
    expect((await failure(allowing.check('http://127.0.0.2/'))).code).toBe('WEBHOOK_URL_REFUSED');
    expect((await failure(allowing.check('http://192.168.0.1/'))).code).toBe('WEBHOOK_URL_REFUSED');
    expect((await failure(allowing.check('http://mapped.example.com/'))).code).toBe('WEBHOOK_URL_REFUSED');
  });

  it('calls a host whose DNS never answers unresolvable, after resolveTimeoutMs', async () => {
    const stuck = createUrlGuard({ resolve: () => new Promise<string[]>(() => {}), resolveTimeoutMs: 20 });
    const error = await failure(stuck.check('https://slow-dns.example.com/'));
    expect(error.code).toBe('WEBHOOK_URL_INVALID');
    expect(error.message).toContain('no answer within 20 ms');
  });

  it('allows everything with true, and refuses a malformed CIDR up front', async () => {
    await createUrlGuard({ resolve, allowPrivateNetworks: true }).check('http://169.254.169.254/');
    expect(() => createUrlGuard({ allowPrivateNetworks: ['10.0.0.0/40'] })).toThrow(/not a valid CIDR/);
  });
});
