import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import {
  claudeBinPath,
  defaultResponder,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  STRUCTURED_OUTPUT_TOOL,
  type FakeAnthropicApi,
  type FakeResponder,
} from '@forge/claude-code/testing';
import { createAgentHub, memoryCredentialStore, type AgentHub, type HubServer } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceMcpStdio } from '../../../scripts/test-support/nonce-mcp-server.js';
import { startRemoteAgent } from './test-support/start-remote-agent.js';

const NONCE = 'nonce-dial-home-51e0';
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

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
  let respond: FakeResponder = defaultResponder;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-remote-claude-'));
    await mkdir(join(scratch, 'home'), { recursive: true });
    await mkdir(join(scratch, 'project'), { recursive: true });
    api = await startFakeAnthropicApi({ respond: (req) => respond(req) });
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

  const remoteEnv = () => ({
    ...fakeAnthropicEnv(api.url),
    HOME: join(scratch, 'home'),
    FORGE_HUB_URL: server.url,
    FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token,
    FORGE_CREDENTIAL_FILE: join(scratch, 'agent.json'),
    FORGE_PROVIDER: 'claude-code',
    FORGE_BIN: claudeBinPath(),
    FORGE_CWD: join(scratch, 'project'),
  });

  it('takes an MCP server, an output schema and an image across the link: tool called, image seen, output validated', {
    timeout: 90_000,
  }, async () => {
    const images: number[] = [];
    respond = (req) => {
      if (!req.hasToolResult) images.push(req.attachments.length);
      if (!req.hasToolResult && req.tools.includes('mcp__probe__nonce'))
        return { toolUse: { name: 'mcp__probe__nonce', input: {} } };
      if (
        JSON.stringify(req.body).includes(NONCE) &&
        req.tools.includes(STRUCTURED_OUTPUT_TOOL) &&
        !JSON.stringify(req.body).includes(`"${STRUCTURED_OUTPUT_TOOL}","input"`)
      )
        return { toolUse: { name: STRUCTURED_OUTPUT_TOOL, input: { nonce: NONCE, images: images[0] ?? 0 } } };
      return { text: 'done' };
    };
    const remote = startRemoteAgent(hub, 'claude-fields', {
      ...remoteEnv(),
      FORGE_CREDENTIAL_FILE: join(scratch, 'fields.json'),
    });
    try {
      await remote.online();
      const agent = await registry.get('claude-fields');
      const { events, result } = await collectRun(
        agent.execute({
          prompt: 'Ask the probe for the nonce, then answer as JSON',
          mcpServers: [nonceMcpStdio(NONCE, 'probe')],
          allowedTools: ['mcp__probe__nonce'],
          outputSchema: {
            type: 'object',
            properties: { nonce: { type: 'string' }, images: { type: 'integer' } },
            required: ['nonce', 'images'],
            additionalProperties: false,
          },
          attachments: [{ kind: 'image', mimeType: 'image/png', data: PNG }],
        }),
      );
      expect(runProblems(events)).toEqual([]);
      expect(result.status, JSON.stringify(result.error)).toBe('completed');
      expect(result.output).toEqual({ nonce: NONCE, images: 1 });
      expect(await remote.stop()).toBe(0);
    } finally {
      remote.kill();
      respond = defaultResponder;
    }
  });

  it('runs a prompt through the hub on the CLI at the far end, then stops cleanly', { timeout: 90_000 }, async () => {
    const remote = startRemoteAgent(hub, 'claude-box', remoteEnv());
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
