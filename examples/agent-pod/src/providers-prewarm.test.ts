import { silentLogger } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { readConfig } from './config.js';
import { createPodProvider } from './providers.js';

describe('FORGE_PREWARM in the pod', () => {
  it('gives claude-code the adapter’s prewarm; without it, none', async () => {
    for (const [flag, count] of [
      ['1', 1],
      ['0', 0],
    ] as const) {
      // A CLI that is not there: the spare's start fails (logged), the capability is what is checked.
      const config = readConfig({
        FORGE_PROVIDER: 'claude-code',
        FORGE_PREWARM: flag,
        FORGE_BIN: '/nonexistent/claude',
      });
      const provider = await createPodProvider(config, silentLogger);
      try {
        expect((await provider.agent.capabilities()).extra).toMatchObject({ prewarm: count });
      } finally {
        await provider.close();
      }
    }
  });
});
