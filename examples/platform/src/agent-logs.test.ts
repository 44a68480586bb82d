import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome, logRing, type DialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformAgentLogs } from './agent-logs.js';
import { startRemoteAgents, type RemoteAgents } from './remote-agents.js';
import { BOB_KEY, startApiHarness, testStore, type ApiHarness } from './test-support/api-harness.js';

/** An SSE body's `data:` lines, read as far as asked. */
function sseLines(res: Response) {
  const reader = res.body!.getReader();
  let text = '';
  const lines = () =>
    text
      .split('\n\n')
      .filter((b) => b.startsWith('data: '))
      .map((b) => b.slice(6));
  return {
    async until(count: number): Promise<string[]> {
      while (lines().length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return lines();
    },
    close: () => reader.cancel(),
  };
}

describe('GET /api/v1/agents/:id/logs of an agent on a remote (dial-home) agent', () => {
  let h: ApiHarness;
  let remote: RemoteAgents | undefined;
  let link: DialHome | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-remote-logs-'));
    h = await startApiHarness({
      api: { agentLogs: (agent, o) => platformAgentLogs(h.backend, () => remote)(agent, o) },
    });
    remote = await startRemoteAgents({
      port: 0,
      host: '127.0.0.1',
      secret: 'a-hub-secret-of-at-least-32-bytes-long!!',
      credentialStore: (await testStore()).credentials,
      registry: h.registry,
    });
  });
  afterAll(async () => {
    await link?.stop();
    await h?.close();
    await remote?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads the remote agent's own log over the link: tail, follow, owner-checked; offline is 503 AGENT_OFFLINE", async () => {
    if (!remote || !dir) throw new Error('not started');
    const recent = logRing();
    recent.append('{"level":"info","message":"remote agent starting"}');
    recent.append('claude: warming up');
    link = dialHome({
      url: remote.url,
      name: `laptop-${Date.now().toString(36)}`,
      agent: scriptedAgent({ steps: sampleScript() }),
      credentialFile: join(dir, 'credential.json'),
      enrolmentToken: remote.hub.issueEnrolmentToken().token,
      logs: recent.source,
      connectTimeoutMs: 5_000,
    });
    await link.whenOnline();
    const name = (await remote.hub.listAgents())[0]!.name;
    await remote.list();
    while (!h.registry.has(name)) await new Promise((r) => setTimeout(r, 10));

    const created = await h.call('POST', '/api/v1/agents', { body: { provider: name } });
    expect(created.status).toBe(201);
    const id = created.json.agent_id as string;

    const tail = await h.call('GET', `/api/v1/agents/${id}/logs?tail=1`);
    expect(tail.json).toEqual({ agent_id: id, lines: ['claude: warming up'] });
    expect((await h.call('GET', `/api/v1/agents/${id}/logs`, { key: BOB_KEY })).status).toBe(404);

    const res = await fetch(`${h.url}/api/v1/agents/${id}/logs?follow=1&tail=2`, {
      headers: { authorization: 'Bearer alice-key-0123456789' },
    });
    const stream = sseLines(res);
    expect(await stream.until(2)).toHaveLength(2);
    // Written on the agent's machine while the platform's client follows.
    recent.append('run run_1 started');
    expect(await stream.until(3)).toEqual([
      '{"level":"info","message":"remote agent starting"}',
      'claude: warming up',
      'run run_1 started',
    ]);
    await stream.close();

    await link.stop();
    const offline = await h.call('GET', `/api/v1/agents/${id}/logs`);
    expect([offline.status, offline.json.error.code]).toEqual([503, 'AGENT_OFFLINE']);
  });
});
