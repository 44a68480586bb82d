import { execFileSync, spawn } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localFileSystem, type AcpFileSystem } from './file-system.js';

// The attack: an agent (or a prompt-injected model behind it) that can make links in its cwd — it
// has a shell — asks the client to read or write through them, to reach files outside the cwd.

const SECRET = 'OUTSIDE-SECRET';
const sessionId = 'ses_1';

let base: string;
let cwd: string;
let outside: string;
let fs: AcpFileSystem;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'forge-acp-fs-'));
  cwd = join(base, 'cwd');
  outside = join(base, 'outside');
  await mkdir(join(cwd, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), SECRET);
  await writeFile(join(cwd, 'inside.txt'), 'inside');
  fs = localFileSystem({ root: (id) => (id === sessionId ? cwd : undefined) });
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const read = (path: string) => fs.readTextFile({ sessionId, path });
const write = (path: string, content = 'written') => fs.writeTextFile({ sessionId, path, content });
const outsideNames = () => readdir(outside);
const refused = { message: expect.stringMatching(/outside the session's directory/) };

describe('localFileSystem confined to the session directory: symlinks', () => {
  it('refuses to read through a file symlink out of the cwd: absolute, relative, /proc/self/environ', async () => {
    await symlink(join(outside, 'secret.txt'), join(cwd, 'abs'));
    await symlink('../outside/secret.txt', join(cwd, 'rel'));
    await symlink('/proc/self/environ', join(cwd, 'env'));
    for (const name of ['abs', 'rel', 'env']) {
      await expect(read(join(cwd, name)), name).rejects.toMatchObject(refused);
    }
  });

  it('refuses to read through a directory symlink out of the cwd: absolute, relative', async () => {
    await symlink('/', join(cwd, 'root'));
    await symlink('..', join(cwd, 'up'));
    await symlink(outside, join(cwd, 'sub', 'out'));
    await expect(read(join(cwd, 'root', 'etc', 'hostname'))).rejects.toMatchObject(refused);
    await expect(read(join(cwd, 'up', 'outside', 'secret.txt'))).rejects.toMatchObject(refused);
    await expect(read(join(cwd, 'sub', 'out', 'secret.txt'))).rejects.toMatchObject(refused);
  });

  it('refuses a chain of links that ends outside', async () => {
    await symlink(join(outside, 'secret.txt'), join(cwd, 'c'));
    await symlink('c', join(cwd, 'b'));
    await symlink(join(cwd, 'b'), join(cwd, 'sub', 'a'));
    await expect(read(join(cwd, 'sub', 'a'))).rejects.toMatchObject(refused);
    await expect(write(join(cwd, 'sub', 'a'))).rejects.toMatchObject(refused);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
  });

  it('does not tell a missing file outside from an existing one (no existence oracle)', async () => {
    await symlink('/', join(cwd, 'root'));
    await expect(read(join(cwd, 'root', 'no-such-dir-forge', 'x'))).rejects.toMatchObject(refused);
    await expect(read(join(cwd, 'root', 'etc', 'no-such-file-forge'))).rejects.toMatchObject(refused);
  });

  it('follows links that stay inside the cwd, chains included', async () => {
    await symlink('inside.txt', join(cwd, 'alias'));
    await symlink(join(cwd, 'alias'), join(cwd, 'sub', 'alias2'));
    await symlink('..', join(cwd, 'sub', 'parent'));
    expect(await read(join(cwd, 'sub', 'alias2'))).toEqual({ content: 'inside' });
    expect(await read(join(cwd, 'sub', 'parent', 'inside.txt'))).toEqual({ content: 'inside' });
    await write(join(cwd, 'sub', 'alias2'), 'through the link');
    expect(await readFile(join(cwd, 'inside.txt'), 'utf8')).toBe('through the link');
  });

  it('takes a cwd that is itself reached through a symlink', async () => {
    await symlink(cwd, join(base, 'cwd-link'));
    const viaLink = localFileSystem({ root: () => join(base, 'cwd-link') });
    expect(await viaLink.readTextFile({ sessionId, path: join(base, 'cwd-link', 'inside.txt') })).toEqual({
      content: 'inside',
    });
    await expect(
      viaLink.readTextFile({ sessionId, path: join(base, 'cwd-link', '..', 'outside', 'secret.txt') }),
    ).rejects.toMatchObject(refused);
  });

  it('refuses to write through a file symlink out of the cwd, dangling ones too', async () => {
    await symlink(join(outside, 'secret.txt'), join(cwd, 'abs'));
    await symlink('../outside/new.txt', join(cwd, 'dangling'));
    await expect(write(join(cwd, 'abs'))).rejects.toMatchObject(refused);
    await expect(write(join(cwd, 'dangling'))).rejects.toMatchObject(refused);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(await outsideNames()).toEqual(['secret.txt']);
  });

  it('refuses to write, or create directories, through a directory symlink out of the cwd', async () => {
    await symlink(outside, join(cwd, 'out'));
    await symlink(join(outside, 'not-yet'), join(cwd, 'dangling-dir'));
    await expect(write(join(cwd, 'out', 'secret.txt'))).rejects.toMatchObject(refused);
    await expect(write(join(cwd, 'out', 'new', 'deeper', 'x.txt'))).rejects.toMatchObject(refused);
    await expect(write(join(cwd, 'dangling-dir', 'x.txt'))).rejects.toMatchObject(refused);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(await outsideNames()).toEqual(['secret.txt']);
  });

  it('still creates new files and directories inside the cwd', async () => {
    await write(join(cwd, 'new', 'deeper', 'x.txt'), 'made');
    expect(await readFile(join(cwd, 'new', 'deeper', 'x.txt'), 'utf8')).toBe('made');
    await write(join(cwd, 'inside.txt'), 'short');
    expect(await read(join(cwd, 'inside.txt'))).toEqual({ content: 'short' });
  });
});

describe('localFileSystem confined to the session directory: .. segments, hard links, odd files', () => {
  it('refuses .. segments that leave the cwd, takes those that stay in', async () => {
    await expect(read(`${cwd}/sub/../../outside/secret.txt`)).rejects.toMatchObject(refused);
    await expect(write(`${cwd}/../outside/secret.txt`)).rejects.toMatchObject(refused);
    expect(await read(`${cwd}/sub/../inside.txt`)).toEqual({ content: 'inside' });
  });

  it('reads `link/..` as text (the path is normalised before the kernel sees it)', async () => {
    await symlink(outside, join(cwd, 'out'));
    // The kernel would go to outside/.. = base; the path, normalised, names cwd/inside.txt.
    expect(await read(`${cwd}/out/../inside.txt`)).toEqual({ content: 'inside' });
  });

  it('refuses to write a file with more than one hard link (it may be a file outside); reads it', async () => {
    await link(join(outside, 'secret.txt'), join(cwd, 'hard.txt'));
    await expect(write(join(cwd, 'hard.txt'))).rejects.toMatchObject({ message: expect.stringMatching(/hard link/) });
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    // The documented limit: a hard link is the file itself, no path tells it apart.
    expect(await read(join(cwd, 'hard.txt'))).toEqual({ content: SECRET });
  });

  it('refuses a FIFO instead of waiting for a writer for ever', async () => {
    execFileSync('mkfifo', [join(cwd, 'pipe')]);
    await expect(read(join(cwd, 'pipe'))).rejects.toMatchObject({
      message: expect.stringMatching(/not a regular file/),
    });
    await expect(write(join(cwd, 'pipe'))).rejects.toMatchObject({
      message: expect.stringMatching(/not a regular file/),
    });
  });

  it('refuses to read or write a directory with a clear error', async () => {
    await expect(read(join(cwd, 'sub'))).rejects.toMatchObject({
      message: expect.stringMatching(/not a regular file/),
    });
    await expect(write(join(cwd, 'sub'))).rejects.toMatchObject({
      message: expect.stringMatching(/not a regular file/),
    });
  });

  it('answers a missing file inside as not found (or empty, when asked to)', async () => {
    await expect(read(join(cwd, 'missing.txt'))).rejects.toMatchObject({ code: -32002 });
    const lenient = localFileSystem({ root: () => cwd, missingFileAsEmpty: true });
    expect(await lenient.readTextFile({ sessionId, path: join(cwd, 'missing.txt') })).toEqual({ content: '' });
    await symlink('/', join(cwd, 'root'));
    await expect(lenient.readTextFile({ sessionId, path: join(cwd, 'root', 'no-such-forge') })).rejects.toMatchObject(
      refused,
    );
  });
});

/**
 * Swaps `cwd/sub` in another process (truly at the same time as the reads, not interleaved with
 * them on this event loop), `swaps` times, then exits. `dir-link`: the directory renamed away and a
 * symlink to `outside` renamed in, and back. `retarget`: `sub` always a symlink, atomically
 * replaced by one to the other place (`cwd/.dir` or `outside`). `file-link`: the same as `dir-link`
 * one level down, for `sub/secret.txt` and a symlink to `outside/secret.txt`.
 */
function swapper(kind: 'dir-link' | 'retarget' | 'file-link', swaps: number): Promise<void> {
  const script = `
    const { renameSync, symlinkSync } = require('node:fs');
    const { join } = require('node:path');
    const [cwd, outside, kind, swaps] = process.argv.slice(1);
    const sub = join(cwd, 'sub'), dir = join(cwd, '.dir'), link = join(cwd, '.link'), tmp = join(cwd, '.tmp');
    for (let i = 0; i < Number(swaps); i++) {
      if (kind === 'dir-link') {
        renameSync(sub, dir); renameSync(link, sub);
        renameSync(sub, link); renameSync(dir, sub);
      } else if (kind === 'file-link') {
        const file = join(sub, 'secret.txt'), held = join(sub, '.file'), fileLink = join(sub, '.link');
        renameSync(file, held); renameSync(fileLink, file);
        renameSync(file, fileLink); renameSync(held, file);
      } else {
        symlinkSync(outside, tmp); renameSync(tmp, sub);
        symlinkSync(dir, tmp); renameSync(tmp, sub);
      }
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, cwd, outside, kind, String(swaps)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`swapper exited ${code}`))));
  });
}

describe('localFileSystem confined to the session directory: a race', () => {
  beforeEach(async () => {
    await writeFile(join(outside, 'secret.txt'), SECRET);
  });

  it.each([
    ['a directory swapped for a symlink out of the cwd', 'dir-link'],
    ['a symlink retargeted from inside to outside', 'retarget'],
  ] as const)('%s while reads run: nothing outside is ever read', async (_what, kind) => {
    await writeFile(join(cwd, 'sub', 'secret.txt'), 'inside');
    if (kind === 'dir-link') await symlink(outside, join(cwd, '.link'));
    else {
      await rename(join(cwd, 'sub'), join(cwd, '.dir'));
      await symlink(join(cwd, '.dir'), join(cwd, 'sub'));
    }
    const seen = { inside: 0, refused: 0, changed: 0, other: 0, outside: 0 };
    let done = false;
    const swapping = swapper(kind, kind === 'dir-link' ? 8_000 : 1_000).finally(() => (done = true));
    const reader = async () => {
      while (!done) {
        try {
          const { content } = await read(join(cwd, 'sub', 'secret.txt'));
          if (content === SECRET) seen.outside++;
          else seen.inside++;
        } catch (error) {
          const { message } = error as Error;
          if (/outside the session's directory/.test(message)) seen.refused++;
          else if (/changed while it was opened/.test(message)) seen.changed++;
          else seen.other++;
        }
      }
    };
    await Promise.all([swapping, reader(), reader(), reader(), reader()]);
    expect(seen.outside, JSON.stringify(seen)).toBe(0);
  });

  it('a file swapped for a symlink out of the cwd while writes run: the file outside is never touched', async () => {
    await writeFile(join(cwd, 'sub', 'secret.txt'), 'inside');
    await symlink(join(outside, 'secret.txt'), join(cwd, 'sub', '.link'));
    const before = await stat(join(outside, 'secret.txt'));
    let done = false;
    const swapping = swapper('file-link', 2_000).finally(() => (done = true));
    const writer = async () => {
      while (!done) await write(join(cwd, 'sub', 'secret.txt'), 'from the agent').catch(() => {});
    };
    await Promise.all([swapping, writer(), writer(), writer()]);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect((await stat(join(outside, 'secret.txt'))).mtimeMs).toBe(before.mtimeMs);
    expect(await outsideNames()).toEqual(['secret.txt']);
  });
});
