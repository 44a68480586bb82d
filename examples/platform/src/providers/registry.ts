import { createProviderRegistry, type Logger, type ProcessRunner, type ProviderRegistry } from '@forge/core';
import { claudeCode } from '@forge/claude-code';
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
      ...(settings.runner ? { runner: settings.runner } : {}),
      bin: settings.claudeBin,
      logger: settings.logger,
      ...(settings.claudeEnv ? { env: settings.claudeEnv } : {}),
    }),
  );
  // OpenCode is a server; this agent owns one, started at the first message and stopped on shutdown.
  registry.register('opencode', () =>
    opencode({
      server: {
        ...(settings.runner ? { runner: settings.runner } : {}),
        ...settings.opencodeServer,
        bin: settings.opencodeBin,
      },
      logger: settings.logger,
    }),
  );
  registry.register('scripted', () => scriptedDemoAgent({ delayMs: 40 }));
  if (registry.has(settings.defaultProvider)) registry.setDefault(settings.defaultProvider);
  return registry;
}
