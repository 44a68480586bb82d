import { memorySessionStore, type AgentEvent, type AgentRun, type SessionStore } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { linkedSessionStore } from './linked-session-store.js';
import { journalAgent } from './test-support/journal-agent.js';
import { servedPair } from './test-support/served-pair.js';

const { serve, client } = servedPair();
const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

async function until(run: AgentRun, type: AgentEvent['type']): Promise<AgentEvent> {
  for await (const e of run) if (e.type === type) return e;
  throw new Error(`the run ended before ${type}`);
}

async function all(run: AgentRun): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of run) out.push(e);
  return out;
}

/** The pod's linked store, its saves held until `release` (the end of a long turn). */
function heldSaves(store: SessionStore) {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  const wrapped: SessionStore = {
    ...store,
    save: async (key, save) => {
      await held;
      return store.save(key, save);
    },
  };
  return { wrapped, release };
}

describe('a linked run handed over to another client keeps its session store (DetachCommand, AttachCommand)', () => {
  it('the save at the end of the turn, made while detached, reaches the store of the client that took it over', async () => {
    // Failed first: the save went to the first client's stream, ended with it (TRANSPORT_BROKEN), and the run failed.
    const pod = linkedSessionStore();
    const { wrapped, release } = heldSaves(pod);
    const server = await serve(journalAgent(wrapped), { sessionStore: pod });
    const firstStore = memorySessionStore();
    const first = client(server.url, { sessionStore: firstStore });
    const run = first.execute({ prompt: 'remember KIWI' }, { runId: 'run_sessions' });
    const started = await until(run, 'session.started');
    await first.detach('run_sessions');
    await first.close();
    release();
    // Let the save leave the agent while no client carries the run: it waits for the next.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));

    const secondStore = memorySessionStore();
    const second = client(server.url, { sessionStore: secondStore });
    const events = await all(second.attach('run_sessions', { afterSeq: started.seq, request: {} }));
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'completed', text: 'remember KIWI\n' },
    });
    const sessionId = (started as Extract<AgentEvent, { type: 'session.started' }>).sessionId;
    const saved = await secondStore.load({ provider: 'journal', sessionId });
    expect(text(saved!.files[0]!.data)).toBe('remember KIWI\n');
    expect(await firstStore.load({ provider: 'journal', sessionId })).toBeUndefined();
    await second.close();
  });

  it('the adopting client grants what the request grants: the resumed session, and no other', async () => {
    const platform = memorySessionStore();
    await platform.save(
      { provider: 'journal', sessionId: 'ses_old' },
      { files: [{ path: 'log', data: Buffer.from('before\n') }] },
    );
    const pod = linkedSessionStore();
    const { wrapped, release } = heldSaves(pod);
    // The pod's disk has the session, so only the save crosses the link (after the handover).
    const server = await serve(journalAgent(wrapped, new Map([['ses_old', 'before\n']])), { sessionStore: pod });
    const first = client(server.url, { sessionStore: platform });
    const run = first.execute({ prompt: 'after', sessionId: 'ses_old' }, { runId: 'run_resume' });
    const started = await until(run, 'session.started');
    await first.detach('run_resume');
    await first.close();
    const second = client(server.url, { sessionStore: platform });
    const adopted = second.attach('run_resume', { afterSeq: started.seq, request: { sessionId: 'ses_old' } });
    release();
    expect((await adopted.result).status).toBe('completed');
    expect(text((await platform.load({ provider: 'journal', sessionId: 'ses_old' }))!.files[0]!.data)).toBe(
      'before\nafter\n',
    );

    // Taken over without its request, the run may not write to the session it resumed.
    const held = heldSaves(pod);
    const server2 = await serve(journalAgent(held.wrapped, new Map([['ses_old', 'x\n']])), { sessionStore: pod });
    const third = client(server2.url, { sessionStore: platform });
    const run2 = third.execute({ prompt: 'evil', sessionId: 'ses_old' }, { runId: 'run_nogrant' });
    const s2 = await until(run2, 'session.started');
    await third.detach('run_nogrant');
    const fourth = client(server2.url, { sessionStore: platform });
    const taken = fourth.attach('run_nogrant', { afterSeq: s2.seq });
    held.release();
    expect(await taken.result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
    await Promise.all([second.close(), third.close(), fourth.close()]);
  });

  it('an adopting client without a store fails the calls clearly', async () => {
    const pod = linkedSessionStore();
    const { wrapped, release } = heldSaves(pod);
    const server = await serve(journalAgent(wrapped), { sessionStore: pod });
    const first = client(server.url, { sessionStore: memorySessionStore() });
    const run = first.execute({ prompt: 'hello' }, { runId: 'run_plain' });
    const started = await until(run, 'session.started');
    await first.detach('run_plain');
    const plain = client(server.url);
    const adopted = plain.attach('run_plain', { afterSeq: started.seq });
    release();
    expect(await adopted.result).toMatchObject({ status: 'failed', error: { code: 'SESSION_STORE_ABSENT' } });
    await Promise.all([first.close(), plain.close()]);
  });
});
