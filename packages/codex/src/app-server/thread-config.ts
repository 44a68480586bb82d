import { isAbsolute, resolve } from 'node:path';
import { type AgentRequest, type McpServer, UnsupportedFieldError } from '@forge/core';
import type { JsonValue } from '../gen/serde_json/JsonValue.js';
import type { UserInput } from '../gen/v2/UserInput.js';
import { PROVIDER } from '../args.js';

/** Codex keys a server's table by its name in a dotted config path (`mcp_servers.<name>.command`). */
const MCP_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * `request.mcpServers` → the thread's config overrides, one `mcp_servers.<name>` table each (the user's own servers
 * in config.toml stay): a command server is `{command, args, env}`, a URL server `{url, http_headers}` (Codex speaks
 * streamable HTTP; it has no SSE client, so `transport: 'sse'` is refused, as is a name Codex could not key). Each
 * is `required`: Codex otherwise starts the turn while a slow server is still starting and leaves its tools out.
 */
export function mcpConfig(servers: readonly McpServer[] | undefined): Record<string, JsonValue> {
  const config: Record<string, JsonValue> = {};
  for (const s of servers ?? []) {
    if (!MCP_NAME.test(s.name)) throw new UnsupportedFieldError(PROVIDER, [`mcpServers (name "${s.name}")`]);
    if ('url' in s) {
      if (s.transport === 'sse') throw new UnsupportedFieldError(PROVIDER, ['mcpServers (transport "sse")']);
      config[`mcp_servers.${s.name}`] = {
        url: s.url,
        ...(s.headers ? { http_headers: s.headers } : {}),
        required: true,
      };
    } else {
      config[`mcp_servers.${s.name}`] = {
        command: s.command,
        args: s.args ?? [],
        ...(s.env ? { env: s.env } : {}),
        required: true,
      };
    }
  }
  return config;
}

/**
 * The turn's input: the prompt, then each image attachment — a path as `localImage` (relative to the run's cwd;
 * Codex reads it), inline data as an `image` with a data URL. File attachments never get here (the declaration
 * refuses them).
 */
export function turnInput(request: AgentRequest, cwd: string | undefined): UserInput[] {
  const input: UserInput[] = [{ type: 'text', text: request.prompt, text_elements: [] }];
  for (const a of request.attachments ?? []) {
    if (a.kind !== 'image') continue;
    if (a.path !== undefined)
      input.push({ type: 'localImage', path: isAbsolute(a.path) || cwd === undefined ? a.path : resolve(cwd, a.path) });
    else input.push({ type: 'image', url: `data:${a.mimeType ?? 'image/png'};base64,${a.data}` });
  }
  return input;
}
