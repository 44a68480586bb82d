import { UnsupportedError, type AgentRequest, type PermissionMode } from '@forge/core';

export const PROVIDER = 'codex';

export type CodexSandbox = 'read-only' | 'workspace-write' | 'danger-full-access';

export const CODEX_SANDBOXES: readonly CodexSandbox[] = ['read-only', 'workspace-write', 'danger-full-access'];

/**
 * A custom model provider speaking the OpenAI Responses API (`wire_api = "responses"`, the only
 * one 0.171.0 accepts). Given with `-c` on every run: the CLI does not keep it in the session.
 */
export interface CodexModelProvider {
  /** Key under `model_providers`. Default `forge`. */
  id?: string;
  /** Display name. Default: the id. */
  name?: string;
  /** Base URL up to `/v1`, e.g. `http://127.0.0.1:8080/v1`; the CLI posts to `<baseUrl>/responses`. */
  baseUrl: string;
  /** Environment variable the CLI reads the key from (sent as `Authorization: Bearer`). Default `FORGE_CODEX_API_KEY`. */
  envKey?: string;
  /** The key itself, put in the CLI's environment under `envKey` (never on its command line). */
  apiKey?: string;
  /** HTTP retries per model call. The CLI's default is 4. */
  requestMaxRetries?: number;
  /** Reconnects of a broken stream. The CLI's default is 5. */
  streamMaxRetries?: number;
}

export interface CodexArgsDefaults {
  model?: string | undefined;
  provider?: CodexModelProvider | undefined;
  sandbox?: CodexSandbox | undefined;
  permissionMode?: PermissionMode | undefined;
  /** Extra `-c key=value` settings; values are written as TOML. */
  config?: Record<string, CodexConfigValue> | undefined;
  /** `--skip-git-repo-check`: without it the CLI refuses to run outside a git repository. Default true. */
  skipGitRepoCheck?: boolean | undefined;
  /** `--ephemeral`: no session file, so the run cannot be resumed. */
  ephemeral?: boolean | undefined;
  extraArgs?: readonly string[] | undefined;
}

export type CodexConfigValue = string | number | boolean | readonly CodexConfigValue[];

export const DEFAULT_PROVIDER_ID = 'forge';
export const DEFAULT_ENV_KEY = 'FORGE_CODEX_API_KEY';

/**
 * Refuses what the CLI cannot honour, before anything starts: `codex exec` has no tool
 * allow/deny list and no turn limit, and Forge does not pass files or images to it.
 */
export function assertSupported(request: AgentRequest): void {
  if (request.allowedTools?.length) throw new UnsupportedError(PROVIDER, 'allowedTools');
  if (request.disallowedTools?.length) throw new UnsupportedError(PROVIDER, 'disallowedTools');
  if (request.maxTurns !== undefined) throw new UnsupportedError(PROVIDER, 'maxTurns');
  if (request.attachments?.length) throw new UnsupportedError(PROVIDER, 'attachments');
}

/**
 * The sandbox a run gets. `permissionMode` maps onto the CLI's sandbox, since `codex exec` never
 * asks (its approval policy is `never`): `plan` → read-only, `acceptEdits` → workspace-write,
 * `bypassPermissions` → no sandbox at all, `default` → the configured sandbox (the CLI's own
 * default is read-only).
 */
export function sandboxFor(
  mode: PermissionMode | undefined,
  sandbox: CodexSandbox | undefined,
): CodexSandbox | 'bypass' | undefined {
  switch (mode) {
    case 'plan':
      return 'read-only';
    case 'acceptEdits':
      return 'workspace-write';
    case 'bypassPermissions':
      return 'bypass';
    default:
      return sandbox;
  }
}

/**
 * The argv of one run: `exec [resume] --json … -- [<id>] -`. The prompt is never in it: `-` makes the
 * CLI read it from stdin, so any content and size arrives intact and nothing in it reads as a
 * flag. Settings go through `-c` (valid for both `exec` and `exec resume`, which lacks
 * `--sandbox`), values attached with `=`.
 */
export function buildCodexArgs(request: AgentRequest, defaults: CodexArgsDefaults = {}): string[] {
  const args = ['exec'];
  if (request.sessionId !== undefined) args.push('resume');
  args.push('--json');
  if (defaults.skipGitRepoCheck !== false) args.push('--skip-git-repo-check');
  if (defaults.ephemeral) args.push('--ephemeral');
  const model = request.model ?? defaults.model;
  if (model !== undefined) args.push(`--model=${model}`);
  if (defaults.provider) args.push(...providerConfigArgs(defaults.provider));
  const sandbox = sandboxFor(request.permissionMode ?? defaults.permissionMode, defaults.sandbox);
  if (sandbox === 'bypass') args.push('--dangerously-bypass-approvals-and-sandbox');
  else if (sandbox !== undefined) args.push('-c', `sandbox_mode=${tomlString(sandbox)}`);
  // Added to the developer instructions the CLI sends (seen in the request's `input`), on resume too.
  if (request.systemPrompt !== undefined && request.systemPrompt.length > 0)
    args.push('-c', `developer_instructions=${tomlString(request.systemPrompt)}`);
  for (const [key, value] of Object.entries(defaults.config ?? {})) args.push('-c', `${key}=${tomlValue(value)}`);
  if (defaults.extraArgs) args.push(...defaults.extraArgs);
  // After `--` nothing is an option: a session id cannot pass for a flag.
  args.push('--');
  if (request.sessionId !== undefined) args.push(request.sessionId);
  args.push('-');
  return args;
}

/** `-c` settings that define a custom model provider and select it (for `exec` and `app-server` alike). */
export function providerConfigArgs(provider: CodexModelProvider): string[] {
  const id = provider.id ?? DEFAULT_PROVIDER_ID;
  const table: Record<string, CodexConfigValue> = {
    name: provider.name ?? id,
    base_url: provider.baseUrl,
    env_key: provider.envKey ?? DEFAULT_ENV_KEY,
    wire_api: 'responses',
  };
  if (provider.requestMaxRetries !== undefined) table.request_max_retries = provider.requestMaxRetries;
  if (provider.streamMaxRetries !== undefined) table.stream_max_retries = provider.streamMaxRetries;
  return ['-c', `model_provider=${tomlString(id)}`, '-c', `model_providers.${tomlKey(id)}=${tomlInlineTable(table)}`];
}

/** A TOML basic string: JSON's escapes are all valid TOML; DEL, which JSON leaves bare, is not. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\u007f/g, '\\u007f');
}

function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

export function tomlValue(value: CodexConfigValue): string {
  if (typeof value === 'string') return tomlString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a TOML number: ${value}`);
    return String(value);
  }
  return `[${value.map(tomlValue).join(', ')}]`;
}

function tomlInlineTable(table: Record<string, CodexConfigValue>): string {
  return `{${Object.entries(table)
    .map(([k, v]) => `${tomlKey(k)}=${tomlValue(v)}`)
    .join(', ')}}`;
}
