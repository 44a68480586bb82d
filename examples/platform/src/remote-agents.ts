import { silentLogger, type Logger } from '@forge/core';
import { createAgentHub, type AgentHub, type AgentInfo, type CredentialStore, type HubServer } from '@forge/dial-home';
import { joinCommand } from './join-command.js';

export interface RemoteAgentsOptions {
  port: number;
  host: string;
  /** Signs enrolment tokens (≥ 32 bytes). */
  secret: string;
  /** Enrolled agents (credential hashes only) and spent enrolment tokens: the platform's store, shared by replicas. */
  credentialStore: CredentialStore;
  logger?: Logger;
  /** Test seam: a hub made elsewhere. */
  hub?: AgentHub;
}

/** Agents on other machines that dial home to this platform (issue 8), as the API and dashboard show them. */
export interface RemoteAgents {
  readonly hub: AgentHub;
  /** Where agents dial (`dialHome({ url })`). */
  readonly url: string;
  list(): Promise<Array<Record<string, unknown>>>;
  /**
   * Revokes the enrolled, unrevoked agent with this name (or id): its live session ends now and its
   * credential is refused from then on. Undefined when there is no such agent.
   */
  revoke(nameOrId: string): Promise<Record<string, unknown> | undefined>;
  /** A single-use enrolment token (bound to `name` when given) and the command that joins an agent with it. */
  issueToken(options?: { name?: string; ttlMs?: number }): IssuedToken;
  close(): Promise<void>;
}

/** An enrolment token as the API answers with it. */
export interface IssuedToken {
  token: string;
  token_id: string;
  expires_at: string;
  name?: string;
  hub_url: string;
  join_command: string;
}

export function remoteAgentJson(info: AgentInfo): Record<string, unknown> {
  return {
    id: info.id,
    name: info.name,
    status: info.status,
    ...(info.provider ? { provider: info.provider } : {}),
    ...(info.version ? { version: info.version } : {}),
    ...(info.lastSeen !== undefined ? { last_seen: new Date(info.lastSeen).toISOString() } : {}),
    enrolled_at: new Date(info.enrolledAt).toISOString(),
    runs_in_flight: info.runsInFlight,
  };
}

export async function startRemoteAgents(options: RemoteAgentsOptions): Promise<RemoteAgents> {
  const logger = options.logger ?? silentLogger;
  let hub = options.hub;
  hub ??= createAgentHub({ secret: options.secret, credentialStore: options.credentialStore, logger });
  const server: HubServer = await hub.listen({ port: options.port, host: options.host });
  const theHub = hub;
  return {
    hub: theHub,
    url: server.url,
    list: async () => (await theHub.listAgents()).map(remoteAgentJson),
    async revoke(nameOrId) {
      const found = (await theHub.listAgents()).find((a) => a.name === nameOrId || a.id === nameOrId);
      if (!found || !(await theHub.revoke(found.id))) return undefined;
      logger.info('remote agent revoked', { agentId: found.id, name: found.name });
      return remoteAgentJson({ ...found, status: 'offline' });
    },
    issueToken(issue = {}) {
      const issued = theHub.issueEnrolmentToken(issue);
      logger.info('enrolment token issued', { tokenId: issued.id, ...(issued.name ? { name: issued.name } : {}) });
      return {
        token: issued.token,
        token_id: issued.id,
        expires_at: new Date(issued.expiresAt).toISOString(),
        ...(issued.name ? { name: issued.name } : {}),
        hub_url: server.url,
        join_command: joinCommand({
          hubUrl: server.url,
          token: issued.token,
          ...(issued.name ? { name: issued.name } : {}),
        }),
      };
    },
    async close() {
      await theHub.close();
      await server.close().catch(() => {});
    },
  };
}
