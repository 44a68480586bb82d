import { revokedEnd } from './session-ends.js';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import { TransportError, type AttachOptions, type AttachedProcess, type CodeAgent } from '@forge/core';
import { DialHomeCodes } from './errors.js';
import type { AgentLogsReadOptions } from './hub-log-streams.js';
import {
  DEFAULT_ENROLL_MAX_BYTES,
  DEFAULT_HUB_READ_MAX_BYTES,
  type AgentHubOptions,
  type EnrolmentToken,
  type IssueTokenOptions,
} from './agent-hub-options.js';
import type { AgentInfo } from './agent-info.js';
import { Code, ConnectError } from './connect-errors.js';
import { attachHandler } from './hub-attach.js';
import { hubEnrolment } from './hub-enrolment.js';
import { listenHub, type HubServer, type ListenOptions } from './hub-server.js';
import { hubSessions } from './hub-sessions.js';
import { HubState, infoOf } from './hub-state.js';
import type { HubMessageHandler } from './subscriptions.js';
import { WireAgentHubService } from './wire.js';

/** A Node request handler: fits `http2.createServer`, `http2.createSecureServer` and `http.createServer`. */
export type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions['fallback']>;

export interface HubHandlerOptions {
  /** Called for requests that are not the hub's. Default: 404. */
  fallback?: NodeHandlerFn;
  interceptors?: Interceptor[];
}

/** The platform side of dial-home. */
export interface AgentHub {
  /** Mount on a Connect router (`connectNodeAdapter({ routes: hub.routes })`) to serve it beside other services. */
  readonly routes: (router: ConnectRouter) => void;
  /**
   * A Node request handler serving the hub's routes, to mount on the host's own HTTP/2 server
   * (Attach is a bidirectional stream: it needs HTTP/2). Requests for other paths go to
   * `fallback` (e.g. the host's dashboard), or get a 404.
   */
  handler(options?: HubHandlerOptions): NodeHandlerFn;
  /** Serves the hub alone on an HTTP/2 port (cleartext, or TLS with `tls`). */
  listen(options?: ListenOptions): Promise<HubServer>;
  issueEnrolmentToken(options?: IssueTokenOptions): EnrolmentToken;
  /**
   * Withdraws an enrolment token before it is used (it counts as spent from now on). Takes the
   * token string or what `issueEnrolmentToken` returned. False when it was spent already,
   * has expired, or is not this hub's.
   */
  revokeEnrolmentToken(token: string | EnrolmentToken): Promise<boolean>;
  /** Revokes an agent's credential and drops its session now. False when no such agent. */
  revoke(agentId: string): Promise<boolean>;
  /** Every enrolled, unrevoked agent, online or not. */
  listAgents(): Promise<AgentInfo[]>;
  /** Follows what the hub routes: `agent.*.online`, `agent.<id>.run.>`, `>`… Returns the unsubscribe function. */
  subscribe(pattern: string, handler: HubMessageHandler): () => void;
  /** The platform-side CodeAgent of an agent (by id or by name), online or not. */
  agent(idOrName: string): CodeAgent | undefined;
  /**
   * A process in the workspace of an agent connected to this hub (a terminal for a person), relayed
   * over its Attach stream with credit-based flow control both ways. Refused with AGENT_OFFLINE
   * (not connected here), ATTACH_DISABLED (its operator turned attach off), ATTACH_UNSUPPORTED (an
   * older agent program) or the agent's own refusal (a bad cwd, too many terminals).
   */
  openTerminal(agentId: string, options?: AttachOptions & { outputWindow?: number }): Promise<AttachedProcess>;
  /**
   * The agent's own log lines (its program's stderr, its logger) over its session on this hub: the last `tail`,
   * then with `follow` new ones until `signal` aborts. AGENT_OFFLINE when it is not connected here.
   */
  logs(idOrName: string, options: AgentLogsReadOptions): AsyncIterable<string>;
  /** Drops every session (their runs fail TRANSPORT_BROKEN; agents will dial again), stops any server from `listen`. */
  close(): Promise<void>;
}

/**
 * The platform end of "agents that dial home": enrolment (hub-enrolment.ts), authenticated Attach
 * sessions (hub-attach.ts), heartbeats and online status (hub-sessions.ts), subject routing
 * (subscriptions.ts), and a CodeAgent per connected agent. What these share is one HubState.
 */
