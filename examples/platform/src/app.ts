import { join } from 'node:path';
import {
  localProcessRunner,
  stderrTeeRunner,
  reapOrphanProcesses,
  silentLogger,
  type Logger,
  type OsUser,
  type ProviderRegistry,
  type SessionStore,
} from '@forge/core';
import { openStore, ReplicaAddresses, sqlAgentPresence, sqlSessionStore, type ForgeStore } from '@forge/store';
import { exposureWarning, prepareAgentUser } from './agent-isolation.js';
import { ApiKeyStore } from './api-keys.js';
import { KeyAuthenticator } from './key-authenticator.js';
import { AttachService, type AttachServiceOptions } from './attach/attach-service.js';
import { withRemoteAttach } from './attach/remote-attach.js';
import { ReplicaRelay, replicaRelayKey, replicaUrlOf } from './attach/replica-relay.js';
import type { AgentBackend } from './backends/backend.js';
import { localBackend } from './backends/local-backend.js';
import { AgentLogBook } from './backends/agent-log-book.js';
import { platformAgentLogs } from './agent-logs.js';
import { agentKeyOfCwd } from './backends/agent-log-key.js';
import type { PlatformConfig } from './config.js';
import { createApiHandler, type RemoteAgentsView } from './http/api.js';
import { listen } from './http/listen.js';
import { providerCatalog } from './providers/provider-catalog.js';
import { buildProviderRegistry } from './providers/registry.js';
import { startRemoteAgents, type RemoteAgents } from './remote-agents.js';
import { DrainState } from './drain-state.js';
import { RunManager } from './run-manager.js';
import type { DrainReport } from './runs/run-drain.js';
import type { WebhookDispatcherPort } from './webhook-port.js';
import { createWebhookDispatcher } from './webhooks/index.js';
import { PlatformHealth, type PlatformHealthOptions } from './http/health-routes.js';
import { PlatformMetrics } from './metrics/platform-metrics.js';
import { instrumentPlatform } from './metrics/instrument-platform.js';
import { listenMetrics } from './metrics/metrics-routes.js';
import { createMcpResolver } from './mcp-catalog.js';
import { agentDefaults } from './prewarm/agent-defaults.js';
import { prewarmingBackend, type PrewarmingBackend } from './prewarm/prewarming-backend.js';
import { SpareKeeper } from './prewarm/spare-keeper.js';
import type { HttpServer } from './http/listen.js';

export interface PlatformOptions {
  config: PlatformConfig;
  logger?: Logger;
  /** Providers by name; default: claude-code, opencode and scripted (see providers/registry.ts). */
  registry?: ProviderRegistry;
  /** Default: from `config.backend`. */
  backend?: AgentBackend;
  /** Default: the webhook dispatcher of ./webhooks, with `config.webhookAllowPrivate`. */
  webhooks?: WebhookDispatcherPort;
  /** Added to the Claude Code CLI's environment (the demo's offline stand-in). */
  claudeEnv?: Record<string, string>;
  /** SSE keep-alive interval. */
  sseHeartbeatMs?: number;
  /** Default: PostgreSQL at `config.databaseUrl`, else embedded PGlite in `<dataDir>/.forge-db`. Closed with the platform. */
  store?: ForgeStore;
  /** Heartbeat and queue poll interval (tests shorten it). */
  pollMs?: number;
  /** Attach limits and timeouts (tests shorten them). */
  attach?: Omit<AttachServiceOptions, 'keys' | 'backend' | 'logger' | 'audit' | 'rateWindows'>;
  /** Default: a registry of the platform's own. Pass one to meter a backend made outside (`meteredPods`). */
  metrics?: PlatformMetrics;
  /** /livez's and /readyz's bounds (tests shorten them). */
  health?: Pick<PlatformHealthOptions, 'maxEventLoopDelayMs' | 'storeTimeoutMs'>;
}

