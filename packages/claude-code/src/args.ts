import type { AgentRequest, PermissionMode } from '@forge/core';
import { mcpConfigJson } from './mcp-config.js';

export interface ClaudeArgsDefaults {
  model?: string | undefined;
  permissionMode?: PermissionMode | undefined;
  extraArgs?: readonly string[] | undefined;
  /** Add `--include-partial-messages` (text arrives as `text.delta`). Default true. */
  partialMessages?: boolean | undefined;
}

/**
 * The argv of one CLI process. The prompt is never in it: it goes on stdin as a stream-json user message
 * (stdin stays open for the control protocol and later turns), so any content and size reaches the CLI
 * intact, and `--allowedTools` (variadic) has no positional prompt to swallow. Values are attached with
 * `=`, so a value that starts with `-` (a system prompt, say) is never read as a flag. `--resume` is the
 * only flag that differs between a session's processes; `sessionArgs` is the rest, the warm-session key.
 */
export function buildClaudeArgs(request: AgentRequest, defaults: ClaudeArgsDefaults = {}): string[] {
  const args = sessionArgs(request, defaults);
  if (request.sessionId !== undefined) {
    const resume = [`--resume=${request.sessionId}`];
    // A fork starts a new session from the old one's history; the old session's file is left as it was.
    if (request.fork) resume.push('--fork-session');
    args.splice(PROTOCOL_ARGS.length, 0, ...resume);
  }
  return args;
}

/** The flags that make the CLI speak the control protocol over stdin/stdout. */
const PROTOCOL_ARGS = [
  '-p',
  '--input-format',
  'stream-json',
  '--output-format',
  'stream-json',
  '--verbose',
  '--permission-prompt-tool=stdio',
  // Each user message written to stdin comes back (with the uuid it was sent with) once the CLI has taken it:
  // how a turn knows whether a steering message joined it or starts a turn of its own.
  '--replay-user-messages',
] as const;

/** Every flag of the process but `--resume`. */
export function sessionArgs(request: AgentRequest, defaults: ClaudeArgsDefaults = {}): string[] {
  const args: string[] = [...PROTOCOL_ARGS];
  if (defaults.partialMessages !== false) args.push('--include-partial-messages');
  const model = request.model ?? defaults.model;
  if (model !== undefined) args.push(`--model=${model}`);
  const mode = request.permissionMode ?? defaults.permissionMode;
  if (mode !== undefined) args.push(`--permission-mode=${mode}`);
  // The tighter of the two turn limits; core enforces the budget's own way as well.
  const maxTurns = minDefined(request.maxTurns, request.budget?.maxTurns);
  if (maxTurns !== undefined) args.push(`--max-turns=${maxTurns}`);
  if (request.budget?.maxCostUsd !== undefined) args.push(`--max-budget-usd=${request.budget.maxCostUsd}`);
  if (request.effort !== undefined) args.push(`--effort=${request.effort}`);
  if (request.outputSchema !== undefined) args.push(`--json-schema=${JSON.stringify(request.outputSchema)}`);
  if (request.mcpServers?.length) {
    // Only the request's servers: none from the user's or the project's settings sneak in.
    args.push(`--mcp-config=${mcpConfigJson(request.mcpServers)}`, '--strict-mcp-config');
  }
  if (request.systemPrompt !== undefined && request.systemPrompt.length > 0)
    args.push(`--append-system-prompt=${request.systemPrompt}`);
  if (defaults.extraArgs) args.push(...defaults.extraArgs);
  // One flag per tool: a rule such as `Bash(git log *)` stays one value.
  for (const tool of request.allowedTools ?? []) args.push(`--allowedTools=${tool}`);
  for (const tool of request.disallowedTools ?? []) args.push(`--disallowedTools=${tool}`);
  return args;
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);
