import { join } from 'node:path';
import { localProcessRunner, stderrTeeRunner } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLogBook } from '../backends/agent-log-book.js';
import { localBackend } from '../backends/local-backend.js';
import { agentKeyOfCwd } from '../backends/agent-log-key.js';
import { BOB_KEY, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/** Reads an SSE body until `lines` data lines have come, then stops reading (the client goes). */
async function follow(res: Response, count: number): Promise<string[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const lines = () =>
    text
      .split('\n\n')
      .filter((b) => b.startsWith('data: '))
      .map((b) => b.slice('data: '.length));
  while (lines().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return lines().slice(0, count);
}

describe('GET /api/v1/agents/:id/logs (local backend)', () => {
  let h: ApiHarness | undefined;
  const book = new AgentLogBook({ maxLines: 50 });
  beforeAll(async () => {
    h = await startApiHarness({ backend: (registry, dataDir) => localBackend({ dataDir, registry, logs: book }) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const start = async () => {
    const created = await h!.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
    const id = created.json.agent_id as string;
    // The agent's program, as a provider starts it: through the platform's runner, in the agent's workspace.
    const runner = stderrTeeRunner(localProcessRunner(), (_command, spawn) => {
      const key = agentKeyOfCwd(h!.dataDir, spawn?.cwd);
      return key ? (line) => book.append(key, line) : undefined;
    });
    const cwd = join(h!.dataDir, 'alice', id, 'workspace');
    return { id, runner, cwd };
  };

  it("follows a live agent program's stderr: the tail first, then lines as it writes them, until the client goes", async () => {
    const { id, runner, cwd } = await start();
    // Writes two lines at once, then one per line of stdin, so the test says when.
    const script =
      "process.stderr.write('booting\\nready\\n');" +
      "require('readline').createInterface({ input: process.stdin }).on('line', (l) => process.stderr.write('got ' + l + '\\n'));";
    const child = await runner.spawn(process.execPath, ['-e', script], { cwd });
    // The provider reads its stderr as usual, and sees every byte.
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of child.stderr) seen.push(Buffer.from(chunk).toString());
    })();
    while (seen.join('').split('\n').length < 3) await new Promise((r) => setTimeout(r, 10));

    const res = await fetch(`${h!.url}/api/v1/agents/${id}/logs?follow=1&tail=1`, {
      headers: { authorization: 'Bearer alice-key-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = follow(res, 3);
    await child.stdin.write('one\n');
    await child.stdin.write('two\n');
    expect(await lines).toEqual(['ready', 'got one', 'got two']);
    await child.stdin.end();
    await child.exited;
    await reading;
    expect(seen.join('')).toBe('booting\nready\ngot one\ngot two\n');

    const all = await h!.call('GET', `/api/v1/agents/${id}/logs`);
    expect(all.status).toBe(200);
    expect(all.json).toEqual({ agent_id: id, lines: ['booting', 'ready', 'got one', 'got two'] });
  });

  it('bounds tail (default 200, at most 5000) and answers another user’s agent with the same 404', async () => {
    const { id, runner, cwd } = await start();
    const child = await runner.spawn(
      process.execPath,
      ['-e', "for (let i = 0; i < 80; i++) process.stderr.write('line ' + i + '\\n')"],
      { cwd },
    );
    for await (const _ of child.stderr);
    await child.exited;
    // The book keeps 50: the oldest 30 went.
    const all = await h!.call('GET', `/api/v1/agents/${id}/logs`);
    expect(all.json.lines).toHaveLength(50);
    expect(all.json.lines[0]).toBe('line 30');
    const two = await h!.call('GET', `/api/v1/agents/${id}/logs?tail=2`);
    expect(two.json.lines).toEqual(['line 78', 'line 79']);
    expect((await h!.call('GET', `/api/v1/agents/${id}/logs?tail=0`)).json.lines).toEqual([]);
    for (const bad of ['5001', '-1', 'x', '1e3']) {
      const res = await h!.call('GET', `/api/v1/agents/${id}/logs?tail=${bad}`);
      expect([res.status, res.json.error.code]).toEqual([400, 'INVALID_TAIL']);
    }
    const follow2 = await h!.call('GET', `/api/v1/agents/${id}/logs?follow=yes`);
    expect([follow2.status, follow2.json.error.code]).toEqual([400, 'INVALID_FOLLOW']);
    const unknown = await h!.call('GET', `/api/v1/agents/${id}/logs?lines=3`);
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_PARAMETER']);

    const bob = await h!.call('GET', `/api/v1/agents/${id}/logs`, { key: BOB_KEY });
    expect([bob.status, bob.json.error.code]).toEqual([404, 'AGENT_NOT_FOUND']);
    const bobFollow = await h!.call('GET', `/api/v1/agents/${id}/logs?follow=1`, { key: BOB_KEY });
    expect(bobFollow.status).toBe(404);
    const aliceAsBob = await h!.call('GET', `/api/v1/agents/${id}/logs?user_id=bob`);
    expect(aliceAsBob.status).toBe(404);
  });

  it('deleting the agent forgets its log and ends its followers', async () => {
    const { id, runner, cwd } = await start();
    const child = await runner.spawn(process.execPath, ['-e', "process.stderr.write('hello\\n')"], { cwd });
    for await (const _ of child.stderr);
    await child.exited;
    const res = await fetch(`${h!.url}/api/v1/agents/${id}/logs?follow=1`, {
      headers: { authorization: 'Bearer alice-key-0123456789' },
    });
    const first = await (async () => {
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('data: hello')) text += new TextDecoder().decode((await reader.read()).value);
      expect((await h!.call('DELETE', `/api/v1/agents/${id}`)).status).toBe(200);
      // The stream ends by itself.
      while (!(await reader.read()).done);
      return text;
    })();
    expect(first).toContain('data: hello');
  });
});
