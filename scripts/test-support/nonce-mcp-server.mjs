#!/usr/bin/env node
// A real MCP server (built with @modelcontextprotocol/sdk) for integration tests: one tool, `nonce`, that answers
// the nonce it was started with, so a test can tell the model really called it. Plain .mjs so an agent program
// can start it as a stdio server with `node <this file>` (no TypeScript loader in the child).
// Run as `node nonce-mcp-server.mjs` (stdio; nonce from FORGE_MCP_NONCE) or import startNonceMcpHttp().
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { fileURLToPath } from 'node:url';

/** The MCP server with its one tool; `calls` counts the tool's calls (HTTP mode, in this process). */
export function nonceMcpServer(nonce, calls = { count: 0 }) {
  const server = new McpServer({ name: 'forge-nonce', version: '1.0.0' });
  server.registerTool(
    'nonce',
    { description: 'Returns the secret nonce of this test run. Call it when asked for the nonce.' },
    async () => {
      calls.count += 1;
      return { content: [{ type: 'text', text: nonce }] };
    },
  );
  return server;
}

/** Serves the tool over streamable HTTP on 127.0.0.1 (stateless: a fresh server per request). */
export async function startNonceMcpHttp(nonce) {
  const calls = { count: 0 };
  const http = createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const server = nonceMcpServer(nonce, calls);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = nonceMcpServer(process.env.FORGE_MCP_NONCE ?? 'no-nonce-given');
  await server.connect(new StdioServerTransport());
}
