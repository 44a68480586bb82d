import { signWebhook } from './webhooks/index.js';
import { describe, expect, it } from 'vitest';
import { testStore } from './test-support/api-harness.js';
import { startWebhookReceiver } from './webhook-receiver.js';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';

async function post(url: string, id: string, seq: number) {
  const body = JSON.stringify({
    event_type: 'agent.event',
    agent_id: 'agt_x',
    request_id: 'req_x',
    seq,
    is_final: false,
    event: { type: 'text.delta', seq },
  });
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(SECRET, id, ts, body),
    },
    body,
  });
  return res.status;
}

describe('startWebhookReceiver', () => {
  it('drops a redelivered webhook-id while it runs, and across a restart when given a store', async () => {
    const seen = (await testStore()).seenWebhooks;
    const first = await startWebhookReceiver({ secret: SECRET, seen });
    expect(await post(first.url, 'msg_dup_1', 1)).toBe(204);
    expect(await post(first.url, 'msg_dup_1', 1)).toBe(200);
    expect(first.received.map((w) => w.id)).toEqual(['msg_dup_1']);
    expect(first.duplicates).toBe(1);
    await first.close();

    const second = await startWebhookReceiver({ secret: SECRET, seen });
    expect(await post(second.url, 'msg_dup_1', 1)).toBe(200);
    expect(await post(second.url, 'msg_dup_2', 2)).toBe(204);
    expect(second.received.map((w) => w.id)).toEqual(['msg_dup_2']);
    await second.close();

    // Without a store, a restarted receiver cannot know.
    const forgetful = await startWebhookReceiver({ secret: SECRET });
    expect(await post(forgetful.url, 'msg_dup_1', 1)).toBe(204);
    await forgetful.close();
  });
});
