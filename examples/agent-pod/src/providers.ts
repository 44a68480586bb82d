import { ForgeError, type CodeAgent, type Logger } from '@forge/core';
import type { PodConfig } from './config.js';
import { scriptedPodAgent } from './scripted.js';

/** The agent the pod serves, and what else it must stop on shutdown. */
export interface PodProvider {
  agent: CodeAgent;
  close(): Promise<void>;
}

type Factory = (options: Record<string, unknown>) => CodeAgent;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ForgeError('PROVIDER_UNAVAILABLE', `${what} is not available in this build`, 'internal');
  return value;
}

/**
 * Builds the provider named by FORGE_PROVIDER. Adapter packages are imported lazily, so a pod
 * only loads the one it serves.
 */
export async function createPodProvider(config: PodConfig, logger: Logger): Promise<PodProvider> {
  const common: Record<string, unknown> = { logger };
  if (config.model) common.model = config.model;
  if (config.permissionMode) common.permissionMode = config.permissionMode;

  switch (config.provider) {
    case 'scripted': {
      const agent = scriptedPodAgent();
      return { agent, close: () => agent.close?.() ?? Promise.resolve() };
    }
    case 'claude-code': {
      const mod = (await import('@forge/claude-code')) as { claudeCode?: Factory };
      const agent = need(mod.claudeCode, '@forge/claude-code claudeCode()')({
        ...common,
        cwd: config.cwd,
        ...(config.bin ? { bin: config.bin } : {}),
      });
      return { agent, close: () => agent.close?.() ?? Promise.resolve() };
    }
    case 'opencode': {
      const mod = (await import('@forge/opencode')) as {
        opencode?: Factory;
        startOpencodeServer?: (o: Record<string, unknown>) => Promise<{ url?: string; baseUrl?: string; close(): Promise<void> }>;
      };
      const opencode = need(mod.opencode, '@forge/opencode opencode()');
      // Either a server beside the pod (a sidecar), or `opencode serve` owned by this process.
      let server: { url?: string; baseUrl?: string; close(): Promise<void> } | undefined;
      let baseUrl = config.opencodeUrl;
      if (!baseUrl) {
        server = await need(mod.startOpencodeServer, '@forge/opencode startOpencodeServer()')({
          cwd: config.cwd,
          port: config.opencodePort,
          ...(config.bin ? { bin: config.bin } : {}),
        });
        baseUrl = server.baseUrl ?? server.url;
      }
      const agent = opencode({ ...common, baseUrl });
      return {
        agent,
        async close() {
          await agent.close?.();
          await server?.close();
        },
      };
    }
  }
}
