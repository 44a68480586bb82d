import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  STRUCTURED_OUTPUT_TOOL,
  type FakeAnthropicApi,
  type FakeApiRequest,
} from '@forge/claude-code/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceMcpStdio } from '../../../scripts/test-support/nonce-mcp-server.js';
import { parseApiKeyList } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { apiClient } from './test-support/api-harness.js';
import { testConfig } from './test-support/test-config.js';

const KEY = 'fields-alice-key-12345678';
const NONCE = 'nonce-platform-7c1f';
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/**
 * One message with an MCP server (named from the operator's catalogue), an output schema and an image, through
 * the platform's REST API to the real Claude Code CLI and the fake Anthropic API: the model calls the MCP tool and
 * gets the nonce, sees the image, and answers through the structured-output tool; the run's `output` is the
 * validated answer.
 */
describe('platform: MCP server, output schema and an image in one message, on the real CLI', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let platform: Platform;
  const seen: FakeApiRequest[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-fields-'));
    const catalogue = join(scratch, 'mcp-servers.json');
    await writeFile(catalogue, JSON.stringify([nonceMcpStdio(NONCE, 'probe')]));
    api = await startFakeAnthropicApi({
      respond: (req) => {
        seen.push(req);
        // First the MCP tool; with its answer, the structured answer naming the nonce and the images seen.
        if (!req.hasToolResult && req.tools.includes('mcp__probe__nonce'))
          return { toolUse: { name: 'mcp__probe__nonce', input: {} } };
        const answered = JSON.stringify(req.body).includes(NONCE);
        if (
          answered &&
          req.tools.includes(STRUCTURED_OUTPUT_TOOL) &&
          !JSON.stringify(req.body).includes('"StructuredOutput","input"')
        )
          return {
            toolUse: { name: STRUCTURED_OUTPUT_TOOL, input: { nonce: NONCE, images: seen[0]!.attachments.length } },
          };
        return { text: 'done' };
      },
    });
    platform = await startPlatform({
      config: {
        ...testConfig({ FORGE_MCP_SERVERS: catalogue }),
        port: 0,
        dataDir: join(scratch, 'data'),
        apiKeys: parseApiKeyList(`alice:${KEY}`),
        claudeBin: claudeBinPath(),
        defaultProvider: 'claude-code',
      },
      claudeEnv: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
      pollMs: 50,
    });
  });
  afterAll(async () => {
    await platform?.close();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('calls the MCP tool, sees the image, and returns the validated structured answer as output', async () => {
    const call = apiClient(platform.url, KEY);
    const agent = await call('POST', '/api/v1/agents', { body: {} });
    expect(agent.status).toBe(201);
    const agentId = agent.json.agent_id as string;
    const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, {
      body: {
        content: 'Ask the probe for the nonce, then answer as JSON',
        mcp_servers: [{ name: 'probe' }],
        allowed_tools: ['mcp__probe__nonce'],
        output_schema: {
          type: 'object',
          properties: { nonce: { type: 'string' }, images: { type: 'integer' } },
          required: ['nonce', 'images'],
          additionalProperties: false,
        },
        attachments: [{ kind: 'image', mime_type: 'image/png', name: 'dot.png', data: PNG }],
      },
    });
    expect(sent.status).toBe(202);
    let run: Record<string, unknown>;
    for (;;) {
      run = (await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`)).json;
      if (['completed', 'failed', 'cancelled'].includes(run.status as string)) break;
      await sleep(50);
    }
    expect(run.status, JSON.stringify(run.result)).toBe('completed');
    expect(run.output).toEqual({ nonce: NONCE, images: 1 });
    // The image reached the model with the first request; the MCP tool's answer came back to it.
    expect(seen[0]!.attachments).toEqual([expect.objectContaining({ type: 'image', mediaType: 'image/png' })]);
    expect(seen.some((r) => r.hasToolResult && JSON.stringify(r.body).includes(NONCE))).toBe(true);
  });
});