export interface Platform {
  /** e.g. http://127.0.0.1:8080 — the dashboard is at `${url}/`. */
  readonly url: string;
  readonly port: number;
  readonly registry: ProviderRegistry;
  readonly backend: AgentBackend;
  readonly runs: RunManager;
  readonly store: ForgeStore;
  readonly remote: RemoteAgents | undefined;
  readonly metrics: PlatformMetrics;
  /** Its `setDraining()` turns /readyz 503 (the shutdown path calls it first). */
  readonly health: PlatformHealth;
  /** Where GET /metrics is served without a key, when FORGE_METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Whether this instance is draining (readiness reads it). */
  readonly drainState: DrainState;
  /**
   * SIGTERM's first half: not ready, claims nothing, hands pod runs to another replica, lets local runs finish
   * within `drainMs` (default `config.drainMs`). Then `close`.
   */
  drain(drainMs?: number): Promise<DrainReport>;
  /** Stops accepting requests, cancels live runs, flushes webhooks (bounded), closes providers. */
  close(): Promise<void>;
}

async function makeBackend(
  config: PlatformConfig,
  registry: ProviderRegistry,
  logger: Logger,
  agentUser: OsUser | undefined,
  logs: AgentLogBook,
  store: ForgeStore,
  metrics: PlatformMetrics,
  sessions?: SessionStore,
): Promise<AgentBackend> {
  if (config.backend === 'local')
    return localBackend({ dataDir: config.dataDir, registry, logs, ...(agentUser ? { agentUser } : {}) });
  const { k8sBackendFromConfig } = await import('./backends/k8s-from-config.js');
  return k8sBackendFromConfig(config, registry, logger, metrics, sessions, store);
}

