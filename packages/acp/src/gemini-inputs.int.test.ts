import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceMcpStdio, startNonceMcpHttp } from '../../../scripts/test-support/nonce-mcp-server.js';
import { geminiCli } from './presets.js';
import { allowAll, TINY_PNG } from './test-support/allow-all.js';
import { alive, ofType, trackingRunner } from './test-support/int-rig.js';
import { type FakeGeminiApi, fakeGeminiEnv, geminiBinPath, startFakeGeminiApi } from './testing/index.js';

/**
 * What a request gives the real Gemini CLI 0.61.0 (`gemini --acp`) besides its prompt: MCP servers on
 * `session/new` (the test MCP server, over stdio and streamable HTTP) and images as prompt blocks. The fake
 * Gemini API's default scenarios call the offered `nonce` tool (`[[mcp]]`) and report the images they got.
 */
describe('geminiCli: MCP servers and images reach the real gemini CLI', () => {
  let api: FakeGeminiApi;
  let scratch: string;
  const runner = trackingRunner();
  let agent: ReturnType<typeof geminiCli>;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-gemini-inputs-'));
    const work = join(scratch, 'work');
    await mkdir(work);
    api = await startFakeGeminiApi();
    const env = await fakeGeminiEnv(api.url, join(scratch, 'home'));
    // One process for every test: a cold Gemini start costs seconds.
    agent = geminiCli({ bin: geminiBinPath(), runner, cwd: work, env, initializeTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await agent?.close?.();
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(runner.spawned.filter((p) => alive(p.pid))).toEqual([]);
  });

  it('a stdio MCP server: the model calls its tool and the nonce comes back', { timeout: 90_000 }, async () => {
    const nonce = `nonce-${randomUUID()}`;
    const run = agent.execute({ prompt: '[[mcp]] what is the nonce?', mcpServers: [nonceMcpStdio(nonce)] });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    const turn = api.requests.find((r) => r.action === 'streamGenerateContent' && r.lastUserText.includes('[[mcp]]'))!;
    // Gemini 0.61 names an MCP tool mcp_<server>_<tool>.
    expect(turn.tools).toContain('mcp_probe_nonce');
    // Gemini asks before an MCP tool runs; it names the call by its title (its kind is `other`).
    expect(ofType(events, 'permission.requested').map((p) => p.input)).toEqual([
      expect.objectContaining({ title: 'nonce (probe MCP Server)', kind: 'other' }),
    ]);
    expect(
      ofType(events, 'tool.result')
        .map((r) => JSON.stringify(r.output))
        .join(' '),
    ).toContain(nonce);
    expect(result.text).toContain(nonce);
  });

  it('an http MCP server (Gemini offers mcpCapabilities.http)', { timeout: 90_000 }, async () => {
    const nonce = `nonce-${randomUUID()}`;
    const server = await startNonceMcpHttp(nonce);
    try {
      const run = agent.execute({ prompt: '[[mcp]] the nonce?', mcpServers: [{ name: 'web', url: server.url }] });
      const events = await allowAll(run);
      const result = await run.result;
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(server.calls.count).toBeGreaterThanOrEqual(1);
      expect(result.text).toContain(nonce);
    } finally {
      await server.close();
    }
  });

  it('an image attachment reaches the model as inline data', { timeout: 90_000 }, async () => {
    const before = api.requests.length;
    const run = agent.execute({
      prompt: '[[images]] what do you see?',
      attachments: [{ kind: 'image', data: TINY_PNG, mimeType: 'image/png', name: 'dot.png' }],
    });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    const turn = api.requests
      .slice(before)
      .find((r) => r.action === 'streamGenerateContent' && r.lastUserText.includes('[[images]]'))!;
    expect(turn.images).toEqual([
      { mimeType: 'image/png', data: TINY_PNG, bytes: Buffer.from(TINY_PNG, 'base64').length },
    ]);
    expect(result.text).toBe(`I received 1 image(s): image/png (${Buffer.from(TINY_PNG, 'base64').length} bytes).`);
  });

  it('an inline text file reaches the model as an embedded resource (promptCapabilities.embeddedContext)', {
    timeout: 90_000,
  }, async () => {
    const before = api.requests.length;
    const data = Buffer.from('the attached file says forge-file-marker\n').toString('base64');
    const run = agent.execute({
      prompt: '[[file]] read the attachment',
      attachments: [{ kind: 'file', data, mimeType: 'text/plain', name: 'note.txt' }],
    });
    const events = await allowAll(run);
    expect(runProblems(events)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    const turn = api.requests
      .slice(before)
      .find((r) => r.action === 'streamGenerateContent' && r.lastUserText.includes('[[file]]'))!;
    expect(JSON.stringify(turn.body)).toContain('forge-file-marker');
  });

  const outputSchema = {
    type: 'object',
    properties: { verdict: { enum: ['approve', 'reject'] }, comments: { type: 'array', items: { type: 'string' } } },
    required: ['verdict', 'comments'],
    additionalProperties: false,
  };

  it("a schema'd answer arrives as result.output (structured output emulated by core)", {
    timeout: 90_000,
  }, async () => {
    const run = agent.execute({ prompt: '[[json]] review the change', outputSchema });
    const events = await allowAll(run);
    expect(runProblems(events)).toEqual([]);
    expect(await run.result).toMatchObject({ status: 'completed', output: { verdict: 'approve', comments: [] } });
  });

  it('an answer that does not fit is repaired in the same session; with no repairs left it fails', {
    timeout: 90_000,
  }, async () => {
    const before = api.requests.length;
    const run = agent.execute({ prompt: '[[badjson]] review the change', outputSchema });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'approve', comments: [] } });
    // The repair prompt went to the model with the earlier turn's history: one session.
    const repair = api.requests.slice(before).find((r) => /did not match/.test(r.lastUserText))!;
    expect(JSON.stringify(repair.body)).toContain('[[badjson]] review the change');
    expect(new Set(ofType(events, 'session.started').map((e) => e.sessionId)).size).toBe(1);

    const failed = await agent.execute({ prompt: '[[badjson]] review again', outputSchema, outputRepairs: 0 }).result;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(failed.output).toBeUndefined();
  });
});
