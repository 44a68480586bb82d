import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `hostname`, for a program that must be told its port
 * before it starts (a CLI server, a child process). Another process may take it in between; callers
 * that can listen on port 0 themselves should.
 */
export async function freePort(hostname = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, hostname, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
