import { lookup } from 'node:dns/promises';
import { WebhookUrlError } from './errors.js';
import { formatIp, inCidr, nonPublicReason, parseCidr, parseIp, type Cidr } from './ip.js';

export type Resolver = (host: string) => Promise<string[]>;

export interface UrlGuardOptions {
  /**
   * Lets webhooks reach non-public addresses: `true` for any, or a list of hostnames (matched exactly,
   * case-insensitive), IP addresses and CIDRs (`'127.0.0.1'`, `'10.0.0.0/8'`, `'fd00::/8'`).
   */
  allowPrivateNetworks?: boolean | string[];
  /** DNS for webhook hosts (default: the system resolver, as connections use it — /etc/hosts included). */
  resolve?: Resolver;
  /** How long `check` waits for DNS before calling the host unresolvable (default 5000). */
  resolveTimeoutMs?: number;
}

export interface CheckedUrl {
  /** The URL to POST to, without credentials. */
  url: URL;
  /** `Basic …` from credentials in the URL (`https://user:pass@host/`), which fetch refuses to send itself. */
  authorization?: string;
  /** For logs: scheme, host and path — never credentials or the query (it may hold a token). */
  display: string;
}

export interface UrlGuard {
  check(url: string): Promise<CheckedUrl>;
  /** Throws WEBHOOK_URL_REFUSED unless every address may be reached from `host`. */
  checkAddresses(host: string, addresses: string[]): void;
  readonly resolve: Resolver;
}

const MAX_URL_LENGTH = 2048;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

export function createUrlGuard(options: UrlGuardOptions = {}): UrlGuard {
  const allowAll = options.allowPrivateNetworks === true;
  const allowedHosts = new Set<string>();
  const allowedRanges: Cidr[] = [];
  if (Array.isArray(options.allowPrivateNetworks)) {
    for (const entry of options.allowPrivateNetworks) {
      const cidr = parseCidr(entry.trim());
      if (cidr) allowedRanges.push(cidr);
      else if (entry.includes('/')) throw new TypeError(`allowPrivateNetworks: "${entry}" is not a valid CIDR`);
      else allowedHosts.add(normalizeHost(entry));
    }
  }
  const resolve = options.resolve ?? systemResolver;

  const checkAddresses = (host: string, addresses: string[]) => {
    if (allowAll || allowedHosts.has(normalizeHost(host))) return;
    for (const text of addresses) {
      const address = parseIp(text);
      if (!address)
        throw new WebhookUrlError(
          'WEBHOOK_URL_REFUSED',
          `Webhook host ${host} resolved to something that is not an IP address`,
        );
      const reason = nonPublicReason(address);
      // An allow-listed range lets through its own family only: 127.0.0.1/32 does not admit ::ffff:127.0.0.1.
      if (reason && !allowedRanges.some((r) => inCidr(address, r))) {
        throw new WebhookUrlError(
          'WEBHOOK_URL_REFUSED',
          `Webhook host ${host} resolves to ${formatIp(address)}, a ${reason} address; allow it with allowPrivateNetworks`,
          { details: { host, address: text, reason } },
        );
      }
    }
  };

  return {
    resolve,
    checkAddresses,
    async check(raw) {
      if (typeof raw !== 'string' || raw.length === 0)
        throw new WebhookUrlError('WEBHOOK_URL_INVALID', 'The webhook URL is empty');
      if (raw.length > MAX_URL_LENGTH)
        throw new WebhookUrlError('WEBHOOK_URL_INVALID', `The webhook URL is longer than ${MAX_URL_LENGTH} characters`);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new WebhookUrlError('WEBHOOK_URL_INVALID', 'The webhook URL is not a valid absolute URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new WebhookUrlError(
          'WEBHOOK_URL_INVALID',
          `Webhook URLs must be http or https, not ${url.protocol.slice(0, -1)}`,
        );
      }
      let authorization: string | undefined;
      if (url.username || url.password) {
        const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
        authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
        url.username = '';
        url.password = '';
      }
      url.hash = '';
      // WHATWG URL has already normalised odd IPv4 spellings (2130706433, 0x7f.1) to dotted form.
      const host = url.hostname;
      const literal = parseIp(host);
      let addresses: string[];
      if (literal) addresses = [host.replace(/^\[|\]$/g, '')];
      else if (allowAll || allowedHosts.has(normalizeHost(host))) addresses = [];
      else {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeoutMs = options.resolveTimeoutMs ?? 5000;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`DNS gave no answer within ${timeoutMs} ms`)), timeoutMs);
          });
          addresses = await Promise.race([resolve(host), timeout]);
        } catch (error) {
          throw new WebhookUrlError(
            'WEBHOOK_URL_INVALID',
            `Webhook host ${host} could not be resolved (${(error as Error).message})`,
            { cause: error },
          );
        } finally {
          clearTimeout(timer);
        }
        if (addresses.length === 0)
          throw new WebhookUrlError('WEBHOOK_URL_INVALID', `Webhook host ${host} has no addresses`);
      }
      checkAddresses(host, addresses);
      return { url, display: displayUrl(url), ...(authorization ? { authorization } : {}) };
    },
  };
}

function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '');
}
