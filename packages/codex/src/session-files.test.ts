import { localProcessRunner, type RunnerFiles } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { codexSessionFiles } from './session-files.js';

const THREAD = '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const ROLLOUT = `sessions/2026/12/07/rollout-2026-12-07T10-00-00-${THREAD}.jsonl`;
const io = { shell: async () => '/home/agent/.codex' } as unknown as RunnerFiles;
const layout = () => codexSessionFiles(localProcessRunner(), {}, []);

describe('codex session files: where a stored file is put back', () => {
  it('puts the thread’s rollout file back under CODEX_HOME at its path', async () => {
    expect(await layout().restorePath({ sessionId: THREAD }, ROLLOUT, io)).toBe(`/home/agent/.codex/${ROLLOUT}`);
  });

  // Failed first: restorePath joined any stored path onto CODEX_HOME, so a snapshot saved over a link by a
  // dialled-home agent could plant config.toml (an MCP server or notify command: code run by every later CLI).
  it.each([
    'config.toml',
    'auth.json',
    'sessions/2026/12/07/config.toml',
    `sessions/2026/12/07/rollout-2026-12-07T10-00-00-another-thread.jsonl`,
    `log/rollout-x-${THREAD}.jsonl`,
  ])('refuses to put back %s, which is not this thread’s rollout file', async (path) => {
    await expect(layout().restorePath({ sessionId: THREAD }, path, io)).rejects.toMatchObject({
      code: 'INVALID_SESSION_FILE',
    });
  });
});
