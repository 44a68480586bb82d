import { silentLogger, type Logger, type ProviderRegistry, type SessionStore } from '@forge/core';
import {
  createAgentHub,
  type AgentHub,
  type AgentInfo,
  type AgentPresence,
  type CredentialStore,
  type HubServer,
} from '@forge/dial-home';
import { presentFields } from './http/present-fields.js';
import { joinCommand } from './join-command.js';
import { remoteAgentProviders, type RemoteAgentProviders } from './remote-agents-providers.js';

export interface RemoteAgentsOptions {
  port: number;
  host: string;
  /** Signs enrolment tokens (≥ 32 bytes). */
  secret: string;
  /** Where remote agents reach the hub (a load balancer, a Service): the URL tokens' join commands name. Default: where it is bound. */
  publicUrl?: string;
  /** Enrolled agents (credential hashes only) and spent enrolment tokens: the platform's store, shared by replicas. */
  credentialStore: CredentialStore;
  /**
   * Which replica holds each agent's session (`sqlAgentPresence` on the platform's store), so
   * every replica lists the same status and revocations end sessions held elsewhere. Default: this
   * process only.
   */
  presence?: AgentPresence & { forgetPrevious?(): Promise<number> };
  /**
   * Running runs per remote agent across every replica (`RunStore.runningByRemoteAgent`): without
   * it, `runs_in_flight` counts only what runs through this hub, and another replica lists 0.
   */
  runsInFlight?: () => Promise<Map<string, number>>;
  /** With it, every enrolled remote agent is a provider here under its name (remote-agents-providers.ts). */
  registry?: ProviderRegistry;
  /** The platform's session store: remote agents' sessions travel over their link into it (issue 24). */
  sessionStore?: SessionStore;
  logger?: Logger;
  /** Test seam: a hub made elsewhere. */
  hub?: AgentHub;
}

/** Agents on other machines that dial home to this platform (issue 8), as the API and dashboard show them. */
export interface RemoteAgents {
  readonly hub: AgentHub;
  /** Where agents dial (`dialHome({ url })`). */
  readonly url: string;
  /** The dial-home agent id when `provider` names an enrolled remote agent (its runs execute where it is connected). */
  agentIdOf(provider: string): string | undefined;
  list(): Promise<Array<Record<string, unknown>>>;
  /** The hub's server is accepting connections (readiness). */
  readonly listening: boolean;
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
    ...presentFields({
      provider: info.provider,
      version: info.version,
      last_seen: info.lastSeen === undefined ? undefined : new Date(info.lastSeen).toISOString(),
    }),
    enrolled_at: new Date(info.enrolledAt).toISOString(),
    runs_in_flight: info.runsInFlight,
  };
}

export async function startRemoteAgents(options: RemoteAgentsOptions): Promise<RemoteAgents> {
  const logger = options.logger ?? silentLogger;
  let hub = options.hub;
  // Sessions this instance id recorded in a previous life (a crash, a stable FORGE_INSTANCE_ID) are not held now.
  const forgotten = await options.presence?.forgetPrevious?.();
  if (forgotten) logger.warn('remote agent sessions of a previous life of this instance cleared', { forgotten });
  hub ??= createAgentHub({
    secret: options.secret,
    credentialStore: options.credentialStore,
    logger,
    ...(options.presence ? { presence: options.presence } : {}),
    ...(options.sessionStore ? { sessionStore: options.sessionStore } : {}),
  });
  const theHub = hub;
  let providers: RemoteAgentProviders | undefined;
  if (options.registry) {
    providers = remoteAgentProviders({
      hub: theHub,
      registry: options.registry,
      credentials: options.credentialStore,
      logger,
    });
    await providers.refresh();
  }
  let server: HubServer;
  try {
    server = await theHub.listen({ port: options.port, host: options.host });
  } catch (error) {
    providers?.close();
    await theHub.close();
    throw error;
  }
  const dialUrl = options.publicUrl ?? server.url;
  // Enrolled here: a provider at once (other replicas pick it up at their next refresh).
  const unsubscribe = theHub.subscribe('agent.*.online', () => void providers?.refresh());
  let listening = true;
  void server.closed.then(() => {
    listening = false;
  });
  return {
    hub: theHub,
    url: dialUrl,
    get listening() {
      return listening;
    },
    agentIdOf: (provider) => providers?.agentIdOf(provider),
    async list() {
      const [agents, running] = await Promise.all([theHub.listAgents(), options.runsInFlight?.()]);
      return agents.map((a) => remoteAgentJson(running ? { ...a, runsInFlight: running.get(a.id) ?? 0 } : a));
    },
    async revoke(nameOrId) {
      const found = (await theHub.listAgents()).find((a) => a.name === nameOrId || a.id === nameOrId);
      if (!found || !(await theHub.revoke(found.id))) return undefined;
      await providers?.refresh();
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
        hub_url: dialUrl,
        join_command: joinCommand({
          hubUrl: dialUrl,
          token: issued.token,
          ...(issued.name ? { name: issued.name } : {}),
        }),
      };
    },
    async close() {
      unsubscribe();
      providers?.close();
      await theHub.close();
      await server.close().catch(() => {});
    },
  };
}
