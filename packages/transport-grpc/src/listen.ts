import type * as net from 'node:net';
import type { Logger } from '@forge/core';

/** Where a listening server can be reached: its port, and a host to put in a URL. */
export interface Listening {
  port: number;
  /** A wildcard address is not one to dial: the loopback of the same family stands in; IPv6 comes bracketed. */
  urlHost: string;
}

/**
 * Listens on `port` (0: any free one) and `host`. An error before listening rejects; one after it is only
 * logged (as `<name> error`), since the server is already serving and its owner decides when it closes.
 */
export async function listen(
  server: net.Server,
  port: number,
  host: string,
  logger: Logger,
  name: string,
): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`${name} error`, { error: String(error) }));
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return { port: (server.address() as net.AddressInfo).port, urlHost };
}
