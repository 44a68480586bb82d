import { localProcessRunner, stderrTeeRunner, type CodeAgent, type Logger, type SessionStore } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { createLocalAgent as createHostedAgent } from '@forge/example-agent-host';
import type { RemoteAgentConfig } from './config.js';

/**
 * A stand-in provider for trying the wiring without an AI CLI: it answers `echo: <prompt>`; a
 * prompt containing "hang" keeps the run going until it is cancelled or times out.
 */
export function scriptedRemoteAgent(): CodeAgent {
  return scriptedAgent({
    capabilities: { models: ['echo'] },
    steps: (request) => {
      const text = `echo: ${request.prompt}`;
      return [
        { type: 'session.started', sessionId: request.sessionId ?? `ses_echo_${Date.now()}`, model: 'echo' },
        ...text.split(/(?<= )/).map((w) => ({ type: 'text.delta' as const, text: w, messageId: 'm1' })),
        ...(request.prompt.includes('hang') ? [{ hang: true as const }] : []),
        { type: 'message', text, messageId: 'm1' },
      ];
    },
    outcome: (request) => ({ text: `echo: ${request.prompt}`, turns: 1 }),
  });
}

/**
 * The local provider this machine serves to the platform. Adapters load lazily: only the one used. With
 * `sessionStore` (main.ts gives the dial-home link's), its sessions are kept in the platform's store. With
 * `stderr`, every line the provider's CLI writes on stderr also goes there (the log the platform reads).
 */
export async function createLocalAgent(
  config: RemoteAgentConfig,
  logger: Logger,
  sessionStore?: SessionStore,
  stderr?: (line: string) => void,
): Promise<CodeAgent> {
  if (config.provider === 'scripted') return scriptedRemoteAgent();
  return createHostedAgent(
    { ...config, provider: config.provider },
    {
      logger,
      ...(sessionStore ? { sessionStore } : {}),
      ...(stderr ? { runner: stderrTeeRunner(localProcessRunner(), () => stderr) } : {}),
    },
  );
}
