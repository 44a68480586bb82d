import { z } from 'zod';
import { NUL_MESSAGE, noNul } from './no-nul.js';

/** An MCP server the agent starts itself, speaking MCP over its stdin/stdout. */
export interface McpStdioServer {
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

/** An MCP server the agent reaches over HTTP (streamable HTTP by default, or the older SSE transport). */
export interface McpRemoteServer {
  name: string;
  url: string;
  headers?: Record<string, string>;
  transport?: 'http' | 'sse';
}

export type McpServer = McpStdioServer | McpRemoteServer;

const text = z.string().min(1).refine(noNul, NUL_MESSAGE);

/*
 * One strict object rather than a union of two: a union reports a misspelt key as "no member matched", while
 * this reports it as UNKNOWN_FIELD with the closest name. The refinement then keeps the two kinds apart.
 */
const McpServerObject = z.strictObject({
  name: z.string().trim().min(1).max(128).refine(noNul, NUL_MESSAGE),
  command: text.optional(),
  args: z.array(z.string().refine(noNul, NUL_MESSAGE)).optional(),
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name'),
      z.string().refine(noNul, NUL_MESSAGE),
    )
    .optional(),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine(noNul, NUL_MESSAGE)
    .optional(),
  headers: z.record(z.string().min(1).refine(noNul, NUL_MESSAGE), z.string().refine(noNul, NUL_MESSAGE)).optional(),
  transport: z.enum(['http', 'sse']).optional(),
});

export const MCP_SERVER_FIELDS = Object.keys(McpServerObject.shape);

export const McpServerSchema = McpServerObject.superRefine((s, ctx) => {
  if ((s.command === undefined) === (s.url === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'an MCP server needs either a command (stdio) or a url (http/sse)' });
    return;
  }
  const foreign = s.command !== undefined ? (['headers', 'transport'] as const) : (['args', 'env'] as const);
  for (const key of foreign) {
    if (s[key] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `"${key}" belongs to ${s.command !== undefined ? 'a url' : 'a command'} server`,
      });
    }
  }
}).transform((s) => s as McpServer);

/** The servers of one request; names are unique, since agents key their tools by server name. */
export const McpServersSchema = z.array(McpServerSchema).superRefine((servers, ctx) => {
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate name "${s.name}"` });
    seen.add(s.name);
  });
});
