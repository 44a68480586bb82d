import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cwdProblem } from './cwd-check.js';
import { isForgeError } from './errors.js';
import { localProcessRunner } from './local-process-runner.js';

/** Issue 16: a missing cwd was reported as a missing binary ("not found (is it installed and on PATH?)"). */
describe('a missing working directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-cwd-'));
    await writeFile(join(dir, 'file'), 'x');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is CWD_NOT_FOUND naming the directory, not a missing binary', async () => {
    const missing = join(dir, 'nope');
    const error = await localProcessRunner()
      .spawn(process.execPath, ['-e', ''], { cwd: missing })
      .catch((e: unknown) => e);
    expect(isForgeError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'CWD_NOT_FOUND', details: { cwd: missing } });
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).not.toContain('PATH');
  });

  it('is CWD_NOT_FOUND when the path is a file', async () => {
    const file = join(dir, 'file');
    const error = await localProcessRunner()
      .spawn(process.execPath, ['-e', ''], { cwd: file })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CWD_NOT_FOUND' });
    expect((error as Error).message).toContain('not a directory');
  });

  it('still says a missing binary is missing when the cwd is fine', async () => {
    const error = await localProcessRunner()
      .spawn('forge-no-such-binary-xyz', [], { cwd: dir })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROCESS_SPAWN_FAILED' });
    expect((error as Error).message).toContain('PATH');
  });

  it('cwdProblem is undefined for a directory', () => {
    expect(cwdProblem(dir, 'x')).toBeUndefined();
  });
});
