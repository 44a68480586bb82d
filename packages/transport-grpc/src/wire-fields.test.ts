import {
  UnsupportedError,
  UnsupportedFieldError,
  ValidationError,
  validateRequest,
  type AgentEvent,
  type CodeAgent,
} from '@forge/core';
import { collectRun, firstEvent, runProblems, scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import type { GrpcAgentOptions } from './client.js';
import type { GetStatusResponse } from './gen/forge/agent/v1/agent_pb.js';
import { recordingAgent } from './test-support/recording-agent.js';
import { servedPair } from './test-support/served-pair.js';
import {
  EVERY_NEWER_CAPABILITY,
  ONE_NEWER_FIELD,
  comparable,
  everyNewerField,
  farAgent,
  newerEvents,
  newerResult,
} from './test-support/wire-samples.js';

const { serve, client } = servedPair();

const modes: Array<[string, Omit<GrpcAgentOptions, 'baseUrl'>]> = [
  ['bidi Connect stream', {}],
  ['Execute per run', { protocol: 'connect', streaming: 'server' }],
];

/** A far agent that waits after starting, and says what it was steered with (scriptedAgent logs `steered: …`). */
const steerable = (steering: boolean) =>
  scriptedAgent({
    provider: 'far',
    steps: [{ type: 'session.started', sessionId: 'ses_s' }, { hang: true }],
    capabilities: { steering },
  });

describe.each(modes)('the newer fields and events over %s', (_name, mode) => {
  it('hands every newer request field to the far agent as the host sent it', async () => {
    const far = recordingAgent(farAgent());
    const agent = client((await serve(far.agent)).url, mode);
    const input = everyNewerField();
    const { events, result } = await collectRun(agent.execute(input));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(far.requests).toHaveLength(1);
    expect(validateRequest(far.requests[0])).toStrictEqual(validateRequest(input));
  });

  it('relays file.changed, plan.updated, the resolutions, parentToolCallId, output and filesChanged as the far run made them', async () => {
    const agent = client((await serve(farAgent())).url, mode);
    const direct = await collectRun(farAgent().execute(everyNewerField()));
    const relayed = await collectRun(agent.execute(everyNewerField()));
    expect(runProblems(relayed.events)).toEqual([]);
    expect(comparable(relayed.events)).toStrictEqual(comparable(direct.events));
    // First-class events, not logs carrying them.
    const types = relayed.events.map((e) => e.type);
    for (const type of ['file.changed', 'plan.updated', 'permission.resolved', 'question.resolved'] as const)
      expect(types).toContain(type);
    expect(types).not.toContain('log');
    expect(relayed.events.filter((e) => e.parentToolCallId === 'task_1')).toHaveLength(3);
    expect(relayed.result).toMatchObject({ status: 'completed', ...newerResult });
    expect(relayed.events.length).toBe(newerEvents.length + 1);
  });

  it('reports the far agent’s newer capabilities', async () => {
    const agent = client((await serve(farAgent())).url, mode);
    expect(await agent.capabilities()).toMatchObject(EVERY_NEWER_CAPABILITY);
  });

  it('leaves each newer field to the far agent, which refuses one it does not declare (UNSUPPORTED_FIELD) before any run', async () => {
    const far = recordingAgent(farAgent({}));
    const agent = client((await serve(far.agent)).url, mode);
    for (const [feature, sample] of Object.entries(ONE_NEWER_FIELD)) {
      const field = Object.keys(sample).find((k) => k !== 'sessionId')!;
      // Accepted here: the relay declares the field as the remote agent's to decide.
      const run = agent.execute({ prompt: 'x', ...sample });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result.status, feature).toBe('failed');
      expect(result.error, feature).toMatchObject({ code: 'UNSUPPORTED_FIELD' });
      expect(result.error?.message, feature).toContain(field);
      expect(
        events.find((e) => e.type === 'error'),
        feature,
      ).toMatchObject({
        code: 'UNSUPPORTED_FIELD',
        details: { fields: [field], category: 'unsupported' },
      });
    }
    expect(far.runs).toEqual([]);
  });

  it('still refuses unknown fields, top-level and nested, before anything crosses the wire', async () => {
    const far = recordingAgent(farAgent());
    const agent = client((await serve(far.agent)).url, mode);
    const unknown = (input: Record<string, unknown>) => {
      try {
        agent.execute(input as never);
      } catch (error) {
        return error;
      }
      throw new Error('execute accepted an unknown field');
    };
    expect(unknown({ prompt: 'x', mcpServer: [] })).toMatchObject({
      code: 'UNKNOWN_FIELD',
      message: expect.stringContaining('did you mean "mcpServers"'),
    });
    const nested = unknown({ prompt: 'x', approvals: { rules: [{ tool: 'Bash', decison: 'allow' }] } });
    expect(nested).toBeInstanceOf(ValidationError);
    expect((nested as ValidationError).issues[0]).toMatchObject({
      path: 'approvals.rules.0.decison',
      code: 'UNKNOWN_FIELD',
    });
    expect(unknown({ prompt: 'x', budget: { maxCost: 1 } })).toMatchObject({ code: 'UNKNOWN_FIELD' });
    expect(far.requests).toEqual([]);
  });

  it('drops from pending() a request the far side settled itself, and refuses an answer to it', async () => {
    const far = scriptedAgent({
      provider: 'far',
      steps: [
        { type: 'permission.requested', id: 'p1', tool: 'Bash', input: { command: 'rm -rf /' } },
        { type: 'permission.resolved', id: 'p1', decision: 'deny', by: 'rule' },
        { type: 'message', text: 'moving on' },
        { hang: true },
      ],
    });
    const agent = client((await serve(far)).url, mode);
    const run = agent.execute({ prompt: 'go' });
    const reading = firstEvent(run, (e) => e.type === 'message');
    await reading.event;
    expect(run.pending()).toEqual([]);
    await expect(run.respond('p1', 'allow')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
    await run.cancel();
    expect(runProblems(await reading.all, run.id)).toEqual([]);
  });

  it('steers a live run: the text reaches the far agent, and the run goes on', async () => {
    const far = recordingAgent(steerable(true));
    const agent = client((await serve(far.agent)).url, mode);
    expect((await agent.capabilities()).steering).toBe(true);
    const run = agent.execute({ prompt: 'start' });
    const reading = firstEvent(run, (e) => e.type === 'log');
    await run.steer('also cover the edge case');
    const steered = (await reading.event) as AgentEvent & { type: 'log' };
    expect(steered.text).toBe('steered: also cover the edge case');
    await run.cancel();
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    await expect(run.steer('too late')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });

  it('refuses a steer the far agent does not declare with UnsupportedError, and an empty one before the wire', async () => {
    const agent = client((await serve(steerable(false))).url, mode);
    expect((await agent.capabilities()).steering).toBe(false);
    const run = agent.execute({ prompt: 'start' });
    const reading = firstEvent(run);
    await reading.event;
    await expect(run.steer('left')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(run.steer('')).rejects.toMatchObject({ code: 'INVALID_STEERING' });
    await run.cancel();
    expect(runProblems(await reading.all, run.id)).toEqual([]);
  });
});

it('a request with a newer field is refused by an agent that declares nothing newer, also when served locally', () => {
  // The reference the relay must match: the same refusal, synchronously, from the agent itself.
  expect(() => farAgent({}).execute(everyNewerField())).toThrow(UnsupportedFieldError);
});

describe('a server older than the newer request fields (no protocol_revision in GetStatus)', () => {
  /** Serves `agent` as a server of the first protocol revision would: GetStatus without protocol_revision. */
  const olderServer = (agent: CodeAgent) =>
    serve(agent, {
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          if (!res.stream && req.method.name === 'GetStatus') {
            (res.message as GetStatusResponse).capabilities!.protocolRevision = 0;
          }
          return res;
        },
      ],
    });

  it.each(modes)(
    'gets no run using them — UNSUPPORTED_FIELD naming each, since it would drop them — over %s',
    async (_n, mode) => {
      const far = recordingAgent(farAgent());
      const agent = client((await olderServer(far.agent)).url, mode);
      const run = agent.execute({
        prompt: 'x',
        effort: 'low',
        mcpServers: [{ name: 'm', url: 'http://127.0.0.1:9/' }],
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
      expect(events.find((e) => e.type === 'error')).toMatchObject({
        details: { category: 'unsupported', fields: ['mcpServers', 'effort'] },
      });
      expect(far.requests).toEqual([]);
      // A request without them runs as before.
      expect((await agent.execute({ prompt: 'plain' }).result).status).toBe('completed');
      expect(far.requests).toEqual([{ prompt: 'plain' }]);
    },
  );

  it.each(modes)(
    'refuses a steer with UnsupportedError, not a confusing unknown-command error, over %s',
    async (_n, mode) => {
      const far = recordingAgent(steerable(true));
      const agent = client((await olderServer(far.agent)).url, mode);
      const run = agent.execute({ prompt: 'start' });
      const reading = firstEvent(run);
      await reading.event;
      await expect(run.steer('left')).rejects.toBeInstanceOf(UnsupportedError);
      await run.cancel();
      const events = await reading.all;
      expect(runProblems(events, run.id)).toEqual([]);
      expect(events.filter((e) => e.type === 'log')).toEqual([]);
    },
  );

  it('a cancel while the server is being asked ends the run cancelled at once, and it never starts there', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const far = recordingAgent(farAgent());
    const server = await serve(far.agent, {
      interceptors: [
        (next) => async (req) => {
          if (req.method.name === 'GetStatus') await held;
          return next(req);
        },
      ],
    });
    const agent = client(server.url);
    const run = agent.execute({ prompt: 'x', effort: 'low' });
    const result = await run.cancel('changed my mind');
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(far.requests).toEqual([]);
    expect(runProblems((await collectRun(run)).events, run.id)).toEqual([]);
  });
});
