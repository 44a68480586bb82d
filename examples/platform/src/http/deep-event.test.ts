import { claudeCode } from '@forge/claude-code';
import type { AgentEvent, ProcessRunner } from '@forge/core';
import { fakeProcessRunner } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_KEY, readSse, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';
import type { WebhookDispatcherPort } from '../webhook-port.js';

/**
 * Issue 16: a tool input nested ~6,000 deep parses, but serialising it overflowed the stack, so the live SSE reader
 * was dropped without run.completed, a late reader got a truncated stream and the webhook skipped that seq.
 * The CLI's stream-json lines are modelled on the recording in packages/claude-code/src/__fixtures__/tool.jsonl.
 */
const DEPTH = 6_000;
const session = 'c2a5f77a-b6ac-4d5b-af54-44da97fd4310';
const deepInput = `{"command":"echo hi","nested":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}`;
const lines = [
  `{"type":"system","subtype":"init","cwd":"/work","session_id":"${session}","tools":["Bash"],"model":"claude-opus-4-8","permissionMode":"default"}`,
  `{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-4-8","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":${deepInput}}],"usage":{"input_tokens":12,"output_tokens":1}},"parent_tool_use_id":null,"session_id":"${session}"}`,
  `{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_1","type":"tool_result","content":"hi","is_error":false}]},"parent_tool_use_id":null,"session_id":"${session}"}`,
  `{"type":"assistant","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-opus-4-8","content":[{"type":"text","text":"Done."}],"usage":{"input_tokens":12,"output_tokens":3}},"parent_tool_use_id":null,"session_id":"${session}"}`,
  `{"type":"result","subtype":"success","is_error":false,"duration_ms":163,"num_turns":2,"result":"Done.","session_id":"${session}","total_cost_usd":0.00082,"usage":{"input_tokens":24,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4}}`,
].map((l) => `${l}\n`);

describe('an event nested 6,000 deep reaches every consumer', () => {
  let h: ApiHarness;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const hooked: AgentEvent[] = [];
  const webhooks: WebhookDispatcherPort = {
    async open() {
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      return {
        // A webhook body is JSON: serialise as the dispatcher does, so an event it could not send fails here.
        send: (e) => {
          hooked.push(JSON.parse(JSON.stringify(e)));
          if (e.type === 'run.completed') finish();
        },
        done,
      };
    },
    close: async () => {},
  };
  // The CLI starts only once the live reader is attached, so every event reaches it live.
  const fake = fakeProcessRunner({ stdout: lines });
  const runner: ProcessRunner = { spawn: async (...args) => (await gate, fake.spawn(...args)) };

  beforeAll(async () => {
    h = await startApiHarness({ webhooks, providers: { claude: claudeCode({ runner }) } });
  });
  afterAll(() => h?.close());

  it('live SSE reader, late reader and webhook all get every seq and run.completed', async () => {
    const agent = await h.call('POST', '/api/v1/agents', { body: { provider: 'claude' } });
    const id = agent.json.agent_id as string;
    const sent = await h.call('POST', `/api/v1/agents/${id}/messages`, {
      body: { content: 'run it', webhook_url: 'https://hooks.example.com/forge' },
    });
    expect(sent.status).toBe(202);
    const requestId = sent.json.request_id as string;
    const url = `${h.url}/api/v1/agents/${id}/events?request_id=${requestId}`;
    const live = fetch(url, { headers: { authorization: `Bearer ${ALICE_KEY}` } });
    while (!h.runs.local(requestId)?.listeners.size) await new Promise((r) => setImmediate(r));
    release();

    const seen = (await readSse(await live)) as AgentEvent[];
    expect(seen.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed', text: 'Done.' } });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    const call = seen.find((e) => e.type === 'tool.call');
    expect(JSON.stringify(call)).toContain('{"$truncated":"depth>64"}');
    expect(call).toMatchObject({ name: 'Bash', input: { command: 'echo hi' } });

    const late = (await readSse(
      await fetch(url, { headers: { authorization: `Bearer ${ALICE_KEY}` } }),
    )) as AgentEvent[];
    expect(late.map((e) => e.seq)).toEqual(seen.map((e) => e.seq));
    expect(late.at(-1)?.type).toBe('run.completed');

    await h.runs.idle();
    expect(hooked.map((e) => e.seq)).toEqual(seen.map((e) => e.seq));
  });
});
