import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startOpsPlatform, type OpsPlatform } from '../test-support/ops-platform.js';
import { parseMetrics } from '../test-support/prometheus-text.js';

/**
 * The platform with its dial-home hub: a remote agent online is counted, its name (chosen by whoever enrolled it)
 * never becomes a label (a provider label is a name registered at start, else "other"), and /readyz checks the hub
 * listens.
 */
describe('metrics and readiness with remote agents', () => {
  let ops: OpsPlatform;
  beforeAll(async () => {
    ops = await startOpsPlatform('memory', { hubPort: 0, hubSecret: 'a-hub-secret-of-at-least-32-bytes-long!!' });
  });
  afterAll(async () => ops?.close());

  const scrape = async () => {
    const res = await ops.call('GET', '/metrics', { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    return { text: res.text, m: parseMetrics(res.text) };
  };
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('counts remote agents online and their runs, with no remote agent name in a label', async () => {
    const ready = await (await fetch(`${ops.platform.url}/readyz`)).json();
    expect(ready.checks.hub).toEqual({ ok: true });
    expect((await scrape()).m.value('forge_remote_agents_online')).toBe(0);

    const remote = ops.platform.remote!;
    const name = 'laptop-metrics-7';
    const dir = await mkdtemp(join(tmpdir(), 'forge-metrics-remote-'));
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: remote.hub.issueEnrolmentToken({ name }).token,
      credentialFile: join(dir, `${name}.json`),
      name,
      agent: scriptedAgent({ steps: sampleScript('from afar') }),
    });
    try {
      await dialer.whenOnline();
      await until(async () => (await scrape()).m.value('forge_remote_agents_online') === 1, 'one online');
      const created = await ops.call('POST', '/api/v1/agents', { body: { provider: name } });
      expect(created.status).toBe(201);
      await ops.runToEnd(created.json.agent_id as string, 'hello');
      const { text, m } = await scrape();
      // Counted under a registered name (the program the remote agent runs reports "scripted") or "other".
      const providers = m.labelValues('forge_runs_total', 'provider');
      expect(['scripted', 'other']).toEqual(expect.arrayContaining(providers));
      expect(
        providers.reduce((n, provider) => n + m.value('forge_runs_total', { provider, status: 'completed' }), 0),
      ).toBe(1);
      expect(m.allLabelValues()).not.toContain(name);
      expect(text).not.toContain(name);
    } finally {
      await dialer.stop();
      await rm(dir, { recursive: true, force: true });
    }
    await until(async () => (await scrape()).m.value('forge_remote_agents_online') === 0, 'none online');
  });
});
