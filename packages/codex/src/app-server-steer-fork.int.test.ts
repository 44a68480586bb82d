import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { drive, ofType, useRealAppServer } from './test-support/real-app-server.js';

/** Steering and forking on the real CLI (0.171.0) as `codex app-server`, against the fake Responses API. */
describe('codex app-server with the real CLI: steering and fork', () => {
  const h = useRealAppServer();
  const inputOf = (i: number) => JSON.stringify(h.calls()[i]?.body.input ?? []);

  it('run.steer() mid-turn: the steering text reaches the model in a later request of the same turn', async () => {
    const STEER = 'FORGE-STEER-7f3a: answer in French';
    h.respond((req) =>
      JSON.stringify(req.body.input).includes(STEER)
        ? { text: 'Bien reçu.' }
        : req.hasToolOutput
          ? { text: 'Not steered.' }
          : { shell: 'echo hi' },
    );
    const run = h.agent().execute({ prompt: 'run echo', timeoutMs: 60_000 });
    const { events, result } = await drive(run, async (e) => {
      // The turn waits on the approval: a steer now lands while the turn runs, before the model's next call.
      if (e.type !== 'permission.requested') return;
      await run.steer(STEER);
      await run.respond(e.id, 'allow');
    });
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Bien reçu.', turns: 1 });
    expect(inputOf(0)).not.toContain(STEER);
    expect(
      h
        .calls()
        .slice(1)
        .some((c) => JSON.stringify(c.body.input).includes(STEER)),
    ).toBe(true);
  });

  it('fork: a new thread with the history so far; both branches go on independently', async () => {
    h.respond((req) => ({ text: `Reply to ${req.lastUserText}.` }));
    const a = h.agent();
    const base = await collectRun(a.execute({ prompt: 'base-AAA', timeoutMs: 60_000 }));
    expect(base.result.status).toBe('completed');
    const original = base.result.sessionId!;

    const fork = await collectRun(
      a.execute({ prompt: 'fork-BBB', sessionId: original, fork: true, timeoutMs: 60_000 }),
    );
    expect(runProblems(fork.events)).toEqual([]);
    expect(fork.result).toMatchObject({ status: 'completed', text: 'Reply to fork-BBB.' });
    const forked = fork.result.sessionId!;
    expect(forked).not.toBe(original);
    expect(ofType(fork.events, 'session.started')[0]!.sessionId).toBe(forked);
    // The fork's model call carries the original's history and its own prompt.
    expect(inputOf(1)).toContain('base-AAA');
    expect(inputOf(1)).toContain('fork-BBB');

    const onOriginal = await collectRun(a.execute({ prompt: 'orig-CCC', sessionId: original, timeoutMs: 60_000 }));
    expect(onOriginal.result).toMatchObject({ status: 'completed', sessionId: original });
    expect(inputOf(2)).toContain('base-AAA');
    expect(inputOf(2)).not.toContain('fork-BBB');

    const onFork = await collectRun(a.execute({ prompt: 'fork-DDD', sessionId: forked, timeoutMs: 60_000 }));
    expect(onFork.result).toMatchObject({ status: 'completed', sessionId: forked });
    expect(inputOf(3)).toContain('fork-BBB');
    expect(inputOf(3)).not.toContain('orig-CCC');
  });
});
