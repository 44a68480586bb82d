import { fileURLToPath } from 'node:url';
// @ts-expect-error a plain .mjs module (an agent program starts it with bare node), typed here
import { startNonceMcpHttp as startHttp } from './nonce-mcp-server.mjs';

/** The path of the stdio MCP server script; start it with `node <path>`. */
export const NONCE_MCP_SERVER_PATH = fileURLToPath(new URL('./nonce-mcp-server.mjs', import.meta.url));

/** An `mcpServers` entry that starts the nonce server over stdio (`mcp__<name>__nonce` for Claude Code). */
export function nonceMcpStdio(nonce: string, name = 'probe') {
  return { name, command: process.execPath, args: [NONCE_MCP_SERVER_PATH], env: { FORGE_MCP_NONCE: nonce } };
}

export interface NonceMcpHttp {
  url: string;
  /** How many times the tool was called (the HTTP server runs in the test's process). */
  calls: { count: number };
  close(): Promise<void>;
}

/** Starts the nonce server over streamable HTTP on 127.0.0.1. */
export const startNonceMcpHttp: (nonce: string) => Promise<NonceMcpHttp> = startHttp;
