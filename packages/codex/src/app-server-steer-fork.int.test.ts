import { runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { drive, useRealAppServer } from './test-support/real-app-server.js';

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
});
