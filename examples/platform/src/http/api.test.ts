import { TransportError, ValidationError, type AgentEvent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '../backends/local-backend.js';
import { PERMISSION_ID, QUESTION_ID, scriptedDemoAgent } from '../providers/scripted-demo.js';
import { ALICE_KEY, BOB_KEY, readSse, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';
import type { WebhookDispatcherPort, WebhookOpenOptions } from '../webhook-port.js';

/** Records what the platform hands to webhook delivery; the real dispatcher is tested in ./webhooks and e2e. */
function recordingWebhooks() {
  const opened: Array<WebhookOpenOptions & { events: AgentEvent[] }> = [];
  const port: WebhookDispatcherPort = {
    async open(options) {
      if (!options.url.startsWith('https://')) throw new ValidationError('WEBHOOK_URL_REFUSED', 'only https here');
      const entry = { ...options, events: [] as AgentEvent[] };
      opened.push(entry);
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      return { send: (e) => (entry.events.push(e), e.type === 'run.completed' && finish()), done };
    },
    close: async () => {},
  };
  return { port, opened };
}

describe('the platform HTTP API (local backend, scripted provider)', () => {
  let h: ApiHarness;
  const hooks = recordingWebhooks();

  beforeAll(async () => {
    h = await startApiHarness({
      webhooks: hooks.port,
      providers: { scripted: scriptedDemoAgent(), other: scriptedAgent({ provider: 'other', steps: [] }) },
    });
  });
  afterAll(() => h?.close());

  const createAgent = async (key = ALICE_KEY, provider = 'scripted') => {
    const res = await h.call('POST', '/api/v1/agents', { key, body: { provider } });
    expect(res.status).toBe(201);
    return res.json.agent_id as string;
  };
  const events = async (agentId: string, requestId: string, key = ALICE_KEY, headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.url}/api/v1/agents/${agentId}/events?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${key}`, ...headers },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    return (await readSse(res)) as AgentEvent[];
  };

  it('refuses requests without a valid key, and logs the failure without the key', async () => {
    const none = await h.call('GET', '/api/v1/agents', { key: null });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    const wrong = await h.call('GET', '/api/v1/agents', { key: 'wrong-key-that-is-secret' });
    expect(wrong.status).toBe(401);
    const logged = h.logger.lines.filter((l) => l.message === 'authentication failed');
    expect(logged.map((l) => l.fields?.reason)).toEqual(['no key', 'invalid key']);
    expect(h.logger.text()).not.toContain('wrong-key-that-is-secret');
  });

  it('creates, lists, gets and deletes an agent', async () => {
    const res = await h.call('POST', '/api/v1/agents', { body: { owner_id: 'alice', provider: 'scripted' } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      user_id: 'alice',
      provider: 'scripted',
      phase: 'Running',
      ready: true,
      state: 'ready',
    });
    expect(res.json.agent_id).toMatch(/^agt_/);
    expect(new Date(res.json.created_at).toISOString()).toBe(res.json.created_at);
    const id = res.json.agent_id;
    const list = await h.call('GET', '/api/v1/agents?user_id=alice');
    expect(list.json.agents.map((a: { agent_id: string }) => a.agent_id)).toContain(id);
    const one = await h.call('GET', `/api/v1/agents/${id}?user_id=alice&refresh=true`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ agent_id: id, busy: false, live_request_ids: [] });
    expect(one.json.live_status).toMatchObject({
      reachable: true,
      provider: 'scripted',
      capabilities: { permissionReplies: true },
    });
    const del = await h.call('DELETE', `/api/v1/agents/${id}?user_id=alice&graceful=true`);
    expect(del.json).toMatchObject({ agent_id: id, deleted: true });
    expect((await h.call('GET', `/api/v1/agents/${id}`)).status).toBe(404);
    expect((await h.call('DELETE', `/api/v1/agents/${id}`)).status).toBe(404);
  });

  it('uses the default provider, and refuses an unknown one with 400', async () => {
    const res = await h.call('POST', '/api/v1/agents', { body: {} });
    expect(res.json.provider).toBe('scripted');
    const bad = await h.call('POST', '/api/v1/agents', { body: { provider: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('UNKNOWN_PROVIDER');
    await h.call('DELETE', `/api/v1/agents/${res.json.agent_id}`);
  });

  it("answers 404 for another user's agents and users, never 403", async () => {
    const id = await createAgent(ALICE_KEY);
    for (const [method, path] of [
      ['GET', `/api/v1/agents/${id}`],
      ['DELETE', `/api/v1/agents/${id}`],
      ['POST', `/api/v1/agents/${id}/messages`],
      ['POST', `/api/v1/agents/${id}/interrupt`],
      ['GET', `/api/v1/agents/${id}/events?request_id=req_x`],
    ] as const) {
      const res = await h.call(method, path, {
        key: BOB_KEY,
        ...(method === 'POST' ? { body: { content: 'hi' } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe('AGENT_NOT_FOUND');
    }
    expect((await h.call('GET', `/api/v1/agents/${id}?user_id=alice`, { key: BOB_KEY })).status).toBe(404);
    expect((await h.call('GET', '/api/v1/agents?user_id=alice', { key: BOB_KEY })).status).toBe(404);
    expect((await h.call('POST', '/api/v1/agents', { key: BOB_KEY, body: { owner_id: 'alice' } })).status).toBe(404);
    const bobs = await h.call('GET', '/api/v1/agents', { key: BOB_KEY });
    expect(bobs.json.agents).toEqual([]);
    // Still there for Alice.
    expect((await h.call('GET', `/api/v1/agents/${id}`)).status).toBe(200);
  });

  it('runs a message: 202 at once, events over SSE from seq 1 even when read late, and to the webhook', async () => {
    const id = await createAgent();
    const res = await h.call('POST', `/api/v1/agents/${id}/messages`, {
      body: {
        content: 'hello there',
        webhook_url: 'https://hooks.example.com/forge',
        webhook_secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
      },
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ agent_id: id, status: 'running' });
    const requestId = res.json.request_id as string;
    const seen = await events(id, requestId);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)).toMatchObject({
      type: 'run.completed',
      runId: requestId,
      result: { status: 'completed', text: 'You said: hello there' },
    });
    // Read again, resuming after seq 3.
    const resumed = await events(id, requestId, ALICE_KEY, { 'last-event-id': '3' });
    expect(resumed[0]!.seq).toBe(4);
    expect(resumed.length).toBe(seen.length - 3);
    const hook = hooks.opened.find((o) => o.requestId === requestId)!;
    expect(hook).toMatchObject({
      url: 'https://hooks.example.com/forge',
      agentId: id,
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
    });
    expect(hook.events.map((e) => e.seq)).toEqual(seen.map((e) => e.seq));
    // The agent's cwd is its own workspace.
    expect((seen[0] as Extract<AgentEvent, { type: 'session.started' }>).cwd).toContain(`${id}/workspace`);
  });

  it('refuses a webhook secret a Standard Webhooks verifier cannot read, and generates one when asked', async () => {
    const id = await createAgent();
    const send = (webhook_secret: string) =>
      h.call('POST', `/api/v1/agents/${id}/messages`, {
        body: { content: 'hi', webhook_url: 'https://hooks.example.com/forge', webhook_secret },
      });
    for (const bad of ['', 'short-secret', 'a secret with spaces', 'whsec_', 'whsec_not base64!']) {
      const res = await send(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.json.error.code).toBe('WEBHOOK_SECRET_INVALID');
    }
    const opened = hooks.opened.length;
    const generated = await send('generate');
    expect(generated.status).toBe(202);
    const secret = generated.json.webhook_secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await events(id, generated.json.request_id as string);
    // Opened to check the URL when the message is accepted, and again to deliver when it runs.
    expect(hooks.opened.slice(opened)).toContainEqual(
      expect.objectContaining({ secret, requestId: generated.json.request_id }),
    );
    // Returned once: a message with a secret of its own does not echo it.
    const own = await send(secret);
    expect(own.status).toBe(202);
    expect(own.json.webhook_secret).toBeUndefined();
    await events(id, own.json.request_id as string);
  });

  it('refuses bad messages with 400 and the core validation code', async () => {
    const id = await createAgent();
    const empty = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: '   ' } });
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('PROMPT_REQUIRED');
    const missing = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: {} });
    expect(missing.json.error.code).toBe('PROMPT_REQUIRED');
    const timeout = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'x', timeout_ms: -1 } });
    expect(timeout.json.error.code).toBe('INVALID_TIMEOUT');
    const json = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: '{not json' });
    expect(json.status).toBe(400);
    expect(json.json.error.code).toBe('INVALID_JSON');
    const url = await h.call('POST', `/api/v1/agents/${id}/messages`, {
      body: { content: 'x', webhook_url: 'http://10.0.0.1/' },
    });
    expect(url.status).toBe(400);
    expect(url.json.error.code).toBe('WEBHOOK_URL_REFUSED');
    const sessionType = await h.call('POST', `/api/v1/agents/${id}/messages`, {
      body: { content: 'x', session_id: 5 },
    });
    expect(sessionType.status).toBe(400);
  });

  it('queues a second message behind a live one (no 409), interrupts the live one, and the queued one runs next', async () => {
    const id = await createAgent();
    const res = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'please wait forever' } });
    const requestId = res.json.request_id;
    const stream = fetch(`${h.url}/api/v1/agents/${id}/events?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${ALICE_KEY}` },
    });
    const next = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'again' } });
    expect(next.status).toBe(202);
    expect(next.json).toMatchObject({ status: 'queued', queued_ahead: 0 });
    const agent = (await h.call('GET', `/api/v1/agents/${id}`)).json;
    expect(agent).toMatchObject({
      busy: true,
      live_request_ids: [requestId],
      queued_request_ids: [next.json.request_id],
    });
    const waiting = await h.call('GET', `/api/v1/agents/${id}/runs/${next.json.request_id}`);
    expect(waiting.json).toMatchObject({ status: 'queued', event_count: 0 });
    const stopped = await h.call('POST', `/api/v1/agents/${id}/interrupt`);
    expect(stopped.status).toBe(200);
    expect(stopped.json.interrupted).toEqual([{ request_id: requestId, status: 'cancelled' }]);
    const seen = (await readSse(await stream)) as AgentEvent[];
    expect(seen.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'cancelled' } });
    // The queued message runs now; its events and result stay readable after it ends.
    const after = await events(id, next.json.request_id);
    expect(after.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'completed', text: 'You said: again' },
    });
    const done = await h.call('GET', `/api/v1/agents/${id}/runs/${next.json.request_id}`);
    expect(done.json).toMatchObject({
      request_id: next.json.request_id,
      status: 'completed',
      result: { text: 'You said: again' },
      event_count: after.length,
    });
    expect(done.json.finished_at).toMatch(/^\d{4}-/);
    expect((await h.call('POST', `/api/v1/agents/${id}/interrupt`)).status).toBe(409);
  });

  it('lists an agent’s runs newest first in pages, and takes a queued run off the queue with DELETE', async () => {
    const id = await createAgent();
    const first = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'please wait forever' } });
    const ids = [first.json.request_id as string];
    for (const content of ['b', 'c'])
      ids.push((await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content } })).json.request_id);
    const page1 = await h.call('GET', `/api/v1/agents/${id}/runs?limit=2`);
    expect(page1.json.runs.map((r: { request_id: string }) => r.request_id)).toEqual([ids[2], ids[1]]);
    const page2 = await h.call('GET', `/api/v1/agents/${id}/runs?limit=2&cursor=${page1.json.next_cursor}`);
    expect(page2.json.runs.map((r: { request_id: string }) => r.request_id)).toEqual([ids[0]]);
    expect(page2.json.next_cursor).toBeUndefined();
    expect((await h.call('GET', `/api/v1/agents/${id}/runs?limit=0`)).status).toBe(400);
    const removed = await h.call('DELETE', `/api/v1/agents/${id}/runs/${ids[2]}`);
    expect(removed.status).toBe(200);
    expect(removed.json).toMatchObject({ request_id: ids[2], status: 'cancelled' });
    const running = await h.call('DELETE', `/api/v1/agents/${id}/runs/${ids[0]}`);
    expect(running.status).toBe(409);
    expect(running.json.error.code).toBe('RUN_NOT_QUEUED');
    expect((await h.call('GET', `/api/v1/agents/${id}/runs/${ids[0]}`, { key: BOB_KEY })).status).toBe(404);
    const cleared = await h.call('POST', `/api/v1/agents/${id}/interrupt?clear=true`);
    expect(cleared.json.interrupted.map((r: { request_id: string }) => r.request_id).sort()).toEqual(
      [ids[0], ids[1]].sort(),
    );
  });

  it('answers a permission request while the run waits', async () => {
    const id = await createAgent();
    const res = await h.call('POST', `/api/v1/agents/${id}/messages`, {
      body: { content: 'ask permission to run ls' },
    });
    const requestId = res.json.request_id;
    const stream = fetch(`${h.url}/api/v1/agents/${id}/events?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${ALICE_KEY}` },
    });
    // Until the request is seen, replies are 404; poll the run's state instead of sleeping.
    while (!h.runs.local(requestId)?.pendingPermissions.has(PERMISSION_ID)) await new Promise((r) => setImmediate(r));
    const bad = await h.call('POST', `/api/v1/agents/${id}/permissions/${PERMISSION_ID}`, {
      body: { decision: 'maybe' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_DECISION');
    expect(
      (await h.call('POST', `/api/v1/agents/${id}/permissions/perm_other`, { body: { decision: 'allow' } })).status,
    ).toBe(404);
    expect(
      (
        await h.call('POST', `/api/v1/agents/${id}/permissions/${PERMISSION_ID}`, {
          key: BOB_KEY,
          body: { decision: 'allow' },
        })
      ).status,
    ).toBe(404);
    const ok = await h.call('POST', `/api/v1/agents/${id}/permissions/${PERMISSION_ID}`, {
      body: { decision: 'allow' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ request_id: requestId, permission_id: PERMISSION_ID, decision: 'allow' });
    const seen = (await readSse(await stream)) as AgentEvent[];
    const types = seen.map((e) => e.type);
    expect(types.indexOf('permission.requested')).toBeLessThan(types.indexOf('tool.result'));
    expect(seen.find((e) => e.type === 'tool.result')).toMatchObject({ output: 'permission allow', isError: false });
    expect(seen.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
  });

  it('answers a question while the run waits: the event on SSE, typed 400/404/409', async () => {
    const id = await createAgent();
    const res = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'a question for you' } });
    const requestId = res.json.request_id;
    const stream = fetch(`${h.url}/api/v1/agents/${id}/events?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${ALICE_KEY}` },
    });
    while (!h.runs.local(requestId)?.pendingQuestions.has(QUESTION_ID)) await new Promise((r) => setImmediate(r));
    const path = `/api/v1/agents/${id}/questions/${QUESTION_ID}`;
    const shape = await h.call('POST', path, { body: { answers: ['Blue'] } });
    expect([shape.status, shape.json.error.code]).toEqual([400, 'INVALID_ANSWER']);
    const count = await h.call('POST', path, { body: { answers: [['Blue'], ['Red']] } });
    expect([count.status, count.json.error.code]).toEqual([400, 'INVALID_ANSWER']);
    const unknown = await h.call('POST', path, { body: { answers: [['Blue']], extra: 1 } });
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_FIELD']);
    const other = await h.call('POST', `/api/v1/agents/${id}/questions/q_other`, { body: { answers: [['Blue']] } });
    expect([other.status, other.json.error.code]).toEqual([404, 'QUESTION_NOT_FOUND']);
    expect((await h.call('POST', path, { key: BOB_KEY, body: { answers: [['Blue']] } })).status).toBe(404);
    const ok = await h.call('POST', path, { body: { answers: [['Blue']] } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ request_id: requestId, question_id: QUESTION_ID, answers: [['Blue']] });
    const seen = (await readSse(await stream)) as AgentEvent[];
    expect(seen.find((e) => e.type === 'question.requested')).toMatchObject({
      id: QUESTION_ID,
      questions: [{ options: [{ label: 'Blue' }, { label: 'Red' }], multiple: false, custom: true }],
    });
    expect(seen.find((e) => e.type === 'tool.result')).toMatchObject({ output: { answers: [['Blue']] } });
    expect(seen.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
    // Answered (and the run over): the question is gone.
    expect((await h.call('POST', path, { body: { answers: [['Red']] } })).status).toBe(404);
  });

  it('refuses a second answer to the same question with 409 while the run goes on', async () => {
    const id = await createAgent();
    const res = await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'question, then wait' } });
    const requestId = res.json.request_id;
    while (!h.runs.local(requestId)?.pendingQuestions.has(QUESTION_ID)) await new Promise((r) => setImmediate(r));
    const path = `/api/v1/agents/${id}/questions/${QUESTION_ID}`;
    expect((await h.call('POST', path, { body: { answers: [['Blue']] } })).status).toBe(200);
    const again = await h.call('POST', path, { body: { answers: [['Red']] } });
    expect([again.status, again.json.error.code]).toEqual([409, 'QUESTION_ANSWERED']);
    expect((await h.call('POST', `/api/v1/agents/${id}/interrupt`)).status).toBe(200);
  });

  it('answers unknown routes with 404, wrong methods with 405, unknown runs with 404, bad paths with 400', async () => {
    expect((await h.call('GET', '/api/v1/nothing')).status).toBe(404);
    const m = await h.call('PUT', '/api/v1/agents');
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toContain('GET');
    const id = await createAgent();
    expect((await h.call('GET', `/api/v1/agents/${id}/events`)).json.error.code).toBe('REQUEST_ID_REQUIRED');
    expect((await h.call('GET', `/api/v1/agents/${id}/events?request_id=req_nope`)).status).toBe(404);
    // An encoded slash names no resource: 400, never another route (path-routing.test.ts has the rest).
    const traversal = await h.call('GET', '/api/v1/agents/..%2F..%2Fetc');
    expect([traversal.status, traversal.json.error.code]).toEqual([400, 'INVALID_PATH']);
    expect((await h.call('GET', '/api/v1/remote-agents')).json).toEqual({ enabled: false, agents: [] });
  });

  it('serves the dashboard with a strict content security policy, without a key', async () => {
    const page = await h.call('GET', '/', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('/dashboard.js');
    expect((await h.call('GET', '/dashboard.js', { key: null })).headers.get('content-type')).toMatch(/javascript/);
    expect((await h.call('GET', '/healthz', { key: null })).json).toEqual({ ok: true, backend: 'local' });
  });
});

describe('server-side failures', () => {
  it('answers 500 without internals (logged in full) and 503 for an unreachable backend', async () => {
    const h = await startApiHarness({
      backend: (registry, dataDir) => {
        const real = localBackend({ dataDir, registry });
        return {
          ...real,
          list: async () => {
            throw new Error('disk exploded at /secret/path');
          },
          get: async () => {
            throw new TransportError('K8S_UNAVAILABLE', 'the Kubernetes API did not answer');
          },
        };
      },
    });
    try {
      const list = await h.call('GET', '/api/v1/agents');
      expect(list.status).toBe(500);
      expect(list.json).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal error' } });
      expect(list.headers.get('x-ratelimit-limit')).toBeTruthy();
      expect(h.logger.lines.find((l) => l.message === 'request failed')?.fields?.error).toContain('/secret/path');
      const one = await h.call('GET', '/api/v1/agents/agt_0123456789abcdef0123');
      expect(one.status).toBe(503);
      expect(one.json.error).toEqual({ code: 'K8S_UNAVAILABLE', message: 'the Kubernetes API did not answer' });
    } finally {
      await h.close();
    }
  });
});

describe('limits', () => {
  it('answers 429 QUEUE_FULL with Retry-After when an agent’s queue is full', async () => {
    const small = await startApiHarness({ maxQueuedPerAgent: 1 });
    try {
      const res = await small.call('POST', '/api/v1/agents', { body: {} });
      const id = res.json.agent_id as string;
      await small.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'please wait forever' } });
      expect((await small.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'x' } })).status).toBe(202);
      const full = await small.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'y' } });
      expect(full.status).toBe(429);
      expect(full.json.error.code).toBe('QUEUE_FULL');
      expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
      await small.call('POST', `/api/v1/agents/${id}/interrupt?clear=true`);
    } finally {
      await small.close();
    }
  });

  it('rate-limits per key with 429, Retry-After and X-RateLimit headers', async () => {
    const h = await startApiHarness({ api: { rateLimitPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await h.call('GET', '/api/v1/agents');
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.json.error.code).toBe('RATE_LIMITED');
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(last!.headers.get('x-ratelimit-limit')).toBe('3');
      expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(last!.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      // Another key has its own budget.
      const bob = await h.call('GET', '/api/v1/agents', { key: BOB_KEY });
      expect(bob.status).toBe(200);
      expect(bob.headers.get('x-ratelimit-remaining')).toBe('2');
    } finally {
      await h.close();
    }
  });

  it('slows down key guessing: too many failed authentications from one address get 429', async () => {
    const h = await startApiHarness({ api: { authFailuresPerMinute: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await h.call('GET', '/api/v1/agents', { key: `guess-${i}-xxxxxxxx` })).status);
      expect(statuses).toEqual([401, 401, 429]);
      expect((await h.call('GET', '/api/v1/agents')).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('caps live agents per key with 429 and Retry-After', async () => {
    const h = await startApiHarness({ api: { maxAgentsPerKey: 2 } });
    try {
      const made = await Promise.all([1, 2, 3].map(() => h.call('POST', '/api/v1/agents', { body: {} })));
      expect(made.map((r) => r.status).sort()).toEqual([201, 201, 429]);
      const refused = made.find((r) => r.status === 429)!;
      expect(refused.json.error.code).toBe('AGENT_LIMIT');
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect((await h.call('POST', '/api/v1/agents', { key: BOB_KEY, body: {} })).status).toBe(201);
      await h.call('DELETE', `/api/v1/agents/${made.find((r) => r.status === 201)!.json.agent_id}`);
      expect((await h.call('POST', '/api/v1/agents', { body: {} })).status).toBe(201);
    } finally {
      await h.close();
    }
  });
});
