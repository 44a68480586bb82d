import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessSpawnError } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opencode, startOpencodeServer } from './index.js';

/** Stands in for `opencode serve`: prints the listening line, answers health, and starts a child. */
const FAKE_SERVE = `#!/usr/bin/env node
const http = require('node:http');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const args = process.argv.slice(2);
if (process.env.FAKE_MODE === 'crash') { console.error('boom: no config'); process.exit(3); }
const port = Number(args[args.indexOf('--port') + 1]);
const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
fs.writeFileSync(process.env.FAKE_PID_FILE, JSON.stringify({ pid: process.pid, child: child.pid }));
if (process.env.FAKE_MODE === 'silent') { setInterval(() => {}, 1000); return; }
if (process.env.FAKE_MODE === 'stubborn') process.on('SIGTERM', () => {});
http.createServer((req, res) => {
  if (req.url === '/global/health') return res.end(JSON.stringify({ healthy: true, version: '0.0.0-fake' }));
  if (req.url === '/config') return res.end(process.env.OPENCODE_CONFIG_CONTENT || '{}');
  res.statusCode = 404; res.end('{}');
}).listen(port, '127.0.0.1', () => console.log('opencode server listening on http://127.0.0.1:' + port));
`;

/** Running, not a zombie (a killed orphan stays a zombie until some init reaps it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** A SIGKILL is delivered at once but the process takes a moment to go; wait for it (bounded). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

describe('startOpencodeServer (with a stand-in binary)', () => {
  let dir: string;
  let bin: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-oc-server-'));
    bin = join(dir, 'fake-opencode');
    await writeFile(bin, FAKE_SERVE);
    await chmod(bin, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pids = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as { pid: number; child: number };

  it('starts, answers, passes the config, and close() takes the process and its children', async () => {
    const pidFile = join(dir, 'a.json');
    const server = await startOpencodeServer({
      bin,
      cwd: dir,
      env: { FAKE_PID_FILE: pidFile },
      config: { model: 'fake/fake-model' },
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${server.url}/config`)).json()).toEqual({ model: 'fake/fake-model' });
    const { pid, child } = await pids(pidFile);
    expect(alive(pid) && alive(child)).toBe(true);
    await server.close();
    await server.close();
    expect(alive(pid)).toBe(false);
    expect(await gone(child)).toBe(true);
  });

  it('kills a server that ignores SIGTERM', async () => {
    const pidFile = join(dir, 'b.json');
    const server = await startOpencodeServer({ bin, env: { FAKE_PID_FILE: pidFile, FAKE_MODE: 'stubborn' } });
    const { pid, child } = await pids(pidFile);
    await server.close();
    expect(alive(pid)).toBe(false);
    expect(await gone(child)).toBe(true);
  });

  it('fails with the output when the server exits before answering', async () => {
    const failure = startOpencodeServer({ bin, env: { FAKE_MODE: 'crash', FAKE_PID_FILE: join(dir, 'c.json') } });
    await expect(failure).rejects.toBeInstanceOf(ProcessSpawnError);
    await expect(failure).rejects.toThrow(/exited \(code 3.*boom: no config/s);
  });

  it('stops a server that is still starting when the signal aborts', async () => {
    const pidFile = join(dir, 'e.json');
    const controller = new AbortController();
    const starting = startOpencodeServer({
      bin,
      env: { FAKE_PID_FILE: pidFile, FAKE_MODE: 'silent' },
      signal: controller.signal,
    });
    let info: { pid: number; child: number } | undefined;
    while (!info) {
      await new Promise((r) => setTimeout(r, 20));
      info = await pids(pidFile).catch(() => undefined);
    }
    controller.abort(new Error('never mind'));
    await expect(starting).rejects.toThrow('never mind');
    expect(await gone(info.pid)).toBe(true);
    expect(await gone(info.child)).toBe(true);
  });

  it('fails cleanly when the binary does not exist', async () => {
    await expect(startOpencodeServer({ bin: join(dir, 'missing') })).rejects.toBeInstanceOf(ProcessSpawnError);
  });

  it('an agent that owns its server starts it on first use and stops it on close()', async () => {
    const pidFile = join(dir, 'd.json');
    const agent = opencode({ server: { bin, env: { FAKE_PID_FILE: pidFile } } });
    expect((await agent.capabilities()).version).toBe('0.0.0-fake');
    const { pid, child } = await pids(pidFile);
    expect(alive(pid)).toBe(true);
    await agent.close?.();
    expect(alive(pid)).toBe(false);
    expect(await gone(child)).toBe(true);
  });
});
