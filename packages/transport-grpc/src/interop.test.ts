import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { validateRequest, type AgentEvent } from '@forge/core';
import { collectRun, conformanceScript, runProblems, scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcAgent } from './client.js';
import { eventFromProto } from './convert-event.js';
import { AgentEventSchema } from './gen/forge/agent/v1/agent_pb.js';
import { serveAgent, type AgentServer } from './serve.js';
import { recordingAgent } from './test-support/recording-agent.js';
import { EVERY_NEWER_CAPABILITY, newerEvents, newerResult } from './test-support/wire-samples.js';

// A stock gRPC client that knows nothing of Forge: it loads the .proto files itself.
const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
const definition = protoLoader.loadSync(['forge/agent/v1/agent.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [protoRoot],
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loaded = grpc.loadPackageDefinition(definition) as any;

const script: ScriptStep[] = [
  {
    type: 'session.started',
    sessionId: 'ses_1',
    model: 'm',
    tools: ['Bash'],
    raw: { type: 'system', subtype: 'init' },
  },
  { type: 'text.delta', text: 'Hel', messageId: 'msg' },
  { type: 'text.delta', text: 'lo', messageId: 'msg' },
  { type: 'tool.call', callId: 'c1', name: 'Bash', input: { command: 'ls -la' } },
  { type: 'tool.result', callId: 'c1', output: ['a', 'b'], isError: false },
  { type: 'log', text: 'warming up', level: 'info', stream: 'stderr' },
  { type: 'message', text: 'Hello', messageId: 'msg' },
  {
    type: 'usage',
    usage: { inputTokens: 3, outputTokens: 2, cacheReadTokens: 1, cacheWriteTokens: 0 },
    costUsd: 0.001,
  },
];

/** A grpc-js (protobufjs) event object as core's AgentEvent, through our own converter. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromGrpcJs(o: any): AgentEvent {
  const { body, ...rest } = o;
  return eventFromProto(
    create(AgentEventSchema, { ...rest, ...(body ? { body: { case: body, value: o[body] } } : {}) }),
  );
}

/** What must be equal between two deliveries of the same script: all but run id and clock. */
const comparable = (events: AgentEvent[]) =>
  events.map(({ runId: _r, time: _t, provider: _p, ...e }) =>
    e.type === 'run.completed' ? { ...e, result: { ...e.result, durationMs: 0 } } : e,
  );

describe('interop with a stock gRPC client (@grpc/grpc-js + @grpc/proto-loader)', () => {
  let server: AgentServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let agentClient: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let healthClient: any;

  beforeAll(async () => {
    server = await serveAgent(scriptedAgent({ steps: script, provider: 'scripted' }), { port: 0 });
    const address = `127.0.0.1:${server.port}`;
    agentClient = new loaded.forge.agent.v1.AgentService(address, grpc.credentials.createInsecure());
    healthClient = new loaded.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    agentClient?.close();
    healthClient?.close();
    await server?.close({ graceful: false });
  });

  it('answers the standard health check', async () => {
    const res = await new Promise<{ status: number }>((resolve, reject) =>
      healthClient.check({ service: '' }, (err: Error | null, r: { status: number }) =>
        err ? reject(err) : resolve(r),
      ),
    );
    expect(res.status).toBe(1); // SERVING
  });

  it('answers GetStatus', async () => {
    const res = await new Promise<Record<string, unknown>>((resolve, reject) =>
      agentClient.getStatus({}, (err: Error | null, r: Record<string, unknown>) => (err ? reject(err) : resolve(r))),
    );
    expect(res).toMatchObject({
      provider: 'scripted',
      capabilities: expect.objectContaining({ resume: true, permissionReplies: true }),
    });
  });

  it('streams Execute with the same events grpcAgent gets', async () => {
    const events: AgentEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = agentClient.execute({ request: { prompt: 'hi' } });
      call.on('data', (res: { events: unknown[] }) => events.push(...res.events.map(fromGrpcJs)));
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(runProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'completed', text: 'Hello', sessionId: 'ses_1' },
    });
    expect(events[0]!.raw).toEqual({ type: 'system', subtype: 'init' });

    const ours = grpcAgent({ baseUrl: server.url, provider: 'scripted' });
    try {
      const { events: viaClient } = await collectRun(ours.execute({ prompt: 'hi' }));
      expect(comparable(events)).toEqual(comparable(viaClient));
    } finally {
      await ours.close();
    }
  });

  it('runs a command over the bidi Connect stream: ping, execute, events tagged with the run id', async () => {
    const call = agentClient.connect();
    const got: Array<Record<string, unknown>> = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Record<string, unknown>) => {
        got.push(m);
        const events = (m.events as { events: Array<{ body: string }> } | undefined)?.events ?? [];
        if (events.some((e) => e.body === 'runCompleted')) call.end();
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    call.write({ commandId: '1', ping: { time: 42 } });
    call.write({ commandId: '2', execute: { runId: 'interop-run', request: { prompt: 'hi' } } });
    await ended;
    expect(got[0]).toMatchObject({ message: 'pong', pong: { time: 42 } });
    const events = got.flatMap((m) => ((m.events as { events: unknown[] } | undefined)?.events ?? []).map(fromGrpcJs));
    expect(runProblems(events, 'interop-run')).toEqual([]);
    expect(events).toHaveLength(script.length + 1);
  });
});

