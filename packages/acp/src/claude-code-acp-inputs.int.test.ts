import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultResponder,
  type FakeAnthropicApi,
  type FakeApiRequest,
  type FakeResponder,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { CodeAgent } from '@forge/core';
import { runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceMcpStdio, startNonceMcpHttp } from '../../../scripts/test-support/nonce-mcp-server.js';
import { claudeCodeAcp } from './presets.js';
import { allowAll, TINY_PNG } from './test-support/allow-all.js';
import { alive, ofType, processesWithHome, trackingRunner, waitFor } from './test-support/int-rig.js';
import { claudeCodeAcpPath, schemaInPrompt, valueForSchema } from './testing/index.js';

/**
 * What a request gives the real `@zed-industries/claude-code-acp` 0.16.2 besides its prompt: MCP servers on
 * `session/new` (the test MCP server over stdio and streamable HTTP; Claude Code names its tool
 * `mcp__<server>__nonce`) and images as prompt blocks, against `@forge/claude-code`'s fake Messages API.
 * claude-code-acp starts a Claude Code CLI per session: here its default, the agent SDK's bundled cli.js. Over the
 * native `claude` 2.1.197 (claude-code-acp.int drives it, ~0.9 s of CPU a start against ~1.7 s) a stdio MCP
 * server's tool was not among the first prompt's tools on a loaded machine (a fresh-clone CI run, 2026-12-07); the
 * bundled CLI was not seen to do so.
 */
type Json = Record<string, unknown>;
const toolNames = (req: FakeApiRequest): string[] =>
  Array.isArray(req.body?.tools) ? (req.body.tools as Json[]).map((t) => String(t.name)) : [];
/** The image blocks of every user message the model was sent (Anthropic's `{ type: 'image', source }`). */
const imagesSent = (req: FakeApiRequest): Json[] =>
  (Array.isArray(req.body?.messages) ? (req.body.messages as Json[]) : [])
    .filter((m) => m.role === 'user' && Array.isArray(m.content))
    .flatMap((m) => m.content as Json[])
    .filter((b) => b.type === 'image')
    .map((b) => b.source as Json);

const scripted: FakeResponder = (req) => {
  const tag = /\[\[(\w+)\]\]/.exec(req.lastUserText)?.[1];
  if (req.hasToolResult) return defaultResponder(req);
  if (tag === 'mcp') {
    const name = toolNames(req).find((t) => t.endsWith('__nonce'));
    return name ? { toolUse: { name, input: {} } } : { text: `No nonce tool (tools: ${toolNames(req).join(', ')})` };
  }
  // Core's structured-output instruction and repair prompt end with the schema: a fitting value, except for
  // [[badjson]] before it is asked to repair.
  const schema = schemaInPrompt(req.lastUserText);
  if (tag === 'badjson' && !/did not match/.test(req.lastUserText)) return { text: '{"unexpected":true}' };
  if (tag === 'json' || (schema !== undefined && /did not match/.test(req.lastUserText))) {
    return { text: JSON.stringify(valueForSchema(schema)) };
  }
  if (tag === 'images') {
    const images = imagesSent(req);
    return { text: `I received ${images.length} image(s): ${images.map((i) => i.media_type).join(', ')}.` };
  }
  return defaultResponder(req);
};

// claude-code-acp does not exit when its stdin closes: a short grace, then SIGTERM (see claude-code-acp.int.test.ts).
const CLOSE_GRACE_MS = 200;

describe('claudeCodeAcp: MCP servers and images reach the real claude-code-acp', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  const runner = trackingRunner();
  let agent: CodeAgent;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-claude-acp-inputs-'));
    const work = join(scratch, 'work');
    await mkdir(work);
    await mkdir(join(scratch, 'home'));
    api = await startFakeAnthropicApi({ respond: scripted });
    agent = claudeCodeAcp({
      command: claudeCodeAcpPath(),
      runner,
      closeGraceMs: CLOSE_GRACE_MS,
      cwd: work,
      env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home'), CLAUDE_CODE_MAX_RETRIES: '1', IS_SANDBOX: '1' },
    });
  });
  afterAll(async () => {
    await agent?.close?.();
    const allGone = await waitFor(() => runner.spawned.every((p) => !alive(p.pid)), 5_000);
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    // The CLIs claude-code-acp started and their stdio MCP servers: Forge never sees their pids.
    const home = join(scratch, 'home');
    await waitFor(async () => (await processesWithHome(home)).length === 0, 5_000);
    const left = await processesWithHome(home);
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(allGone).toBe(true);
    expect(left).toEqual([]);
  });

  it('a stdio MCP server: the model calls mcp__probe__nonce and the nonce comes back', {
    timeout: 90_000,
  }, async () => {
    const nonce = `nonce-${randomUUID()}`;
    const run = agent.execute({ prompt: '[[mcp]] what is the nonce?', mcpServers: [nonceMcpStdio(nonce)] });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'tool.call')[0]).toMatchObject({ name: 'mcp__probe__nonce' });
    // Claude Code asks before an MCP tool runs, as for any tool.
    expect(ofType(events, 'permission.requested').map((p) => p.tool)).toEqual(['mcp__probe__nonce']);
    expect(JSON.stringify(ofType(events, 'tool.result')[0]!.output)).toContain(nonce);
    expect(result.text).toContain(nonce);
    // The session's CLI (alive until the agent closes) is the bundled one: Node, named `claude`.
    expect(await processesWithHome(join(scratch, 'home'))).toContainEqual(
      expect.objectContaining({ exe: realpathSync(process.execPath), cmdline: 'claude' }),
    );
  });

  it('an http MCP server (claude-code-acp offers mcpCapabilities.http)', { timeout: 90_000 }, async () => {
    const nonce = `nonce-${randomUUID()}`;
    const server = await startNonceMcpHttp(nonce);
    try {
      const run = agent.execute({ prompt: '[[mcp]] the nonce?', mcpServers: [{ name: 'web', url: server.url }] });
      const events = await allowAll(run);
      const result = await run.result;
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(ofType(events, 'tool.call')[0]).toMatchObject({ name: 'mcp__web__nonce' });
      expect(server.calls.count).toBeGreaterThanOrEqual(1);
      expect(result.text).toContain(nonce);
    } finally {
      await server.close();
    }
  });

  it('an image attachment reaches the model as an image block', { timeout: 90_000 }, async () => {
    const before = api.requests.length;
    const run = agent.execute({
      prompt: '[[images]] what do you see?',
      attachments: [{ kind: 'image', data: TINY_PNG, mimeType: 'image/png', name: 'dot.png' }],
    });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'I received 1 image(s): image/png.' });
    const turn = api.requests.slice(before).find((r) => r.lastUserText.includes('[[images]]'))!;
    expect(imagesSent(turn)).toEqual([{ type: 'base64', media_type: 'image/png', data: TINY_PNG }]);
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
    const turn = api.requests.slice(before).find((r) => r.lastUserText.includes('[[file]]'))!;
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

    // The same session again (its CLI is running; a new session would start another).
    const failed = await agent.execute({
      prompt: '[[badjson]] review again',
      sessionId: result.sessionId,
      outputSchema,
      outputRepairs: 0,
    }).result;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(failed.output).toBeUndefined();
  });
});
