import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
// Not re-exported by the package index (see packages/k8s/src/exec-runner.ts).
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { PassThrough, Readable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  ChannelClient,
  attachUrl,
  startAttachHarness,
  type AttachHarness,
} from './test-support/attach-harness.js';
import { gone, running, started } from './test-support/live-processes.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('attach: sessions, pacing, clean-up', () => {
  let h: AttachHarness;
  let agent: string;
  const bearer = { authorization: `Bearer ${ALICE}` };
  const open = (query: Record<string, string | string[]> = {}, keep = true) =>
    ChannelClient.open(attachUrl(h.platform.url, agent, query), bearer, keep);

  beforeAll(async () => {
    h = await startAttachHarness({ graceMs: 1500, maxPerUser: 3, highWaterMark: 256 * 1024 });
    agent = await h.newAgent();
  });
  afterAll(() => h?.close());

  it('a dropped connection ends the process tree once the grace period is over', async () => {
    const c = await open({ tty: 'true', command: ['sh'] });
    c.send('setsid sleep 349 & sleep 347 & echo bg-started\n');
    await c.until(/bg-started/);
    expect(await started(['sleep', '347'])).toHaveLength(1);
    expect(await started(['sleep', '349'])).toHaveLength(1);
    c.ws.terminate();
    await tick(300);
    // Still there inside the grace period…
    expect(running(['sleep', '347'])).toHaveLength(1);
    // …and gone after it, the one in a session of its own too.
    expect(await gone(['sleep', '347'])).toBe(true);
    expect(await gone(['sleep', '349'])).toBe(true);
  });

  it('re-attaching within the grace period shows the output missed meanwhile, then goes on', async () => {
    const session = 'reattach-session-0001';
    const c = await open({
      session,
      command: ['sh', '-c', 'read x; sleep 0.2; echo missed-$x; read y; echo after-$y'],
    });
    c.send('one\n');
    await tick(50);
    c.ws.terminate();
    await tick(500);
    const again = await open({ session });
    await again.until(/missed-one/);
    again.send('two\n');
    await again.closed;
    expect(again.stdout).toBe('missed-one\nafter-two\n');
    expect(again.status.status).toBe('Success');
    // A session no one re-attaches to is gone after the grace period; the same id then starts afresh.
  });

  it('a second connection to an attached session is refused', async () => {
    const session = 'double-session-000001';
    const c = await open({ session, command: ['sleep', '351'] });
    await expect(open({ session })).rejects.toMatchObject({ status: 409 });
    c.ws.close();
    await c.closed;
    const back = await open({ session });
    back.ws.close();
    await back.closed;
    expect(await gone(['sleep', '351'])).toBe(true);
  });

  it('caps open attachments per user', async () => {
    const open3 = await Promise.all([0, 1, 2].map(() => open({ command: ['sleep', '353'] })));
    await expect(open({ command: ['true'] })).rejects.toMatchObject({ status: 429 });
    for (const c of open3) c.ws.terminate();
    expect(await gone(['sleep', '353'])).toBe(true);
    // Freed once the grace periods are over: the platform releases a slot when it has seen its process exit,
    // which may come a moment after the process is gone from the process table.
    let c: Awaited<ReturnType<typeof open>> | undefined;
    for (let i = 0; !c; i++) {
      c = await open({ command: ['true'] }).catch((error: { status?: number }) => {
        if (error.status !== 429 || i >= 100) throw error;
        return new Promise<undefined>((resolve) => setTimeout(resolve, 100));
      });
    }
    await c.closed;
  });

  it("client-node's own Exec attaches to the platform's endpoint", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'forge', server: h.platform.url, skipTLSVerify: true }],
      users: [{ name: 'alice', token: ALICE }],
      contexts: [{ name: 'forge', cluster: 'forge', user: 'alice' }],
      currentContext: 'forge',
    });
    // Only the path differs from a pod's exec: the query, subprotocols, frames and Status are Kubernetes' own.
    const handler = new WebSocketHandler(kc, (uri, protocols, opts) => {
      const target = uri.replace(/\/api\/v1\/namespaces\/[^?]+\/exec/, `/api/v1/agents/${agent}/attach`);
      return new WebSocket(target, protocols, opts);
    });
    const exec = new Exec(kc, handler);
    const run = async (command: string[], input: string) => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (d: Buffer) => (text += d));
      const status = await new Promise<V1Status>((resolve, reject) => {
        exec
          .exec('ns', 'pod', 'c', command, stdout, new PassThrough(), Readable.from([input]), false, resolve)
          .catch(reject);
      });
      return { text, status };
    };
    const ok = await run(['cat'], 'through client-node\n');
    expect(ok).toEqual({ text: 'through client-node\n', status: { metadata: {}, status: 'Success' } });
    const failed = await run(['sh', '-c', 'cat >/dev/null; exit 2'], 'x');
    expect(failed.status.details?.causes?.[0]).toEqual({ reason: 'ExitCode', message: '2' });
  });
});
