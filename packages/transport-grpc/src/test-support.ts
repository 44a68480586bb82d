import * as http2 from 'node:http2';
import type { AgentEvent, AgentRun, CodeAgent } from '@forge/core';

/** Wraps an agent so a test can see the runs the server started (and their results). */
export function recordingAgent(agent: CodeAgent): { agent: CodeAgent; runs: AgentRun[]; nextRun(): Promise<AgentRun> } {
  const runs: AgentRun[] = [];
  let waiters: Array<(r: AgentRun) => void> = [];
  const wrapped: CodeAgent = {
    provider: agent.provider,
    capabilities: () => agent.capabilities(),
    cancel: (id) => agent.cancel(id),
    close: () => agent.close?.() ?? Promise.resolve(),
    execute(request, options) {
      const run = agent.execute(request, options);
      runs.push(run);
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve(run);
      return run;
    },
  };
  return {
    agent: wrapped,
    runs,
    nextRun: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

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
  e({ type: 'message', text: 'hello', messageId: 'm1' }),
  e({ type: 'reasoning', text: 'hmm' }),
  e({ type: 'tool.call', callId: 'c1', name: 'Bash', input: { command: 'ls', nested: [1, null, { a: 'ü' }] } }),
  e({ type: 'tool.call', callId: 'c2', name: 'Noop', input: undefined }),
  e({ type: 'tool.result', callId: 'c1', output: 'a\nb', isError: false }),
  e({ type: 'tool.result', callId: 'c2', output: null, isError: true }),
  e({ type: 'tool.result', callId: 'c3', output: undefined, isError: false }),
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
];

export interface GrpcAnswer {
  status: number | undefined;
  message: string;
}

/**
 * Opens a gRPC call whose first message announces `declaredBytes` in its 5-byte envelope header,
 * then sends only a few bytes and waits. A server with a read limit refuses from the header alone
 * (RESOURCE_EXHAUSTED, 8); one without would wait for, and buffer, the whole message.
 */
export function oversizedGrpcCall(
  baseUrl: string,
  path: string,
  declaredBytes: number,
  headers: Record<string, string> = {},
): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...headers,
    });
    let status: number | undefined;
    let message = '';
    const finish = () => {
      stream.close();
      session.close();
      resolve({ status, message });
    };
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      if (h['grpc-status'] !== undefined) {
        status = Number(h['grpc-status']);
        // The server has answered; our half of the stream stays open (the body never comes).
        finish();
      }
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => {});
    stream.on('error', () => {});
    stream.on('close', finish);
    const header = Buffer.alloc(5);
    header.writeUInt8(0, 0);
    header.writeUInt32BE(declaredBytes, 1);
    // The body never comes: only a refusal from the header alone ends this call.
    stream.write(Buffer.concat([header, Buffer.alloc(16)]));
  });
}
