import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  ChannelClient,
  attachUrl,
  startAttachHarness,
  type AttachHarness,
} from './test-support/attach-harness.js';

/**
 * The attach endpoint end to end: the real platform on 127.0.0.1, processes in a local agent's
 * workspace (a real PTY through node-pty where asked), a `ws` client speaking v5.channel.k8s.io.
 */
describe('attach: the exec channel protocol', () => {
  let h: AttachHarness;
  let agent: string;
  const bearer = { authorization: `Bearer ${ALICE}` };
  const open = (query: Record<string, string | string[]> = {}, headers: Record<string, string> = bearer) =>
    ChannelClient.open(attachUrl(h.platform.url, agent, query), headers);

  beforeAll(async () => {
    h = await startAttachHarness({ ticketTtlMs: 400 });
    agent = await h.newAgent();
    const workspace = join(h.dataDir, 'alice', agent, 'workspace');
    await writeFile(join(workspace, 'README-from-agent.md'), 'hi');
  });
  afterAll(() => h?.close());

  it('without a tty: stdin round trip, stdin closed → EOF, stderr apart, exit 0 as Success', async () => {
    const c = await open({ command: ['sh', '-c', 'cat; echo to-stderr >&2'] });
    c.send('hello attach\n');
    c.closeStdin();
    expect(await c.closed).toBe(1000);
    expect(c.stdout).toBe('hello attach\n');
    expect(c.stderr).toBe('to-stderr\n');
    expect(c.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('a non-zero exit code in the status frame', async () => {
    const c = await open({ command: ['sh', '-c', 'exit 3'] });
    await c.closed;
    expect(c.status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('with a tty: the login shell in the workspace, its size from the query, resize reaching the PTY', async () => {
    const c = await open({ tty: 'true', cols: '100', rows: '30' });
    c.send('stty size; ls\n');
    await c.until(/30 100[\s\S]*README-from-agent\.md/);
    c.resize(132, 43);
    c.send('stty size\n');
    await c.until(/43 132/);
    c.send('exit 4\n');
    await c.closed;
    expect(c.status.details.causes[0].message).toBe('4');
  });

  it('tickets: single use, bound to the agent, expiring; the url works as given', async () => {
    const t = await h.call('POST', `/api/v1/agents/${agent}/attach-tickets`);
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ ticket: expect.stringMatching(/^atk_/), url: expect.stringMatching(/^ws:\/\//) });
    expect(Date.parse(t.body.expires_at)).toBeGreaterThan(Date.now());
    const c = await ChannelClient.open(`${t.body.url}&command=echo&command=by-ticket`);
    await c.closed;
    expect(c.stdout).toBe('by-ticket\n');
    await expect(ChannelClient.open(`${t.body.url}&command=true`)).rejects.toMatchObject({ status: 401 });
    const late = await h.call('POST', `/api/v1/agents/${agent}/attach-tickets`);
    await new Promise((r) => setTimeout(r, 500));
    await expect(ChannelClient.open(late.body.url)).rejects.toMatchObject({ status: 401 });
    // A ticket for one agent does not open another.
    const other = await h.newAgent();
    const t2 = await h.call('POST', `/api/v1/agents/${agent}/attach-tickets`);
    await expect(
      ChannelClient.open(attachUrl(h.platform.url, other, { ticket: t2.body.ticket })),
    ).rejects.toMatchObject({
      status: 401,
    });
  });

  it("another user's agent is a 404 before any upgrade, by key and by ticket", async () => {
    await expect(open({ command: 'true' }, { authorization: `Bearer ${BOB}` })).rejects.toMatchObject({ status: 404 });
    expect((await h.call('POST', `/api/v1/agents/${agent}/attach-tickets`, BOB)).status).toBe(404);
    await expect(open({ command: 'true' }, {})).rejects.toMatchObject({ status: 401 });
    await expect(open({ command: 'true', bogus: '1' })).rejects.toMatchObject({ status: 400 });
    // Plain HTTP GET: 426, and the same 404 for someone else.
    expect((await h.call('GET', `/api/v1/agents/${agent}/attach`)).status).toBe(426);
    expect((await h.call('GET', `/api/v1/agents/${agent}/attach`, BOB)).status).toBe(404);
  });

  it('logs every attach: who, when, command, exit code', async () => {
    const c = await open({ command: ['sh', '-c', 'exit 5'] });
    await c.closed;
    await new Promise((r) => setTimeout(r, 20));
    const ended = h.logger.lines.filter((l) => l.message === 'attach ended').at(-1);
    expect(ended?.fields).toMatchObject({
      userId: 'alice',
      agentId: agent,
      command: ['sh', '-c', 'exit 5'],
      exitCode: 5,
    });
    expect(h.logger.lines.some((l) => l.message === 'attach opened' && l.fields?.at)).toBe(true);
  });
});
