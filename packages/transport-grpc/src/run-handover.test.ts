import type { AgentEvent, AgentRun } from '@forge/core';
import { scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { servedPair } from './test-support/served-pair.js';

const { serve, client } = servedPair();

// Three events, a permission the taking-over client answers, then the end.
const steps: ScriptStep[] = [
  { type: 'session.started', sessionId: 'ses_handover' },
  { type: 'text.delta', text: 'one ' },
  { type: 'text.delta', text: 'two ' },
  { type: 'permission.requested', id: 'gate', tool: 'Bash', input: { command: 'ls' } },
  { awaitPermission: 'gate' },
  { type: 'message', text: 'done after the handover' },
];

async function take(run: AgentRun, n: number): Promise<AgentEvent[]> {
  const it = run[Symbol.asyncIterator]();
  const out: AgentEvent[] = [];
  while (out.length < n) {
    const next = await it.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

async function all(run: AgentRun): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of run) out.push(e);
  return out;
}

describe('handing a run from one client to another (DetachCommand, AttachCommand)', () => {
  it('the agent keeps running; the new client gets every event after its last seq, once, and the real end', async () => {
    let cancelled = 0;
    const agent = scriptedAgent({ steps });
    const execute = agent.execute.bind(agent);
    agent.execute = ((...args: Parameters<typeof execute>) => {
      const run = execute(...args);
      const cancel = run.cancel.bind(run);
      run.cancel = (reason?: string) => {
        cancelled++;
        return cancel(reason);
      };
      return run;
    }) as typeof agent.execute;
    const server = await serve(agent);
    const first = client(server.url);
    const run = first.execute({ prompt: 'work' }, { runId: 'run_handover' });
    const before = await take(run, 3);
    expect(before.map((e) => e.seq)).toEqual([1, 2, 3]);
    await first.detach('run_handover');
    const ended = await run.result;
    expect(ended).toMatchObject({ status: 'cancelled', error: { code: 'RUN_DETACHED' } });
    // The first client can go away entirely: the run does not depend on its connection.
    await first.close();

    const second = client(server.url);
    const adopted = second.attach('run_handover', { afterSeq: 3 });
    const it = adopted[Symbol.asyncIterator]();
    const permission = (await it.next()).value as AgentEvent;
    expect(permission).toMatchObject({ seq: 4, type: 'permission.requested', id: 'gate' });
    await adopted.respond('gate', 'allow');
    const after: AgentEvent[] = [permission];
    for (let next = await it.next(); !next.done; next = await it.next()) after.push(next.value);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 4));
    expect(after.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(after.at(-1)).toMatchObject({
      type: 'run.completed',
      runId: 'run_handover',
      result: { status: 'completed', text: 'done after the handover', sessionId: 'ses_handover' },
    });
    expect(cancelled).toBe(0);
  });

  it('refuses a run that is not detached (RUN_NOT_FOUND), or whose events after the seq are gone (EVENTS_LOST)', async () => {
    const server = await serve(scriptedAgent({ steps }), { replayEvents: 1 });
    const c = client(server.url);
    const unknown = await all(c.attach('run_nope', { afterSeq: 0 }));
    expect(unknown.at(-1)).toMatchObject({ type: 'run.completed', result: { error: { code: 'RUN_NOT_FOUND' } } });

    const run = c.execute({ prompt: 'work' }, { runId: 'run_lost' });
    const read = await take(run, 4);
    await c.detach('run_lost');
    const late = c.attach('run_lost', { afterSeq: 1 });
    const events = await all(late);
    // A failed end made here continues the sequence after the seq asked for: no gap, no event made up.
    expect(events.map((e) => e.seq)).toEqual([2, 3]);
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { error: { code: 'EVENTS_LOST' } } });
    // From the last event it has, the client can still take it over.
    const again = c.attach('run_lost', { afterSeq: 4, pending: read.filter((e) => e.type === 'permission.requested') });
    const it = again[Symbol.asyncIterator]();
    await again.respond('gate', 'allow');
    const rest: AgentEvent[] = [];
    for (let next = await it.next(); !next.done; next = await it.next()) rest.push(next.value);
    expect(rest[0]!.seq).toBe(5);
    expect(rest.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
  });

  it('cancels a detached run nobody takes over within detachedRunTtlMs', async () => {
    const agent = scriptedAgent({ steps });
    let result: Promise<unknown> | undefined;
    const execute = agent.execute.bind(agent);
    agent.execute = ((...args: Parameters<typeof execute>) => {
      const run = execute(...args);
      result = run.result;
      return run;
    }) as typeof agent.execute;
    const server = await serve(agent, { detachedRunTtlMs: 50 });
    const c = client(server.url);
    const run = c.execute({ prompt: 'work' }, { runId: 'run_orphan' });
    await take(run, 2);
    await c.detach('run_orphan');
    await expect(result).resolves.toMatchObject({ status: 'cancelled' });
    const late = await all(c.attach('run_orphan', { afterSeq: 2 }));
    expect(late.at(-1)).toMatchObject({ result: { error: { code: 'RUN_NOT_FOUND' } } });
  });
});
