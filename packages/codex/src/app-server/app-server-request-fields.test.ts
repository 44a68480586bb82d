import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { agentOn, answerAll, askingTurn, ofType, textTurn } from '../test-support/app-server-turns.js';

describe('codex app-server: MCP servers, outputSchema, images, effort (scripted server)', () => {
  it('declares them (structured output native), and puts each on the thread or the turn', async () => {
    const { runner, agent } = agentOn(textTurn('{"ok": true}'), { versionTimeoutMs: 10 });
    expect(await agent.capabilities()).toMatchObject({
      mcpServers: true,
      structuredOutput: 'native',
      images: true,
      effort: true,
      attachments: false,
    });
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const { result } = await collectRun(
      agent.execute({
        prompt: 'x',
        mcpServers: [{ name: 'probe', command: 'node', args: ['s.mjs'] }],
        outputSchema: schema,
        effort: 'high',
        attachments: [{ kind: 'image', path: 'a.png' }],
      }),
    );
    expect(result).toMatchObject({ status: 'completed', output: { ok: true } });
    const received = runner.servers.flatMap((s) => s.received);
    expect(received.find((m) => m.method === 'thread/start')!.params.config).toEqual({
      'mcp_servers.probe': { command: 'node', args: ['s.mjs'], required: true },
    });
    expect(received.find((m) => m.method === 'turn/start')!.params).toMatchObject({
      effort: 'high',
      outputSchema: schema,
      input: [
        { type: 'text', text: 'x', text_elements: [] },
        { type: 'localImage', path: '/work/a.png' },
      ],
    });
    await agent.close?.();
  });

  it('an outputSchema answer that is not JSON leaves output unset, says so in a log, and core fails the run', async () => {
    const { agent } = agentOn(textTurn('not json'));
    const { result, events } = await collectRun(
      agent.execute({ prompt: 'x', outputSchema: { type: 'object' }, outputRepairs: 0 }),
    );
    // The adapter hands core no answer; core, which judges every schema'd answer, has no repair turn left.
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(result.output).toBeUndefined();
    expect(ofType(events, 'log').some((l) => l.text.includes('not JSON'))).toBe(true);
    await agent.close?.();
  });

  it('without an outputSchema there is no output, even for a JSON answer', async () => {
    const { agent } = agentOn(textTurn('{"ok": true}'));
    expect((await collectRun(agent.execute({ prompt: 'x' }))).result.output).toBeUndefined();
    await agent.close?.();
  });

  it.each([
    ['allow', { action: 'accept', content: null, _meta: null }],
    ['allow_always', { action: 'accept', content: null, _meta: { persist: 'session' } }],
    ['deny', { action: 'decline', content: null, _meta: null }],
  ] as const)(
    'an MCP tool approval (elicitation) is permission.requested mcp__<server>__<tool>; %s',
    async (decision, wire) => {
      const { runner, agent } = agentOn(
        askingTurn('mcpServer/elicitation/request', {
          serverName: 'probe',
          mode: 'form',
          message: 'Allow?',
          requestedSchema: { type: 'object', properties: {} },
          _meta: { codex_approval_kind: 'mcp_tool_call', tool_name: 'nonce', tool_params: { a: 1 } },
        }),
      );
      const run = agent.execute({ prompt: 'x' });
      const { events } = await answerAll(run, async (e) => {
        if (e.type === 'permission.requested') await run.respond(e.id, decision);
      });
      expect(ofType(events, 'permission.requested')[0]).toMatchObject({ tool: 'mcp__probe__nonce', input: { a: 1 } });
      expect(runner.servers[0]!.received.find((m) => m.id === 900)).toEqual({ id: 900, result: wire });
      await agent.close?.();
    },
  );

  it('another elicitation is refused, with a log that says so', async () => {
    const { runner, agent } = agentOn(
      askingTurn('mcpServer/elicitation/request', { serverName: 'probe', mode: 'url', url: 'https://x', _meta: null }),
    );
    const { events } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'log').some((l) => l.text.includes('mcpServer/elicitation/request'))).toBe(true);
    expect(runner.servers[0]!.received.find((m) => m.id === 900)).toMatchObject({ error: { code: -32601 } });
    await agent.close?.();
  });
});
