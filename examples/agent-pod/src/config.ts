import { PermissionModeSchema, ValidationError, type PermissionMode } from '@forge/core';

export const PROVIDERS = ['claude-code', 'opencode', 'codex', 'gemini', 'acp', 'scripted'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Everything the pod reads from its environment. */
export interface PodConfig {
  provider: ProviderName;
  port: number;
  host: string;
  /** Working directory of the agent's runs (the checked-out project). */
  cwd: string;
  model?: string;
  permissionMode?: PermissionMode;
  /** Path or name of the provider's CLI. */
  bin?: string;
  /** OpenCode: use this running server instead of starting `opencode serve` in the pod. */
  opencodeUrl?: string;
  opencodePort: number;
  /** Codex: a Responses-API base URL (custom model provider); unset = the CLI's own configuration. */
  codexBaseUrl?: string;
  /** Codex: the environment variable holding that provider's key. Default `OPENAI_API_KEY`. */
  codexKeyEnv?: string;
  /** Codex: sandbox for model-generated commands. */
  codexSandbox?: CodexSandboxName;
  /** Gemini: `HOME` of the CLI, where `.gemini/settings.json` is written when missing. Default: the pod's HOME. */
  geminiHome?: string;
  /** ACP: the agent program (required with FORGE_PROVIDER=acp). */
  acpCommand?: string;
  /** ACP: its arguments (FORGE_ACP_ARGS, a JSON array of strings). */
  acpArgs?: string[];
  /** ACP / Gemini: host variables handed to the agent process (names or `PREFIX*`), e.g. its API key. */
  passEnv?: string[];
  /** Graceful drain on SIGTERM: how long live runs may go on before they are cancelled. */
  graceMs: number;
  /** How long a run its host let go of (a platform replica stopping) waits for another host to take it up. */
  detachedRunTtlMs: number;
  /** Callers must send `authorization: Bearer <token>` (health checks stay open). */
  authToken?: string;
  /** Most runs at once; more are refused with the retryable AGENT_BUSY. */
  maxRuns?: number;
  /**
   * Claude Code / Codex: keep the CLI started for the next new session (the adapter's `prewarm: {}`), so a pod's
   * first message does not wait for it (FORGE_PREWARM=1).
   */
  prewarm?: boolean;
  /** Serve https with this PEM certificate and key (both files, or neither). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

export const CODEX_SANDBOXES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type CodexSandboxName = (typeof CODEX_SANDBOXES)[number];

/** A ValidationError (INVALID_CONFIG) about one variable: `message` for people, `issue` the short reason. */
function configError(variable: string, message: string, issue: string): ValidationError {
  return new ValidationError('INVALID_CONFIG', message, [{ path: variable, code: 'INVALID_CONFIG', message: issue }]);
}

function jsonStrings(raw: string, name: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw configError(name, `${name} must be a JSON array of strings, got ${raw}`, 'not a JSON array of strings');
  }
  return value as string[];
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = 2 ** 31): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw configError(
      name,
      `${name} must be an integer from ${min} to ${max}, got "${raw}"`,
      'not an integer in range',
    );
  }
  return n;
}

const opt = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): PodConfig {
  const provider = opt(env.FORGE_PROVIDER);
  if (!provider || !(PROVIDERS as readonly string[]).includes(provider)) {
    throw configError(
      'FORGE_PROVIDER',
      `FORGE_PROVIDER must be one of ${PROVIDERS.join(', ')}${provider ? `, got "${provider}"` : ' (it is not set)'}`,
      'unknown provider',
    );
  }
  const config: PodConfig = {
    provider: provider as ProviderName,
    port: int(env, 'PORT', 8080, 0, 65535),
    host: opt(env.HOST) ?? '0.0.0.0',
    cwd: opt(env.FORGE_CWD) ?? cwd,
    opencodePort: int(env, 'OPENCODE_PORT', 4096, 1, 65535),
    graceMs: int(env, 'FORGE_GRACE_MS', 25_000),
    detachedRunTtlMs: int(env, 'FORGE_DETACHED_RUN_TTL_MS', 120_000, 1),
  };
  const extras: Partial<PodConfig> = {
    model: opt(env.FORGE_MODEL),
    permissionMode: opt(env.FORGE_PERMISSION_MODE) as PermissionMode | undefined, // checked below
    bin: opt(env.FORGE_BIN),
    opencodeUrl: opt(env.OPENCODE_URL),
    authToken: opt(env.FORGE_AUTH_TOKEN),
    maxRuns: env.FORGE_MAX_RUNS ? int(env, 'FORGE_MAX_RUNS', 0, 1) : undefined,
    prewarm: env.FORGE_PREWARM ? int(env, 'FORGE_PREWARM', 0, 0, 1) === 1 : undefined,
    tlsCertFile: opt(env.FORGE_TLS_CERT_FILE),
    tlsKeyFile: opt(env.FORGE_TLS_KEY_FILE),
    codexBaseUrl: opt(env.FORGE_CODEX_BASE_URL),
    codexKeyEnv: opt(env.FORGE_CODEX_KEY_ENV),
    codexSandbox: opt(env.FORGE_CODEX_SANDBOX) as CodexSandboxName | undefined, // checked below
    geminiHome: opt(env.FORGE_GEMINI_HOME),
    acpCommand: opt(env.FORGE_ACP_COMMAND),
    acpArgs: env.FORGE_ACP_ARGS ? jsonStrings(env.FORGE_ACP_ARGS, 'FORGE_ACP_ARGS') : undefined,
    passEnv: opt(env.FORGE_PASS_ENV)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
  if (provider === 'acp' && extras.acpCommand === undefined) {
    throw configError('FORGE_ACP_COMMAND', 'FORGE_ACP_COMMAND is required with FORGE_PROVIDER=acp', 'missing');
  }
  if (extras.codexSandbox !== undefined && !(CODEX_SANDBOXES as readonly string[]).includes(extras.codexSandbox)) {
    throw configError(
      'FORGE_CODEX_SANDBOX',
      `FORGE_CODEX_SANDBOX must be one of ${CODEX_SANDBOXES.join(', ')}, got "${extras.codexSandbox}"`,
      'unknown sandbox',
    );
  }
  if (extras.codexBaseUrl !== undefined && !/^https?:\/\//.test(extras.codexBaseUrl)) {
    throw configError(
      'FORGE_CODEX_BASE_URL',
      `FORGE_CODEX_BASE_URL must be an http(s) URL, got "${extras.codexBaseUrl}"`,
      'not an http(s) URL',
    );
  }
  if ((extras.tlsCertFile === undefined) !== (extras.tlsKeyFile === undefined)) {
    throw configError(
      extras.tlsCertFile ? 'FORGE_TLS_KEY_FILE' : 'FORGE_TLS_CERT_FILE',
      'FORGE_TLS_CERT_FILE and FORGE_TLS_KEY_FILE go together: set both or neither',
      'missing',
    );
  }
  if (extras.permissionMode !== undefined && !PermissionModeSchema.safeParse(extras.permissionMode).success) {
    throw configError(
      'FORGE_PERMISSION_MODE',
      `FORGE_PERMISSION_MODE must be one of ${PermissionModeSchema.options.join(', ')}, got "${extras.permissionMode}"`,
      'unknown permission mode',
    );
  }
  for (const [k, v] of Object.entries(extras))
    if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  return config;
}
