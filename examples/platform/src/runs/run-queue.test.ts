import type { CodeAgent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import type { ForgeStore } from '@forge/store';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../logger.js';
import { RunManager } from '../run-manager.js';
import { testStore } from '../test-support/api-harness.js';

describe('RunQueue.submit', () => {
  // Opening the store is the slow part (seconds on a busy machine): a hook, not the test's own time.
  let store: ForgeStore;
  beforeAll(async () => {
    store = await testStore();
  });

  it('answers running as soon as its own run starts, while the pass it joined is still starting others', async () => {
    // The second agent's lookup hangs, and with it the dispatch pass that starts its run.
    let lookedUp!: () => void;
    const lookup = new Promise<void>((resolve) => (lookedUp = resolve));
    let release!: (agent: CodeAgent) => void;
    const stuck = new Promise<CodeAgent>((resolve) => (release = resolve));
    const quick = scriptedAgent({ steps: [{ type: 'message', text: 'hi' }] });
    const runs = await RunManager.create({
      store,
      agents: async (_user, agentId) => {
        if (agentId !== 'agt_rq_stuck') return quick;
        lookedUp();
        return stuck;
      },
      logger: memoryLogger(),
      pollMs: 50,
    });
    const first = runs.submit({ userId: 'u', agentId: 'agt_rq_quick', request: { prompt: '1' } });
    const second = runs.submit({ userId: 'u', agentId: 'agt_rq_stuck', request: { prompt: '2' } });
    await lookup;
    // Answered while the pass still waits on the other run (it used to wait for the whole pass).
    expect((await first).status).toBe('running');
    release(quick);
    expect((await second).status).toBe('running');
    await runs.idle();
    await runs.close();
  });
});
