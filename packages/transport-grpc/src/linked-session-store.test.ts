import { memorySessionStore } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import type { GetStatusResponse } from './gen/forge/agent/v1/agent_pb.js';
import { linkedSessionStore } from './linked-session-store.js';
import { journalAgent } from './test-support/journal-agent.js';
import { servedPair } from './test-support/served-pair.js';

const { serve, client } = servedPair();
const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

describe('a served agent keeps its sessions in the client’s store (linkedSessionStore)', () => {
  it('saves each turn there and, on a fresh server whose disk lacks the session, resumes from it', async () => {
    const platform = memorySessionStore();
    const podA = linkedSessionStore();
    const a = client((await serve(journalAgent(podA), { sessionStore: podA })).url, { sessionStore: platform });
    const first = await collectRun(a.execute({ prompt: 'remember PAPAYA' }));
    expect(runProblems(first.events)).toEqual([]);
    const sessionId = first.result.sessionId!;
    await a.execute({ prompt: 'and MANGO', sessionId }).result;
    const saved = await platform.load({ provider: 'journal', sessionId });
    expect(text(saved!.files[0]!.data)).toBe('remember PAPAYA\nand MANGO\n');
    expect(saved!.title).toBe('remember PAPAYA');

    // The pod is replaced: a new server, a new empty disk.
    const podB = linkedSessionStore();
    const b = client((await serve(journalAgent(podB), { sessionStore: podB })).url, { sessionStore: platform });
    const third = await collectRun(b.execute({ prompt: 'what was it?', sessionId }));
    expect(runProblems(third.events)).toEqual([]);
    expect(third.result).toMatchObject({ status: 'completed', text: 'remember PAPAYA\nand MANGO\nwhat was it?\n' });
    expect(text((await platform.load({ provider: 'journal', sessionId }))!.files[0]!.data)).toBe(third.result.text);
  });

  it('carries a session larger than one message in parts, both ways', async () => {
    const platform = memorySessionStore();
    const big = 'x'.repeat(50_000);
    const pod = linkedSessionStore({ maxPartBytes: 4_096 });
    const served = await serve(journalAgent(pod), { sessionStore: pod });
    const a = client(served.url, { sessionStore: platform });
    const { result } = await a.execute({ prompt: big }).result.then((r) => ({ result: r }));
    expect((await platform.load({ provider: 'journal', sessionId: result.sessionId! }))!.size).toBe(50_001);
    const fresh = linkedSessionStore({ maxPartBytes: 4_096 });
    const b = client((await serve(journalAgent(fresh), { sessionStore: fresh })).url, { sessionStore: platform });
    const again = await b.execute({ prompt: 'more', sessionId: result.sessionId! }).result;
    expect(again.text).toBe(`${big}\nmore\n`);
  });

  it('a snapshot over the client store’s cap fails with the store’s own error, across the link', async () => {
    const pod = linkedSessionStore();
    const agent = client((await serve(journalAgent(pod), { sessionStore: pod })).url, {
      sessionStore: memorySessionStore({ maxBytes: 16 }),
    });
    const result = await agent.execute({ prompt: 'far more than sixteen bytes' }).result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_TOO_LARGE' } });
    expect(result.error?.message).toMatch(/over the store's cap of 16/);
  });

  it('a run of a client without a store is not linked: nothing is saved or loaded there', async () => {
    const pod = linkedSessionStore();
    const plain = client((await serve(journalAgent(pod), { sessionStore: pod })).url);
    const { result } = await collectRun(plain.execute({ prompt: 'hello' }));
    expect(result.status).toBe('completed');
    const again = await plain.execute({ prompt: 'again', sessionId: 'ses_not_on_disk' }).result;
    expect(again.text).toBe('again\n');
  });

  it('a run reaches only its own sessions: another conversation can be neither read nor overwritten', async () => {
    // Failed first: with every call answered (no grants), the agent read the victim's log and appended to it.
    const platform = memorySessionStore();
    await platform.save(
      { provider: 'journal', sessionId: 'victim' },
      { files: [{ path: 'log', data: Buffer.from('SECRET of another user\n') }] },
    );
    const pod = linkedSessionStore();
    const agent = client((await serve(journalAgent(pod), { sessionStore: pod })).url, { sessionStore: platform });
    const stolen = await agent.execute({ prompt: 'steal:victim' }).result;
    expect(stolen).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
    expect(stolen.text).not.toContain('SECRET');
    const overwritten = await agent.execute({ prompt: 'overwrite:victim' }).result;
    expect(overwritten).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
    expect(text((await platform.load({ provider: 'journal', sessionId: 'victim' }))!.files[0]!.data)).toBe(
      'SECRET of another user\n',
    );
    // A fork reads its origin but does not write to it.
    const fork = await agent.execute({ prompt: 'overwrite:victim', sessionId: 'victim', fork: true }).result;
    expect(fork).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
  });

  it('a client with a store refuses to start runs on a server older than session calls, saying so', async () => {
    const pod = linkedSessionStore();
    const older = await serve(journalAgent(pod), {
      sessionStore: pod,
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          if (!res.stream && req.method.name === 'GetStatus')
            (res.message as GetStatusResponse).capabilities!.protocolRevision = 1;
          return res;
        },
      ],
    });
    const agent = client(older.url, { sessionStore: memorySessionStore() });
    const { events, result } = await collectRun(agent.execute({ prompt: 'hello' }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_STORE_UNSUPPORTED' } });
    expect(events.find((e) => e.type === 'error')?.message).toMatch(/protocol revision 1, needs 2/);
    // Without a store the same server runs it.
    expect((await client(older.url).execute({ prompt: 'hello' }).result).status).toBe('completed');
  });

  it('refuses a store on a client that cannot stream both ways', () => {
    expect(() => client('http://127.0.0.1:9', { sessionStore: memorySessionStore(), streaming: 'server' })).toThrow(
      /bidi/,
    );
  });
});
