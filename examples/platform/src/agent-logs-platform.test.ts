import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { loadConfig } from './config.js';
import { apiClient } from './test-support/api-harness.js';

const KEY = 'logs-alice-key-123456';
const BOB = 'logs-bob-key-1234567';

/**
 * A stand-in for the `claude` program: writes two lines on stderr (the second after a pause, so a follower sees it
 * arrive) and exits 1 without answering; `--version` answers like the real CLI.
 */
const FAKE_CLI = `#!/usr/bin/env node
if (process.argv.includes('--version')) { console.log('2.1.197 (Claude Code)'); process.exit(0); }
process.stderr.write('fake-cli: starting in ' + process.cwd().split('/').slice(-2).join('/') + '\\n');
setTimeout(() => { process.stderr.write('fake-cli: no model configured\\n'); process.exit(1); }, 300);
`;

/** The real platform (its own registry and process runner): a local agent's CLI stderr is its log. */
describe('GET /api/v1/agents/:id/logs on the platform (local backend)', () => {
  let scratch: string;
  let platform: Platform;
  const call = (method: string, path: string, key = KEY, body?: unknown) =>
    apiClient(platform.url, KEY)(method, path, { key, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-logs-'));
    const bin = join(scratch, 'claude');
    await writeFile(bin, FAKE_CLI);
    await chmod(bin, 0o755);
    platform = await startPlatform({
      config: {
        ...loadConfig([], {}),
        port: 0,
        dataDir: join(scratch, 'data'),
        apiKeys: parseApiKeyList(`alice:${KEY},bob:${BOB}`),
        claudeBin: bin,
        defaultProvider: 'claude-code',
        // A spare (FORGE_PREWARM_MAX) is an agent process too: one started after the run writes its own "starting"
        // line to the agent's log, racing the tail this test reads. Spares are tested in prewarm/.
        prewarmMax: 0,
      },
      pollMs: 50,
    });
  });
  afterAll(async () => {
    await platform?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("follows the agent CLI's stderr while a message runs, and keeps it for later reads", async () => {
    const created = await call('POST', '/api/v1/agents', KEY, { provider: 'claude-code' });
    expect(created.status).toBe(201);
    const id = created.json.agent_id as string;

    const res = await fetch(`${platform.url}/api/v1/agents/${id}/logs?follow=1`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const sent = await call('POST', `/api/v1/agents/${id}/messages`, KEY, { content: 'hello' });
    expect(sent.status).toBe(202);
    while (!text.includes('no model configured')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain(`data: fake-cli: starting in ${id}/workspace\n\n`);
    expect(text.indexOf('starting')).toBeLessThan(text.indexOf('no model configured'));

    const later = await call('GET', `/api/v1/agents/${id}/logs?tail=1`);
    expect(later.json).toEqual({ agent_id: id, lines: ['fake-cli: no model configured'] });
    const bob = await call('GET', `/api/v1/agents/${id}/logs`, BOB);
    expect([bob.status, bob.json.error.code]).toEqual([404, 'AGENT_NOT_FOUND']);
  });
});
