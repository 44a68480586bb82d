import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CodeAgent } from '@forge/core';
import { type AcpAgentOptions, acpAgent } from './agent.js';

export interface GeminiCliOptions extends Omit<AcpAgentOptions, 'command' | 'args'> {
  /** The `gemini` executable. Default `gemini` on PATH. */
  bin?: string;
  /** Added after `--acp` (e.g. `['-m', 'gemini-2.5-flash']`, which also skips the router call per prompt). */
  extraArgs?: readonly string[];
  /** `GEMINI_API_KEY`. */
  apiKey?: string;
  /** `GOOGLE_GEMINI_BASE_URL` (a local fake, a proxy). */
  baseUrl?: string;
  /**
   * `HOME` for the CLI. Its `.gemini/settings.json` must select the auth type (see
   * `writeGeminiSettings`): with env alone the CLI picks an auth type ACP mode cannot use.
   */
  home?: string;
  /** Trust the workspace (`GEMINI_CLI_TRUST_WORKSPACE`), needed for `autoEdit`/`yolo` modes. Default true. */
  trustWorkspace?: boolean;
}

/** Gemini's mode ids for Forge's permission modes. */
export const GEMINI_MODES = {
  default: 'default',
  acceptEdits: 'autoEdit',
  bypassPermissions: 'yolo',
  plan: 'plan',
} as const;

/**
 * The Gemini CLI (`gemini --acp`, tested with 0.61.0) as a CodeAgent, provider `gemini`. Runs the
 * CLI as one process (`GEMINI_CLI_NO_RELAUNCH`: otherwise it relaunches itself as a child and the
 * parent swallows signals). Client fs is off by default: Gemini then reads and writes files
 * itself; with client fs on it cannot create new files (see README).
 */
export function geminiCli(options: GeminiCliOptions = {}): CodeAgent {
  const { bin = 'gemini', extraArgs = [], apiKey, baseUrl, home, trustWorkspace = true, env, ...rest } = options;
  return acpAgent({
    name: 'gemini',
    modes: GEMINI_MODES,
    // session/load answers after the first replayed message and streams the rest afterwards.
    loadReplayQuietMs: 300,
    // Gemini offers only session/load, which is unreliable in 0.61 (see README); still the only way.
    resumeWith: 'load',
    ...rest,
    command: bin,
    args: ['--acp', ...extraArgs],
    env: {
      GEMINI_CLI_NO_RELAUNCH: 'true',
      ...(trustWorkspace ? { GEMINI_CLI_TRUST_WORKSPACE: 'true' } : {}),
      ...(apiKey ? { GEMINI_API_KEY: apiKey } : {}),
      ...(baseUrl ? { GOOGLE_GEMINI_BASE_URL: baseUrl } : {}),
      ...(home ? { HOME: home } : {}),
      ...env,
    },
  });
}

export interface GeminiSettingsOptions {
  /** Default `gemini-api-key` (with `GEMINI_API_KEY`). */
  authType?: string;
  /** Model API attempts per call. The CLI's default (10, with backoff) keeps a failing API busy for minutes. */
  maxAttempts?: number;
  /** Extra settings, merged over these. */
  extra?: Record<string, unknown>;
}

/** The settings the CLI needs to run unattended and offline-friendly: an auth type, no telemetry, no update checks. */
export function geminiSettings(options: GeminiSettingsOptions = {}): Record<string, unknown> {
  return {
    security: { auth: { selectedType: options.authType ?? 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts, retryFetchErrors: false } : {}),
    },
    ...options.extra,
  };
}

/** Writes `<home>/.gemini/settings.json`. */
export async function writeGeminiSettings(home: string, settings = geminiSettings()): Promise<string> {
  const dir = join(home, '.gemini');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'settings.json');
  await writeFile(path, `${JSON.stringify(settings, null, 2)}\n`);
  return path;
}

export interface ClaudeCodeAcpOptions extends Omit<AcpAgentOptions, 'command' | 'args'> {
  /** How to start the adapter. Default `claude-code-acp` on PATH; e.g. `[process.execPath, '/…/dist/index.js']`. */
  command?: string;
  args?: readonly string[];
  /** The Claude Code CLI to drive (`CLAUDE_CODE_EXECUTABLE`); default: the one bundled in the adapter's agent SDK. */
  claudeExecutable?: string;
  /** `ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** `ANTHROPIC_BASE_URL`. */
  baseUrl?: string;
}

/**
 * Claude Code through Zed's ACP adapter (`@zed-industries/claude-code-acp`, tested with 0.16.2), provider
 * `claude-code-acp`. Its modes carry Forge's permission mode names. Sessions continue with
 * `session/resume` in a new process.
 */
export function claudeCodeAcp(options: ClaudeCodeAcpOptions = {}): CodeAgent {
  const { command = 'claude-code-acp', args = [], claudeExecutable, apiKey, baseUrl, env, ...rest } = options;
  return acpAgent({
    name: 'claude-code-acp',
    ...rest,
    command,
    args,
    env: {
      ...(claudeExecutable ? { CLAUDE_CODE_EXECUTABLE: claudeExecutable } : {}),
      ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}),
      ...(baseUrl ? { ANTHROPIC_BASE_URL: baseUrl } : {}),
      ...env,
    },
  });
}
