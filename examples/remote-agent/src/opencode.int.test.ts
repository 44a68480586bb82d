import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { startOpencodeServer, type OpencodeServer } from '@forge/opencode';
import {
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  startFakeOpenAiApi,
  type FakeOpenAiApi,
} from '@forge/opencode/testing';
import { createAgentHub, memoryCredentialStore, type AgentHub, type HubServer } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteAgent } from './test-support/start-remote-agent.js';

/**
 * The program serving a real `opencode serve` (the devDependency, with a fake OpenAI-compatible
 * model on 127.0.0.1) to a hub it dials, through FORGE_PROVIDER=opencode and OPENCODE_URL.
 */
describe('examples/remote-agent with FORGE_PROVIDER=opencode (real server, fake model)', () => {
  const registry = createProviderRegistry();
  let api: FakeOpenAiApi;
  let opencodeServer: OpencodeServer;
  let hub: AgentHub;
  let server: HubServer;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-remote-opencode-'));
    const project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    api = await startFakeOpenAiApi({
      reply: (request) =>
        request.tools?.length
          ? { kind: 'text', text: `Hello from fake: ${lastUserText(request)}` }
          : { kind: 'text', text: 'Fake title' },
    });
    opencodeServer = await startOpencodeServer({
      bin: opencodeBinPath(),
      cwd: project,
      env: isolatedOpencodeEnv(scratch),
      inheritEnv: false,
      config: fakeOpencodeConfig(api.url),
      startTimeoutMs: 60_000,
    });
    hub = createAgentHub({
      secret: 'remote-agent-opencode-int-test-secret-0123456789',
      credentialStore: memoryCredentialStore(),
      registry,
    });
    server = await hub.listen();
  }, 90_000);
  afterAll(async () => {
    await hub?.close();
    await opencodeServer?.close();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs a prompt through the hub on OpenCode at the far end, then stops cleanly', { timeout: 90_000 }, async () => {
    const remote = startRemoteAgent(hub, 'opencode-box', {
      FORGE_HUB_URL: server.url,
      FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token,
      FORGE_CREDENTIAL_FILE: join(scratch, 'agent.json'),
      FORGE_PROVIDER: 'opencode',
      OPENCODE_URL: opencodeServer.url,
      FORGE_CWD: join(scratch, 'project'),
    });
    try {
      await remote.online();
      const agent = await registry.get('opencode-box');
      expect(agent.provider).toBe('opencode');
      const { events, result } = await collectRun(agent.execute({ prompt: 'greet the far side' }));
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(result.text).toContain('Hello from fake: greet the far side');
      expect(await remote.stop()).toBe(0);
    } finally {
      remote.kill();
    }
  });
});
