import { ConnectError, type Client } from '@connectrpc/connect';
import { TransportError, type PermissionDecision } from '@forge/core';
import { decisionToProto } from './convert-request.js';
import { decodeEvent } from './event-codec.js';
import { TransportCodes, forgeErrorFromConnect } from './errors.js';
import type { AgentRequest as ProtoAgentRequest } from './gen/forge/agent/v1/agent_pb.js';
import type { WireAgentService } from './wire-service.js';
import { endForStreamError } from './link-errors.js';
import type { RelayedRun, RunLink } from '@forge/core/internal';

export interface ExecuteLinkOptions {
  target: string;
  /** Deadline of CancelRun, ReplyPermission, AnswerQuestion and SteerRun calls. */
  callTimeoutMs: number;
  /** Added to a run's timeoutMs to make its call deadline, so the remote's timed_out result still arrives. */
  deadlineSlackMs: number;
  /** A call with no answer by then has the agent probed (GetStatus); if that fails too, the run fails AGENT_UNAVAILABLE. */
  connectTimeoutMs: number;
}

/**
 * One `Execute` server stream per run, with `CancelRun`, `ReplyPermission`, `AnswerQuestion` and `SteerRun` beside it: for
 * HTTP/1.1 and gRPC-Web, where a client cannot stream both ways.
 */
export class ExecuteLink implements RunLink {
  private readonly calls = new Map<string, { run: RelayedRun; controller: AbortController }>();

  constructor(
    private readonly client: Client<WireAgentService>,
    private readonly options: ExecuteLinkOptions,
  ) {}

  start(run: RelayedRun, request: ProtoAgentRequest): void {
    const controller = new AbortController();
    this.calls.set(run.id, { run, controller });
    const timeoutMs = request.timeoutMs === undefined ? undefined : request.timeoutMs + this.options.deadlineSlackMs;
    let reached = false;
    let unreachable: Error | undefined;
    // A run may rightly be silent for long; a host that does not answer at all is another matter.
    const probe = setTimeout(() => {
      if (reached || run.ended) return;
      this.client.getStatus({}, { timeoutMs: this.options.callTimeoutMs }).catch((error: unknown) => {
        if (reached || run.ended) return;
        const reason =
          error instanceof ConnectError ? forgeErrorFromConnect(error, this.options.target).message : String(error);
        unreachable = new TransportError(
          TransportCodes.UNAVAILABLE,
          reason.startsWith('Could not reach') ? reason : `Could not reach ${this.options.target}: ${reason}`,
        );
        controller.abort(unreachable);
      });
    }, this.options.connectTimeoutMs);
    probe.unref?.();
    void (async () => {
      try {
        const call = this.client.execute(
          { runId: run.id, request },
          { signal: controller.signal, ...(timeoutMs ? { timeoutMs } : {}) },
        );
        for await (const res of call) {
          reached = true;
          let behind = false;
          for (const bytes of res.events) if (!run.deliver(decodeEvent(bytes))) behind = true;
          if (behind) await run.drained();
        }
        if (!run.ended) run.endLocally(endForStreamError(undefined, this.options.target, reached));
      } catch (error) {
        if (!run.ended) run.endLocally(endForStreamError(unreachable ?? error, this.options.target, reached));
      } finally {
        clearTimeout(probe);
        this.calls.delete(run.id);
      }
    })();
    // A run ended on this side (its stop grace ran out) must not go on over there.
    void run.result.then(() => {
      if (run.endedHere) controller.abort();
    });
  }

  cancel(runId: string, reason?: string): void {
    const call = this.calls.get(runId);
    if (!call) return;
    const giveUp = () => {
      // The server cancels a run whose caller leaves; its last events are then lost to us.
      call.controller.abort();
      call.run.endLocally({
        status: 'cancelled',
        code: 'CANCELLED',
        message: `The run was cancelled${reason ? `: ${reason}` : ''}`,
      });
    };
    const attempt = (retries: number): void => {
      this.client.cancelRun({ runId, reason }, { timeoutMs: this.options.callTimeoutMs }).then((res) => {
        if (res.cancelled || call.run.ended) return;
        // Not live there: the Execute call may not have arrived yet (calls are separate
        // streams), or the run has just ended and its last events are on the way.
        if (retries > 0) setTimeout(() => !call.run.ended && attempt(retries - 1), 50).unref();
        else giveUp();
      }, giveUp);
    };
    attempt(2);
  }

  async respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    try {
      await this.client.replyPermission(
        { runId, permissionId, decision: decisionToProto(decision), message },
        { timeoutMs: this.options.callTimeoutMs },
      );
    } catch (error) {
      throw error instanceof ConnectError ? forgeErrorFromConnect(error, this.options.target) : error;
    }
  }

  async answer(runId: string, questionId: string, answers: string[][]): Promise<void> {
    try {
      await this.client.answerQuestion(
        { runId, questionId, answers: answers.map((values) => ({ values })) },
        { timeoutMs: this.options.callTimeoutMs },
      );
    } catch (error) {
      throw error instanceof ConnectError ? forgeErrorFromConnect(error, this.options.target) : error;
    }
  }

  async steer(runId: string, text: string): Promise<void> {
    try {
      await this.client.steerRun({ runId, text }, { timeoutMs: this.options.callTimeoutMs });
    } catch (error) {
      throw error instanceof ConnectError ? forgeErrorFromConnect(error, this.options.target) : error;
    }
  }

  close(): void {
    for (const { run, controller } of this.calls.values()) {
      controller.abort();
      run.endLocally({
        status: 'cancelled',
        code: TransportCodes.CLIENT_CLOSED,
        message: 'The client was closed while the run was live',
      });
    }
  }
}
