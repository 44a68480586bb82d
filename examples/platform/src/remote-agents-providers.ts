import { TransportError, defaultCapabilities, type CodeAgent, type Logger, type ProviderRegistry } from '@forge/core';
import { DialHomeCodes, type AgentHub, type CredentialStore } from '@forge/dial-home';
import type { HandoverAgent } from './runs/run-handover.js';

export interface RemoteAgentProvidersOptions {
  hub: AgentHub;
  /** The platform's registry: each enrolled remote agent is a provider there, under its name. */
  registry: ProviderRegistry;
  /** Where enrolled agents are read from (the store every replica shares). */
  credentials: CredentialStore;
  logger: Logger;
  /** How often enrolments and revocations made by other replicas are picked up. Default 1 s. */
  refreshMs?: number;
}

export interface RemoteAgentProviders {
  /** The dial-home agent id behind a provider name, when the name is a remote agent's. */
  agentIdOf(provider: string): string | undefined;
  /** Reads the enrolled agents now (after an enrolment or a revocation here). */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * Every enrolled, unrevoked remote agent as a provider of the platform's registry, on every
 * replica, whether or not it is connected to this one: a user's agent is created with
 * `provider: "<remote agent name>"` on any replica, and its runs are queued with the remote
 * agent's id, so only the replica holding the agent's session claims them (RunStore.claimNext).
 * Where it is not connected, a run ends failed with the retryable AGENT_OFFLINE, as on a platform
 * with one instance.
 */
export function remoteAgentProviders(options: RemoteAgentProvidersOptions): RemoteAgentProviders {
  const { hub, registry, credentials, logger } = options;
  const registered = new Map<string, { agentId: string; provider: CodeAgent }>();
  const clashes = new Set<string>();
  let refreshing: Promise<void> | undefined;

  async function read(): Promise<void> {
    const enrolled = (await credentials.list()).filter((r) => r.revokedAt === undefined);
    const names = new Map(enrolled.map((r) => [r.name, r.agentId]));
    for (const [name, held] of registered) {
      if (names.get(name) === held.agentId) continue;
      registry.unregister(name, held.provider);
      registered.delete(name);
    }
    for (const [name, agentId] of names) {
      if (registered.has(name)) continue;
      if (registry.has(name)) {
        // A provider of the platform's own has this name: it wins, the remote agent cannot be addressed.
        if (!clashes.has(name)) logger.warn('a remote agent has the name of a local provider', { name, agentId });
        clashes.add(name);
        continue;
      }
      const provider = remoteProvider(hub, agentId, name);
      registry.register(name, provider);
      registered.set(name, { agentId, provider });
    }
  }

  const refresh = () => {
    refreshing ??= read()
      .catch((error: unknown) => logger.warn('could not read the remote agents', { error: String(error) }))
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 1_000);
  timer.unref();

  return {
    agentIdOf: (provider) => registered.get(provider)?.agentId,
    refresh,
    close() {
      clearInterval(timer);
      for (const [name, held] of registered) registry.unregister(name, held.provider);
      registered.clear();
    },
  };
}

/** The provider of one enrolled remote agent on this replica (exported for tests of the handover). */
export function remoteProvider(hub: AgentHub, agentId: string, name: string): CodeAgent & HandoverAgent {
  return {
    provider: 'dial-home',
    async capabilities() {
      const info = (await hub.listAgents()).find((a) => a.id === agentId);
      const caps = info?.capabilities ?? defaultCapabilities();
      return info?.status === 'online'
        ? caps
        : { ...caps, available: false, unavailableReason: `The remote agent "${name}" is offline` };
    },
    execute(request, options) {
      const dialled = hub.agent(agentId);
      if (!dialled) {
        // Never connected to this replica: the same answer its hub gives for an offline agent.
        throw new TransportError(
          DialHomeCodes.OFFLINE,
          `Agent "${name}" (${agentId}) is not connected to this platform instance`,
          { details: { agentId } },
        );
      }
      // The run's directory is the remote machine's own (FORGE_CWD there), not a path on this one.
      const { cwd: _here, ...remote } = request;
      return dialled.execute(remote, options);
    },
    cancel: async (runId) => (await hub.agent(agentId)?.cancel(runId)) ?? false,
    // A rolling restart hands its runs over (runs/run-handover.ts): the run goes on at the agent, which
    // announces it to the replica it dials next; only that one can attach it (canAttach).
    async detach(runId: string) {
      const dialled = handoverOf(hub, agentId);
      if (!dialled) throw new TransportError(DialHomeCodes.OFFLINE, `Agent "${name}" is not connected here`);
      await dialled.detach(runId);
    },
    attach(runId: string, options: Parameters<HandoverAgent['attach']>[1]) {
      const dialled = handoverOf(hub, agentId);
      if (!dialled)
        throw new TransportError(DialHomeCodes.OFFLINE, `Agent "${name}" is not connected to this platform instance`);
      return dialled.attach(runId, options);
    },
    canAttach: (runId: string) => handoverOf(hub, agentId)?.canAttach(runId) ?? false,
  } satisfies CodeAgent & HandoverAgent;
}

/** The hub's agent, which hands runs over (DialledAgent). */
const handoverOf = (hub: AgentHub, agentId: string) =>
  hub.agent(agentId) as (CodeAgent & Required<Pick<HandoverAgent, 'canAttach'>> & HandoverAgent) | undefined;
