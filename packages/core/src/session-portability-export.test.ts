import { describe, expect, it } from 'vitest';
import { defaultCapabilities } from './agent.js';
import { createCodeAgent } from './create-code-agent.js';
import { localProcessRunner } from './local-process-runner.js';
import { memorySessionStore } from './memory-session-store.js';
import type { SessionExportLayout } from './session-portability.js';
import type { SessionStore } from './session-store.js';
import { collectRun } from './testing/collect.js';

/**
 * An agent whose "machine" is a database (a Map), like OpenCode's SQLite: no file holds a session, so the
 * layout exports and imports it. A resume needs the session in the database and reports the turns it found.
 */
function databaseAgent(db: Map<string, string[]>, store: SessionStore, calls: string[], failExport = false) {
  const layout: SessionExportLayout = {
    runner: localProcessRunner(),
    async exportSession({ sessionId }) {
      calls.push(`export ${sessionId}`);
      if (failExport) throw Object.assign(new Error('export broke'), { code: 'EXPORT_BROKE' });
      const turns = db.get(sessionId);
      return turns ? [{ path: 'session.json', data: new TextEncoder().encode(JSON.stringify(turns)) }] : [];
    },
    async hasSession({ sessionId }) {
      calls.push(`has ${sessionId}`);
      return db.has(sessionId);
    },
    async importSession({ sessionId }, files) {
      calls.push(`import ${sessionId}`);
      db.set(sessionId, JSON.parse(new TextDecoder().decode(files[0]!.data)) as string[]);
    },
  };
  return createCodeAgent({
    provider: 'db-agent',
    declared: defaultCapabilities({ resume: true, sessionPortability: true }),
    sessionStore: store,
    sessionFiles: layout,
    async run(ctx) {
      const sessionId = ctx.request.sessionId ?? `s${Math.random().toString(36).slice(2, 8)}`;
      const turns = ctx.request.sessionId ? db.get(sessionId) : [];
      if (!turns) throw new Error(`no session ${sessionId}`);
      // A prompt of "noop" leaves the session as it was.
      if (ctx.request.prompt !== 'noop') db.set(sessionId, [...turns, ctx.request.prompt]);
      ctx.setSessionId(sessionId);
      return { sessionId, text: `turns before: ${turns.length}` };
    },
  });
}

describe('portable sessions through an export/import layout', () => {
  it('imports the stored export on a machine that lacks it, and saves only an export that changed', async () => {
    const saved: number[] = [];
    const inner = memorySessionStore();
    const store: SessionStore = {
      ...inner,
      save: (key, save) => {
        saved.push(save.files[0]!.data.length);
        expect(save.files[0]!.from).toBeUndefined();
        return inner.save(key, save);
      },
    };
    const callsA: string[] = [];
    const a = databaseAgent(new Map(), store, callsA);
    const first = await collectRun(a.execute({ prompt: 'one' }));
    const sessionId = first.result.sessionId!;
    await collectRun(a.execute({ prompt: 'noop', sessionId }));
    // Known here since this process saved it: no lookup before the resume; the unchanged export is not saved.
    expect(callsA).toEqual([`export ${sessionId}`, `export ${sessionId}`]);
    expect(saved).toEqual([7]);

    const callsB: string[] = [];
    const dbB = new Map<string, string[]>();
    const b = databaseAgent(dbB, store, callsB);
    const second = await collectRun(b.execute({ prompt: 'two', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'turns before: 1' });
    expect(dbB.get(sessionId)).toEqual(['one', 'two']);
    expect(callsB).toEqual([`has ${sessionId}`, `import ${sessionId}`, `export ${sessionId}`]);
    expect((await store.load({ provider: 'db-agent', sessionId }))!.files[0]!.data.length).toBe(13);
  });

  it('a session the machine already has is not imported over', async () => {
    const store = memorySessionStore();
    const db = new Map<string, string[]>();
    const first = await collectRun(databaseAgent(db, store, []).execute({ prompt: 'one' }));
    const sessionId = first.result.sessionId!;
    db.set(sessionId, ['one', 'local']);
    const calls: string[] = [];
    const again = await collectRun(databaseAgent(db, store, calls).execute({ prompt: 'two', sessionId }));
    expect(again.result.text).toBe('turns before: 2');
    expect(calls).toEqual([`has ${sessionId}`, `export ${sessionId}`]);
  });

  it('an export that fails does not fail the turn: an error event says so', async () => {
    const run = await collectRun(databaseAgent(new Map(), memorySessionStore(), [], true).execute({ prompt: 'one' }));
    expect(run.result.status).toBe('completed');
    expect(run.events.filter((e) => e.type === 'error')).toMatchObject([
      { code: 'EXPORT_BROKE', message: 'session not saved: export broke' },
    ]);
  });
});
