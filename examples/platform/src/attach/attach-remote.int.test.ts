import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localWorkspaceAttach } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome, type DialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  ChannelClient,
  attachUrl,
  startAttachHarness,
  type AttachHarness,
} from './test-support/attach-harness.js';
import { running } from './test-support/live-processes.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await tick(25);
  }
}

/**
 * Attach into a remote agent's workspace: the real platform with its dial-home hub, and agents
 * dialling it in-process over loopback HTTP/2 with core's local attach (a real PTY through
 * node-pty where asked) in a workspace of their own. The terminal's bytes cross the link as
 * TerminalDown/TerminalUp messages, credit-paced both ways.
 */
describe('attach: a remote agent that dialled home', () => {
  let h: AttachHarness;
  let scratch: string;
  let workspace: string;
  let agent: string;
  const dialers: DialHome[] = [];
  const bearer = { authorization: `Bearer ${ALICE}` };
  const open = (query: Record<string, string | string[]> = {}, keep = true, id = agent) =>
    ChannelClient.open(attachUrl(h.platform.url, id, query), bearer, keep);

  const dial = async (name: string, allowAttach: boolean) => {
    const remote = h.platform.remote!;
    const d = dialHome({
      url: remote.url,
      name,
      enrolmentToken: remote.hub.issueEnrolmentToken({ name }).token,
      credentialFile: join(scratch, `${name}.json`),
      agent: scriptedAgent({ steps: sampleScript('from afar') }),
      // As examples/remote-agent does with FORGE_ALLOW_ATTACH (default on; 0: no attach given).
      ...(allowAttach ? { attach: localWorkspaceAttach({ workspace }) } : {}),
    });
    dialers.push(d);
    await d.whenOnline();
    return d;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-attach-remote-'));
    workspace = await realpath(await mkdtemp(join(scratch, 'remote-workspace-')));
    await writeFile(join(workspace, 'ON-THE-REMOTE-MACHINE.md'), 'hi');
    h = await startAttachHarness(
      { graceMs: 300, highWaterMark: 256 * 1024 },
      { hubPort: 0, hubSecret: 'a-hub-secret-of-at-least-32-bytes-long!!' },
    );
    await dial('laptop-a', true);
    agent = await h.newAgent(ALICE, 'laptop-a');
    expect(agent).toMatch(/^agt_/);
  });
  afterAll(async () => {
    await Promise.all(dialers.map((d) => d.stop()));
    await h?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('without a tty: runs in the remote workspace, stdin round trip, stdin closed → EOF, stderr apart, exit 0', async () => {
    const c = await open({ command: ['sh', '-c', 'pwd; cat; echo to-stderr >&2'] });
    c.send('hello remote\n');
    c.closeStdin();
    expect(await c.closed).toBe(1000);
    expect(c.stdout).toBe(`${workspace}\nhello remote\n`);
    expect(c.stderr).toBe('to-stderr\n');
    expect(c.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('a non-zero exit code in the status frame; every attach in the log (who, command, exit code)', async () => {
    const c = await open({ command: ['sh', '-c', 'exit 3'] });
    await c.closed;
    expect(c.status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    await until(() => h.logger.lines.some((l) => l.message === 'attach ended' && l.fields?.exitCode === 3), 'the log');
    expect(h.logger.lines.find((l) => l.message === 'attach ended' && l.fields?.exitCode === 3)?.fields).toMatchObject({
      userId: 'alice',
      agentId: agent,
      command: ['sh', '-c', 'exit 3'],
    });
  });

  it('with a tty: the login shell in the remote workspace, its size from the query, resize reaching the PTY', async () => {
    const c = await open({ tty: 'true', cols: '100', rows: '30' });
    c.send('stty size; ls\n');
    await c.until(/30 100[\s\S]*ON-THE-REMOTE-MACHINE\.md/);
    c.resize(132, 43);
    c.send('stty size\n');
    await c.until(/43 132/);
    c.send('exit 4\n');
    await c.closed;
    expect(c.status.details.causes[0].message).toBe('4');
  });

  it('a dropped connection: nothing is left running on the remote agent once the grace period is over', async () => {
    const c = await open({ tty: 'true', command: ['sh'] });
    c.send('setsid sleep 353 & sleep 351 & echo bg-started\n');
    await c.until(/bg-started/);
    await until(() => running(['sleep', '351']).length === 1, 'the job to start');
    await until(() => running(['sleep', '353']).length === 1, 'the setsid job to start');
    c.ws.terminate();
    await until(() => running(['sleep', '351']).length === 0, 'the job to end');
    await until(() => running(['sleep', '353']).length === 0, 'the setsid job to end');
  });

  it('the link dropping ends the remote process at once, and the client gets a status', async () => {
    const other = await dial('laptop-b', true);
    const id = await h.newAgent(ALICE, 'laptop-b');
    const c = await open({ command: ['sleep', '355'] }, true, id);
    await until(() => running(['sleep', '355']).length === 1, 'the process to start');
    await other.stop();
    await until(() => running(['sleep', '355']).length === 0, 'the process to end');
    await c.closed;
    expect(c.status).toMatchObject({ status: 'Failure' });
  });

  it('FORGE_ALLOW_ATTACH=0 on the remote agent: the upgrade is refused, saying why', async () => {
    await dial('locked-c', false);
    const id = await h.newAgent(ALICE, 'locked-c');
    const refused = await open({ command: ['true'] }, true, id).catch((e: { status: number; body: string }) => e);
    expect(refused).toMatchObject({ status: 403 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({
      error: { code: 'ATTACH_DISABLED', message: expect.stringContaining('FORGE_ALLOW_ATTACH=0') },
    });
  });

  it('a large output to a client that stops reading: the remote process is held, nothing buffers without bound', async () => {
    const total = 48 * 1024 * 1024;
    const counter = join(scratch, 'written');
    // Writes 1 MiB at a time, recording after each write how much the pipe has taken.
    const writer = [
      'let n=0;const b=Buffer.alloc(1<<20,120);const fs=require("fs");',
      `const go=()=>{if(n>=${total})return;process.stdout.write(b,()=>{n+=b.length;fs.writeFileSync(${JSON.stringify(counter)},String(n));go();});};go();`,
    ].join('');
    const c = await open({ command: [process.execPath, '-e', writer] }, false);
    c.ws.pause();
    const written = async () => Number(await readFile(counter, 'utf8').catch(() => '0'));
    // Let it run into the stall, then check it stays there.
    await until(async () => (await written()) > 0, 'the writer to start');
    let last = -1;
    for (let stable = 0; stable < 8; ) {
      await tick(100);
      const now = await written();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
    // Everything between the process and the paused client: the pipe, core's paced reader, the
    // credit window, the link and the platform's socket — a few MiB, not the output.
    expect(last, `${(last / 2 ** 20).toFixed(1)} MiB written while the client read nothing`).toBeLessThan(16 * 2 ** 20);
    c.ws.resume();
    await c.closed;
    expect(c.bytes).toBe(total);
    expect(c.status.status).toBe('Success');
  });
});
