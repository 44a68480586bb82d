import { ForgeError } from '@forge/core';
import { DialHomeCodes } from '@forge/dial-home';
import { ApiError } from '../api-error.js';
import type { AgentBackend, AgentRecord } from '../backends/backend.js';
import type { RemoteAgents } from '../remote-agents.js';

/**
 * The backend as the attach endpoint sees it: an agent whose provider is a remote agent (one that
 * dialled home) is attached on that remote agent's machine, in its workspace, over its dial-home
 * link; any other agent through the backend itself.
 *
 * A remote agent connected to another replica is normally never asked for here: AttachService relays the upgrade
 * to that replica first (ReplicaRelay). What still reaches this with the link elsewhere (a relayed upgrade whose
 * agent moved meanwhile, a holder that published no address) is refused with 421 AGENT_ON_OTHER_REPLICA.
 */
export function withRemoteAttach(backend: AgentBackend, remote: () => RemoteAgents | undefined): AgentBackend {
  return {
    get kind() {
      return backend.kind;
    },
    create: (input) => backend.create(input),
    get: (userId, agentId) => backend.get(userId, agentId),
    status: (agent) => backend.status(agent),
    list: (userId) => backend.list(userId),
    delete: (userId, agentId, options) => backend.delete(userId, agentId, options),
    agentFor: (agent) => backend.agentFor(agent),
    close: () => backend.close(),
    async attach(agent, options) {
      const remoteAgents = remote();
      const remoteId = remoteAgents?.agentIdOf(agent.provider);
      if (remoteAgents && remoteId) return attachRemote(remoteAgents, remoteId, agent, options);
      if (!backend.attach) throw new ApiError(501, 'ATTACH_UNSUPPORTED', `The ${backend.kind} backend cannot attach`);
      return backend.attach(agent, options);
    },
  };
}

async function attachRemote(
  remote: RemoteAgents,
  remoteId: string,
  agent: AgentRecord,
  options: Parameters<NonNullable<AgentBackend['attach']>>[1],
) {
  const name = agent.provider;
  try {
    // The workspace is the remote machine's own (its FORGE_CWD): a path here means nothing there.
    const { cwd: _here, ...there } = options;
    return await remote.hub.openTerminal(remoteId, there);
  } catch (error) {
    if (!(error instanceof ForgeError)) throw error;
    const details = { remote_agent: name };
    switch (error.code) {
      case DialHomeCodes.OFFLINE: {
        const info = (await remote.hub.listAgents().catch(() => [])).find((a) => a.id === remoteId);
        if (info?.status === 'online')
          throw new ApiError(
            421,
            'AGENT_ON_OTHER_REPLICA',
            `The remote agent "${name}" is connected to another platform instance; attach is served only by the instance holding its link (send the attach there, or let the agent reconnect)`,
            {},
            details,
          );
        throw new ApiError(409, 'AGENT_OFFLINE', `The remote agent "${name}" is offline`, {}, details);
      }
      case DialHomeCodes.ATTACH_DISABLED:
        throw new ApiError(
          403,
          'ATTACH_DISABLED',
          `The remote agent "${name}" does not allow attach: its operator turned it off (FORGE_ALLOW_ATTACH=0)`,
          {},
          details,
        );
      case DialHomeCodes.ATTACH_UNSUPPORTED:
        throw new ApiError(
          501,
          'ATTACH_UNSUPPORTED',
          `The remote agent "${name}" runs a program older than attach; its operator must update it`,
          {},
          details,
        );
      default:
        throw error;
    }
  }
}
