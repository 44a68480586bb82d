import { UnsupportedError, ValidationError, validateRequest, type AgentEvent, type CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EVERY_NEWER_CAPABILITY,
  ONE_NEWER_FIELD,
  comparable,
  everyNewerField,
  farAgent,
  newerEvents,
  newerResult,
} from '../../transport-grpc/src/test-support/wire-samples.js';
import { Rig } from './test-support/rig.js';
import { spyAgent } from './test-support/spy-agent.js';

/** A far agent that waits after starting, and says what it was steered with (scriptedAgent logs `steered: …`). */
const steerable = (steering: boolean) =>
  scriptedAgent({
    provider: 'far',
    steps: [{ type: 'session.started', sessionId: 'ses_s' }, { hang: true }],
    capabilities: { steering },
  });

describe('the newer fields, events and steering over a dial-home link', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  /** Dials `agent` in as `name` and returns the hub's agent for it. */
  const dialled = async (name: string, agent: CodeAgent): Promise<CodeAgent> => {
    await rig.dial(name, agent).whenOnline();
    return rig.registry.get(name);
  };

  it('hands every newer request field to the agent as the platform sent it, and reports its newer capabilities', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(farAgent());
    const remote = await dialled('fields', spy.agent);
    expect(await remote.capabilities()).toMatchObject(EVERY_NEWER_CAPABILITY);
    const input = everyNewerField();
    const { events, result } = await collectRun(remote.execute(input));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(validateRequest(spy.requests[0])).toStrictEqual(validateRequest(input));
  });

  it('relays the newer events, parentToolCallId, output and filesChanged as the agent’s run made them', async () => {
    rig = await new Rig().start();
    const remote = await dialled('events', farAgent());
    const direct = await collectRun(farAgent().execute(everyNewerField()));
    const relayed = await collectRun(remote.execute(everyNewerField()));
    expect(runProblems(relayed.events)).toEqual([]);
    expect(comparable(relayed.events)).toStrictEqual(comparable(direct.events));
    expect(relayed.events.map((e) => e.type)).not.toContain('log');
    expect(relayed.events).toHaveLength(newerEvents.length + 1);
    expect(relayed.events.filter((e) => e.parentToolCallId === 'task_1')).toHaveLength(3);
    expect(relayed.result).toMatchObject({ status: 'completed', ...newerResult });
  });

  it('refuses each newer field the agent did not declare in its Hello synchronously (UNSUPPORTED_FIELD), before any run', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(farAgent({}));
    const remote = await dialled('refuser', spy.agent);
    for (const [feature, sample] of Object.entries(ONE_NEWER_FIELD)) {
      const field = Object.keys(sample).find((k) => k !== 'sessionId')!;
      let refused: unknown;
      try {
        remote.execute({ prompt: 'x', ...sample });
      } catch (error) {
        refused = error;
      }
      expect(refused, feature).toMatchObject({ code: 'UNSUPPORTED_FIELD', details: { fields: [field] } });
    }
    expect(spy.runs).toEqual([]);
  });

  it('still refuses unknown fields on the platform side, before anything crosses the link', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(farAgent());
    const remote = await dialled('strict', spy.agent);
    expect(() => remote.execute({ prompt: 'x', outputSchem: {} } as never)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FIELD' }),
    );
    expect(() => remote.execute({ prompt: 'x', questions: { unanswerd: {} } } as never)).toThrow(ValidationError);
    expect(spy.requests).toEqual([]);
  });

  it('steers a live run over the link; an agent without steering refuses with UnsupportedError', async () => {
    rig = await new Rig().start();
    const remote = await dialled('steered', steerable(true));
    expect((await remote.capabilities()).steering).toBe(true);
    const run = remote.execute({ prompt: 'start' });
    const reading = firstEvent(run, (e) => e.type === 'log');
    await run.steer('mind the tests');
    expect(((await reading.event) as AgentEvent & { type: 'log' }).text).toBe('steered: mind the tests');
    await run.cancel();
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    await expect(run.steer('late')).rejects.toMatchObject({ code: 'RUN_FINISHED' });

    const plain = await dialled('unsteered', steerable(false));
    const other = plain.execute({ prompt: 'start' });
    const started = firstEvent(other);
    await started.event;
    await expect(other.steer('left')).rejects.toBeInstanceOf(UnsupportedError);
    await other.cancel();
    expect(runProblems(await started.all, other.id)).toEqual([]);
  });
});
