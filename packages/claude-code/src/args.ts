import type { AgentRequest, PermissionMode } from '@forge/core';

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
  if (request.sessionId !== undefined) args.splice(PROTOCOL_ARGS.length, 0, `--resume=${request.sessionId}`);
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
] as const;

/** Every flag of the process but `--resume`. */
export function sessionArgs(request: AgentRequest, defaults: ClaudeArgsDefaults = {}): string[] {
  const args: string[] = [...PROTOCOL_ARGS];
  if (defaults.partialMessages !== false) args.push('--include-partial-messages');
  const model = request.model ?? defaults.model;
  if (model !== undefined) args.push(`--model=${model}`);
  const mode = request.permissionMode ?? defaults.permissionMode;
  if (mode !== undefined) args.push(`--permission-mode=${mode}`);
  if (request.maxTurns !== undefined) args.push(`--max-turns=${request.maxTurns}`);
  if (request.systemPrompt !== undefined && request.systemPrompt.length > 0)
    args.push(`--append-system-prompt=${request.systemPrompt}`);
  if (defaults.extraArgs) args.push(...defaults.extraArgs);
  // One flag per tool: a rule such as `Bash(git log *)` stays one value.
  for (const tool of request.allowedTools ?? []) args.push(`--allowedTools=${tool}`);
  for (const tool of request.disallowedTools ?? []) args.push(`--disallowedTools=${tool}`);
  return args;
}
