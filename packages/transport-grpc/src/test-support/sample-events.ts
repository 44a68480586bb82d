import type { AgentEvent } from '@forge/core';

const env = { runId: 'run_1', time: 1_700_000_000_123, provider: 'claude-code' };
let seq = 0;
export const e = (body: Record<string, unknown>): AgentEvent => ({ ...env, seq: ++seq, ...body }) as AgentEvent;

/** One of every event type, with optional fields both set and unset. */
export const sampleEvents: AgentEvent[] = [
  e({
    type: 'session.started',
    sessionId: 's1',
    model: 'm',
    tools: ['Bash', 'Read'],
    cwd: '/w',
    permissionMode: 'plan',
    raw: { type: 'system', subtype: 'init' },
  }),
  e({ type: 'session.started', sessionId: 's2', tools: [] }),
  e({ type: 'session.started', sessionId: 's3' }),
  e({ type: 'text.delta', text: 'he', messageId: 'm1' }),
  e({ type: 'text.delta', text: '' }),
  e({ type: 'text.delta', text: 'inside', messageId: 'm2', parentToolCallId: 'task_1' }),
  e({ type: 'message', text: 'hello', messageId: 'm1' }),
  e({ type: 'reasoning', text: 'hmm' }),
  e({ type: 'tool.call', callId: 'c1', name: 'Bash', input: { command: 'ls', nested: [1, null, { a: 'ü' }] } }),
  e({ type: 'tool.call', callId: 'c2', name: 'Noop', input: undefined }),
  e({ type: 'tool.result', callId: 'c1', output: 'a\nb', isError: false }),
  e({ type: 'tool.result', callId: 'c2', output: null, isError: true }),
  e({ type: 'tool.result', callId: 'c3', output: undefined, isError: false }),
  e({ type: 'tool.call', callId: 'c4', name: 'Read', input: { file_path: 'a.ts' }, parentToolCallId: 'task_1' }),
  e({
    type: 'file.changed',
    path: 'src/a.ts',
    change: 'modified',
    diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-a\n+b\n',
    toolCallId: 'c5',
    parentToolCallId: 'task_1',
  }),
  e({ type: 'file.changed', path: 'b.ts', change: 'renamed', oldPath: 'a.ts' }),
  e({ type: 'file.changed', path: 'gone.ts', change: 'deleted', raw: { kind: 'delete' } }),
  e({
    type: 'plan.updated',
    entries: [
      { id: 't1', content: 'write the test', status: 'completed', priority: 'high' },
      { content: 'make it pass', status: 'in_progress' },
      { content: 'ship', status: 'pending', priority: 'low' },
    ],
  }),
  e({ type: 'plan.updated', entries: [] }),
  e({ type: 'permission.resolved', id: 'p1', decision: 'allow_always', by: 'host' }),
  e({ type: 'permission.resolved', id: 'p2', decision: 'deny', by: 'rule' }),
  e({ type: 'permission.resolved', id: 'p3', decision: 'cancel', by: 'unanswered' }),
  e({ type: 'question.resolved', id: 'q1', by: 'host' }),
  e({ type: 'question.resolved', id: 'q2', by: 'unanswered' }),
  e({ type: 'permission.requested', id: 'p1', tool: 'Write', input: { path: '/etc/x' } }),
  e({
    type: 'question.requested',
    id: 'q1',
    questions: [
      {
        question: 'Which colour?',
        header: 'Colour',
        options: [{ label: 'Blue', description: 'like the sky' }, { label: 'Red' }],
        multiple: false,
        custom: true,
      },
      { question: 'Sizes?', options: [], multiple: true, custom: false },
    ],
  }),
  e({
    type: 'usage',
    usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, reasoningTokens: 5 },
    costUsd: 0.0123,
    messageId: 'm1',
  }),
  e({ type: 'usage', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }),
  e({ type: 'log', text: 'stderr line', level: 'warn', stream: 'stderr' }),
  e({ type: 'log', text: 'plain' }),
  e({ type: 'error', code: 'RATE_LIMITED', message: 'slow down', retryable: true, details: { retryAfterMs: 1000 } }),
  e({ type: 'error', code: 'X', message: 'y', retryable: false }),
  e({
    type: 'run.completed',
    result: {
      status: 'failed',
      text: 'partial',
      sessionId: 's1',
      usage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.5,
      durationMs: 1234.5,
      turns: 3,
      error: { code: 'PROVIDER_ERROR', message: 'boom' },
    },
    raw: { type: 'result', is_error: true, big: 12345678901234 },
  }),
  e({
    type: 'run.completed',
    result: {
      status: 'completed',
      text: '',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      durationMs: 0,
      turns: 0,
    },
  }),
  e({
    type: 'run.completed',
    result: {
      status: 'completed',
      text: '{"verdict":"ok"}',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      durationMs: 5,
      turns: 1,
      output: { verdict: 'ok', comments: [{ line: 3, text: 'ü' }], score: 0.5, none: null },
      filesChanged: [
        { path: 'src/a.ts', change: 'modified' },
        { path: 'b.ts', change: 'renamed', oldPath: 'a.ts' },
      ],
    },
  }),
  e({
    type: 'run.completed',
    result: {
      status: 'completed',
      text: 'null',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      durationMs: 0,
      turns: 0,
      output: null,
      filesChanged: [],
    },
  }),
];
