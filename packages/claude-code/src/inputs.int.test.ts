import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { nonceMcpStdio, startNonceMcpHttp } from '../../../scripts/test-support/nonce-mcp-server.js';
import { claudeCliRig } from './test-support/claude-cli-rig.js';
import { attachmentsScenario, mcpNonceScenario, structuredOutputScenario } from './testing/index.js';

/** A 1×1 transparent PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/**
 * What a host can ask of the real CLI (issue 21) against the fake Messages API: MCP servers given per run, a
 * typed answer through `--json-schema`, images and files as content blocks, `--effort`.
 */
describe('claudeCode inputs with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, turns, ofType } = rig;

  it('gives the run a stdio MCP server: its tool asks permission like any tool, and the nonce comes back', async () => {
    rig.responder = mcpNonceScenario('probe');
    const nonce = `nonce-${Math.random().toString(36).slice(2)}`;
    const run = agent().execute({ prompt: 'what is the nonce?', mcpServers: [nonceMcpStdio(nonce, 'probe')] });
    const asked: string[] = [];
    for await (const e of run) {
      if (e.type === 'permission.requested') {
        asked.push(e.tool);
        await run.respond(e.id, 'allow');
      }
    }
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(asked).toEqual(['mcp__probe__nonce']);
    expect(result.text).toContain(nonce);
    expect(turns()[0]!.tools).toContain('mcp__probe__nonce');
  });

  it('gives the run an HTTP MCP server, allowed up front with allowedTools', async () => {
    const nonce = `http-nonce-${Math.random().toString(36).slice(2)}`;
    const server = await startNonceMcpHttp(nonce);
    try {
      rig.responder = mcpNonceScenario('web');
      const { events, result } = await collectRun(
        agent().execute({
          prompt: 'the nonce, please',
          mcpServers: [{ name: 'web', url: server.url }],
          allowedTools: ['mcp__web__nonce'],
        }),
      );
      expect(result.status).toBe('completed');
      expect(ofType(events, 'permission.requested')).toEqual([]);
      expect(ofType(events, 'tool.call')[0]).toMatchObject({ name: 'mcp__web__nonce' });
      expect(result.text).toContain(nonce);
      expect(server.calls.count).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('answers with a typed value through --json-schema: result.output is the structured answer', async () => {
    const answer = { verdict: 'approve', comments: ['looks fine'] };
    rig.responder = structuredOutputScenario(answer);
    const outputSchema = {
      type: 'object',
      properties: { verdict: { enum: ['approve', 'reject'] }, comments: { type: 'array', items: { type: 'string' } } },
      required: ['verdict', 'comments'],
    };
    const run = agent().execute({ prompt: 'review this', outputSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual(answer);
    const offered = (turns()[0]!.body.tools as { name: string; input_schema: unknown }[]).find(
      (t) => t.name === 'StructuredOutput',
    );
    expect(offered?.input_schema).toMatchObject({ required: ['verdict', 'comments'] });
  });

  it('sends images and files as content blocks: the model sees each, and path-only ones by name', async () => {
    rig.responder = attachmentsScenario;
    const notes = Buffer.from('line one\nline two\n').toString('base64');
    const { result } = await collectRun(
      agent().execute({
        prompt: 'look at these',
        attachments: [
          { kind: 'image', data: PNG, mimeType: 'image/png' },
          { kind: 'image', data: PNG },
          { kind: 'file', data: notes, mimeType: 'text/plain', name: 'notes.txt' },
          { kind: 'file', path: '/srv/data/report.csv' },
        ],
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.text).toBe(
      'Received 3: image image/png 70 bytes; image image/png 70 bytes; document text/plain 18 bytes "notes.txt"',
    );
    expect(turns()[0]!.lastUserText).toContain('Attached file "report.csv": /srv/data/report.csv');
  });

  it('sets the reasoning effort with --effort', async () => {
    rig.responder = () => ({ text: 'ok' });
    const { result } = await collectRun(agent().execute({ prompt: 'think little', effort: 'low' }));
    expect(result.status).toBe('completed');
    expect(turns()[0]!.body.output_config).toEqual({ effort: 'low' });
  });
});
