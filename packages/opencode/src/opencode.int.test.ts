import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import type { CodeAgent } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opencode, startOpencodeServer, type OpencodeServer } from './index.js';
import {
  afterToolResult,
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  startFakeOpenAiApi,
  type ChatRequest,
  type FakeOpenAiApi,
  type FakeReply,
} from './testing/index.js';
import { processesLeftUsing } from './test-support/processes-using.js';

/** Scripted by markers in the prompt, so each test picks its model behaviour. */
function reply(request: ChatRequest): FakeReply {
  if (!request.tools?.length) return { kind: 'text', text: 'Fake title' };
  if (afterToolResult(request)) {
    const last = request.messages[request.messages.length - 1]!;
    return { kind: 'text', text: `Tool said: ${String(last.content).trim()}` };
  }
  const prompt = lastUserText(request);
  if (prompt.includes('[[tool]]'))
    return { kind: 'tool', calls: [{ name: 'bash', arguments: { command: 'echo hi', description: 'Print hi' } }] };
  if (prompt.includes('[[question]]'))
    return {
      kind: 'tool',
      calls: [
        {
          name: 'question',
          arguments: {
            questions: [
              {
                question: 'Which colour?',
                header: 'Colour',
                options: [
                  { label: 'Blue', description: 'like the sky' },
                  { label: 'Red', description: 'like fire' },
                ],
              },
            ],
          },
        },
      ],
    };
  if (prompt.includes('[[slow]]'))
    return { kind: 'text', text: Array.from({ length: 200 }, (_, i) => `tok${i} `).join(''), chunkDelayMs: 100 };
  if (prompt.includes('[[medium]]'))
    return {
      kind: 'text',
      text: Array.from({ length: 30 }, (_, i) => `w${i} `)
        .join('')
        .trim(),
      chunkDelayMs: 30,
    };
  if (prompt.includes('[[error500]]')) return { kind: 'status', status: 500 };
  return { kind: 'text', text: `Hello from fake: ${prompt}` };
}

