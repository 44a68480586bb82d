import type { CodeAgent } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { acpAgent } from './agent.js';
import { scriptedAcpRunner } from './test-support/scripted-acp.js';

const agents: CodeAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close?.();
});

function make() {
  const runner = scriptedAcpRunner();
  const agent = acpAgent({ command: 'scripted-acp', runner, cwd: '/work', closeGraceMs: 50 });
  agents.push(agent);
  const prompts = () =>
    runner.processes.flatMap((p) =>
      p.received
        .filter((r) => r.method === 'session/prompt')
        .map((r) => r.params as { sessionId: string; prompt: Array<{ text?: string }> }),
    );
  return { agent, prompts };
}

const outputSchema = {
  type: 'object',
  properties: { verdict: { enum: ['ok', 'bad'] } },
  required: ['verdict'],
  additionalProperties: false,
};

describe('outputSchema, emulated by core (ACP has no structured output of its own)', () => {
  it('declares structuredOutput emulated', () => {
    expect(make().agent.declared?.capabilities.structuredOutput).toBe('emulated');
  });

  it('the agent is asked for JSON alone and its answer arrives as result.output', async () => {
    const { agent, prompts } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'json review this', outputSchema }));
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'ok' } });
    expect(prompts()[0]!.prompt[0]!.text).toContain(JSON.stringify(outputSchema));
  });

  it('an answer that does not fit gets a repair turn in the same session', async () => {
    const { agent, prompts } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'badjson review this', outputSchema }));
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'ok' } });
    const [first, repair] = prompts();
    expect(repair!.sessionId).toBe(first!.sessionId);
    expect(repair!.prompt[0]!.text).toContain('did not match');
  });

  it('the repair turn keeps the MCP servers the session was opened with', async () => {
    const { agent, prompts } = make();
    const mcpServers = [{ name: 'probe', command: 'probe-mcp' }];
    const result = await agent.execute({ prompt: 'badjson review this', outputSchema, mcpServers }).result;
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'ok' } });
    expect(prompts()).toHaveLength(2);
  });

  it('with no repairs left, a wrong answer fails the run OUTPUT_SCHEMA_MISMATCH', async () => {
    const { agent, prompts } = make();
    const result = await agent.execute({ prompt: 'badjson review this', outputSchema, outputRepairs: 0 }).result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(result.output).toBeUndefined();
    expect(prompts()).toHaveLength(1);
  });
});
