import type { McpCapabilities, McpServer as AcpMcpServer } from '@agentclientprotocol/sdk';
import { type McpServer, UnsupportedError, ValidationError } from '@forge/core';

/**
 * The `mcpServers` of a `session/new` / `load` / `resume`: the agent option's servers, then the request's,
 * in ACP's shape (stdio: `args` and `env` as arrays, always present; http/sse: a `type` and `headers`).
 * Every agent must take stdio servers; http and sse only where `initialize` said so in `mcpCapabilities`, and
 * a request naming one the agent cannot reach is refused here, before any session is opened.
 */
export function sessionMcpServers(
  provider: string,
  fromOptions: readonly AcpMcpServer[],
  fromRequest: readonly McpServer[] | undefined,
  caps: McpCapabilities | null | undefined,
): AcpMcpServer[] {
  const servers = [...fromOptions];
  const names = new Set(fromOptions.map((s) => s.name));
  for (const [i, s] of (fromRequest ?? []).entries()) {
    if (names.has(s.name)) {
      // Agents key their tools by server name: two servers of one name would shadow each other.
      throw new ValidationError(
        'INVALID_REQUEST',
        `mcpServers[${i}]: the agent already has an MCP server "${s.name}"`,
        [{ path: `mcpServers.${i}.name`, code: 'INVALID_REQUEST', message: `"${s.name}" is the agent's own server` }],
      );
    }
    names.add(s.name);
    servers.push(toAcp(provider, s, caps));
  }
  return servers;
}

function toAcp(provider: string, s: McpServer, caps: McpCapabilities | null | undefined): AcpMcpServer {
  if ('command' in s) {
    return {
      name: s.name,
      command: s.command,
      args: [...(s.args ?? [])],
      env: Object.entries(s.env ?? {}).map(([name, value]) => ({ name, value })),
    };
  }
  const type = s.transport ?? 'http';
  if (!caps?.[type]) {
    // A probed capability: the declaration says mcpServers, the agent's handshake decides the transports.
    throw new UnsupportedError(
      provider,
      `mcpServers over ${type} ("${s.name}": the agent's mcpCapabilities do not offer ${type}; stdio servers work everywhere)`,
      'UNSUPPORTED_FIELD',
      { fields: ['mcpServers'] },
    );
  }
  const headers = Object.entries(s.headers ?? {}).map(([name, value]) => ({ name, value }));
  return { type, name: s.name, url: s.url, headers };
}

/** A stable text of a session's servers, to tell whether a later run asks for the same ones. */
export function mcpServersKey(servers: readonly AcpMcpServer[]): string {
  return JSON.stringify(servers);
}
