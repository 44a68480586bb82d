import { createProviderRegistry, type Logger, type ProviderRegistry } from '@forge/core';
import { claudeCode } from '@forge/claude-code';
import { type CodexModelProvider, codex } from '@forge/codex';
import { opencode, type StartOpencodeServerOptions } from '@forge/opencode';
import { scriptedDemoAgent } from './scripted-demo.js';

export interface ProviderSettings {
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
  defaultProvider: string;
  logger: Logger;
}

/**
 * The providers agents can be created with, by name. Each is built on first use, so a machine
 * without the OpenCode CLI still serves Claude Code agents (and the other way round).
 */
export function buildProviderRegistry(settings: ProviderSettings): ProviderRegistry {
  const registry = createProviderRegistry();
  registry.register('claude-code', () =>
    claudeCode({
      bin: settings.claudeBin,
      logger: settings.logger,
      ...(settings.claudeEnv ? { env: settings.claudeEnv } : {}),
    }),
  );
  // OpenCode is a server; this agent owns one, started at the first message and stopped on shutdown.
  registry.register('opencode', () =>
    opencode({ server: { ...settings.opencodeServer, bin: settings.opencodeBin }, logger: settings.logger }),
  );
  // Codex runs `codex exec --json` per message; `resume` continues an agent's session.
  registry.register('codex', () =>
    codex({
      bin: settings.codexBin ?? 'codex',
      logger: settings.logger,
      ...(settings.codexProvider ? { provider: settings.codexProvider } : {}),
      ...(settings.codexEnv ? { env: settings.codexEnv } : {}),
    }),
  );
  registry.register('scripted', () => scriptedDemoAgent({ delayMs: 40 }));
  if (registry.has(settings.defaultProvider)) registry.setDefault(settings.defaultProvider);
  return registry;
}
