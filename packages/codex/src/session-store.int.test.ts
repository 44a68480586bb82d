import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileSessionStore, memorySessionStore } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { fakeResponsesProvider } from './testing/index.js';
import { useRealAppServer } from './test-support/real-app-server.js';

/**
 * A conversation that outlives its machine, on the real CLI (0.171.0) and the fake Responses API: machine A's
 * CODEX_HOME is wiped after its turn, machine B (another CODEX_HOME) resumes the thread from the session store.
 */
describe('codex with a session store: resume on another machine', () => {
  const h = useRealAppServer();
  const inputOf = (i: number) => JSON.stringify(h.calls()[i]?.body.input ?? []);
  const home = async (name: string) => {
    const dir = join(h.scratch, name);
    await mkdir(join(dir, '.codex'), { recursive: true });
    return { HOME: dir, CODEX_HOME: join(dir, '.codex') };
  };

  for (const transport of ['app-server', 'exec'] as const)
    it(`${transport}: the earlier turn reaches the model after machine A's home is gone`, async () => {
      h.respond((req) => ({ text: `Reply to ${req.lastUserText}.` }));
      const store =
        transport === 'exec' ? fileSessionStore(join(h.scratch, `store-${transport}`)) : memorySessionStore();
      const envA = await home(`a-${transport}`);
      const a = h.agent({ transport, env: envA, sessionStore: store });
      const first = await collectRun(a.execute({ prompt: 'remember PINEAPPLE-42', timeoutMs: 60_000 }));
      expect(runProblems(first.events)).toEqual([]);
      expect(first.result.status).toBe('completed');
      const thread = first.result.sessionId!;
      const [info] = await store.list({ provider: 'codex' });
      expect(info).toMatchObject({ sessionId: thread, title: 'remember PINEAPPLE-42' });
      expect(info!.size).toBeGreaterThan(0);
      await a.close?.();
      await rm(envA.HOME, { recursive: true, force: true });

      const envB = await home(`b-${transport}`);
      const b = h.agent({
        transport,
        env: envB,
        sessionStore: store,
        provider: fakeResponsesProvider(h.api.url),
      });
      const second = await collectRun(
        b.execute({ prompt: 'what did I ask you to remember?', sessionId: thread, timeoutMs: 60_000 }),
      );
      expect(runProblems(second.events)).toEqual([]);
      expect(second.result).toMatchObject({ status: 'completed', sessionId: thread });
      expect(inputOf(1)).toContain('PINEAPPLE-42');
      expect(inputOf(1)).toContain('what did I ask you to remember?');
      // The second turn's additions were saved too.
      expect((await store.list({ provider: 'codex' }))[0]!.size).toBeGreaterThan(info!.size);
    });

  it('without a store, the same resume on machine B fails: nothing to resume', async () => {
    h.respond(() => ({ text: 'ok' }));
    const envA = await home('a-none');
    const first = await collectRun(h.agent({ env: envA }).execute({ prompt: 'hello', timeoutMs: 60_000 }));
    const envB = await home('b-none');
    const second = await collectRun(
      h.agent({ env: envB }).execute({ prompt: 'again', sessionId: first.result.sessionId!, timeoutMs: 60_000 }),
    );
    expect(second.result.status).toBe('failed');
  });
});
