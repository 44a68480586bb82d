import { access, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type CodeAgent,
  isInherited,
  type Logger,
  type PermissionMode,
  type ProcessRunner,
  type SessionStore,
} from '@forge/core';

/** What the Gemini CLI needs from the host's environment by default: its key and endpoint. */
export const GEMINI_PASS_ENV = ['GEMINI_*', 'GOOGLE_*'];

/** The provider a host serves, as its operator configured it (the examples read these from FORGE_* variables). */
export interface LocalAgentSettings {
  provider: 'claude-code' | 'opencode' | 'codex' | 'gemini' | 'acp';
  /** Working directory of the agent's runs (the checked-out project). */
  cwd: string;
  model?: string;
  permissionMode?: PermissionMode;
  /** Path or name of the provider's CLI; unset: the adapter's default. */
  bin?: string;
  /** Claude Code / Codex: keep the CLI started for the next new session (the adapter's `prewarm: {}`). */
  prewarm?: boolean;
  /** OpenCode: use this running server (a sidecar) instead of starting `opencode serve`. */
  opencodeUrl?: string;
  /** OpenCode: the port of the `opencode serve` the agent starts; unset: the adapter's default. */
  opencodePort?: number;
  /** Codex: a Responses-API base URL (custom model provider); unset = the CLI's own configuration. */
  codexBaseUrl?: string;
  /** Codex: the environment variable holding that provider's key. Default `OPENAI_API_KEY`. */
  codexKeyEnv?: string;
  /** Codex: sandbox for model-generated commands. */
  codexSandbox?: 'read-only' | 'workspace-write' | 'danger-full-access';
  /** Gemini: `HOME` of the CLI, where `.gemini/settings.json` is written when missing. Default: the host's HOME. */
  geminiHome?: string;
  /** ACP: the agent program (required with provider `acp`). */
  acpCommand?: string;
  acpArgs?: string[];
  /** ACP / Gemini: host variables handed to the agent process (names or `PREFIX*`), e.g. its API key. */
  passEnv?: string[];
}

/** What the host wires into the agent. */
export interface LocalAgentOptions {
  logger: Logger;
  /** Where the agent's sessions are kept (the platform's store, over the host's link). */
  sessionStore?: SessionStore;
  /** Runs the provider's CLI (e.g. one that also copies its stderr to the host's log); unset: a local process. */
  runner?: ProcessRunner;
}

/**
 * The host's variables named by `patterns`. An ACP agent process starts from the runner's minimal
 * environment, so its key (from a Secret) must be handed over by name.
 */
function hostEnv(patterns: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && isInherited(name, patterns)) out[name] = value;
  return out;
}

/**
 * Builds the provider `settings` name. Adapter packages are imported lazily, so a host only loads the one it
 * serves.
 */
export async function createLocalAgent(settings: LocalAgentSettings, options: LocalAgentOptions): Promise<CodeAgent> {
  const { logger } = options;
  const store = options.sessionStore ? { sessionStore: options.sessionStore } : {};
  const runner = options.runner ? { runner: options.runner } : {};
  const bin = settings.bin ? { bin: settings.bin } : {};
  // What the operator chose, where set (unset: the adapter's default).
  const chosen = {
    ...(settings.model ? { model: settings.model } : {}),
    ...(settings.permissionMode ? { permissionMode: settings.permissionMode } : {}),
  };
  // The options of a CLI adapter (core's CliAgentOptions) that every host sets alike.
  const cli = { logger, cwd: settings.cwd, ...bin, ...chosen };
  const prewarm = settings.prewarm ? { prewarm: {} } : {};
  switch (settings.provider) {
    case 'claude-code': {
      const { claudeCode } = await import('@forge/claude-code');
      return claudeCode({ ...cli, ...runner, ...store, ...prewarm });
    }
    case 'opencode': {
      const { opencode } = await import('@forge/opencode');
      const common = { logger, directory: settings.cwd, ...(settings.model ? { model: settings.model } : {}) };
      // Either a server beside the host (a sidecar), or `opencode serve` owned by the agent, which
      // starts it on first use and stops it on close().
      if (settings.opencodeUrl) return opencode({ ...common, baseUrl: settings.opencodeUrl });
      const port = settings.opencodePort !== undefined ? { port: settings.opencodePort } : {};
      return opencode({ ...common, ...store, server: { cwd: settings.cwd, ...port, ...bin, ...runner } });
    }
    case 'gemini': {
      const { geminiCli, geminiSettings } = await import('@forge/acp');
      const home = settings.geminiHome ?? process.env.HOME ?? homedir();
      await ensureGeminiSettings(home, geminiSettings());
      return geminiCli({ ...cli, home, env: hostEnv(settings.passEnv ?? GEMINI_PASS_ENV) });
    }
    case 'acp': {
      const { acpAgent } = await import('@forge/acp');
      const command = settings.acpCommand!;
      const env = hostEnv(settings.passEnv ?? []);
      return acpAgent({ logger, cwd: settings.cwd, command, args: settings.acpArgs ?? [], env, ...chosen });
    }
    case 'codex': {
      const { codex } = await import('@forge/codex');
      return codex({
        ...cli,
        ...store,
        ...prewarm,
        ...(settings.codexSandbox ? { sandbox: settings.codexSandbox } : {}),
        // The CLI reads the key from the host's own environment: it is never copied into argv.
        ...(settings.codexBaseUrl
          ? { provider: { baseUrl: settings.codexBaseUrl, envKey: settings.codexKeyEnv ?? 'OPENAI_API_KEY' } }
          : {}),
      });
    }
  }
}

/** The CLI needs settings that select its auth type; a host writes them once, never over the operator's. */
async function ensureGeminiSettings(home: string, settings: Record<string, unknown>): Promise<void> {
  const path = join(home, '.gemini', 'settings.json');
  try {
    await access(path);
  } catch {
    await mkdir(join(home, '.gemini'), { recursive: true });
    await writeFile(path, `${JSON.stringify(settings, null, 2)}\n`, { flag: 'wx' }).catch(() => undefined);
  }
}
