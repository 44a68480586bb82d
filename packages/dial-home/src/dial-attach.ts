import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { ForgeError, TransportError } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { capabilitiesToProto } from '@forge/transport-grpc/internal';
import { AgentLink } from './agent-link.js';
import { AgentTerminals } from './agent-terminals.js';
import { AgentLogServer } from './agent-log-server.js';
import type { StoredCredential } from './credential-file.js';
import type { DialState } from './dial-state.js';
import {
  DetachedRunSchema,
  HeartbeatSchema,
  HelloSchema,
  TerminalSupport,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import { subjects } from './subject.js';
import { DIAL_HOME_VERSION } from './version.js';
import { wireStream, type Outgoing, type WireAgentHubService } from './wire.js';

/**
 * One Attach stream, from Hello to its end: serves the agent's runs over it, sends heartbeats at the
 * rate the Welcome set and gives up on a silent platform. Resolves (on stop) or throws when it ends.
 */
export async function attachOnce(
  state: DialState,
  client: Client<WireAgentHubService>,
  stored: StoredCredential,
): Promise<void> {
  const { options, logger, clock, connectTimeoutMs, stopGraceMs, stopController } = state;
  const outbound = new AsyncQueue<Outgoing>({ highWaterMark: 256 });
  const link = new AgentLink(
    options.agent,
    stored.agentId,
    outbound,
    logger,
    {
      ...(options.sessionStore ? { store: options.sessionStore } : {}),
      callTimeoutMs: options.sessionCallTimeoutMs ?? 30_000,
    },
    state.detached,
  );
  const terminals = new AgentTerminals({ attach: options.attach, agentId: stored.agentId, outbound, logger });
  const logServer = new AgentLogServer(options.logs, stored.agentId, outbound, logger);
  const controller = new AbortController();
  const abort = (reason: Error) => controller.abort(reason);
  const onStop = () => abort(new Error('stopped'));
  stopController.signal.addEventListener('abort', onStop, { once: true });
  let heartbeatMs = options.heartbeatMs ?? 30_000;
  let missed = 3;
  let lastInbound = clock.now();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const connectTimer = setTimeout(
    () => abort(new TransportError('DEADLINE_EXCEEDED', `No Welcome from the platform within ${connectTimeoutMs} ms`)),
    connectTimeoutMs,
  );
  let welcomed = false;
  let resolveClosed!: () => void;
  const closedStream = new Promise<void>((r) => (resolveClosed = r));
  try {
    const capabilities = await options.agent.capabilities();
    outbound.push({
      subject: subjects.hello(stored.agentId),
      body: {
        case: 'hello',
        value: create(HelloSchema, {
          name: options.name,
          provider: options.agent.provider,
          capabilities: capabilitiesToProto(capabilities),
          version: options.version ?? DIAL_HOME_VERSION,
          terminals: options.attach ? TerminalSupport.ENABLED : TerminalSupport.DISABLED,
          handover: true,
          // Whichever instance this reaches attaches them (after the last event it journaled).
          detachedRuns: [...state.detached.runs.values()].map((r) =>
            create(DetachedRunSchema, { runId: r.runId, lastSeq: r.lastSeq }),
          ),
        }),
      },
    });
    state.graceful = async () => {
      terminals.drop();
      await link.cancelAll('the agent is stopping');
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([link.settled(), new Promise<void>((r) => (t = setTimeout(r, stopGraceMs)))]);
      clearTimeout(t);
      // Half-close: the platform sees a clean goodbye and marks the agent offline at once.
      outbound.end();
      t = setTimeout(() => abort(new Error('stopped')), stopGraceMs);
      await closedStream.catch(() => {});
      clearTimeout(t);
    };
    try {
      const responses = client.attach(wireStream(outbound), {
        signal: controller.signal,
        headers: { authorization: `Bearer ${stored.credential}` },
      });
      for await (const message of responses) {
        lastInbound = clock.now();
        const body = message.body;
        if (body.case === 'welcome') {
          welcomed = true;
          clearTimeout(connectTimer);
          heartbeatMs = body.value.heartbeatMs || heartbeatMs;
          missed = body.value.missedHeartbeats || missed;
          state.agentId = body.value.agentId || stored.agentId;
          state.backoff.reset();
          state.lastError = undefined;
          heartbeat = setInterval(() => {
            if (clock.now() - lastInbound > heartbeatMs * missed) {
              abort(
                new TransportError(
                  'AGENT_HEARTBEAT_LOST',
                  `No answer from the platform for ${heartbeatMs * missed} ms`,
                ),
              );
              return;
            }
            outbound.push({
              subject: subjects.heartbeat(stored.agentId),
              body: {
                case: 'heartbeat',
                value: create(HeartbeatSchema, { time: clock.now(), runsInFlight: link.runsInFlight }),
              },
            });
          }, heartbeatMs);
          heartbeat.unref?.();
          logger.info('online', { agentId: state.agentId, heartbeatMs });
          state.setStatus('online');
        } else if (body.case === 'command') {
          link.handle(body.value);
        } else if (body.case === 'terminal') {
          terminals.handle(body.value);
        } else if (body.case === 'logs') {
          logServer.handle(body.value);
        }
      }
    } finally {
      resolveClosed();
    }
    if (!state.stopping) throw new TransportError('TRANSPORT_BROKEN', 'The platform ended the session');
  } catch (error) {
    const reason = controller.signal.reason;
    if (state.stopping) return;
    if (controller.signal.aborted && reason instanceof ForgeError) throw reason;
    throw error;
  } finally {
    state.graceful = undefined;
    clearTimeout(connectTimer);
    clearInterval(heartbeat);
    stopController.signal.removeEventListener('abort', onStop);
    void link.drop('the link to the platform dropped');
    terminals.drop();
    logServer.close();
    outbound.close();
    if (!controller.signal.aborted) controller.abort(new Error('the stream ended'));
    if (welcomed) logger.info('link to the platform closed', { agentId: state.agentId });
  }
}
