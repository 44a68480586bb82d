import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { nonceMcpStdio, startNonceMcpHttp } from './nonce-mcp-server.js';

async function callNonce(client: Client): Promise<unknown> {
  const tools = await client.listTools();
  expect(tools.tools.map((t) => t.name)).toEqual(['nonce']);
  const result = await client.callTool({ name: 'nonce', arguments: {} });
  return (result.content as { text: string }[])[0]?.text;
}

describe('the nonce MCP server', () => {
  it('answers its nonce over stdio', async () => {
    const entry = nonceMcpStdio('n-stdio-1');
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: entry.command,
        args: entry.args,
        env: { ...entry.env, PATH: process.env.PATH ?? '' },
      }),
    );
    try {
      expect(await callNonce(client)).toBe('n-stdio-1');
    } finally {
      await client.close();
    }
  });

  it('answers its nonce over streamable HTTP and counts the calls', async () => {
    const server = await startNonceMcpHttp('n-http-1');
    const client = new Client({ name: 'test', version: '1' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
      expect(await callNonce(client)).toBe('n-http-1');
      expect(server.calls.count).toBe(1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
