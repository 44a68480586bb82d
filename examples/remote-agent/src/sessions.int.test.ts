import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry, memorySessionStore } from '@forge/core';
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
 * A remote agent's conversation outlives its machine's files: the program (real Claude Code CLI, fake Messages
 * API) dials a hub that keeps sessions; its session is saved over the dial-home link after the first turn; the
 * program stops and its HOME is removed; started again on a fresh HOME, it resumes the session from the hub's
 * store and the model sees the earlier turn.
 */
describe('examples/remote-agent: sessions travel over the dial-home link', () => {
  const registry = createProviderRegistry();
  const sessions = memorySessionStore();
  let api: FakeAnthropicApi;
  let hub: AgentHub;
  let server: HubServer;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-remote-sessions-'));
    await mkdir(join(scratch, 'project'), { recursive: true });
    api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
    hub = createAgentHub({
      secret: 'remote-agent-sessions-int-test-secret-0123456789',
      credentialStore: memoryCredentialStore(),
      registry,
      sessionStore: sessions,
    });
    server = await hub.listen();
  });
  afterAll(async () => {
    await hub?.close();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const remoteEnv = (home: string, enrol: boolean) => ({
    ...fakeAnthropicEnv(api.url),
    HOME: home,
    FORGE_HUB_URL: server.url,
    ...(enrol ? { FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token } : {}),
    FORGE_CREDENTIAL_FILE: join(scratch, 'agent.json'),
    FORGE_PROVIDER: 'claude-code',
    FORGE_BIN: claudeBinPath(),
    FORGE_CWD: join(scratch, 'project'),
  });
  const history = () => JSON.stringify(api.requests.filter((r) => r.path.includes('/messages')).at(-1)!.body.messages);

  it('the second message, on the same agent with a fresh HOME, resumes the first from the hub’s store', {
    timeout: 120_000,
  }, async () => {
    const homeA = join(scratch, 'home-a');
    await mkdir(homeA, { recursive: true });
    const first = startRemoteAgent(hub, 'laptop', remoteEnv(homeA, true));
    let sessionId: string;
    try {
      await first.online();
      const agent = await registry.get('laptop');
      const { events, result } = await collectRun(agent.execute({ prompt: 'remember KIWI-17' }));
      expect(runProblems(events)).toEqual([]);
      expect(result.status, JSON.stringify(result.error)).toBe('completed');
      sessionId = result.sessionId!;
      expect(await first.stop()).toBe(0);
    } finally {
      first.kill();
    }
    const stored = await sessions.load({ provider: 'claude-code', sessionId });
    expect(stored, `no session saved; the agent's log:\n${first.output()}`).toBeDefined();
    expect(Buffer.concat(stored!.files.map((f) => f.data)).toString()).toContain('remember KIWI-17');
    expect(Buffer.concat(stored!.files.map((f) => f.data)).toString()).toContain('Answer to: remember KIWI-17');
    await rm(homeA, { recursive: true, force: true });

    const homeB = join(scratch, 'home-b');
    await mkdir(homeB, { recursive: true });
    const second = startRemoteAgent(hub, 'laptop', remoteEnv(homeB, false));
    try {
      await second.online();
      const agent = await registry.get('laptop');
      const { events, result } = await collectRun(agent.execute({ prompt: 'what should you remember?', sessionId }));
      expect(runProblems(events)).toEqual([]);
      expect(result, JSON.stringify(result.error)).toMatchObject({ status: 'completed', sessionId });
      expect(history()).toContain('remember KIWI-17');
      expect(history()).toContain('what should you remember?');
      expect(await second.stop()).toBe(0);
    } finally {
      second.kill();
    }
  });
});
