import type { CodeAgent, Logger } from '@forge/core';
import type { PodConfig } from './config.js';
import { scriptedPodAgent } from './scripted.js';

/** The agent the pod serves, and what else it must stop on shutdown. */
export interface PodProvider {
  agent: CodeAgent;
  close(): Promise<void>;
}

const closer = (agent: CodeAgent) => async () => {
  await agent.close?.();
};

/**
 * Builds the provider named by FORGE_PROVIDER. Adapter packages are imported lazily, so a pod
 * only loads the one it serves.
 */
export async function createPodProvider(config: PodConfig, logger: Logger): Promise<PodProvider> {
  switch (config.provider) {
    case 'scripted': {
      const agent = scriptedPodAgent();
      return { agent, close: closer(agent) };
    }
    case 'claude-code': {
      const { claudeCode } = await import('@forge/claude-code');
      const agent = claudeCode({
        logger,
        cwd: config.cwd,
        ...(config.bin ? { bin: config.bin } : {}),
        ...(config.model ? { model: config.model } : {}),
        ...(config.permissionMode ? { permissionMode: config.permissionMode } : {}),
      });
      return { agent, close: closer(agent) };
    }
    case 'opencode': {
      const { opencode } = await import('@forge/opencode');
      const common = { logger, directory: config.cwd, ...(config.model ? { model: config.model } : {}) };
      // Either a server beside the pod (a sidecar), or `opencode serve` owned by the agent, which
      // starts it on first use and stops it on close().
      const agent = config.opencodeUrl
        ? opencode({ ...common, baseUrl: config.opencodeUrl })
        : opencode({
            ...common,
            server: { cwd: config.cwd, port: config.opencodePort, ...(config.bin ? { bin: config.bin } : {}) },
          });
      return { agent, close: closer(agent) };
    }
    case 'codex': {
      const { codex } = await import('@forge/codex');
      const agent = codex({
        logger,
        cwd: config.cwd,
        ...(config.bin ? { bin: config.bin } : {}),
        ...(config.model ? { model: config.model } : {}),
        ...(config.permissionMode ? { permissionMode: config.permissionMode } : {}),
        ...(config.codexSandbox ? { sandbox: config.codexSandbox } : {}),
        // The CLI reads the key from the pod's own environment: it is never copied into argv.
        ...(config.codexBaseUrl
          ? { provider: { baseUrl: config.codexBaseUrl, envKey: config.codexKeyEnv ?? 'OPENAI_API_KEY' } }
          : {}),
      });
      return { agent, close: closer(agent) };
    }
  }
}
