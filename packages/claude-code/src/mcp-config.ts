import type { McpServer } from '@forge/core';

/**
 * The request's MCP servers as the CLI's `--mcp-config` JSON (`{"mcpServers": {<name>: …}}`): a command server
 * is `stdio`, a URL server `http` (streamable HTTP) unless it asks for `sse`. The CLI names each tool
 * `mcp__<name>__<tool>`, and asks permission for it like for any tool.
 */
export function mcpConfigJson(servers: readonly McpServer[]): string {
  const mcpServers: Record<string, Record<string, unknown>> = {};
  for (const s of servers) {
    if ('command' in s) {
      mcpServers[s.name] = {
        type: 'stdio',
        command: s.command,
        args: s.args ?? [],
        ...(s.env ? { env: s.env } : {}),
      };
    } else {
      mcpServers[s.name] = {
        type: s.transport ?? 'http',
        url: s.url,
        ...(s.headers ? { headers: s.headers } : {}),
      };
    }
  }
  return JSON.stringify({ mcpServers });
}
