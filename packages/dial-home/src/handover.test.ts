import { createCodeAgent, defaultCapabilities, type AgentEvent, type AgentRun, type CodeAgent } from '@forge/core';
import { firstEvent, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from './test-support/rig.js';
import { spyAgent } from './test-support/spy-agent.js';
import { waitUntil } from './test-support/wait-until.js';

/** What a platform instance uses to hand a remote run over (examples/platform's HandoverAgent). */
interface Handover {
  detach(runId: string): Promise<void>;
  attach(runId: string, options: { afterSeq: number; pending?: readonly AgentEvent[] }): AgentRun;
  canAttach(runId: string): boolean;
}
const handover = (agent: CodeAgent | undefined) => agent as CodeAgent & Handover;

/** Four events, a permission request it waits on, then two more and the end. */
const askingScript = () =>
  scriptedAgent({
    steps: [
      { type: 'session.started', sessionId: 'ses_handover' },
      { type: 'text.delta', text: 'one ' },
      { type: 'text.delta', text: 'two ' },
      { type: 'permission.requested', id: 'perm-1', tool: 'Bash', input: { command: 'ls' } },
      { awaitPermission: 'perm-1' },
      { type: 'text.delta', text: 'three ' },
      { type: 'text.delta', text: 'four ' },
      { type: 'text.delta', text: 'five ' },
      { type: 'message', text: 'done' },
    ],
  });

/** One reader of a run: up to an event that matches, then the rest. */
function reader(run: AgentRun) {
  const it = run[Symbol.asyncIterator]();
  return {
    async until(predicate: (e: AgentEvent) => boolean): Promise<AgentEvent[]> {
      const seen: AgentEvent[] = [];
      for (;;) {
        const next = await it.next();
        if (next.done) return seen;
        seen.push(next.value);
        if (predicate(next.value)) return seen;
      }
    },
    rest: () => readRest(it),
  };
}

async function readRest(it: AsyncIterator<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for (let next = await it.next(); !next.done; next = await it.next()) out.push(next.value);
  return out;
}

const drain = (run: AgentRun): Promise<AgentEvent[]> => readRest(run[Symbol.asyncIterator]());

describe('handing a remote run over to another platform instance (issue 29 item 8)', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('a detached run goes on at the agent without a link and is attached through the next hub: no gap, nothing cancelled, its pending permission still answerable', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(askingScript());
    const d = rig.dial('roller', spy.agent);
    await d.whenOnline();
    const first = handover(rig.hub.agent('roller'));
    const run = first.execute({ prompt: 'a long turn' });
    const read = reader(run);
    const before = await read.until((e) => e.type === 'permission.requested');
    expect(before.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    await first.detach(run.id);
    const detachedEnd = await read.rest();
    expect(detachedEnd).toMatchObject([{ type: 'run.completed', result: { error: { code: 'RUN_DETACHED' } } }]);

    // The instance stops; the agent dials the next one (the same port here), its run still going.
    await rig.restartHub();
    await waitUntil(
      () => handover(rig.hub.agent('roller'))?.canAttach?.(run.id) === true,
      'the agent to announce its detached run',
    );
    const next = handover(rig.hub.agent('roller'));

    const adopted = next.attach(run.id, { afterSeq: 4, pending: [before[3]!] });
    expect(adopted.pending()).toMatchObject([{ type: 'permission.requested', id: 'perm-1' }]);
    await adopted.respond('perm-1', 'allow');
    const after = await drain(adopted);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 5));
    expect(after.map((e) => e.type)).toEqual([
      'tool.result',
      'text.delta',
      'text.delta',
      'text.delta',
      'message',
      'permission.resolved',
      'run.completed',
    ]);
    expect((await adopted.result).status).toBe('completed');
    // The agent ran it once, to its own end.
    expect(spy.runs).toHaveLength(1);
    expect((await spy.runs[0]!.result).status).toBe('completed');
    expect(next.canAttach(run.id)).toBe(false);
  });

  it('events past the detached buffer wait in the run (backpressure), none dropped', async () => {
    rig = await new Rig().start();
    // 40 deltas made once the test opens the gate, after the run was detached.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const agent = createCodeAgent({
      provider: 'gated',
      declared: defaultCapabilities({ textDeltas: true }),
      async run(ctx) {
        ctx.emit({ type: 'session.started', sessionId: 'ses_many' });
        await gate;
        for (let i = 0; i < 40; i++) ctx.emit({ type: 'text.delta', text: `${i} ` });
        return { text: 'many' };
      },
    });
    const spy = spyAgent(agent);
    const d = rig.dial('many', spy.agent, { detachedRuns: { maxEvents: 5, maxBytes: 1 << 20, ttlMs: 30_000 } });
    await d.whenOnline();
    const first = handover(rig.hub.agent('many'));
    const run = first.execute({ prompt: 'many' });
    const read = reader(run);
    const before = await read.until((e) => e.type === 'session.started');
    await first.detach(run.id);
    await read.rest();
    open();
    await rig.restartHub();
    await waitUntil(
      () => handover(rig.hub.agent('many'))?.canAttach?.(run.id) === true,
      'the agent to announce its detached run',
    );
    const next = handover(rig.hub.agent('many'));
    const after = await drain(next.attach(run.id, { afterSeq: before.length }));
    const all = [...before, ...after];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((e) => e.type === 'text.delta')).toHaveLength(40);
    expect(all.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
    expect((await spy.runs[0]!.result).status).toBe('completed');
  });

  it('a detached run nobody attaches within the bound is cancelled at the agent', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(askingScript());
    const d = rig.dial('lonely', spy.agent, { detachedRuns: { maxEvents: 100, maxBytes: 1 << 20, ttlMs: 200 } });
    await d.whenOnline();
    const first = handover(rig.hub.agent('lonely'));
    const run = first.execute({ prompt: 'anyone?' });
    const read = reader(run);
    await read.until((e) => e.type === 'permission.requested');
    await first.detach(run.id);
    await read.rest();
    await rig.stopHub();
    const result = await spy.runs[0]!.result;
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toMatch(/re-attach/);
  });

  it('a run that was not detached is cancelled when its link drops (as before)', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(askingScript());
    const d = rig.dial('plain', spy.agent);
    await d.whenOnline();
    const run = rig.hub.agent('plain')!.execute({ prompt: 'x' });
    await firstEvent(run, (e) => e.type === 'permission.requested').event;
    await rig.restartHub();
    expect((await spy.runs[0]!.result).status).toBe('cancelled');
    expect((await run.result).error?.code).toBe('TRANSPORT_BROKEN');
    const next = handover(rig.hub.agent('plain'));
    await d.whenOnline();
    expect(next?.canAttach?.(run.id) ?? false).toBe(false);
  });
});
