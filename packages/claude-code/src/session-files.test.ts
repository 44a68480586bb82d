import { localProcessRunner, type RunnerFiles } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { claudeSessionFiles } from './session-files.js';

const SESSION = '4f6b0a52-8d2e-4c1b-9a3f-5e7d6c8b9a01';
const io = { shell: async () => '/home/agent/.claude' } as unknown as RunnerFiles;
const layout = () => claudeSessionFiles(localProcessRunner(), {}, [], '/work/app');

describe('claude-code session files: where a stored file is put back', () => {
  it('puts the session’s .jsonl back under the slug of the cwd it resumes in', async () => {
    expect(await layout().restorePath({ sessionId: SESSION }, `projects/-old-place/${SESSION}.jsonl`, io)).toBe(
      `/home/agent/.claude/projects/-work-app/${SESSION}.jsonl`,
    );
  });

  // Failed first: any stored file's name was written into the project directory, so a snapshot saved over a
  // link could add other sessions (or any file) there.
  it.each(['projects/-work-app/another-session.jsonl', 'settings.json', `projects/-work-app/${SESSION}.json`])(
    'refuses to put back %s, which is not this session’s file',
    async (path) => {
      await expect(layout().restorePath({ sessionId: SESSION }, path, io)).rejects.toMatchObject({
        code: 'INVALID_SESSION_FILE',
      });
    },
  );
});
