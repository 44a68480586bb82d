import type { CodeAgent } from '@forge/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AcpAgentOptions, acpAgent } from './agent.js';
import { type ScriptedAcpOptions, scriptedAcpRunner } from './test-support/scripted-acp.js';

const agents: CodeAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close?.();
});

function make(script: ScriptedAcpOptions = {}, extra: Partial<AcpAgentOptions> = {}) {
  const runner = scriptedAcpRunner(script);
  const agent = acpAgent({ command: 'scripted-acp', runner, cwd: '/work', closeGraceMs: 50, ...extra });
  agents.push(agent);
  const received = (method: string) =>
    runner.processes.flatMap((p) => p.received.filter((r) => r.method === method).map((r) => r.params));
  return { agent, runner, received };
}

const remote = (mcpCapabilities: { http?: boolean; sse?: boolean }): ScriptedAcpOptions => ({
  initialize: { agentCapabilities: { loadSession: true, mcpCapabilities } },
});

const stdio = { name: 'probe', command: '/usr/bin/node', args: ['server.mjs'], env: { FORGE_MCP_NONCE: 'n-1' } };

describe('mcpServers on session/new, load and resume', () => {
  it('gives the session the agent option servers and the request stdio servers, in ACP shape', async () => {
    const own = { name: 'own', command: 'own-mcp', args: [], env: [] };
    const { agent, received } = make({}, { mcpServers: [own] });
    const result = await agent.execute({ prompt: 'hi', mcpServers: [stdio, { name: 'bare', command: 'bare-mcp' }] })
      .result;
    expect(result.status).toBe('completed');
    expect(received('session/new')[0]).toEqual({
      cwd: '/work',
      mcpServers: [
        own,
        {
          name: 'probe',
          command: '/usr/bin/node',
          args: ['server.mjs'],
          env: [{ name: 'FORGE_MCP_NONCE', value: 'n-1' }],
        },
        // ACP requires args and env on a stdio server, even empty.
        { name: 'bare', command: 'bare-mcp', args: [], env: [] },
      ],
    });
  });

  it('refuses an http or sse server the agent does not offer, before opening a session (UNSUPPORTED_FIELD)', async () => {
    // The scripted agent's initialize names no mcpCapabilities: stdio only.
    const { agent, received } = make();
    for (const server of [
      { name: 'web', url: 'http://127.0.0.1:9/mcp' },
      { name: 'old', url: 'http://127.0.0.1:9/sse', transport: 'sse' as const },
    ]) {
      const result = await agent.execute({ prompt: 'hi', mcpServers: [server] }).result;
      expect(result).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
      expect(result.error!.message).toContain(`mcpCapabilities do not offer ${server.transport ?? 'http'}`);
    }
    expect(received('session/new')).toEqual([]);
  });

  it('passes http and sse servers, with their headers, where mcpCapabilities offer them', async () => {
    const { agent, received } = make(remote({ http: true, sse: true }));
    const result = await agent.execute({
      prompt: 'hi',
      mcpServers: [
        { name: 'web', url: 'http://127.0.0.1:9/mcp', headers: { authorization: 'Bearer t' } },
        { name: 'old', url: 'http://127.0.0.1:9/sse', transport: 'sse' },
      ],
    }).result;
    expect(result.status).toBe('completed');
    expect((received('session/new')[0] as { mcpServers: unknown }).mcpServers).toEqual([
      {
        type: 'http',
        name: 'web',
        url: 'http://127.0.0.1:9/mcp',
        headers: [{ name: 'authorization', value: 'Bearer t' }],
      },
      { type: 'sse', name: 'old', url: 'http://127.0.0.1:9/sse', headers: [] },
    ]);
    // http offered, sse not: only the sse server is refused.
    const httpOnly = make(remote({ http: true }));
    const sse = await httpOnly.agent.execute({
      prompt: 'hi',
      mcpServers: [{ name: 'old', url: 'http://127.0.0.1:9/sse', transport: 'sse' }],
    }).result;
    expect(sse).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
  });

  it("refuses a request server named like one of the agent's own (INVALID_REQUEST)", async () => {
    const { agent, received } = make({}, { mcpServers: [{ name: 'probe', command: 'own', args: [], env: [] }] });
    const result = await agent.execute({ prompt: 'hi', mcpServers: [stdio] }).result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'INVALID_REQUEST' } });
    expect(received('session/new')).toEqual([]);
  });

  it('a live session keeps the servers it was opened with: the same again is fine, others are refused', async () => {
    const { agent, received } = make();
    const first = await agent.execute({ prompt: 'hi', mcpServers: [stdio] }).result;
    const { sessionId } = first;
    expect((await agent.execute({ prompt: 'again', sessionId, mcpServers: [stdio] }).result).status).toBe('completed');
    expect((await agent.execute({ prompt: 'and without', sessionId }).result).status).toBe('completed');
    const other = await agent.execute({ prompt: 'other', sessionId, mcpServers: [{ ...stdio, args: ['x.mjs'] }] })
      .result;
    expect(other).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
    expect(other.error!.message).toContain('opened with');
    expect(received('session/new')).toHaveLength(1);
    // The refused run did not hold on to the session.
    expect((await agent.execute({ prompt: 'still', sessionId }).result).status).toBe('completed');
  });

  it('a session continued in a new process gets the request servers on session/load', async () => {
    const first = await make().agent.execute({ prompt: 'hi' }).result;
    const { agent, received } = make();
    const loaded = await agent.execute({ prompt: 'again', sessionId: first.sessionId, mcpServers: [stdio] }).result;
    expect(loaded.status).toBe('completed');
    expect(received('session/load')[0]).toMatchObject({
      sessionId: first.sessionId,
      mcpServers: [{ name: 'probe', command: '/usr/bin/node' }],
    });
  });
});
