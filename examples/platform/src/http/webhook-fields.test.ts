import { ValidationError } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedDemoAgent } from '../providers/scripted-demo.js';
import { ALICE_KEY, readSse, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';
import type { WebhookDispatcherPort, WebhookOpenOptions } from '../webhook-port.js';

/** Records what the platform hands to webhook delivery; the real dispatcher is tested in ../webhooks. */
function recordingWebhooks() {
  const opened: WebhookOpenOptions[] = [];
  const port: WebhookDispatcherPort = {
    async open(options) {
      if (!options.url.startsWith('https://')) throw new ValidationError('WEBHOOK_URL_REFUSED', 'only https here');
      opened.push(options);
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      return { send: (e) => void (e.type === 'run.completed' && finish()), done };
    },
    close: async () => {},
  };
  return { port, opened };
}

describe('a message’s webhook fields: plain secrets and webhook_payload', () => {
  let h: ApiHarness;
  let agentId: string;
  const hooks = recordingWebhooks();

  beforeAll(async () => {
    h = await startApiHarness({ webhooks: hooks.port, providers: { scripted: scriptedDemoAgent() } });
    agentId = (await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } })).json.agent_id as string;
  });
  afterAll(() => h?.close());

  const send = (body: Record<string, unknown>) =>
    h.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hi', ...body } });
  const finished = async (requestId: string) =>
    readSse(
      await fetch(`${h.url}/api/v1/agents/${agentId}/events?request_id=${requestId}`, {
        headers: { authorization: `Bearer ${ALICE_KEY}` },
      }),
    );

  it('takes a plain secret as the raw HMAC key, and webhook_payload "native" through to delivery', async () => {
    const res = await send({
      webhook_url: 'https://hooks.example.com/forge',
      webhook_secret: 'optional-hmac-secret',
      webhook_payload: 'native',
    });
    expect(res.status, res.text).toBe(202);
    await finished(res.json.request_id as string);
    expect(hooks.opened).toContainEqual(
      expect.objectContaining({ secret: 'optional-hmac-secret', payload: 'native', requestId: res.json.request_id }),
    );
  });

  it('refuses a short plain secret, another payload form, and a payload form without a URL — each with its code', async () => {
    const short = await send({ webhook_url: 'https://hooks.example.com/forge', webhook_secret: 'short-secret' });
    expect([short.status, short.json.error.code]).toEqual([400, 'WEBHOOK_SECRET_INVALID']);
    expect(short.json.error.message).toContain('16 to 1024 characters');
    const bad = await send({ webhook_url: 'https://hooks.example.com/forge', webhook_payload: 'raw' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'INVALID_WEBHOOK_PAYLOAD']);
    const alone = await send({ webhook_payload: 'native' });
    expect([alone.status, alone.json.error.code]).toEqual([400, 'WEBHOOK_URL_REQUIRED']);
  });
});
