import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memorySessionStore, type SessionStore } from '@forge/core';
import { collectRun } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opencode } from './index.js';
import { OPENCODE_SESSION_FILE } from './session-export.js';
import { processesLeftUsing } from './test-support/processes-using.js';
import {
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  startFakeOpenAiApi,
  type ChatRequest,
  type FakeOpenAiApi,
  type FakeReply,
} from './testing/index.js';

/*
 * A conversation that outlives its server, on the real `opencode serve` (1.18) and the fake model API: server A
 * (its own XDG_DATA_HOME, so its own SQLite database) runs a turn and is removed with its data; server B
 * (another data directory) resumes the session from the session store. Each server is a cold start of its own.
 */
function reply(request: ChatRequest): FakeReply {
  if (!request.tools?.length) return { kind: 'text', text: 'Fake title' };
  return { kind: 'text', text: `Answer to: ${lastUserText(request)}` };
}

describe('opencode with a session store: resume on another server', () => {
  let scratch: string;
  let project: string;
  let api: FakeOpenAiApi;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-opencode-sessions-'));
    project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    api = await startFakeOpenAiApi({ reply });
  });
  afterAll(async () => {
    await api?.close();
    try {
      expect(await processesLeftUsing(scratch)).toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  const machine = (name: string, sessionStore?: SessionStore) =>
    opencode({
      server: {
        bin: opencodeBinPath(),
        cwd: project,
        env: isolatedOpencodeEnv(join(scratch, name)),
        inheritEnv: false,
        config: fakeOpencodeConfig(api.url),
        startTimeoutMs: 90_000,
      },
      ...(sessionStore ? { sessionStore } : {}),
    });
  const sawPrompt = (text: string) =>
    api.requests.filter((r) => r.tools?.length && JSON.stringify(r.messages).includes(text));

  it('the earlier turn reaches the model after server A and its data are gone; without a store, B fails', async () => {
    const store = memorySessionStore();
    const a = machine('machine-a', store);
    let sessionId: string;
    try {
      const first = await collectRun(a.execute({ prompt: 'remember MANGO-17', cwd: project, timeoutMs: 90_000 }));
      expect(first.result.status).toBe('completed');
      sessionId = first.result.sessionId!;
    } finally {
      await a.close?.();
    }
    const [saved] = await store.list({ provider: 'opencode' });
    expect(saved).toMatchObject({ sessionId, title: 'remember MANGO-17', cwd: project });
    const snapshot = await store.load({ provider: 'opencode', sessionId });
    expect(snapshot!.files.map((f) => f.path)).toEqual([OPENCODE_SESSION_FILE]);
    expect(new TextDecoder().decode(snapshot!.files[0]!.data)).toContain('remember MANGO-17');
    await rm(join(scratch, 'machine-a'), { recursive: true, force: true });

    // Both cold starts at once: B resumes from the store, C (no store) cannot.
    const b = machine('machine-b', store);
    const c = machine('machine-c');
    try {
      const [second, orphan] = await Promise.all([
        collectRun(b.execute({ prompt: 'what should you remember?', sessionId, cwd: project, timeoutMs: 90_000 })),
        collectRun(c.execute({ prompt: 'and you, C?', sessionId, cwd: project, timeoutMs: 90_000 })),
      ]);
      expect(second.result).toMatchObject({
        status: 'completed',
        sessionId,
        text: 'Answer to: what should you remember?',
      });
      const [resumed] = sawPrompt('what should you remember?');
      expect(JSON.stringify(resumed!.messages)).toContain('remember MANGO-17');
      expect(orphan.result).toMatchObject({ status: 'failed', error: { code: 'OPENCODE_NOT_FOUND' } });
      expect(sawPrompt('and you, C?')).toEqual([]);
      // B's turn was saved too: the stored export now holds both turns.
      const after = await store.load({ provider: 'opencode', sessionId });
      expect(after!.size).toBeGreaterThan(saved!.size);
      expect(new TextDecoder().decode(after!.files[0]!.data)).toContain('what should you remember?');
    } finally {
      await Promise.all([b.close?.(), c.close?.()]);
    }
  }, 300_000);
});
