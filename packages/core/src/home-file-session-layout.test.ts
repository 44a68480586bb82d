import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeFileSessionLayout } from './home-file-session-layout.js';
import type { ProcessRunner } from './process-runner.js';
import type { RunnerFiles } from './runner-files.js';

/** Files where the agent runs: `shell` answers the home script and the find script from a table. */
function io(files: Record<string, string>) {
  const scripts: string[] = [];
  const runnerFiles: RunnerFiles = {
    size: async () => undefined,
    read: async () => new Uint8Array(),
    write: async () => undefined,
    shell: async (script, args = []) => {
      scripts.push(script);
      if (script === 'HOME') return '/home/a/.cli\n';
      return `${files[args[1]!] ?? ''}\n`;
    },
  };
  return { io: runnerFiles, scripts };
}

const layout = () =>
  homeFileSessionLayout({
    runner: {} as ProcessRunner,
    env: { HOME: '/home/a' },
    passEnv: [],
    homeScript: 'HOME',
    findScript: 'FIND',
    restorePath: (home, session, path) => posix.join(home, session.cwd ?? 'none', posix.basename(path)),
  });

describe('homeFileSessionLayout', () => {
  it('stores a session file under its path relative to the home, found once', async () => {
    const l = layout();
    const { io: files, scripts } = io({ s1: '/home/a/.cli/sessions/2026/s1.jsonl' });
    const first = await l.files({ sessionId: 's1' }, files);
    const again = await l.files({ sessionId: 's1' }, files);
    expect(first).toEqual([{ path: 'sessions/2026/s1.jsonl', absolute: '/home/a/.cli/sessions/2026/s1.jsonl' }]);
    expect(again).toEqual(first);
    expect(scripts).toEqual(['HOME', 'FIND']);
    expect(l.env).toEqual({ HOME: '/home/a' });
  });

  it('has no files for a session the script does not find, and looks again next time', async () => {
    const l = layout();
    const { io: files, scripts } = io({});
    expect(await l.files({ sessionId: 'gone' }, files)).toEqual([]);
    expect(await l.files({ sessionId: 'gone' }, files)).toEqual([]);
    expect(scripts.filter((s) => s === 'FIND')).toHaveLength(2);
  });

  it('puts a file back where restorePath says, under the resolved home', async () => {
    const { io: files } = io({});
    expect(await layout().restorePath({ sessionId: 's1', cwd: 'w' }, 'sessions/2026/s1.jsonl', files)).toBe(
      '/home/a/.cli/w/s1.jsonl',
    );
  });
});
