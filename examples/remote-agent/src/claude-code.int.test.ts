import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { createAgentHub, memoryCredentialStore, type AgentHub, type HubServer } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteAgent } from './test-support/start-remote-agent.js';

/**
 * The program serving the real Claude Code CLI (the devDependency, against a fake Anthropic API on
 * 127.0.0.1) to a hub it dials: the whole remote path with a real provider at the far end.
 */
describe('examples/remote-agent with FORGE_PROVIDER=claude-code (real CLI, fake API)', () => {
  const registry = createProviderRegistry();
  let api: FakeAnthropicApi;
  let hub: AgentHub;
  let server: HubServer;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-remote-claude-'));
    await mkdir(join(scratch, 'home'), { recursive: true });
    await mkdir(join(scratch, 'project'), { recursive: true });
    api = await startFakeAnthropicApi();
    hub = createAgentHub({
      secret: 'remote-agent-claude-int-test-secret-0123456789',
      credentialStore: memoryCredentialStore(),
      registry,
    });
    server = await hub.listen();
  });
  afterAll(async () => {
    await hub?.close();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs a prompt through the hub on the CLI at the far end, then stops cleanly', { timeout: 90_000 }, async () => {
    const remote = startRemoteAgent(hub, 'claude-box', {
      ...fakeAnthropicEnv(api.url),
      HOME: join(scratch, 'home'),
      FORGE_HUB_URL: server.url,
      FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token,
      FORGE_CREDENTIAL_FILE: join(scratch, 'agent.json'),
      FORGE_PROVIDER: 'claude-code',
      FORGE_BIN: claudeBinPath(),
      FORGE_CWD: join(scratch, 'project'),
    });
    try {
      await remote.online();
      const agent = await registry.get('claude-box');
      expect(agent.provider).toBe('claude-code');
      const { events, result } = await collectRun(agent.execute({ prompt: 'Say hello from the far side' }));
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(result.text).toContain('You said: Say hello from the far side');
      expect(events.some((e) => e.type === 'session.started')).toBe(true);
      expect(await remote.stop()).toBe(0);
    } finally {
      remote.kill();
    }
  });
});
