import { UnsupportedError, UnsupportedFieldError, type AgentRequest, type PermissionDecision } from '@forge/core';
import type { RelayedRun, RunLink } from '@forge/core/internal';
import type { AgentRequest as ProtoAgentRequest } from './gen/forge/agent/v1/agent_pb.js';
import { fieldsBeyondRevision, SESSION_STORE_REVISION } from './protocol-revision.js';

/** A link that starts runs (ConnectLink, ExecuteLink). */
export interface StartingLink extends RunLink {
  start(run: RelayedRun, request: ProtoAgentRequest): void;
}

/**
 * Holds back the start of a run whose request uses fields an older server would drop, until the server's
 * `protocol_revision` is known: a server that reads them gets the run, one that does not never sees it and the run
 * fails here with UNSUPPORTED_FIELD naming the fields (or, for a client with a session store and a server older than
 * session calls, SESSION_STORE_UNSUPPORTED). A cancel before the start ends the run here at once.
 */
export class StartGate implements RunLink {
  private run: RelayedRun | undefined;
  private started = false;
  private dropped = false;

  constructor(
    private readonly link: StartingLink,
    private readonly provider: string,
    /** The client keeps sessions in a store: a server older than session calls would leave them behind unseen. */
    private readonly sessionStore = false,
  ) {}

  start(run: RelayedRun, request: AgentRequest, wire: ProtoAgentRequest, revision: Promise<number | undefined>): void {
    this.run = run;
    void revision.then((known) => {
      if (run.ended || this.dropped) return;
      // Unknown (the server could not be asked): the link finds out what is wrong with it.
      const beyond = known === undefined ? [] : fieldsBeyondRevision(request, known);
      if (beyond.length > 0) {
        const refusal = new UnsupportedFieldError(this.provider, beyond);
        run.endLocally({
          status: 'failed',
          code: refusal.code,
          message: `${refusal.message}: the agent's server is older than these fields (protocol revision ${known}) and would drop them`,
          errorEvent: { retryable: false, details: { category: 'unsupported', ...refusal.details } },
        });
        return;
      }
      if (this.sessionStore && known !== undefined && known < SESSION_STORE_REVISION) {
        const refusal = new UnsupportedError(
          this.provider,
          `a session store: the agent's server is older than session calls (protocol revision ${known}, needs ${SESSION_STORE_REVISION}) and would leave the run's session behind`,
          'SESSION_STORE_UNSUPPORTED',
          { revision: known },
        );
        run.endLocally({
          status: 'failed',
          code: refusal.code,
          message: refusal.message,
          errorEvent: { retryable: false, details: { category: 'unsupported', ...refusal.details } },
        });
        return;
      }
      this.started = true;
      this.link.start(run, wire);
    });
  }

  cancel(runId: string, reason?: string): void {
    if (this.started) {
      this.link.cancel(runId, reason);
      return;
    }
    this.dropped = true;
    // After the caller's own ending (a timeout ends the run as timed_out right after asking to cancel).
    queueMicrotask(() =>
      this.run?.endLocally({
        status: 'cancelled',
        code: 'CANCELLED',
        message: `The run was cancelled${reason ? `: ${reason}` : ''}`,
      }),
    );
  }

  respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    return this.link.respond(runId, permissionId, decision, message);
  }

  answer(runId: string, questionId: string, answers: string[][]): Promise<void> {
    return this.link.answer!(runId, questionId, answers);
  }

  steer(runId: string, text: string): Promise<void> {
    return this.link.steer!(runId, text);
  }
}
