import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCapabilities } from './agent.js';
import { createCodeAgent } from './create-code-agent.js';
import { localProcessRunner } from './local-process-runner.js';
import { memorySessionStore } from './memory-session-store.js';
import type { SessionFilesLayout } from './session-portability.js';
import type { SessionStore } from './session-store.js';
import { collectRun } from './testing/collect.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'forge-portable-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * An agent whose "machine" is a home directory: each turn appends a line to `<home>/sessions/<id>.jsonl`, and a
 * resume needs that file (like Claude Code's "No conversation found"), reporting the turns it found before.
 */
function homeAgent(home: string, store: SessionStore) {
  const layout: SessionFilesLayout = {
    runner: localProcessRunner(),
    files: async ({ sessionId }) => [
      { path: `sessions/${sessionId}.jsonl`, absolute: join(home, 'sessions', `${sessionId}.jsonl`) },
    ],
    restorePath: (_session, path) => join(home, path),
  };
  return createCodeAgent({
    provider: 'home-agent',
    declared: defaultCapabilities({ resume: true, sessionPortability: true }),
    sessionStore: store,
    sessionFiles: layout,
    async run(ctx) {
      const sessionId = ctx.request.sessionId ?? `s${Math.random().toString(36).slice(2, 8)}`;
      const file = join(home, 'sessions', `${sessionId}.jsonl`);
      let before = '';
      if (ctx.request.sessionId) {
        before = await readFile(file, 'utf8').catch(() => {
          throw new Error(`No conversation found with session ID: ${sessionId}`);
        });
      }
      await mkdir(join(home, 'sessions'), { recursive: true });
      await appendFile(file, `${JSON.stringify({ prompt: ctx.request.prompt })}\n`);
      ctx.setSessionId(sessionId);
      return { sessionId, text: `turns before: ${before.split('\n').filter(Boolean).length}` };
    },
  });
}

describe('portable sessions (createCodeAgent with a sessionStore)', () => {
  it('continues a conversation on another machine: the files come back from the store, appends go as appends', async () => {
    const saves: { from?: number; bytes: number }[] = [];
    const inner = memorySessionStore();
    const store: SessionStore = {
      ...inner,
      save: (key, save) => {
        for (const f of save.files)
          saves.push({ ...(f.from !== undefined ? { from: f.from } : {}), bytes: f.data.length });
        return inner.save(key, save);
      },
    };
    const a = homeAgent(join(scratch, 'machine-a'), store);
    const first = await collectRun(a.execute({ prompt: 'one' }));
    const sessionId = first.result.sessionId!;
    const second = await collectRun(a.execute({ prompt: 'two', sessionId }));
    expect(second.result.text).toBe('turns before: 1');
    // The second turn sent only its own line, from where the first ended.
    expect(saves).toEqual([{ bytes: 17 }, { from: 17, bytes: 17 }]);

    // Machine A is gone; machine B has never seen the session.
    const b = homeAgent(join(scratch, 'machine-b'), store);
    const third = await collectRun(b.execute({ prompt: 'three', sessionId }));
    expect(third.result.status).toBe('completed');
    expect(third.result.text).toBe('turns before: 2');
    expect(await readFile(join(scratch, 'machine-b', 'sessions', `${sessionId}.jsonl`), 'utf8')).toBe(
      '{"prompt":"one"}\n{"prompt":"two"}\n{"prompt":"three"}\n',
    );
    expect(saves.at(-1)).toEqual({ from: 34, bytes: 19 });
    expect((await store.list({ provider: 'home-agent' }))[0]).toMatchObject({ sessionId, size: 53, title: 'one' });
  });

  it('without a store the resume on another machine fails as the program says', async () => {
    const c = homeAgent(join(scratch, 'machine-c'), memorySessionStore());
    const run = await collectRun(c.execute({ prompt: 'x', sessionId: 'never-seen' }));
    expect(run.result.status).toBe('failed');
    expect(run.result.error?.message).toContain('No conversation found');
  });

  it('a session over the store cap: the turn completes, the failure is an error event naming SESSION_TOO_LARGE', async () => {
    const d = homeAgent(join(scratch, 'machine-d'), memorySessionStore({ maxBytes: 10 }));
    const run = await collectRun(d.execute({ prompt: 'a prompt longer than ten bytes' }));
    expect(run.result.status).toBe('completed');
    expect(run.events.find((e) => e.type === 'error')).toMatchObject({ code: 'SESSION_TOO_LARGE' });
  });

  it('a program that writes its session file behind the turn: the save looks again until settleMs', async () => {
    const home = join(scratch, 'machine-e');
    const store = memorySessionStore();
    let written: Promise<void> | undefined;
    const layout: SessionFilesLayout = {
      runner: localProcessRunner(),
      settleMs: 5_000,
      files: async ({ sessionId }) => {
        const absolute = join(home, `${sessionId}.jsonl`);
        const there = await readFile(absolute).then(
          () => true,
          () => false,
        );
        return there ? [{ path: `${sessionId}.jsonl`, absolute }] : [];
      },
      restorePath: (_session, path) => join(home, path),
    };
    const agent = createCodeAgent({
      provider: 'late-writer',
      declared: defaultCapabilities({ resume: true, sessionPortability: true }),
      sessionStore: store,
      sessionFiles: layout,
      async run(ctx) {
        ctx.setSessionId('late');
        // As a warm CLI does: the turn is over before its transcript reaches the disk.
        written = mkdir(home, { recursive: true })
          .then(() => new Promise((resolve) => setTimeout(resolve, 250)))
          .then(() => appendFile(join(home, 'late.jsonl'), 'the turn\n'));
        return { sessionId: 'late', text: 'done' };
      },
    });
    const run = await collectRun(agent.execute({ prompt: 'p' }));
    expect(run.result.status).toBe('completed');
    await written;
    const stored = await store.load({ provider: 'late-writer', sessionId: 'late' });
    expect(stored?.files.map((f) => f.data.toString())).toEqual(['the turn\n']);
  });
});
