import { readFileSync } from 'node:fs';
import { McpServersSchema, ValidationError, type McpServer } from '@forge/core';
import { ApiError } from './api-error.js';
import { createUrlGuard, type UrlGuard } from './webhooks/url-guard.js';
import { WebhookUrlError } from './webhooks/errors.js';

/**
 * How a user names an MCP server in a request: a server of the operator's catalogue by `name` alone, or their
 * own server over HTTP(S) by `url`. Never a command: a stdio server is a process on the platform's host.
 */
export interface McpServerRef {
  name: string;
  url?: string;
  headers?: Record<string, string>;
  transport?: 'http' | 'sse';
}

function invalid(message: string): never {
  throw new ValidationError('INVALID_CONFIG', `FORGE_MCP_SERVERS: ${message}`, [
    { path: 'FORGE_MCP_SERVERS', code: 'INVALID_CONFIG', message },
  ]);
}

/**
 * The operator's catalogue: a JSON array of core's MCP server entries (`{ name, command, args?, env? }` or
 * `{ name, url, headers?, transport? }`), or `{ "servers": [...] }`. Checked with core's schema at startup.
 */
export function parseMcpCatalog(text: string): McpServer[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    invalid(`not JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(data) ? data : (data as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(list)) invalid('expected an array of MCP servers (or { "servers": [...] })');
  const parsed = McpServersSchema.safeParse(list);
  if (!parsed.success)
    invalid(parsed.error.issues.map((i) => `${i.path.join('.') || '(list)'}: ${i.message}`).join('; '));
  return parsed.data;
}

export const readMcpCatalog = (path: string): McpServer[] => parseMcpCatalog(readFileSync(path, 'utf8'));

export interface McpResolver {
  /** The catalogue's names (what users may name). */
  readonly names: string[];
  /**
   * The servers a request names, as core's entries: catalogue names looked up, URL servers (the catalogue's
   * and the user's) checked by the webhook SSRF guard. 400 MCP_COMMAND_REFUSED, MCP_SERVER_UNKNOWN,
   * MCP_URL_REFUSED or MCP_URL_INVALID otherwise.
   */
  resolve(refs: readonly McpServerRef[]): Promise<McpServer[]>;
}

const refused = (code: string, path: string, message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, code, message, {}, { path, ...details });

/** Refuses an entry that carries a command (or a command's args/env): only the operator's catalogue may. */
export function refuseMcpCommands(entries: unknown): void {
  if (!Array.isArray(entries)) return;
  entries.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object') return;
    const given = ['command', 'args', 'env'].filter((k) => Object.hasOwn(entry, k));
    if (given.length)
      throw refused(
        'MCP_COMMAND_REFUSED',
        `mcp_servers.${i}.${given[0]}`,
        `mcp_servers.${i}: a command cannot be given here (it would run on the platform's host); name a server of the operator's catalogue, or give a url`,
      );
  });
}

export function createMcpResolver(options: {
  catalog?: readonly McpServer[];
  /** The webhook guard's allow list (FORGE_WEBHOOK_ALLOW_PRIVATE); default: none. */
  allowPrivateNetworks?: boolean | string[];
  guard?: UrlGuard;
}): McpResolver {
  const catalog = new Map((options.catalog ?? []).map((s) => [s.name, s]));
  const guard = options.guard ?? createUrlGuard({ allowPrivateNetworks: options.allowPrivateNetworks ?? false });
  const checkUrl = async (url: string, path: string) => {
    try {
      await guard.check(url);
    } catch (error) {
      if (!(error instanceof WebhookUrlError)) throw error;
      const code = error.code === 'WEBHOOK_URL_REFUSED' ? 'MCP_URL_REFUSED' : 'MCP_URL_INVALID';
      throw refused(code, path, error.message.replace(/^(The )?webhook (host|URLs?)/i, 'MCP server $2'));
    }
  };
  return {
    names: [...catalog.keys()],
    async resolve(refs) {
      refuseMcpCommands(refs);
      const out: McpServer[] = [];
      for (const [i, ref] of refs.entries()) {
        const path = `mcp_servers.${i}`;
        if (ref.url === undefined) {
          const named = catalog.get(ref.name);
          if (!named || ref.headers !== undefined || ref.transport !== undefined)
            throw refused(
              'MCP_SERVER_UNKNOWN',
              `${path}.name`,
              named
                ? `${path}: a catalogue server is named alone; headers and transport are the operator's`
                : `${path}: no MCP server "${ref.name}" in the operator's catalogue (FORGE_MCP_SERVERS)`,
              { available: [...catalog.keys()] },
            );
          if ('url' in named) await checkUrl(named.url, path);
          out.push(named);
        } else {
          await checkUrl(ref.url, `${path}.url`);
          out.push({
            name: ref.name,
            url: ref.url,
            ...(ref.headers ? { headers: ref.headers } : {}),
            ...(ref.transport ? { transport: ref.transport } : {}),
          });
        }
      }
      return out;
    },
  };
}
