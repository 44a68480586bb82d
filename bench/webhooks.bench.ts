import { createHmac, createSecretKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentEvent } from '@forge/core';
import { createWebhookDispatcher, signWebhook, verifyWebhook, webhookPayload } from '@forge/example-platform/webhooks';
import { createRequire } from 'node:module';
import { compare, type BenchModule } from './harness.js';

// The platform's own undici (its webhook transport), for the second baseline; typed here, as bench/ does not
// depend on it.
interface UndiciClient {
  request(options: {
    path: string;
    method: string;
    headers: Record<string, string>;
    body: string;
  }): Promise<{ body: { dump(): Promise<void> } }>;
  close(): Promise<void>;
}
const { Client } = createRequire(new URL('../examples/platform/package.json', import.meta.url))('undici') as {
  Client: new (origin: string) => UndiciClient;
};

const N = 2_000;
const SECRET = `whsec_${Buffer.from('bench-secret-bench-secret-123456').toString('base64')}`;
const events: AgentEvent[] = Array.from({ length: N }, (_, i) =>
  i === N - 1
    ? {
        runId: 'run_bench',
        seq: N,
        time: 0,
        provider: 'bench',
        type: 'run.completed',
        result: {
          status: 'completed',
          text: '',
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
          durationMs: 0,
          turns: 1,
        },
      }
    : { runId: 'run_bench', seq: i + 1, time: 0, provider: 'bench', type: 'text.delta', text: `token ${i} ` },
);

/** Webhook delivery and signing, each against the bare Node primitive it is built on. */
const bench: BenchModule = {
  title: 'platform webhooks',
  async run() {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: ['127.0.0.1'] });
    const agent = new http.Agent({ keepAlive: true });
    const bodies = events.map((e) => JSON.stringify(webhookPayload('agent_bench', 'req_bench', e)));
    try {
      let request = 0;
      const ours = async () => {
        const channel = await dispatcher.open({
          url,
          secret: SECRET,
          agentId: 'agent_bench',
          requestId: `req_${++request}`,
        });
        for (const e of events) channel.send(e);
        const report = await channel.done;
        if (report.delivered !== N) throw new Error(`delivered ${report.delivered}`);
      };
      // The floor: the same bodies POSTed one after another on a keep-alive connection, unsigned.
      const bare = async () => {
        for (const body of bodies) {
          await new Promise<void>((resolve, reject) => {
            const req = http.request(
              url,
              {
                method: 'POST',
                agent,
                headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
              },
              (res) => {
                res.resume();
                res.on('end', resolve);
              },
            );
            req.on('error', reject);
            req.end(body);
          });
        }
      };
      const delivery = await compare(N, ours, bare, 5, 'cpu');
      // The same floor through undici's client (what ours POSTs with), for scale: how much of the row is the library.
      const client = new Client(new URL(url).origin);
      const bareUndici = async () => {
        for (const body of bodies) {
          const res = await client.request({
            path: '/hook',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.body.dump();
        }
      };
      const viaUndici = await compare(N, ours, bareUndici, 5, 'cpu');
      await client.close();

      const key = createSecretKey(Buffer.from('bench-secret-bench-secret-123456'));
      const body = bodies[0]!;
      const M = 50_000;
      const sign = await compare(
        M,
        () => {
          for (let i = 0; i < M; i++) signWebhook(SECRET, 'msg_1', 1_700_000_000, body);
        },
        () => {
          for (let i = 0; i < M; i++) createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
        },
      );
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': '1700000000',
        'webhook-signature': signWebhook(SECRET, 'msg_1', 1_700_000_000, body),
      };
      const now = () => 1_700_000_000_000;
      const verify = await compare(
        M,
        () => {
          for (let i = 0; i < M; i++) verifyWebhook(SECRET, headers, body, { now });
        },
        () => {
          for (let i = 0; i < M; i++) createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
        },
      );
      return [
        {
          name: 'ordered signed delivery to a 127.0.0.1 receiver (CPU time of sender and receiver, one process)',
          unit: 'events/s',
          ours: delivery.ours,
          baseline: delivery.baseline,
          baselineName: 'bare sequential http.request, keep-alive, unsigned, bodies serialised beforehand',
          goal: 0.8,
          note: 'ours also builds, serializes, ids and signs each event; one POST in flight per request by design',
        },
        {
          name: 'the same vs a bare sequential POST through undici',
          unit: 'events/s',
          ours: viaUndici.ours,
          baseline: viaUndici.baseline,
          baselineName: 'bare sequential undici Client.request, keep-alive, unsigned, bodies serialised beforehand',
          note: 'ours POSTs through undici since 2026-12-07; the row above keeps node:http as the floor',
        },
        {
          name: 'signWebhook (secret parsed per call)',
          unit: 'sigs/s',
          ours: sign.ours,
          baseline: sign.baseline,
          baselineName: 'createHmac with a ready key',
        },
        {
          name: 'verifyWebhook (parse headers, HMAC, compare, JSON.parse)',
          unit: 'verifies/s',
          ours: verify.ours,
          baseline: verify.baseline,
          baselineName: 'createHmac with a ready key',
        },
      ];
    } finally {
      await dispatcher.close();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
};
export default bench;