export function createAgentHub(options: AgentHubOptions): AgentHub {
  const state = new HubState(options);
  const { entries, records, subscriptions, clock, logger, heartbeatMs } = state;
  const enrolment = hubEnrolment(state);
  const sessions = hubSessions(state);
  const servers = new Set<HubServer>();

  const sweeper = setInterval(
    () => {
      sessions.sweepHeartbeats();
      void sessions.syncPresence();
    },
    Math.max(1, Math.min(heartbeatMs, 1_000, state.presenceSyncMs)),
  );
  sweeper.unref?.();

  // Limits set on the routes themselves, so they hold however the host mounts them.
  const readMaxBytes = options.readMaxBytes ?? DEFAULT_HUB_READ_MAX_BYTES;
  const enrollMaxBytes = options.enrollMaxBytes ?? DEFAULT_ENROLL_MAX_BYTES;
  const attach = attachHandler(state, sessions);
  const routes = (router: ConnectRouter) => {
    router.rpc(WireAgentHubService.method.enroll, enrolment.enroll, { readMaxBytes: enrollMaxBytes });
    router.rpc(WireAgentHubService.method.attach, attach, { readMaxBytes });
  };

  return {
    routes,
    handler(handlerOptions = {}) {
      return connectNodeAdapter({
        routes,
        ...(handlerOptions.fallback ? { fallback: handlerOptions.fallback } : {}),
        ...(handlerOptions.interceptors ? { interceptors: handlerOptions.interceptors } : {}),
      });
    },
    async listen(listenOptions = {}) {
      const server = await listenHub(routes, { ...listenOptions, logger });
      servers.add(server);
      void server.closed.then(() => servers.delete(server));
      return server;
    },
    issueEnrolmentToken: (issue) => enrolment.issue(issue),
    revokeEnrolmentToken: (token) => enrolment.revokeToken(token),
    async revoke(agentId) {
      const record = await records.update(
        agentId,
        (r) => (r.revokedAt === undefined ? { ...r, revokedAt: clock.now() } : r),
        true,
      );
      if (!record) return false;
      entries.get(agentId)?.session?.end(revokedEnd(agentId));
      logger.info('agent revoked', { agentId });
      return true;
    },
    async listAgents() {
      const [all, present] = await Promise.all([state.store.list(), state.presence.list()]);
      return all
        .filter((r) => r.revokedAt === undefined)
        .map((r) => infoOf(r, entries.get(r.agentId), present.get(r.agentId)))
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    },
    subscribe: (pattern, handler) => subscriptions.subscribe(pattern, handler),
    agent(idOrName) {
      const byId = entries.get(idOrName);
      if (byId) return byId.dialled;
      const named = [...entries.values()].filter((e) => e.dialled.name === idOrName);
      return (named.find((e) => e.session) ?? named[0])?.dialled;
    },
    async openTerminal(agentId, terminalOptions = {}) {
      const dialled = entries.get(agentId)?.dialled;
      if (!dialled)
        throw new TransportError(DialHomeCodes.OFFLINE, `Agent ${agentId} is not connected to this hub`, {
          details: { agentId },
        });
      const { outputWindow, ...open } = terminalOptions;
      return dialled.openTerminal(open, outputWindow);
    },
    logs(idOrName, logOptions) {
      const byId = entries.get(idOrName);
      const entry = byId?.session ? byId : [...entries.values()].find((e) => e.session && e.dialled.name === idOrName);
      if (!entry?.session)
        throw new TransportError(DialHomeCodes.OFFLINE, `Agent "${idOrName}" is not connected to this hub`, {
          details: { agentId: idOrName },
        });
      return entry.session.logs(logOptions);
    },
    async close() {
      if (state.closed) return;
      state.closed = true;
      clearInterval(sweeper);
      for (const entry of entries.values()) {
        entry.session?.end({
          reason: 'hub_closing',
          message: 'the platform is shutting down',
          error: new ConnectError('The platform is shutting down', Code.Unavailable),
        });
      }
      await Promise.all([...servers].map((s) => s.close()));
      for (const entry of entries.values()) sessions.unregister(entry);
      // The sessions' last-seen and presence writes land before close resolves, not after the host moved on.
      await records.flush();
      await Promise.all([...state.presenceWrites]);
    },
  };
}