describe('opencode adapter against the real `opencode serve`', () => {
  let scratch: string;
  let api: FakeOpenAiApi;
  let server: OpencodeServer;
  let agent: CodeAgent;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-opencode-int-'));
    const project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    api = await startFakeOpenAiApi({ reply });
    server = await startOpencodeServer({
      bin: opencodeBinPath(),
      cwd: project,
      env: isolatedOpencodeEnv(scratch),
      inheritEnv: false,
      config: fakeOpencodeConfig(api.url),
      startTimeoutMs: 60_000,
    });
    agent = opencode({ baseUrl: server.url });
  }, 90_000);

  afterAll(async () => {
    await agent?.close?.();
    await server?.close();
    await api?.close();
    try {
      if (scratch) {
        expect(await processesLeftUsing(scratch)).toEqual([]);
      }
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }, 30_000);

  let firstSession: string | undefined;

  it('answers with text: deltas, the message, usage, completed', async () => {
    const run = agent.execute({ prompt: 'Say hello', timeoutMs: 30_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.text).toBe('Hello from fake: Say hello');
    expect(
      events
        .filter((e) => e.type === 'text.delta')
        .map((e) => (e.type === 'text.delta' ? e.text : ''))
        .join(''),
    ).toBe('Hello from fake: Say hello');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.sessionId).toMatch(/^ses_/);
    firstSession = result.sessionId;
  }, 40_000);

  it('runs a tool and reports the call and its result', async () => {
    const { events, result } = await collectRun(agent.execute({ prompt: 'Run it [[tool]]', timeoutMs: 30_000 }));
    expect(runProblems(events)).toEqual([]);
    const call = events.find((e) => e.type === 'tool.call');
    const res = events.find((e) => e.type === 'tool.result');
    expect(call).toMatchObject({ name: 'bash', input: { command: 'echo hi' } });
    expect(res).toMatchObject({ isError: false, output: 'hi\n' });
    expect(call?.type === 'tool.call' && res?.type === 'tool.result' && res.callId).toBe(
      call?.type === 'tool.call' && call.callId,
    );
    expect(result).toMatchObject({ status: 'completed', text: 'Tool said: hi', turns: 2 });
  }, 40_000);

  it('continues the same session with a second prompt', async () => {
    expect(firstSession).toBeDefined();
    const before = api.requests.length;
    const { events, result } = await collectRun(
      agent.execute({ prompt: 'And again', sessionId: firstSession!, timeoutMs: 30_000 }),
    );
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Hello from fake: And again', sessionId: firstSession });
    // The model saw the first exchange: it is the same conversation.
    const request = api.requests.slice(before).find((r) => r.tools?.length)!;
    expect(JSON.stringify(request.messages)).toContain('Say hello');
    // Nothing of the first turn is replayed into this run.
    expect(events.filter((e) => e.type === 'message')).toHaveLength(1);
  }, 40_000);

  it('aborts mid-run: cancelled once, and the server stops the turn', async () => {
    const run = agent.execute({ prompt: 'Talk slowly [[slow]]', timeoutMs: 60_000 });
    const reading = firstEvent(run, (e) => e.type === 'text.delta');
    await reading.event;
    const result = await run.cancel('test abort');
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('cancelled');
    // The server has stopped the turn: the session leaves the busy list (it may take a moment).
    let busy = true;
    for (let i = 0; i < 40 && busy; i++) {
      const status = (await (await fetch(`${server.url}/session/status`)).json()) as Record<string, unknown>;
      busy = status[result.sessionId!] !== undefined;
      if (busy) await new Promise((r) => setTimeout(r, 50));
    }
    expect(busy).toBe(false);
    // And the model stream was cut short: far fewer than the 200 tokens were streamed.
    expect(events.filter((e) => e.type === 'text.delta').length).toBeLessThan(100);
  }, 40_000);

  it('bounds a model answering 500 (OpenCode retries silently) with timeoutMs', async () => {
    const run = agent.execute({ prompt: 'Fail [[error500]]', timeoutMs: 4_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(['timed_out', 'failed']).toContain(result.status);
    if (result.status === 'timed_out')
      expect(events.some((e) => e.type === 'log' && e.text.includes('retries'))).toBe(true);
  }, 30_000);

  it('survives its event stream being cut mid-answer: reconnects and reconciles without loss or repeats', async () => {
    let cut = false;
    // A fetch whose first /event body breaks after the first streamed token, as a proxy might.
    const cutting = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const res = await fetch(input, init);
      if (cut || !String(input).includes('/event') || !res.body) return res;
      cut = true;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          if (decoder.decode(value, { stream: true }).includes('message.part.delta')) {
            await reader.cancel();
            controller.error(new TypeError('terminated'));
          }
        },
        cancel: () => reader.cancel(),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const cutAgent = opencode({ baseUrl: server.url, fetch: cutting, reconnect: { initialDelayMs: 200 } });
    try {
      const run = cutAgent.execute({ prompt: 'Go [[medium]]', timeoutMs: 30_000 });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(cut).toBe(true);
      expect(events.some((e) => e.type === 'log' && e.text.includes('reconnecting'))).toBe(true);
      const full = Array.from({ length: 30 }, (_, i) => `w${i} `)
        .join('')
        .trim();
      expect(result).toMatchObject({ status: 'completed', text: full });
      const deltas = events.filter((e) => e.type === 'text.delta').map((e) => (e.type === 'text.delta' ? e.text : ''));
      expect(deltas.join('')).toBe(full);
      expect(events.filter((e) => e.type === 'message')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
    } finally {
      await cutAgent.close?.();
    }
  }, 40_000);

  it('asks for permission and runs the tool once allowed', async () => {
    const asking = opencode({ baseUrl: server.url, permission: [{ permission: 'bash', pattern: '*', action: 'ask' }] });
    try {
      const run = asking.execute({ prompt: 'Run it [[tool]]', timeoutMs: 30_000 });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      const asked = await reading.event;
      expect(asked).toMatchObject({ tool: 'bash', input: { command: 'echo hi' } });
      await run.respond(asked.type === 'permission.requested' ? asked.id : '', 'allow');
      const events = await reading.all;
      expect(runProblems(events)).toEqual([]);
      expect((await run.result).status).toBe('completed');
      expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ isError: false, output: 'hi\n' });
    } finally {
      await asking.close?.();
    }
  }, 40_000);

  it('asks the question of its question tool and goes on once answered (hung before)', async () => {
    const run = agent.execute({ prompt: 'Ask me [[question]]', timeoutMs: 30_000 });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    const asked = await reading.event;
    expect(asked).toMatchObject({
      questions: [
        {
          question: 'Which colour?',
          header: 'Colour',
          options: [
            { label: 'Blue', description: 'like the sky' },
            { label: 'Red', description: 'like fire' },
          ],
          multiple: false,
          custom: true,
        },
      ],
    });
    await run.answer(asked.type === 'question.requested' ? asked.id : '', [['Blue']]);
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain('"Which colour?"="Blue"');
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ isError: false });
  }, 40_000);

  it('cancel while a question waits: cancelled, the question withdrawn and the session idle', async () => {
    const run = agent.execute({ prompt: 'Ask me [[question]]', timeoutMs: 30_000 });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    await reading.event;
    const result = await run.cancel('no answer today');
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toMatch(/^ses_/);
    // An abort alone leaves the question listed on the server; the adapter rejects it too.
    expect(await (await fetch(`${server.url}/question`)).json()).toEqual([]);
    let busy = true;
    for (let i = 0; i < 40 && busy; i++) {
      const status = (await (await fetch(`${server.url}/session/status`)).json()) as Record<string, unknown>;
      busy = status[result.sessionId!] !== undefined;
      if (busy) await new Promise((r) => setTimeout(r, 50));
    }
    expect(busy).toBe(false);
  }, 40_000);
});
