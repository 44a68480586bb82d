import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { memorySessionStore } from '@forge/core';
import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/**
 * A conversation that outlives its machine, on the real CLI (2.1.197) and the fake Messages API: machine A's
 * HOME is removed after its turn; machine B (another HOME) resumes the session from the session store.
 */
describe('claudeCode with a session store: resume on another machine', () => {
  const rig = claudeCliRig();
  const history = () => JSON.stringify(rig.turns().at(-1)!.body.messages);

  it('the earlier turn reaches the model after machine A is gone; the next turn is saved as an append', async () => {
    rig.responder = (req) => ({ text: `Answer to: ${req.lastUserText}` });
    const store = memorySessionStore();
    const homeA = join(rig.scratch, 'machine-a');
    const a = rig.agent({ HOME: homeA }, { sessionStore: store, warmSessions: false });
    const first = await collectRun(a.execute({ prompt: 'remember MANGO-17' }));
    expect(first.result.status).toBe('completed');
    const sessionId = first.result.sessionId!;
    const [saved] = await store.list({ provider: 'claude-code' });
    expect(saved).toMatchObject({ sessionId, title: 'remember MANGO-17' });
    const snapshot = await store.load({ provider: 'claude-code', sessionId });
    expect(snapshot!.files.map((f) => f.path)).toEqual([
      `projects/${rig.scratch.replace(/[^A-Za-z0-9]/g, '-')}/${sessionId}.jsonl`,
    ]);
    await a.close?.();
    await rm(homeA, { recursive: true, force: true });

    // Warm: the process may still be appending the turn's last lines when the run ends; closing the agent ends it
    // and saves what it wrote since.
    const b = rig.agent({ HOME: join(rig.scratch, 'machine-b') }, { sessionStore: store });
    const second = await collectRun(b.execute({ prompt: 'what should you remember?', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', sessionId });
    expect(history()).toContain('remember MANGO-17');
    expect(history()).toContain('what should you remember?');
    await b.close?.();
    expect((await store.list({ provider: 'claude-code' }))[0]!.size).toBeGreaterThan(saved!.size);
  });

  it('without a store the same resume on a fresh HOME finds no conversation', async () => {
    rig.responder = () => ({ text: 'ok' });
    const a = rig.agent({ HOME: join(rig.scratch, 'machine-c') }, { warmSessions: false });
    const first = await collectRun(a.execute({ prompt: 'hello' }));
    const b = rig.agent({ HOME: join(rig.scratch, 'machine-d') });
    const second = await collectRun(b.execute({ prompt: 'again', sessionId: first.result.sessionId! }));
    expect(second.result.status).toBe('failed');
  });
});
