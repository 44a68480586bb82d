import type { AgentEvent, AgentRun, CodeAgent } from '@forge/core';
import type { LiveRun } from './live-run.js';
import type { RunContext } from './run-context.js';

/**
 * An agent whose runs go on without this host and can be taken up by another: a pod's gRPC client
 * (`grpcAgent` from @forge/transport-grpc: detach / attach on its Connect stream).
 */
export interface HandoverAgent {
  /** Lets the run go on at the agent; resolves once none of its events come here any more. */
  detach(runId: string): Promise<void>;
  /**
   * Takes up a run another host let go of, from after its `afterSeq`th event. `request` (its sessionId and fork)
   * decides which sessions the run's session calls may reach in this host's store.
   */
  attach(
    runId: string,
    options: {
      afterSeq: number;
      pending?: readonly AgentEvent[];
      request?: { sessionId?: string | undefined; fork?: boolean | undefined };
    },
  ): AgentRun;
}

export function canHandOver(agent: CodeAgent | undefined): agent is CodeAgent & HandoverAgent {
  const a = agent as Partial<HandoverAgent> | undefined;
  return typeof a?.detach === 'function' && typeof a.attach === 'function';
}

/** The end a client makes for a run it let go of: not the run's end, never journaled. */
export const isHandoverEnd = (event: AgentEvent): boolean =>
  event.type === 'run.completed' && event.result.error?.code === 'RUN_DETACHED';

/**
 * Lets go of a run executing here whose agent keeps it going (this instance is stopping): its events so far
 * are journaled, then the run is marked handed over with its lease lapsed, so another instance takes it over at
 * once and re-attaches after its last journaled event (RunExecutor.adopt). True when handed over; false when
 * the agent could not let go of it (it ended meanwhile, the link broke) — the run is then this instance's to
 * finish or cancel, as a local one.
 */
export async function handOver(ctx: RunContext, live: LiveRun): Promise<boolean> {
  const agent = live.agent;
  if (!canHandOver(agent) || live.settled) return false;
  live.handingOver = true;
  try {
    await agent.detach(live.requestId);
  } catch (error) {
    live.handingOver = false;
    ctx.logger.warn('could not hand the run over; it is finished here', {
      requestId: live.requestId,
      error: String(error),
    });
    return false;
  }
  await live.pumped;
  if (live.handedOver) ctx.logger.info('run handed over to another instance', { requestId: live.requestId });
  return live.handedOver;
}
