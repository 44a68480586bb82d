import type { AgentRequest, PermissionMode } from '@forge/core';

export interface ClaudeArgsDefaults {
  model?: string | undefined;
  permissionMode?: PermissionMode | undefined;
  extraArgs?: readonly string[] | undefined;
  /** Add `--include-partial-messages` (text arrives as `text.delta`). Default true. */
  partialMessages?: boolean | undefined;
}

/**
 * The argv of one run. The prompt is never in it: it goes on stdin (`-p` with `--input-format
 * text` reads stdin to its end), so any content and size reaches the CLI intact, and
 * `--allowedTools` (variadic) has no positional prompt to swallow. Values are attached with `=`,
 * so a value that starts with `-` (a system prompt, say) is never read as a flag.
 */
export function buildClaudeArgs(request: AgentRequest, defaults: ClaudeArgsDefaults = {}): string[] {
  const args = ['-p', '--input-format', 'text', '--output-format', 'stream-json', '--verbose'];
  if (defaults.partialMessages !== false) args.push('--include-partial-messages');
  if (request.sessionId !== undefined) args.push(`--resume=${request.sessionId}`);
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