describe('a stock gRPC client answers a question', () => {
  let server: AgentServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let agentClient: any;

  beforeAll(async () => {
    server = await serveAgent(scriptedAgent({ steps: conformanceScript('question'), provider: 'scripted' }), {
      port: 0,
    });
    agentClient = new loaded.forge.agent.v1.AgentService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    agentClient?.close();
    await server?.close({ graceful: false });
  });

  it('declares the capability in GetStatus', async () => {
    const res = await new Promise<{ capabilities: Record<string, unknown> }>((resolve, reject) =>
      agentClient.getStatus({}, (err: Error | null, r: { capabilities: Record<string, unknown> }) =>
        err ? reject(err) : resolve(r),
      ),
    );
    expect(res.capabilities).toMatchObject({ questions: true });
  });

  it('Execute + the AnswerQuestion call: the question arrives with its options, the answer ends the run', async () => {
    const events: AgentEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = agentClient.execute({ runId: 'interop-q', request: { prompt: 'hi' } });
      call.on('data', (res: { events: unknown[] }) => {
        for (const raw of res.events) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const o = raw as any;
          if (o.body === 'questionRequested') {
            expect(o.questionRequested.questions[0]).toMatchObject({
              question: 'Which colour?',
              options: [{ label: 'Blue' }, { label: 'Red', description: 'the other one' }],
              custom: true,
            });
            agentClient.answerQuestion(
              { runId: 'interop-q', questionId: o.questionRequested.id, answers: [{ values: ['Red'] }] },
              (err: Error | null) => err && reject(err),
            );
          }
          events.push(fromGrpcJs(o));
        }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(runProblems(events, 'interop-q')).toEqual([]);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: { answers: [['Red']] } });
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
  });

  it('the Connect stream takes a question_answer command and acknowledges it; answers that do not fit are a CommandError', async () => {
    const call = agentClient.connect();
    const got: Array<Record<string, unknown>> = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Record<string, unknown>) => {
        got.push(m);
        const events = (m.events as { events: Array<{ body: string; questionRequested?: { id: string } }> })?.events;
        for (const e of events ?? []) {
          if (e.body === 'questionRequested') {
            const answer = (commandId: string, answers: string[][]) =>
              call.write({
                commandId,
                questionAnswer: {
                  runId: 'interop-c',
                  questionId: e.questionRequested!.id,
                  answers: answers.map((values) => ({ values })),
                },
              });
            // One question asked, two answered.
            answer('bad', [['Blue'], ['Red']]);
            answer('good', [['Blue']]);
          }
          if (e.body === 'runCompleted') call.end();
        }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    call.write({ commandId: 'x', execute: { runId: 'interop-c', request: { prompt: 'hi' } } });
    await ended;
    expect(got.find((m) => m.message === 'error')).toMatchObject({
      error: { commandId: 'bad', runId: 'interop-c', error: { code: 'INVALID_ANSWER', category: 'validation' } },
    });
    expect(got.find((m) => m.message === 'ack')).toMatchObject({ ack: { commandId: 'good' } });
    const events = got.flatMap((m) => ((m.events as { events: unknown[] } | undefined)?.events ?? []).map(fromGrpcJs));
    expect(runProblems(events, 'interop-c')).toEqual([]);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: { answers: [['Blue']] } });
  });
});