/** Composes the platform from its parts and starts serving. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const keys = new ApiKeyStore(config.apiKeys);
  // Refuses to start when FORGE_AGENT_USER is set but cannot be used; warns when agents are not isolated.
  const agentUser = await prepareAgentUser(config);
  const exposure = exposureWarning(config, agentUser);
  if (exposure) logger.warn(exposure);
  if (keys.size === 0)
    logger.warn('no API keys are configured: every API request will be refused (set FORGE_API_KEYS)');
  // Agent processes are recorded here while they live; what an instance killed with `kill -9` left
  // running (CLIs and the tools they started) is ended by the next one, now.
  const processDir = join(config.dataDir, 'processes');
  const reaped = reapOrphanProcesses(processDir);
  if (reaped.reaped > 0) logger.warn('ended processes a previous instance left running', { ...reaped });
  const metrics = options.metrics ?? new PlatformMetrics();
  const store = instrumentPlatform.store(
    options.store ??
      (await openStore(
        config.databaseUrl
          ? { databaseUrl: config.databaseUrl }
          : { dataDir: join(config.dataDir, '.forge-db'), worker: config.pgliteWorker },
      )),
    metrics,
  );
  logger.info('store open', { engine: store.sql.engine, migrated: store.migrated });
  const sessions = sqlSessionStore(store.sql);
  const agentLogs = new AgentLogBook();
  const registry =
    options.registry ??
    buildProviderRegistry({
      // Each CLI's stderr also goes to its agent's log (GET /agents/:id/logs).
      runner: stderrTeeRunner(
        localProcessRunner({ stateDir: processDir, ...(agentUser ? { user: agentUser } : {}) }),
        (_command, spawn) => {
          const key = agentKeyOfCwd(config.dataDir, spawn?.cwd);
          return key ? (line) => agentLogs.append(key, line) : undefined;
        },
      ),
      claudeBin: config.claudeBin,
      opencodeBin: config.opencodeBin,
      codexBin: config.codexBin,
      geminiBin: config.geminiBin,
      ...(config.acp ? { acp: config.acp } : {}),
      ...(config.codexProvider ? { codexProvider: config.codexProvider } : {}),
      defaultProvider: config.defaultProvider,
      logger,
      ...(options.claudeEnv ? { claudeEnv: options.claudeEnv } : {}),
      sessionStore: sessions,
    });
  // Provider labels are the names registered now; remote agents' names, registered later, are counted as `other`.
  metrics.setProviders(registry.list());
  let backend: AgentBackend;
  try {
    backend =
      options.backend ?? (await makeBackend(config, registry, logger, agentUser, agentLogs, store, metrics, sessions));
  } catch (error) {
    if (!options.store) await store.close();
    throw error;
  }
  // Active agents keep a spare process for their next new session (FORGE_PREWARM_MAX; 0: off).
  let spares: PrewarmingBackend | undefined;
  if (config.prewarmMax > 0) {
    const mcp = createMcpResolver({ catalog: config.mcpServers, allowPrivateNetworks: config.webhookAllowPrivate });
    spares = prewarmingBackend(backend, {
      keeper: new SpareKeeper({ max: config.prewarmMax, idleMs: config.prewarmIdleMs, logger }),
      defaultsOf: agentDefaults(store, mcp, config.runDefaults),
      logger,
    });
    backend = spares;
  }
  const webhooks = instrumentPlatform.webhooks(
    options.webhooks ?? createWebhookDispatcher({ logger, allowPrivateNetworks: config.webhookAllowPrivate }),
    metrics,
  );
  let runs: RunManager | undefined;
  let remote: RemoteAgents | undefined;
  // Attach to a remote agent whose link another replica holds is relayed there (both replicas share the store).
  let relay: ReplicaRelay | undefined;
  let addresses: ReplicaAddresses | undefined;
  let server: Awaited<ReturnType<typeof listen>>;
  let metricsServer: HttpServer | undefined;
  let health: PlatformHealth | undefined;
  // The bootstrap keys, then the keys issued over the API (read from the store on each request).
  const authenticator = new KeyAuthenticator({ bootstrap: keys, stored: store.apiKeys, logger });
  const attach = new AttachService({
    keys: authenticator,
    audit: store.audit,
    rateWindows: store.rateWindows,
    // An agent whose provider dialled home is attached on that machine, over its link.
    backend: withRemoteAttach(backend, () => remote),
    relay: () => relay,
    logger,
    ...options.attach,
  });
  const drainState = new DrainState();
  try {
    runs = await RunManager.create({
      store,
      agents: async (userId, agentId) => {
        const agent = await backend.get(userId, agentId);
        return agent?.ready ? backend.agentFor(agent) : undefined;
      },
      // A remote agent's runs execute on the replica holding its session.
      placement: async (userId, agentId) => {
        const agent = remote && (await backend.get(userId, agentId).catch(() => undefined));
        return agent ? remote?.agentIdOf(agent.provider) : undefined;
      },
      logger,
      webhooks,
      keyCaps: (keyId) => keys.capsOf(keyId),
      drain: drainState,
      leaseMs: config.leaseMs,
      replyTimeoutMs: config.replyTimeoutMs,
      handoverWaitMs: config.handoverWaitMs,
      maxQueuedPerAgent: config.maxQueuedPerAgent,
      maxRunning: config.maxRunning,
      retention: {
        maxAgeMs: config.retentionMs,
        maxEvents: config.retentionMaxEvents,
        auditMaxAgeMs: config.auditRetentionMs,
      },
      ...(config.instanceId ? { instanceId: config.instanceId } : {}),
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
      observer: metrics,
    });
    remote =
      config.hubPort !== undefined
        ? await startRemoteAgents({
            port: config.hubPort,
            host: config.host,
            secret: config.hubSecret!,
            ...(config.hubPublicUrl ? { publicUrl: config.hubPublicUrl } : {}),
            credentialStore: store.credentials,
            // Shared by the replicas: who holds each session, alive while its instance heartbeats (one lease).
            presence: sqlAgentPresence(store.sql, { instanceId: runs.instanceId, staleAfterMs: config.leaseMs }),
            runsInFlight: () => store.runs.runningByRemoteAgent(),
            registry,
            sessionStore: sessions,
            logger,
          })
        : undefined;
    const theRemote = remote;
    const relayKey = replicaRelayKey(config.replicaSecret, config.hubSecret);
    if (theRemote && relayKey) {
      addresses = new ReplicaAddresses(store.sql, { instanceId: runs.instanceId, staleAfterMs: config.leaseMs });
      relay = new ReplicaRelay({ key: relayKey, instanceId: runs.instanceId, addresses, remote: () => theRemote });
    }
    const remoteView: RemoteAgentsView | undefined = theRemote
      ? {
          list: () => theRemote.list(),
          revoke: (name) => theRemote.revoke(name),
          issueToken: (o) => theRemote.issueToken(o),
        }
      : undefined;

    instrumentPlatform.sources(metrics, { store, backend, remote: theRemote });
    health = new PlatformHealth({
      backend: backend.kind,
      sql: store.sql,
      ...(theRemote ? { hubListening: () => theRemote.listening } : {}),
      ...options.health,
    });
    const handler = createApiHandler({
      health,
      metrics,
      serveMetrics: config.metricsPort === undefined,
      keys: authenticator,
      rateWindows: store.rateWindows,
      rateLimitPerAddress: config.rateLimitPerAddress,
      backend,
      runs,
      defaultProvider: config.defaultProvider,
      rateLimitPerMinute: config.rateLimitPerMinute,
      maxAgentsPerKey: config.maxAgentsPerKey,
      createTimeoutMs: config.createTimeoutMs,
      ...(spares ? { onAgentCreated: (agent) => void spares.created(agent) } : {}),
      logger,
      ...(remoteView ? { remoteAgents: remoteView } : {}),
      attach,
      providers: providerCatalog(registry),
      mcpServers: config.mcpServers,
      allowPrivateNetworks: config.webhookAllowPrivate,
      maxAttachmentBytes: config.maxAttachmentBytes,
      runDefaults: config.runDefaults,
      agentLogs: platformAgentLogs(backend, () => theRemote),
      ...(options.sseHeartbeatMs ? { sseHeartbeatMs: options.sseHeartbeatMs } : {}),
    });
    server = await listen(handler, { port: config.port, host: config.host, upgrade: attach.upgrade });
    await addresses
      ?.publish(config.replicaUrl ?? replicaUrlOf(server.url, config.host, server.port))
      .catch((error: unknown) =>
        logger.warn('replica address not published: other replicas cannot relay attach here', { error: String(error) }),
      );
    if (config.metricsPort !== undefined)
      metricsServer = await listenMetrics(metrics, { port: config.metricsPort, host: config.host }).catch(
        async (error: unknown) => {
          await server.close();
          throw error;
        },
      );
    logger.info('platform listening', {
      url: server.url,
      backend: backend.kind,
      providers: registry.list(),
      store: store.sql.engine,
      instance: runs.instanceId,
      hub: remote?.url,
      metrics: metricsServer?.url,
    });
  } catch (error) {
    health?.close();
    // Nothing may stay open: the demo retries on another port, and the embedded database takes one opener.
    await runs?.close(0);
    await attach.close();
    await remote?.close().catch(() => {});
    if (!options.store) await store.close();
    throw error;
  }
  const theRuns = runs;
  const theHealth = health;

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    registry,
    backend,
    runs: theRuns,
    store,
    remote,
    metrics,
    health: theHealth,
    metricsUrl: metricsServer?.url,
    drainState,
    drain: (drainMs = config.drainMs) => {
      // Readiness turns 503 first, so the Service stops sending here while the runs drain.
      theHealth.setDraining();
      // No new session starts here any more: the spares end now.
      spares?.stop();
      return theRuns.drain(drainMs);
    },
    close() {
      closing ??= (async () => {
        theHealth.setDraining();
        await addresses?.withdraw().catch(() => {});
        await theRuns.close();
        await attach.close();
        await server.close();
        await webhooks.close();
        await remote?.close();
        await backend.close();
        await registry
          .close()
          .catch((error: unknown) => logger.warn('a provider failed to close', { error: String(error) }));
        await metricsServer?.close();
        theHealth.close();
        await store.close();
      })();
      return closing;
    },
  };
}
