import { scriptedAgent } from '@forge/core/testing';
import type { AgentRequest } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/**
 * The request fields of issue 21 over REST: `mcp_servers` (named from the operator's catalogue, or the user's own
 * URL servers behind the webhook SSRF guard), `output_schema`, `attachments` (base64, capped), `effort`; and the
 * attacks on them: a user-supplied command, a URL to a private address, an oversized image.
 */
describe('message fields: mcp_servers, output_schema, attachments, effort', () => {
  let h: ApiHarness;
  let agentId: string;
  const seen: AgentRequest[] = [];

  beforeAll(async () => {
    const capable = scriptedAgent({
      provider: 'capable',
      capabilities: { mcpServers: true, structuredOutput: 'native', effort: true, images: true, attachments: true },
      steps: (request) => {
        seen.push(request);
        return [{ type: 'message', text: '{"ok":true}' }];
      },
      outcome: (request) => ({
        text: '{"ok":true}',
        ...(request.outputSchema ? { output: { ok: true } } : {}),
        filesChanged: [{ path: 'README.md', change: 'modified' as const }],
      }),
    });
    h = await startApiHarness({
      providers: { capable },
      api: {
        maxAttachmentBytes: 256 * 1024,
        // Hosts the webhook allow list admits are admitted for MCP URL servers too; nothing else private is.
        allowPrivateNetworks: ['mcp.internal.test'],
        mcpServers: [
          { name: 'nonce', command: 'node', args: ['nonce-mcp-server.mjs'], env: { FORGE_MCP_NONCE: 'n-1' } },
          { name: 'docs', url: 'http://mcp.internal.test/docs', headers: { authorization: 'Bearer operator' } },
          { name: 'metadata', url: 'http://169.254.169.254/mcp' },
        ],
      },
    });
    agentId = (await h.call('POST', '/api/v1/agents', { body: { provider: 'capable' } })).json.agent_id;
  });
  afterAll(() => h?.close());

  const send = (body: Record<string, unknown>) =>
    h.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hello', ...body } });

  describe('attacks', () => {
    it('refuses a user-supplied MCP command: it would run on the platform’s host', async () => {
      const before = seen.length;
      const res = await send({ mcp_servers: [{ name: 'pwn', command: 'sh', args: ['-c', 'id > /tmp/owned'] }] });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('MCP_COMMAND_REFUSED');
      await h.runs.idle();
      expect(seen.length).toBe(before);
    });

    it('refuses an MCP URL that points at a private or loopback address (the webhook SSRF guard)', async () => {
      for (const url of [
        'http://127.0.0.1:8080/mcp',
        'http://169.254.169.254/latest',
        'http://[::1]/mcp',
        'http://10.1.2.3/',
      ]) {
        const res = await send({ mcp_servers: [{ name: 'mine', url }] });
        expect([res.status, res.json.error.code], url).toEqual([400, 'MCP_URL_REFUSED']);
      }
    });

    it('refuses an oversized image with 413 PAYLOAD_TOO_LARGE before any work', async () => {
      const before = seen.length;
      const data = Buffer.alloc(300 * 1024, 7).toString('base64');
      const res = await send({ attachments: [{ kind: 'image', mime_type: 'image/png', data }] });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.json.error.details).toMatchObject({ limit: 256 * 1024 });
      await h.runs.idle();
      expect(seen.length).toBe(before);
    });
  });

  it('passes named catalogue servers and the user’s own URL server to the request, and the other fields', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const res = await send({
      mcp_servers: [{ name: 'nonce' }, { name: 'docs' }, { name: 'mine', url: 'http://mcp.internal.test/mine' }],
      output_schema: schema,
      effort: 'high',
      attachments: [{ kind: 'image', mime_type: 'image/png', data: png, name: 'shot.png' }],
    });
    expect(res.status).toBe(202);
    await h.runs.idle();
    const request = seen.at(-1)!;
    expect(request.mcpServers).toEqual([
      { name: 'nonce', command: 'node', args: ['nonce-mcp-server.mjs'], env: { FORGE_MCP_NONCE: 'n-1' } },
      { name: 'docs', url: 'http://mcp.internal.test/docs', headers: { authorization: 'Bearer operator' } },
      { name: 'mine', url: 'http://mcp.internal.test/mine' },
    ]);
    expect(request.outputSchema).toEqual(schema);
    expect(request.effort).toBe('high');
    expect(request.attachments).toEqual([{ kind: 'image', mimeType: 'image/png', data: png, name: 'shot.png' }]);
    const run = await h.call('GET', `/api/v1/agents/${agentId}/runs/${res.json.request_id}`);
    expect(run.json).toMatchObject({
      status: 'completed',
      output: { ok: true },
      files_changed: [{ path: 'README.md', change: 'modified' }],
    });
  });

  it('refuses an unknown catalogue name, a catalogue server at a private address, and bad entries', async () => {
    const cases: Array<[unknown, number, string]> = [
      [[{ name: 'nope' }], 400, 'MCP_SERVER_UNKNOWN'],
      [[{ name: 'docs', headers: { a: 'b' } }], 400, 'MCP_SERVER_UNKNOWN'],
      [[{ name: 'metadata' }], 400, 'MCP_URL_REFUSED'],
      [[{ name: 'x', url: 'file:///etc/passwd' }], 400, 'MCP_URL_INVALID'],
      [[{ name: 'x', env: { A: '1' } }], 400, 'MCP_COMMAND_REFUSED'],
      [[{ name: 'x', url: 'http://mcp.internal.test/', extra: 1 }], 400, 'UNKNOWN_FIELD'],
      ['nonce', 400, 'INVALID_MCP_SERVERS'],
    ];
    for (const [mcp_servers, status, code] of cases) {
      const res = await send({ mcp_servers });
      expect([res.status, res.json.error.code], JSON.stringify(mcp_servers)).toEqual([status, code]);
    }
  });

  it('checks attachments: base64 only, no host path, images typed; and still refuses unknown fields', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ attachments: [{ kind: 'file', path: '/etc/shadow' }] }, 'INVALID_ATTACHMENT'],
      [{ attachments: [{ kind: 'file', data: 'not base64!' }] }, 'INVALID_ATTACHMENT'],
      [{ attachments: [{ kind: 'image', data: 'AAAA' }] }, 'INVALID_ATTACHMENT'],
      [{ attachments: [{ kind: 'file', data: 'AAAA', mimeType: 'x/y' }] }, 'UNKNOWN_FIELD'],
      [{ effort: 'max' }, 'INVALID_EFFORT'],
      [{ output_schema: 'yes' }, 'INVALID_OUTPUT_SCHEMA'],
      [{ outputSchema: {} }, 'UNKNOWN_FIELD'],
    ];
    for (const [body, code] of cases) {
      const res = await send(body);
      expect([res.status, res.json.error.code], JSON.stringify(body)).toEqual([400, code]);
    }
  });
});