describe('a stock gRPC client and the newer fields, events and steering', () => {
  let server: AgentServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let agentClient: any;
  const far = recordingAgent(
    scriptedAgent({
      provider: 'far',
      steps: (req) =>
        req.prompt === 'steer me' ? [{ type: 'session.started', sessionId: 's' }, { hang: true }] : newerEvents,
      outcome: { output: newerResult.output, filesChanged: newerResult.filesChanged },
      capabilities: EVERY_NEWER_CAPABILITY,
    }),
  );

  beforeAll(async () => {
    server = await serveAgent(far.agent, { port: 0 });
    agentClient = new loaded.forge.agent.v1.AgentService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    agentClient?.close();
    await server?.close({ graceful: false });
  });

  it('sends every newer request field as plain proto fields and reads the newer events and result', async () => {
    const schema = { type: 'object', required: ['verdict'] };
    const request = {
      prompt: 'review',
      sessionId: 'ses_parent',
      fork: true,
      mcpServers: [{ name: 'tickets', command: 'node', args: ['t.mjs'], env: { T: '1' } }],
      outputSchemaJson: JSON.stringify(schema),
      outputRepairs: 1,
      effort: 'medium',
      approvals: {
        rules: [{ tool: 'Bash', input: { command: 'git *' }, decision: 'allow' }],
        defaultDecision: 'deny',
        unanswered: { afterMs: 1000, decision: 'cancel' },
      },
      questions: { unanswered: { afterMs: 2000, action: 'fail' } },
      budget: { maxCostUsd: 0.5, maxTurns: 3 },
    };
    const raw: Array<Record<string, unknown>> = [];
    await new Promise<void>((resolve, reject) => {
      const call = agentClient.execute({ runId: 'interop-new', request });
      call.on('data', (res: { events: Array<Record<string, unknown>> }) => raw.push(...res.events));
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(validateRequest(far.requests.at(-1))).toStrictEqual(
      validateRequest({
        prompt: 'review',
        sessionId: 'ses_parent',
        fork: true,
        mcpServers: [{ name: 'tickets', command: 'node', args: ['t.mjs'], env: { T: '1' } }],
        outputSchema: schema,
        outputRepairs: 1,
        effort: 'medium',
        approvals: {
          rules: [{ tool: 'Bash', input: { command: 'git *' }, decision: 'allow' }],
          default: 'deny',
          unanswered: { afterMs: 1000, decision: 'cancel' },
        },
        questions: { unanswered: { afterMs: 2000, action: 'fail' } },
        budget: { maxCostUsd: 0.5, maxTurns: 3 },
      }),
    );
    expect(raw.map((e) => e.body)).toEqual(
      expect.arrayContaining(['fileChanged', 'planUpdated', 'permissionResolved', 'questionResolved']),
    );
    expect(raw.find((e) => e.body === 'fileChanged')).toMatchObject({
      parentToolCallId: 'task_1',
      fileChanged: { path: 'src/a.ts', change: 'modified', toolCallId: 'edit_1' },
    });
    const done = raw.at(-1) as { runCompleted: { result: { outputJson: string; filesChanged: { files: unknown[] } } } };
    expect(JSON.parse(done.runCompleted.result.outputJson)).toEqual(newerResult.output);
    expect(done.runCompleted.result.filesChanged.files).toHaveLength(3);
    const events = raw.map(fromGrpcJs);
    expect(runProblems(events, 'interop-new')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: newerResult });
  });

  it('steers with the SteerRun call, and with a steer command on the Connect stream that it acknowledges', async () => {
    const steered: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = agentClient.execute({ runId: 'interop-steer', request: { prompt: 'steer me' } });
      call.on('data', (res: { events: Array<Record<string, unknown>> }) => {
        for (const e of res.events) {
          if (e.body === 'sessionStarted')
            agentClient.steerRun(
              { runId: 'interop-steer', text: 'by call' },
              (err: Error | null) => err && reject(err),
            );
          if (e.body === 'log') {
            steered.push((e.log as { text: string }).text);
            agentClient.cancelRun({ runId: 'interop-steer' }, (err: Error | null) => err && reject(err));
          }
        }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(steered).toEqual(['steered: by call']);

    const call = agentClient.connect();
    const got: Array<Record<string, unknown>> = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Record<string, unknown>) => {
        got.push(m);
        for (const e of (m.events as { events: Array<Record<string, unknown>> } | undefined)?.events ?? []) {
          if (e.body === 'sessionStarted') {
            call.write({ commandId: 'blank', steer: { runId: 'interop-cs', text: ' ' } });
            call.write({ commandId: 'ok', steer: { runId: 'interop-cs', text: 'by command' } });
          }
          if (e.body === 'log') call.write({ commandId: 'stop', cancel: { runId: 'interop-cs' } });
          if (e.body === 'runCompleted') call.end();
        }
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    call.write({ commandId: 'x', execute: { runId: 'interop-cs', request: { prompt: 'steer me' } } });
    await ended;
    expect(got.find((m) => m.message === 'error')).toMatchObject({
      error: { commandId: 'blank', error: { code: 'INVALID_STEERING', category: 'validation' } },
    });
    expect(got.find((m) => m.message === 'ack')).toMatchObject({ ack: { commandId: 'ok' } });
    const events = got.flatMap((m) => ((m.events as { events: unknown[] } | undefined)?.events ?? []).map(fromGrpcJs));
    expect(runProblems(events, 'interop-cs')).toEqual([]);
    expect(events.find((e) => e.type === 'log')).toMatchObject({ text: 'steered: by command' });
  });
});

describe('a stock gRPC client without the token gets UNAUTHENTICATED (16), not INTERNAL', () => {
  let server: AgentServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let agentClient: any;
  const UNAUTHENTICATED = 16;

  beforeAll(async () => {
    server = await serveAgent(scriptedAgent({ steps: script, provider: 'scripted' }), {
      port: 0,
      authToken: 'pod-token',
    });
    agentClient = new loaded.forge.agent.v1.AgentService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    agentClient?.close();
    await server?.close({ graceful: false });
  });

  const tokens = { 'no token': undefined, 'a wrong token': 'Bearer not-the-token' };
  const metadata = (authorization: string | undefined) => {
    const md = new grpc.Metadata();
    if (authorization) md.set('authorization', authorization);
    return md;
  };
  /** Settles with the call's status error; a call that answers instead is a failure. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const refusal = (call: any) =>
    new Promise<grpc.ServiceError>((resolve, reject) => {
      call.on('data', () => reject(new Error('the call was answered')));
      call.on('error', resolve);
      call.on('end', () => reject(new Error('the call ended without an error')));
    });

  for (const [what, authorization] of Object.entries(tokens)) {
    it(`unary GetStatus with ${what}`, async () => {
      const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
        agentClient.getStatus({}, metadata(authorization), (e: grpc.ServiceError | null) =>
          e ? resolve(e) : reject(new Error('the call was answered')),
        ),
      );
      expect({ code: err.code, details: err.details }).toEqual({
        code: UNAUTHENTICATED,
        details: 'A valid bearer token is required',
      });
    });

    it(`server-streaming Execute with ${what}`, async () => {
      const err = await refusal(agentClient.execute({ request: { prompt: 'hi' } }, metadata(authorization)));
      expect({ code: err.code, details: err.details }).toEqual({
        code: UNAUTHENTICATED,
        details: 'A valid bearer token is required',
      });
    });

    it(`bidi Connect with ${what}`, async () => {
      const call = agentClient.connect(metadata(authorization));
      const settled = refusal(call);
      call.write({ commandId: '1', ping: { time: 1 } });
      const err = await settled;
      expect({ code: err.code, details: err.details }).toEqual({
        code: UNAUTHENTICATED,
        details: 'A valid bearer token is required',
      });
    });
  }

  it('the right token still gets answers', async () => {
    const res = await new Promise<{ provider: string }>((resolve, reject) =>
      agentClient.getStatus({}, metadata('Bearer pod-token'), (e: Error | null, r: { provider: string }) =>
        e ? reject(e) : resolve(r),
      ),
    );
    expect(res.provider).toBe('scripted');
  });
});
