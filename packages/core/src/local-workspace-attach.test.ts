import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localWorkspaceAttach } from './local-workspace-attach.js';
import type { AttachedProcess } from './workspace-attach.js';

const workspace = mkdtempSync(join(tmpdir(), 'forge-attach-'));
writeFileSync(join(workspace, 'marker.txt'), 'x');
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

/** Reads until `pattern` shows up, leaving the stream readable. */
async function until(p: AttachedProcess, reader: ReadableStreamDefaultReader<Uint8Array>, pattern: RegExp) {
  let text = '';
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before ${pattern}: ${text}`);
    text += Buffer.from(value).toString();
  }
  void p;
  return text;
}

/** Live pids whose environment holds `entry`. */
function withEnv(entry: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/environ`, 'latin1').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const write = async (p: AttachedProcess, text: string) => {
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  w.releaseLock();
};

describe('localWorkspaceAttach', () => {
  const attach = localWorkspaceAttach({ workspace });

  it('without a tty: stdin to stdout, stderr apart, EOF when stdin closes, the exit code', async () => {
    const p = await attach.open({ command: ['sh', '-c', 'cat; echo oops >&2; pwd; exit 3'] });
    expect(p.tty).toBe(false);
    await write(p, 'hello\n');
    await p.stdin.close();
    const [out, err, exit] = await Promise.all([readAll(p.stdout), readAll(p.stderr), p.exited]);
    expect(out).toBe(`hello\n${workspace}\n`);
    expect(err).toBe('oops\n');
    expect(exit).toEqual({ code: 3, signal: null });
  });

  it('with a tty: a real terminal that resizes, ^D on close, exit 0', async () => {
    const p = await attach.open({ command: ['sh'], tty: true, cols: 100, rows: 30 });
    expect(p.tty).toBe(true);
    const reader = p.stdout.getReader();
    await write(p, 'stty size; ls\n');
    const first = await until(p, reader, /30 100[\s\S]*marker\.txt/);
    expect(first).toContain('30 100');
    p.resize({ cols: 120, rows: 40 });
    await write(p, 'stty size\n');
    await until(p, reader, /40 120/);
    await p.stdin.close();
    reader.releaseLock();
    await readAll(p.stdout);
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('the login shell by default, started in the workspace', async () => {
    const p = await attach.open({ tty: true });
    const reader = p.stdout.getReader();
    await write(p, 'echo "at:$(pwd)"; exit 7\n');
    await until(p, reader, new RegExp(`at:${workspace}`));
    reader.releaseLock();
    void readAll(p.stdout);
    expect((await p.exited).code).toBe(7);
  });

  it('kill ends the whole tree, backgrounded and setsid children included', async () => {
    const mark = String(Math.random()).slice(2);
    expect(withEnv(`FORGE_ATTACH_TEST=${mark}`)).toEqual([]);
    const p = await attach.open({
      command: ['sh', '-c', 'sleep 60 & setsid sleep 61 & echo started; wait'],
      env: { FORGE_ATTACH_TEST: mark },
    });
    const reader = p.stdout.getReader();
    await until(p, reader, /started/);
    reader.releaseLock();
    p.kill();
    void readAll(p.stdout);
    void readAll(p.stderr);
    expect((await p.exited).signal).toBe('SIGKILL');
    expect(withEnv(`FORGE_ATTACH_TEST=${mark}`)).toEqual([]);
  });

  it('pipes instead of a terminal when no PTY can be had, and says so', async () => {
    const p = await localWorkspaceAttach({ workspace, pty: false }).open({ command: ['true'], tty: true });
    expect(p.tty).toBe(false);
    expect(p.notes.join()).toMatch(/no PTY/);
    await Promise.all([readAll(p.stdout), readAll(p.stderr), p.exited]);
  });

  it('refuses a missing working directory', async () => {
    await expect(attach.open({ command: ['true'], cwd: join(workspace, 'nope') })).rejects.toThrow();
  });
});
