import { acpAgent, geminiCli } from '@forge/acp';
import {
  createProviderRegistry,
  isInherited,
  type Logger,
  type ProcessRunner,
  type ProviderRegistry,
  type SessionStore,
} from '@forge/core';
import { claudeCode } from '@forge/claude-code';
import { type CodexModelProvider, codex } from '@forge/codex';
import { opencode, type StartOpencodeServerOptions } from '@forge/opencode';
import { scriptedDemoAgent } from './scripted-demo.js';

export interface ProviderSettings {
  /** Where the CLIs run. Default: `localProcessRunner()`. */
  runner?: ProcessRunner;
  claudeBin: string;
  /** Added to the Claude Code CLI's environment (the demo points it at its offline stand-in). */
  claudeEnv?: Record<string, string>;
  opencodeBin: string;
  /** More for the owned `opencode serve` (its config, environment, start timeout…). */
  opencodeServer?: Omit<StartOpencodeServerOptions, 'bin'>;
  /** The Codex CLI. Default `codex` on PATH. */
  codexBin?: string;
  /** Codex's model provider (a Responses API); default: the CLI's own configuration. */
  codexProvider?: CodexModelProvider;
  /** Added to the Codex CLI's environment (`CODEX_HOME`, which must exist, and the key). */
  codexEnv?: Record<string, string>;
  /** The Gemini CLI (`gemini --acp`). Default `gemini` on PATH. */
  geminiBin?: string;
  /**
   * The Gemini CLI's environment. Default: this process's `GEMINI_*` / `GOOGLE_*` variables (its key,
   * a gateway URL), since agent processes start from a minimal environment. Its `HOME` needs a
   * `.gemini/settings.json` selecting the auth type (`writeGeminiSettings` from `@forge/acp`).
   */
  geminiEnv?: Record<string, string>;
  /** Registers `acp`: any Agent Client Protocol agent started with this command and arguments. */
  acp?: { command: string; args?: readonly string[]; env?: Record<string, string> };
  defaultProvider: string;
  logger: Logger;
  /**
   * Where every agent's conversations are kept (the platform's `sqlSessionStore`): a message to an agent whose
   * work directory is gone, or that another replica serves, restores the session and resumes it.
   */
  sessionStore?: SessionStore;
}

/**
 * The providers agents can be created with, by name. Each is built on first use, so a machine
 * without the OpenCode CLI still serves Claude Code agents (and the other way round).
 */
export function buildProviderRegistry(settings: ProviderSettings): ProviderRegistry {
  const registry = createProviderRegistry(settings.sessionStore ? { sessionStore: settings.sessionStore } : {});
  registry.register('claude-code', (context) =>
    claudeCode({
      ...context,
      ...(settings.runner ? { runner: settings.runner } : {}),
      bin: settings.claudeBin,
      logger: settings.logger,
      ...(settings.claudeEnv ? { env: settings.claudeEnv } : {}),
    }),
  );
  // OpenCode is a server; this agent owns one, started at the first message and stopped on shutdown.
  registry.register('opencode', (context) =>
    opencode({
      ...context,
      server: {
        ...(settings.runner ? { runner: settings.runner } : {}),
        ...settings.opencodeServer,
        bin: settings.opencodeBin,
      },
      logger: settings.logger,
    }),
  );
  // Codex runs one `codex app-server` per agent (threads, approvals, questions in Plan mode); `resume` continues an agent's thread.
  registry.register('codex', (context) =>
    codex({
      ...context,
      ...(settings.runner ? { runner: settings.runner } : {}),
      bin: settings.codexBin ?? 'codex',
      logger: settings.logger,
      ...(settings.codexProvider ? { provider: settings.codexProvider } : {}),
      ...(settings.codexEnv ? { env: settings.codexEnv } : {}),
    }),
  );
  // ACP agents keep one process across runs (one session per agent workspace), closed with the registry.
  registry.register('gemini', () =>
    geminiCli({
      ...(settings.runner ? { runner: settings.runner } : {}),
      bin: settings.geminiBin ?? 'gemini',
      logger: settings.logger,
      env: settings.geminiEnv ?? hostEnv(['GEMINI_*', 'GOOGLE_*']),
    }),
  );
  const acp = settings.acp;
  if (acp) {
    registry.register('acp', () =>
      acpAgent({
        ...(settings.runner ? { runner: settings.runner } : {}),
        command: acp.command,
        args: acp.args ?? [],
        logger: settings.logger,
        ...(acp.env ? { env: acp.env } : {}),
      }),
    );
  }
  registry.register('scripted', () => scriptedDemoAgent({ delayMs: 40 }));
  if (registry.has(settings.defaultProvider)) registry.setDefault(settings.defaultProvider);
  return registry;
}

function hostEnv(patterns: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && isInherited(name, patterns)) out[name] = value;
  return out;
}
