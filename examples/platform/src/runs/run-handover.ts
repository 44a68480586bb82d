import type { AgentEvent, AgentRun, CodeAgent } from '@forge/core';
import type { RunRecord } from '@forge/store';
import type { AttachOptions } from '@forge/transport-grpc';
import type { LiveRun } from './live-run.js';
import type { RunContext } from './run-context.js';
import type { RunEnder } from './run-ender.js';

/**
 * How long a handed-over run whose agent only one instance can attach (a remote agent's) waits for that agent to
 * dial some instance again: past it, the instance that takes the run over ends it. Longer than the agent's own
 * bound (dial-home's detached-run limit, 120 s), past which the agent has cancelled it anyway.
 */
export const DEFAULT_HANDOVER_WAIT_MS = 180_000;

/** The owner of a handed-over run waiting for its remote agent to dial some instance. */
const HANDED_OVER_OWNER = 'handed-over';

/**
 * An agent whose runs go on without this host and can be taken up by another: a pod's gRPC client
 * (`grpcAgent` from @forge/transport-grpc: detach / attach on its Connect stream), or a remote agent's
 * (@forge/dial-home's DialledAgent: the same commands over its link; the agent re-dials and announces the run).
 */
export interface HandoverAgent {
  /** Lets the run go on at the agent; resolves once none of its events come here any more. */
  detach(runId: string): Promise<void>;
  /**
   * Takes up a run another host let go of, from after its `afterSeq`th event. `request` (its sessionId and fork)
   * decides which sessions the run's session calls may reach in this host's store.
   */
  attach(runId: string, options: AttachOptions): AgentRun;
  /**
   * Where only one instance can attach a run (a remote agent's, on the replica its link reached; it announced the
   * run there): whether this one can now. Absent: any instance can (a pod's).
   */
  canAttach?(runId: string): boolean;
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

/**
 * A handed-over run this instance took over but cannot attach (its remote agent is not connected here, or has not
 * announced it yet): its lease lapses again at once, as it was handed over, for the instance the agent dials; one
 * handed over longer than `waitMs` ago ends failed here (its agent never came back), with its one run.completed.
 */
export async function leaveForItsAgent(
  ctx: RunContext,
  ender: RunEnder,
  record: RunRecord,
  waitMs: number,
): Promise<void> {
  const since = record.handedOverAt ?? ctx.now();
  if (ctx.now() - since <= waitMs) {
    // Owned by no instance (a name none has), so any, this one too, takes it over again at its next heartbeat.
    await ctx.store.runs.handOver(record.requestId, ctx.instanceId, since, HANDED_OVER_OWNER).catch((error: unknown) =>
      ctx.logger.warn(
        'could not leave a handed-over run for its agent; another instance takes it when its lease lapses',
        {
          requestId: record.requestId,
          error: String(error),
        },
      ),
    );
    return;
  }
  ctx.logger.warn('the agent of a handed-over run did not come back; ending it', {
    requestId: record.requestId,
    handedOverAt: since,
    waitMs,
  });
  await ender.end(record, ['running'], 'failed', {
    code: 'AGENT_NOT_BACK',
    message: `The platform instance running this message stopped and its remote agent did not reconnect within ${waitMs} ms; send it again`,
    retryable: true,
  });
}
