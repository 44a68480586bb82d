import { access, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type CodeAgent, isInherited, type Logger } from '@forge/core';
import { linkedSessionStore, type LinkedSessionStore } from '@forge/transport-grpc';
import type { PodConfig } from './config.js';
import { scriptedPodAgent } from './scripted.js';

/** The agent the pod serves, and what else it must stop on shutdown. */
export interface PodProvider {
  agent: CodeAgent;
  /**
   * The agent's session store: its sessions are saved to and loaded from the platform's store over the run's
   * gRPC stream (give it to serveAgent), so a conversation outlives the pod.
   */
  sessionStore: LinkedSessionStore;
  close(): Promise<void>;
}

const closer = (agent: CodeAgent) => async () => {
  await agent.close?.();
};

/** What the Gemini CLI needs from the pod's environment by default: its key and endpoint. */
export const GEMINI_PASS_ENV = ['GEMINI_*', 'GOOGLE_*'];

/**
 * The pod's variables named by `patterns`. An ACP agent process starts from the runner's minimal
 * environment, so its key (from a Secret) must be handed over by name.
 */
function hostEnv(patterns: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && isInherited(name, patterns)) out[name] = value;
  return out;
}

/** The CLI's binary, model and permission mode where the operator set them (unset: the adapter's default). */
function cliChoices(config: PodConfig) {
  return {
    ...(config.bin ? { bin: config.bin } : {}),
    ...(config.model ? { model: config.model } : {}),
    ...(config.permissionMode ? { permissionMode: config.permissionMode } : {}),
  };
}

/**
 * Builds the provider named by FORGE_PROVIDER. Adapter packages are imported lazily, so a pod
 * only loads the one it serves.
 */
export async function createPodProvider(config: PodConfig, logger: Logger): Promise<PodProvider> {
  const sessionStore = linkedSessionStore();
  const agent = await podAgent(config, logger, sessionStore);
  return { agent, sessionStore, close: closer(agent) };
}

async function podAgent(config: PodConfig, logger: Logger, sessionStore: LinkedSessionStore): Promise<CodeAgent> {
  switch (config.provider) {
    case 'scripted':
      return scriptedPodAgent();
    case 'claude-code': {
      const { claudeCode } = await import('@forge/claude-code');
      return claudeCode({
        logger,
        cwd: config.cwd,
        sessionStore,
        ...cliChoices(config),
        ...(config.prewarm ? { prewarm: {} } : {}),
      });
    }
    case 'opencode': {
      const { opencode } = await import('@forge/opencode');
      const common = { logger, directory: config.cwd, ...(config.model ? { model: config.model } : {}) };
      // Either a server beside the pod (a sidecar), or `opencode serve` owned by the agent, which
      // starts it on first use and stops it on close().
      return config.opencodeUrl
        ? opencode({ ...common, baseUrl: config.opencodeUrl })
        : opencode({
            ...common,
            sessionStore,
            server: { cwd: config.cwd, port: config.opencodePort, ...(config.bin ? { bin: config.bin } : {}) },
          });
    }
    case 'gemini': {
      const { geminiCli, geminiSettings } = await import('@forge/acp');
      const home = config.geminiHome ?? process.env.HOME ?? homedir();
      await ensureGeminiSettings(home, geminiSettings());
      return geminiCli({
        logger,
        cwd: config.cwd,
        home,
        env: hostEnv(config.passEnv ?? GEMINI_PASS_ENV),
        ...cliChoices(config),
      });
    }
    case 'acp': {
      const { acpAgent } = await import('@forge/acp');
      return acpAgent({
        logger,
        cwd: config.cwd,
        command: config.acpCommand!,
        args: config.acpArgs ?? [],
        env: hostEnv(config.passEnv ?? []),
        ...(config.model ? { model: config.model } : {}),
        ...(config.permissionMode ? { permissionMode: config.permissionMode } : {}),
      });
    }
    case 'codex': {
      const { codex } = await import('@forge/codex');
      return codex({
        logger,
        cwd: config.cwd,
        sessionStore,
        ...cliChoices(config),
        ...(config.prewarm ? { prewarm: {} } : {}),
        ...(config.codexSandbox ? { sandbox: config.codexSandbox } : {}),
        // The CLI reads the key from the pod's own environment: it is never copied into argv.
        ...(config.codexBaseUrl
          ? { provider: { baseUrl: config.codexBaseUrl, envKey: config.codexKeyEnv ?? 'OPENAI_API_KEY' } }
          : {}),
      });
    }
  }
}

/** The CLI needs settings that select its auth type; a pod writes them once, never over the operator's. */
async function ensureGeminiSettings(home: string, settings: Record<string, unknown>): Promise<void> {
  const path = join(home, '.gemini', 'settings.json');
  try {
    await access(path);
  } catch {
    await mkdir(join(home, '.gemini'), { recursive: true });
    await writeFile(path, `${JSON.stringify(settings, null, 2)}\n`, { flag: 'wx' }).catch(() => undefined);
  }
}
