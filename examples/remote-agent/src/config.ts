import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { PermissionModeSchema, ValidationError, type PermissionMode } from '@forge/core';

export const PROVIDERS = ['claude-code', 'opencode', 'scripted'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Everything the remote agent reads from its environment. */
export interface RemoteAgentConfig {
  /** The platform's hub, e.g. https://forge.example.com:4100. */
  hubUrl: string;
  /** Needed on the first start only (no credential file yet). */
  enrolmentToken?: string;
  credentialFile: string;
  /** The name the platform registers this agent under. */
  name: string;
  provider: ProviderName;
  /** Working directory of the runs (the project the agent works on). */
  cwd: string;
  model?: string;
  permissionMode?: PermissionMode;
  /** The provider CLI (claude / opencode), when not on PATH. */
  bin?: string;
  /** OpenCode: use this running server instead of starting `opencode serve`. */
  opencodeUrl?: string;
  /** PEM file of the CA that signed the hub's certificate (a private CA). */
  hubCaFile?: string;
  /** Give up after this many failed connection attempts in a row. Default: never. */
  maxAttempts?: number;
  /**
   * Terminals from the platform (its attach endpoint) open in `cwd` as this program's account.
   * FORGE_ALLOW_ATTACH=0 turns them off: the Hello says so and every attach is refused.
   */
  allowAttach: boolean;
  /** Claude Code: keep the CLI started for the next new session (the adapter's `prewarm: {}`; FORGE_PREWARM=1). */
  prewarm?: boolean;
}

const opt = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

const bad = (path: string, message: string) =>
  new ValidationError('INVALID_CONFIG', message, [{ path, code: 'INVALID_CONFIG', message }]);

/** The machine's host name made into a valid agent name (`alice-laptop.local` → `alice-laptop.local`, spaces → `-`). */
export function defaultAgentName(host = hostname()): string {
  const cleaned = host
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return cleaned || 'remote-agent';
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = opt(env[name])?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw bad(name, `${name} must be 1 or 0, got "${env[name]}"`);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RemoteAgentConfig {
  const hubUrl = opt(env.FORGE_HUB_URL);
  if (!hubUrl)
    throw bad('FORGE_HUB_URL', 'FORGE_HUB_URL must be set to the platform hub, e.g. https://forge.example.com:4100');
  if (!/^https?:\/\//.test(hubUrl))
    throw bad('FORGE_HUB_URL', `FORGE_HUB_URL must be an http:// or https:// URL, got "${hubUrl}"`);
  const provider = opt(env.FORGE_PROVIDER);
  if (!provider || !(PROVIDERS as readonly string[]).includes(provider)) {
    throw bad(
      'FORGE_PROVIDER',
      `FORGE_PROVIDER must be one of ${PROVIDERS.join(', ')}${provider ? `, got "${provider}"` : ' (it is not set)'}`,
    );
  }
  const name = opt(env.FORGE_AGENT_NAME) ?? defaultAgentName();
  if (!NAME.test(name))
    throw bad(
      'FORGE_AGENT_NAME',
      `FORGE_AGENT_NAME must be letters, digits, ".", "_" and "-" (at most 63), got "${name}"`,
    );
  const configHome = opt(env.XDG_CONFIG_HOME) ?? join(homedir(), '.config');
  const config: RemoteAgentConfig = {
    hubUrl,
    credentialFile: opt(env.FORGE_CREDENTIAL_FILE) ?? join(configHome, 'forge', 'agent.json'),
    name,
    provider: provider as ProviderName,
    cwd: opt(env.FORGE_CWD) ?? cwd,
    allowAttach: flag(env, 'FORGE_ALLOW_ATTACH', true),
  };
  const permissionMode = opt(env.FORGE_PERMISSION_MODE);
  if (permissionMode !== undefined && !PermissionModeSchema.safeParse(permissionMode).success) {
    throw bad(
      'FORGE_PERMISSION_MODE',
      `FORGE_PERMISSION_MODE must be one of ${PermissionModeSchema.options.join(', ')}, got "${permissionMode}"`,
    );
  }
  const maxAttemptsRaw = opt(env.FORGE_MAX_ATTEMPTS);
  let maxAttempts: number | undefined;
  if (maxAttemptsRaw !== undefined) {
    maxAttempts = Number(maxAttemptsRaw);
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw bad('FORGE_MAX_ATTEMPTS', `FORGE_MAX_ATTEMPTS must be a positive integer, got "${maxAttemptsRaw}"`);
  }
  const extras: Partial<RemoteAgentConfig> = {
    enrolmentToken: opt(env.FORGE_ENROLMENT_TOKEN),
    model: opt(env.FORGE_MODEL),
    permissionMode: permissionMode as PermissionMode | undefined,
    bin: opt(env.FORGE_BIN),
    opencodeUrl: opt(env.OPENCODE_URL),
    hubCaFile: opt(env.FORGE_HUB_CA_FILE),
    maxAttempts,
    prewarm: opt(env.FORGE_PREWARM) === undefined ? undefined : flag(env, 'FORGE_PREWARM', false),
  };
  for (const [k, v] of Object.entries(extras))
    if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  return config;
}
