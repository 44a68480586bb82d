import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { parseCodexJsonl } from './jsonl.js';
import {
  AGENT_WARNING_CODE,
  API_RETRY_CODE,
  CodexEventMapper,
  classifyApiError,
  mapCodexEvent,
  toUsage,
} from './mapper.js';
import { type FixtureName, fixture } from './test-support/fixtures.js';

function mapFixture(name: FixtureName) {
  const mapper = new CodexEventMapper();
  const events: AgentEventInit[] = [];
  for (const item of parseCodexJsonl([fixture(name)])) mapper.mapItem(item, (e) => events.push(e));
  return { mapper, events, outcome: mapper.outcome() };
}

const types = (events: AgentEventInit[]) => events.map((e) => e.type);

describe('CodexEventMapper on recorded runs', () => {
  it('text: session, a warning for the model metadata, the message, usage; completed', () => {
    const { events, outcome } = mapFixture('text');
    expect(types(events)).toEqual(['session.started', 'error', 'log', 'message', 'usage']);
    expect(events[0]).toMatchObject({ type: 'session.started', sessionId: '01a233fe-7fe9-7672-abf1-9ee6689e901f' });
    expect(events[1]).toMatchObject({ type: 'error', code: AGENT_WARNING_CODE, retryable: false });
    expect(events[3]).toMatchObject({ type: 'message', text: 'Hello from the fake model.', messageId: 'item_1' });
    expect(events[4]).toMatchObject({
      type: 'usage',
      usage: { inputTokens: 10084, outputTokens: 12, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    });
    expect(outcome).toMatchObject({
      status: 'completed',
      text: 'Hello from the fake model.',
      sessionId: '01a233fe-7fe9-7672-abf1-9ee6689e901f',
      turns: 1,
      raw: { type: 'turn.completed' },
    });
    for (const e of events) expect(e.raw).toBeDefined();
  });

  it('tool: a command becomes tool.call at start and tool.result at completion', () => {
    const { events, outcome } = mapFixture('tool');
    expect(types(events)).toEqual([
      'session.started',
      'error',
      'log',
      'message',
      'tool.call',
      'tool.result',
      'message',
      'usage',
    ]);
    expect(events[4]).toEqual(
      expect.objectContaining({
        type: 'tool.call',
        callId: 'item_2',
        name: 'shell',
        input: { command: "/bin/bash -lc 'echo hi'" },
      }),
    );
    expect(events[5]).toEqual(
      expect.objectContaining({ type: 'tool.result', callId: 'item_2', output: 'hi\n', isError: false }),
    );
    expect(outcome).toMatchObject({ status: 'completed', text: 'The command printed hi. Done.' });
  });

  it('a command that failed or exited non-zero is an error result; one without start still gets its call', () => {
    const mapper = new CodexEventMapper();
    const out = mapCodexEvent(
      {
        type: 'item.completed',
        item: {
          id: 'item_9',
          type: 'command_execution',
          command: 'false',
          aggregated_output: '',
          exit_code: 1,
          status: 'failed',
        },
      },
      mapper,
    );
    expect(types(out)).toEqual(['tool.call', 'tool.result']);
    expect(out[1]).toMatchObject({ isError: true });
  });

  it('maps file changes, MCP calls, web searches, reasoning, todo lists and unknown items', () => {
    const mapper = new CodexEventMapper();
    const all = [
      { type: 'item.completed', item: { id: 'r', type: 'reasoning', text: 'thinking' } },
      {
        type: 'item.completed',
        item: { id: 'f', type: 'file_change', changes: [{ path: 'a.ts', kind: 'update' }], status: 'completed' },
      },
      {
        type: 'item.started',
        item: {
          id: 'm',
          type: 'mcp_tool_call',
          server: 'gh',
          tool: 'search',
          arguments: { q: 1 },
          status: 'in_progress',
        },
      },
      {
        type: 'item.completed',
        item: {
          id: 'm',
          type: 'mcp_tool_call',
          server: 'gh',
          tool: 'search',
          arguments: { q: 1 },
          result: { content: [] },
          error: null,
          status: 'completed',
        },
      },
      {
        type: 'item.completed',
        item: {
          id: 'm2',
          type: 'mcp_tool_call',
          server: 'gh',
          tool: 'x',
          arguments: {},
          error: { message: 'boom' },
          status: 'failed',
        },
      },
      { type: 'item.completed', item: { id: 'w', type: 'web_search', query: 'forge' } },
      {
        type: 'item.updated',
        item: {
          id: 't',
          type: 'todo_list',
          items: [
            { text: 'a', completed: true },
            { text: 'b', completed: false },
          ],
        },
      },
      { type: 'item.completed', item: { id: 'z', type: 'collab_tool_call' } },
      { type: 'item.started', item: { id: 'z2', type: 'agent_message' } },
      { type: 'something.new', x: 1 },
      { type: 'item.completed' },
    ].flatMap((e) => mapCodexEvent(e, mapper));
    expect(types(all)).toEqual([
      'reasoning',
      'tool.call',
      'tool.result',
      'tool.call',
      'tool.result',
      'tool.call',
      'tool.result',
      'tool.call',
      'tool.result',
      'log',
      'log',
      'log',
      'log',
    ]);
    expect(all[0]).toMatchObject({ text: 'thinking', messageId: 'r' });
    expect(all[1]).toMatchObject({ name: 'file_change', input: { changes: [{ path: 'a.ts', kind: 'update' }] } });
    expect(all[3]).toMatchObject({ name: 'gh.search', input: { q: 1 } });
    expect(all[4]).toMatchObject({ output: { content: [] }, isError: false });
    expect(all[6]).toMatchObject({ output: 'boom', isError: true });
    expect(all[7]).toMatchObject({ name: 'web_search', input: { query: 'forge' } });
    expect(all[9]).toMatchObject({ text: 'plan:\n[x] a\n[ ] b' });
  });

  it.each([
    ['e401', 'API_AUTH_ERROR', false, 401],
    ['e400', 'API_REQUEST_ERROR', false, 400],
    ['e429', 'API_RATE_LIMITED', true, 429],
    ['e500', 'API_SERVER_ERROR', true, undefined],
    ['failed', 'API_STREAM_ERROR', true, undefined],
    ['midstream', 'API_STREAM_ERROR', true, undefined],
  ] as const)('%s: a failed run with a typed code', (name, code, retryable, httpStatus) => {
    const { events, outcome } = mapFixture(name);
    expect(types(events)).toEqual(['session.started', 'error', 'log', 'error']);
    expect(events[3]).toMatchObject({ type: 'error', code, retryable });
    if (httpStatus) expect(events[3]).toMatchObject({ details: { httpStatus } });
    expect(outcome).toMatchObject({ status: 'failed', error: { code, retryable }, turns: 1 });
    expect(outcome?.error?.message).toBeTruthy();
  });

  it('e500 with the default retries: each retry is a retryable API_RETRY error', () => {
    const { events, outcome } = mapFixture('e500-default');
    const retries = events.filter((e) => e.type === 'error' && e.code === API_RETRY_CODE);
    expect(retries).toHaveLength(5);
    expect(outcome?.error?.code).toBe('API_SERVER_ERROR');
  });

  it('a network that never answers: retries only, no outcome', () => {
    const { events, outcome } = mapFixture('bad-port');
    expect(events.filter((e) => e.type === 'error' && e.code === API_RETRY_CODE).length).toBeGreaterThan(0);
    expect(outcome).toBeUndefined();
  });

  it('a cancelled run: no outcome, the thread id kept', () => {
    const { mapper, outcome } = mapFixture('cancel-sigint');
    expect(outcome).toBeUndefined();
    expect(mapper.sessionId).toBe('01a233ff-e9ba-7643-a87e-5a834567c26d');
  });

  it('a sandbox-denied write shows no command at all, as the CLI prints none', () => {
    expect(types(mapFixture('write-readonly').events)).not.toContain('tool.call');
    expect(types(mapFixture('write-workspace').events)).toContain('tool.result');
  });

  it('stray text and oversize lines', () => {
    const mapper = new CodexEventMapper();
    const out: AgentEventInit[] = [];
    mapper.mapItem({ kind: 'text', text: 'hello' }, (e) => out.push(e));
    mapper.mapItem({ kind: 'oversize', bytes: 9, preview: 'x' }, (e) => out.push(e));
    expect(out).toEqual([
      { type: 'log', text: 'hello', level: 'warn', stream: 'stdout' },
      expect.objectContaining({ type: 'error', code: 'LINE_TOO_LONG', retryable: false }),
    ]);
  });
});

describe('classifyApiError', () => {
  it.each([
    ['unexpected status 403 Forbidden: nope', 'API_AUTH_ERROR', 403],
    ['unexpected status 404 Not Found: x', 'API_REQUEST_ERROR', 404],
    ['unexpected status 502 Bad Gateway: x', 'API_SERVER_ERROR', 502],
    ['something else entirely', 'API_ERROR', undefined],
  ])('%s → %s', (message, code, httpStatus) => {
    expect(classifyApiError(message)).toMatchObject({ code, message, ...(httpStatus ? { httpStatus } : {}) });
  });
});

describe('toUsage', () => {
  it('counts cached input apart from the uncached part, and tolerates junk', () => {
    expect(
      toUsage({
        input_tokens: 100,
        cached_input_tokens: 40,
        cache_write_input_tokens: 3,
        output_tokens: 7,
        reasoning_output_tokens: 2,
      }),
    ).toEqual({ inputTokens: 60, outputTokens: 7, cacheReadTokens: 40, cacheWriteTokens: 3, reasoningTokens: 2 });
    expect(toUsage(undefined)).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(toUsage({ input_tokens: 'x', output_tokens: Number.NaN })).toMatchObject({
      inputTokens: 0,
      outputTokens: 0,
    });
  });
});
