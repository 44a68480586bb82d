import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentRequest } from '@forge/core';
import { conformanceScript, sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '../backends/local-backend.js';
import { startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Issue 23 on the platform: run defaults on the agent (approvals, budget, MCP servers…) under each message's own
 * fields, the operator's defaults under both; and `pending` on a run, from the run here or from the journal when
 * another replica executes it.
 */
describe('agent run defaults and a run’s pending requests', () => {
  let a: ApiHarness;
  let b: ApiHarness;
  let shared: string;
  const seen: AgentRequest[] = [];

  beforeAll(async () => {
    shared = await mkdtemp(join(tmpdir(), 'forge-run-defaults-'));
    const capable = scriptedAgent({
      provider: 'capable',
      capabilities: { approvals: true, budget: true, effort: true, mcpServers: true, structuredOutput: 'native' },
      steps: (request) => {
        seen.push(request);
        return request.prompt === 'permission' ? conformanceScript('permission') : sampleScript();
      },
    });
    const providers = { capable };
    const backend = (registry: Parameters<typeof localBackend>[0]['registry']) =>
      localBackend({ dataDir: shared, registry });
    const api = {
      runDefaults: { budget: { maxTokens: 50_000 }, approvals: { default: 'ask' as const } },
      mcpServers: [{ name: 'nonce', command: 'node', args: ['nonce.mjs'] }],
    };
    a = await startApiHarness({ providers, backend, api });
    // B runs nothing itself: every run executes on A, so B reads pending from the journal.
    b = await startApiHarness({ providers, backend, api, runManager: { maxRunning: 0 } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (shared) await rm(shared, { recursive: true, force: true });
  });

  it('layers the message over the agent’s defaults over the operator’s, field by field', async () => {
    const created = await a.call('POST', '/api/v1/agents', {
      body: {
        provider: 'capable',
        approvals: { rules: [{ tool: 'Bash', input: { command: 'git *' }, decision: 'allow' }], default: 'deny' },
        budget: { maxCostUsd: 2 },
        effort: 'low',
        mcp_servers: [{ name: 'nonce' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.json.settings).toMatchObject({ effort: 'low', budget: { maxCostUsd: 2 } });
    const id = created.json.agent_id as string;
    expect((await b.call('GET', `/api/v1/agents/${id}`)).json.settings).toEqual(created.json.settings);

    await a.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'one', budget: { maxTokens: 10 } } });
    await a.runs.idle();
    expect(seen.at(-1)).toMatchObject({
      prompt: 'one',
      approvals: { default: 'deny' },
      budget: { maxTokens: 10 },
      effort: 'low',
      mcpServers: [{ name: 'nonce', command: 'node', args: ['nonce.mjs'] }],
    });
    expect(seen.at(-1)!.budget).toEqual({ maxTokens: 10 });

    // An agent without defaults gets the operator's.
    const plain = (await a.call('POST', '/api/v1/agents', { body: { provider: 'capable' } })).json.agent_id;
    await a.call('POST', `/api/v1/agents/${plain}/messages`, { body: { content: 'two', effort: 'high' } });
    await a.runs.idle();
    expect(seen.at(-1)).toMatchObject({ budget: { maxTokens: 50_000 }, approvals: { default: 'ask' }, effort: 'high' });
    expect(seen.at(-1)!.mcpServers).toBeUndefined();
    expect((await a.call('GET', `/api/v1/agents/${plain}`)).json.settings).toBeUndefined();
  });

  it('checks an agent’s defaults as a message’s fields are checked, a command included', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mcp_servers: [{ name: 'x', command: 'sh' }] }, 'MCP_COMMAND_REFUSED'],
      [{ mcp_servers: [{ name: 'nope' }] }, 'MCP_SERVER_UNKNOWN'],
      [{ budget: { maxTokens: -1 } }, 'INVALID_BUDGET'],
      [{ budget: {} }, 'INVALID_BUDGET'],
      [{ approvals: { defualt: 'allow' } }, 'UNKNOWN_FIELD'],
      [{ effort: 'max' }, 'INVALID_EFFORT'],
    ];
    for (const [body, code] of cases) {
      const res = await a.call('POST', '/api/v1/agents', { body: { provider: 'capable', ...body } });
      expect([res.status, res.json.error.code], JSON.stringify(body)).toEqual([400, code]);
    }
  });

  it('lists what a run waits for, here and through a replica that reads the journal, and clears it once answered', async () => {
    const id = (await a.call('POST', '/api/v1/agents', { body: { provider: 'capable' } })).json.agent_id;
    const sent = await a.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'permission' } });
    const rid = sent.json.request_id as string;
    await until(() => a.runs.local(rid)?.pendingPermissions.has('perm_1') === true, 'the permission request');
    const R = `/api/v1/agents/${id}/runs/${rid}`;
    const here = (await a.call('GET', R)).json;
    await until(
      async () => ((await b.call('GET', R)).json.pending ?? []).length === 1,
      'the request in the journal, as read by B',
    );
    const there = (await b.call('GET', R)).json;
    expect(here.pending).toEqual([expect.objectContaining({ type: 'permission.requested', id: 'perm_1' })]);
    expect(there.pending).toEqual(here.pending);

    expect(
      (await a.call('POST', `/api/v1/agents/${id}/permissions/perm_1`, { body: { decision: 'allow' } })).status,
    ).toBe(200);
    await a.runs.idle();
    expect((await a.call('GET', R)).json.pending).toEqual([]);
    expect((await b.call('GET', R)).json.pending).toEqual([]);
  });
});
