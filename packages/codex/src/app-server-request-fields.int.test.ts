import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { nonceMcpStdio, startNonceMcpHttp } from '../../../scripts/test-support/nonce-mcp-server.js';
import { drive, ofType, useRealAppServer } from './test-support/real-app-server.js';
import type { FakeResponsesResponder } from './testing/index.js';

/** Issue 21's request fields on the real CLI (0.171.0) as `codex app-server`, against the fake Responses API. */
describe('codex app-server with the real CLI: MCP servers, outputSchema, images, effort', () => {
  const h = useRealAppServer();
  /** Calls the offered MCP tool `<server>.nonce` once, then echoes what it answered. */
  const callsNonce =
    (server: string): FakeResponsesResponder =>
    (req) =>
      req.hasToolOutput
        ? { text: `The nonce is ${req.toolOutput.trim()}.` }
        : req.tools.includes(`mcp__${server}.nonce`)
          ? { call: { namespace: `mcp__${server}`, name: 'nonce', arguments: {} } }
          : { text: 'No nonce tool offered.' };
  const allowAll = (run: Parameters<typeof drive>[0]) =>
    drive(run, async (e) => {
      if (e.type === 'permission.requested') await run.respond(e.id, 'allow');
    });

  it('a stdio MCP server: the model calls its tool and gets the nonce back', async () => {
    h.respond(callsNonce('probe'));
    const run = h.agent().execute({ prompt: 'nonce?', mcpServers: [nonceMcpStdio('N-stdio-41')], timeoutMs: 60_000 });
    const { events, result } = await allowAll(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed' });
    expect(result.text).toContain('N-stdio-41');
    // Codex asks before an MCP tool call (an elicitation of its own); Forge names it as Claude Code does.
    expect(ofType(events, 'permission.requested')).toMatchObject([{ tool: 'mcp__probe__nonce', input: {} }]);
    const call = ofType(events, 'tool.call').find((c) => c.name === 'probe.nonce')!;
    expect(call).toBeDefined();
    expect(JSON.stringify(ofType(events, 'tool.result').find((r) => r.callId === call.callId)!.output)).toContain(
      'N-stdio-41',
    );
  });

  it('allow_always on an MCP tool: the thread does not ask again for it', async () => {
    h.respond(callsNonce('probe'));
    const a = h.agent();
    const mcpServers = [nonceMcpStdio('N-always-44')];
    const always = (run: Parameters<typeof drive>[0]) =>
      drive(run, async (e) => {
        if (e.type === 'permission.requested') await run.respond(e.id, 'allow_always');
      });
    const first = await always(a.execute({ prompt: 'nonce?', mcpServers, timeoutMs: 60_000 }));
    expect(ofType(first.events, 'permission.requested')).toHaveLength(1);
    expect(first.result.text).toContain('N-always-44');
    const second = await always(
      a.execute({ prompt: 'again?', sessionId: first.result.sessionId!, mcpServers, timeoutMs: 60_000 }),
    );
    expect(second.result.text).toContain('N-always-44');
    expect(ofType(second.events, 'permission.requested')).toHaveLength(0);
  });

  it('an HTTP MCP server (streamable HTTP): the tool is called over HTTP', async () => {
    const mcp = await startNonceMcpHttp('N-http-42');
    try {
      h.respond(callsNonce('web'));
      const run = h
        .agent()
        .execute({ prompt: 'nonce?', mcpServers: [{ name: 'web', url: mcp.url }], timeoutMs: 60_000 });
      const { result } = await allowAll(run);
      expect(result.status).toBe('completed');
      expect(result.text).toContain('N-http-42');
      expect(mcp.calls.count).toBe(1);
    } finally {
      await mcp.close();
    }
  });

  it('a follow-up on a warm thread with MCP servers it did not have gets them (the thread is loaded again)', async () => {
    h.respond(callsNonce('probe'));
    const a = h.agent();
    const first = await collectRun(a.execute({ prompt: 'nonce?', timeoutMs: 60_000 }));
    expect(first.result.text).toBe('No nonce tool offered.');
    const second = await allowAll(
      a.execute({
        prompt: 'nonce now?',
        sessionId: first.result.sessionId!,
        mcpServers: [nonceMcpStdio('N-warm-43')],
        timeoutMs: 60_000,
      }),
    );
    expect(second.result).toMatchObject({ status: 'completed', sessionId: first.result.sessionId });
    expect(second.result.text).toContain('N-warm-43');
    expect(JSON.stringify(h.calls().at(-1)!.body.input)).toContain('nonce?');
  });

  it('an MCP server that cannot start fails the run MCP_SERVER_FAILED before the model is called', async () => {
    h.respond(() => ({ text: 'should not be asked' }));
    const { result } = await collectRun(
      h.agent().execute({
        prompt: 'x',
        mcpServers: [{ name: 'broken', command: join(h.scratch, 'no-such-mcp-server') }],
        timeoutMs: 60_000,
      }),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'MCP_SERVER_FAILED' } });
    expect(result.error!.message).toContain('broken');
    expect(h.calls()).toEqual([]);
  });

  it('an SSE MCP server is refused with UNSUPPORTED_FIELD (Codex has no SSE client)', async () => {
    const { events, result } = await collectRun(
      h
        .agent()
        .execute({ prompt: 'x', mcpServers: [{ name: 'old', url: 'http://127.0.0.1:9/sse', transport: 'sse' }] }),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
    expect(ofType(events, 'session.started')).toEqual([]);
  });

  it('outputSchema: the model is held to the schema and its JSON answer is result.output', async () => {
    const schema = {
      type: 'object',
      properties: { verdict: { type: 'string' }, comments: { type: 'array', items: { type: 'string' } } },
      required: ['verdict', 'comments'],
      additionalProperties: false,
    };
    h.respond((req) =>
      req.outputSchema ? { text: JSON.stringify({ verdict: 'approve', comments: ['tidy'] }) } : { text: 'prose' },
    );
    const { result } = await collectRun(
      h.agent().execute({ prompt: 'review', outputSchema: schema, timeoutMs: 60_000 }),
    );
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'approve', comments: ['tidy'] } });
    expect(h.calls()[0]!.outputSchema).toEqual(schema);
  });

  it('images: a path as localImage and inline data as a data URL both reach the model', async () => {
    // A 1×1 PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
      'base64',
    );
    await writeFile(join(h.scratch, 'dot.png'), png);
    h.respond((req) => ({ text: `I see ${req.images.length} images.` }));
    const { result } = await collectRun(
      h.agent().execute({
        prompt: 'what do you see?',
        attachments: [
          { kind: 'image', path: 'dot.png' },
          { kind: 'image', data: png.toString('base64'), mimeType: 'image/png' },
        ],
        timeoutMs: 60_000,
      }),
    );
    expect(result).toMatchObject({ status: 'completed', text: 'I see 2 images.' });
    const dataUrl = `data:image/png;base64,${png.toString('base64')}`;
    expect(h.calls()[0]!.images).toEqual([dataUrl, dataUrl]);
    expect(readFileSync(join(h.scratch, 'dot.png')).equals(png)).toBe(true);
  });

  it('effort: the model request carries the reasoning effort', async () => {
    h.respond((req) => ({ text: `effort ${req.effort}` }));
    const { result } = await collectRun(h.agent().execute({ prompt: 'think', effort: 'low', timeoutMs: 60_000 }));
    expect(result).toMatchObject({ status: 'completed', text: 'effort low' });
    expect(h.calls()[0]!.effort).toBe('low');
  });

  it('a file attachment is refused up front with UNSUPPORTED_FIELD', () => {
    expect(() => h.agent().execute({ prompt: 'x', attachments: [{ kind: 'file', path: 'a.txt' }] })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }),
    );
  });
});
