import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry, type AgentEvent } from '@forge/core';
import { claudeCode } from '@forge/claude-code';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from './api-keys.js';
import { apiClient } from './test-support/api-harness.js';
import { startPlatform, type Platform } from './app.js';
import { memoryLogger } from './logger.js';
import { PERMISSION_ID, scriptedDemoAgent } from './providers/scripted-demo.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import { createWebhookDispatcher } from './webhooks/index.js';
import { testConfig } from './test-support/test-config.js';

const KEY = 'e2e-alice-key-123456';
const BOB = 'e2e-bob-key-1234567';
const SECRET = 'whsec_ZTJlLXdlYmhvb2stc2VjcmV0LWJ5dGVzLTEyMzQ1Ng==';

/**
 * End to end: the real platform (startPlatform) on 127.0.0.1 with the real webhook dispatcher, a
 * real receiver verifying signatures, the scripted provider, and one run of the real Claude Code
 * CLI against the fake Anthropic API.
 */
describe('platform end to end', () => {
  let platform: Platform;
  let api: FakeAnthropicApi;
  let scratch: string;
  const logger = memoryLogger();
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-e2e-'));
    api = await startFakeAnthropicApi({
      respond: (req) =>
        req.hasToolResult
          ? { text: 'I listed the workspace for you.' }
          : { toolUse: { name: 'Bash', input: { command: 'ls', description: 'list files' } } },
    });
    const registry = createProviderRegistry();
    registry.register('scripted', scriptedDemoAgent({ delayMs: 5 }));
    registry.register(
      'claude-code',
      claudeCode({ bin: claudeBinPath(), env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') } }),
    );
    const config = {
      ...testConfig(),
      port: 0,
      dataDir: join(scratch, 'data'),
      apiKeys: parseApiKeyList(`alice:${KEY},bob:${BOB}`),
      defaultProvider: 'scripted',
      webhookAllowPrivate: ['127.0.0.1'],
    };
    platform = await startPlatform({
      config,
      logger,
      registry,
      // Fast retries, so "fails twice" and "never answers" take well under a second each.
      webhooks: createWebhookDispatcher({
        logger,
        allowPrivateNetworks: ['127.0.0.1'],
        retryBaseDelayMs: 20,
        retryMaxDelayMs: 100,
        requestTimeoutMs: 500,
        maxRetryWindowMs: 1_500,
      }),
    });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all(receivers.map((r) => r.close()));
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const receiver = async (behaviour?: Parameters<typeof startWebhookReceiver>[0]['behaviour']) => {
    const r = await startWebhookReceiver({ secret: SECRET, ...(behaviour ? { behaviour } : {}) });
    receivers.push(r);
    return r;
  };
  const call = (method: string, path: string, body?: unknown, key: string | null = KEY) =>
    apiClient(platform.url, KEY)(method, path, { key, ...(body !== undefined ? { body } : {}) });
  const newAgent = async (provider = 'scripted') => {
    const res = await call('POST', '/api/v1/agents', { owner_id: 'alice', provider });
    expect(res.status).toBe(201);
    return res.json.agent_id as string;
  };
  const send = async (
    agentId: string,
    content: string,
    hook: WebhookReceiver | undefined,
    extra: Record<string, unknown> = {},
  ) => {
    const res = await call('POST', `/api/v1/agents/${agentId}/messages?user_id=alice`, {
      content,
      ...(hook ? { webhook_url: hook.url, webhook_secret: SECRET } : {}),
      ...extra,
    });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('running');
    return res.json.request_id as string;
  };
  const checkOrder = (
    events: Array<{ payload: { seq: number; is_final: boolean; event_type: string; event: AgentEvent } }>,
  ) => {
    expect(events.map((w) => w.payload.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((w) => w.payload.is_final)).toHaveLength(1);
    expect(events.at(-1)!.payload).toMatchObject({
      is_final: true,
      event_type: 'agent.complete',
      event: { type: 'run.completed' },
    });
  };

  it('delivers every event signed, in seq order, is_final exactly once', async () => {
    const hook = await receiver();
    const agentId = await newAgent();
    const requestId = await send(agentId, 'hello webhooks', hook);
    const events = await hook.final(requestId);
    checkOrder(events);
    expect(events[0]!.payload).toMatchObject({ agent_id: agentId, request_id: requestId, event_type: 'agent.event' });
    expect(events.at(-1)!.payload.event).toMatchObject({
      result: { status: 'completed', text: 'You said: hello webhooks' },
    });
    expect(hook.rejected).toEqual([]);
  });

  it('retries a receiver that fails twice, then delivers everything in order', async () => {
    const hook = await receiver(({ n }) => (n <= 2 ? 503 : undefined));
    const agentId = await newAgent();
    const requestId = await send(agentId, 'flaky receiver', hook);
    const events = await hook.final(requestId);
    checkOrder(events);
    expect(hook.attempts).toBe(events.length + 2);
  });

  it('a receiver that never answers does not hold up other requests', async () => {
    const dead = await receiver(() => 'hang');
    const good = await receiver();
    const deadAgent = await newAgent();
    const goodAgent = await newAgent();
    const stuck = await send(deadAgent, 'to a dead receiver', dead);
    const fine = await send(goodAgent, 'to a good receiver', good);
    checkOrder(await good.final(fine));
    // The stuck request's run itself finished; only its delivery is stuck, and the API still answers.
    const sse = await fetch(`${platform.url}/api/v1/agents/${deadAgent}/events?request_id=${stuck}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(await sse.text()).toContain('"type":"run.completed"');
    expect((await call('GET', '/api/v1/agents')).status).toBe(200);
    expect(dead.received).toEqual([]);
  });

  it('refuses webhook URLs on private networks outside the allow-list, and malformed secrets', async () => {
    const agentId = await newAgent();
    for (const url of ['http://10.1.2.3/hook', 'http://127.0.0.2:9/hook', 'http://169.254.169.254/latest']) {
      const res = await call('POST', `/api/v1/agents/${agentId}/messages`, { content: 'x', webhook_url: url });
      expect(res.status, url).toBe(400);
      expect(res.json.error.code).toMatch(/^WEBHOOK_URL_/);
    }
    const hook = await receiver();
    const secret = await call('POST', `/api/v1/agents/${agentId}/messages`, {
      content: 'x',
      webhook_url: hook.url,
      webhook_secret: 'whsec_not*base64',
    });
    expect(secret.status).toBe(400);
    expect(secret.json.error.code).toBe('WEBHOOK_SECRET_INVALID');
    // Nothing ran: the agent is free.
    expect((await call('GET', `/api/v1/agents/${agentId}`)).json.busy).toBe(false);
  });

  it('interrupts a run mid-way: the webhook ends with a cancelled run.completed', async () => {
    const hook = await receiver();
    const agentId = await newAgent();
    const requestId = await send(agentId, 'please wait', hook);
    const res = await call('POST', `/api/v1/agents/${agentId}/interrupt?user_id=alice`);
    expect(res.status).toBe(200);
    const events = await hook.final(requestId);
    checkOrder(events);
    expect(events.at(-1)!.payload.event).toMatchObject({ result: { status: 'cancelled' } });
  });

  it('answers a permission request; the webhook sees the request, the decision and the result', async () => {
    const hook = await receiver();
    const agentId = await newAgent();
    const requestId = await send(agentId, 'may I have permission?', hook);
    while (
      !hook.received.some((w) => w.payload.request_id === requestId && w.payload.event.type === 'permission.requested')
    )
      await new Promise((r) => setTimeout(r, 10));
    const res = await call('POST', `/api/v1/agents/${agentId}/permissions/${PERMISSION_ID}`, { decision: 'deny' });
    expect(res.status).toBe(200);
    const events = await hook.final(requestId);
    checkOrder(events);
    expect(events.find((w) => w.payload.event.type === 'tool.result')!.payload.event).toMatchObject({
      output: 'permission deny',
      isError: true,
    });
  });

  it('refuses missing and wrong keys (logged without the key) and hides other users’ agents', async () => {
    expect((await call('GET', '/api/v1/agents', undefined, null)).status).toBe(401);
    expect((await call('GET', '/api/v1/agents', undefined, 'not-a-real-key-xyz')).status).toBe(401);
    expect(JSON.stringify(logger.lines)).not.toContain('not-a-real-key-xyz');
    const agentId = await newAgent();
    expect((await call('GET', `/api/v1/agents/${agentId}`, undefined, BOB)).status).toBe(404);
    expect((await call('POST', `/api/v1/agents/${agentId}/messages`, { content: 'hi' }, BOB)).status).toBe(404);
  });

  it('runs the real Claude Code CLI (against the fake model) with a Bash tool, in the agent’s workspace', async () => {
    const hook = await receiver();
    const agentId = await newAgent('claude-code');
    const requestId = await send(agentId, 'list my files', hook, { allowed_tools: ['Bash'] });
    const events = await hook.final(requestId);
    checkOrder(events);
    const types = events.map((w) => w.payload.event.type);
    expect(types).toContain('session.started');
    const call = events.find((w) => w.payload.event.type === 'tool.call')!.payload.event;
    expect(call).toMatchObject({ name: 'Bash', input: { command: 'ls' } });
    expect(events.at(-1)!.payload.event).toMatchObject({
      result: { status: 'completed', text: 'I listed the workspace for you.' },
    });
    const started = events[0]!.payload.event as Extract<AgentEvent, { type: 'session.started' }>;
    expect(started.cwd).toContain(join(agentId, 'workspace'));
  }, 60_000);
});
