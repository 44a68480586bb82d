import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type PlatformProcess } from '../test-support/platform-process.js';
import { ChannelClient, attachUrl } from './test-support/attach-harness.js';

const KEY = 'attach-slow-key-123456';
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssOf = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

/**
 * The platform in a process of its own (so its RSS is its own, not the client's): a 50 MB output
 * to a client that stops reading, then reads in short bursts. Paced output keeps the platform flat;
 * unpaced, the whole output would sit in its socket buffers (measured with pacing switched off: +44 MiB
 * while the client read nothing, against +10 MiB paced — mostly garbage not yet collected).
 */
describe('attach: a slow client', () => {
  let platform: PlatformProcess;
  let data: string;
  let agent: string;
  const headers = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'forge-attach-slow-'));
    platform = await startPlatformProcess({
      FORGE_API_KEYS: `alice:${KEY}`,
      FORGE_DATA_DIR: data,
      FORGE_PORT: '0',
      FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
    });
    const res = await fetch(`${platform.url}/api/v1/agents`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    });
    agent = ((await res.json()) as { agent_id: string }).agent_id;
    // A platform process opens its own PGlite: seconds on a loaded machine.
  }, 120_000);
  afterAll(async () => {
    await platform?.stop();
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('50 MB to a client that reads slowly: the platform RSS stays flat', async () => {
    // Warm up the attach path first, so what it loads once is not counted.
    const warm = await ChannelClient.open(
      attachUrl(platform.url, agent, { command: ['head', '-c', '4000000', '/dev/zero'] }),
      headers,
      false,
    );
    await warm.closed;
    const pid = platform.child.pid!;
    const total = 50 * 1024 * 1024;
    const c = await ChannelClient.open(
      attachUrl(platform.url, agent, { command: ['head', '-c', String(total), '/dev/zero'] }),
      headers,
      false,
    );
    const before = rssOf(pid);
    let peak = before;
    c.ws.pause();
    for (let i = 0; i < 20; i++) {
      await tick(50);
      peak = Math.max(peak, rssOf(pid));
    }
    const paused = peak - before;
    while (c.bytes < total) {
      c.ws.resume();
      await tick(2);
      c.ws.pause();
      peak = Math.max(peak, rssOf(pid));
      await tick(3);
    }
    c.ws.resume();
    await c.closed;
    expect(c.bytes).toBe(total);
    expect(c.status.status).toBe('Success');
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    expect(paused, `grew ${mib(paused)} while the client read nothing`).toBeLessThan(24 * 2 ** 20);
    expect(peak - before, `grew ${mib(peak - before)}`).toBeLessThan(40 * 2 ** 20);
  });
});
