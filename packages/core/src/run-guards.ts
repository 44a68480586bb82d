import { CoreErrorCode } from './error-codes.js';
import type { Pricing } from './agent-policy-options.js';
import { compileApprovals, type ApprovalMatcher } from './approval-rules.js';
import { BudgetMeter } from './budget-meter.js';
import type { AgentEvent, AgentEventInit } from './events.js';
import type { Logger } from './logger.js';
import type { AgentRequest } from './request.js';

export const QUESTION_UNANSWERED = CoreErrorCode.QUESTION_UNANSWERED;

/** What the guards need of the run they watch. */
export interface GuardHooks {
  /** The adapter's permission responder, when it has installed one. */
  responder(): ((id: string, decision: 'allow' | 'deny', message: string) => Promise<void>) | undefined;
  emit(init: AgentEventInit): void;
  /** Removes a waiting request from `pending()`; false when it is no longer waiting. */
  dropPermission(id: string): boolean;
  dropQuestion(id: string): boolean;
  /** Stops the run the gentle way (the adapter's cancel, session kept), ending it `cancelled`. */
  cancel(detail: string): void;
  /** Stops the run the same way, ending it `failed` with this error. */
  fail(code: string, message: string): void;
  logger: Logger;
}

/**
 * The request's run policies, enforced by core for every adapter: `approvals` (rules answer a permission request
 * before the host sees it; `unanswered` deadlines), `questions.unanswered`, and `budget` (counted from `usage`
 * events). Deadline timers are unref'd, cleared when answered, and all cleared by `dispose` when the run ends.
 */
export class RunGuards {
  private readonly match: ApprovalMatcher | undefined;
  private readonly meter: BudgetMeter | undefined;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private disposed = false;

  constructor(
    private readonly request: AgentRequest,
    private readonly hooks: GuardHooks,
    pricing?: Pricing,
  ) {
    this.match = request.approvals ? compileApprovals(request.approvals) : undefined;
    this.meter = request.budget ? new BudgetMeter(request.budget, pricing, request.model) : undefined;
  }

  /** True when nothing is watched, so the run skips the guards entirely. */
  get idle(): boolean {
    return !this.match && !this.meter && !this.request.questions?.unanswered;
  }

  /**
   * Called before a `permission.requested` reaches the host: true when a rule answered it (`permission.resolved`
   * by `rule` is emitted instead, and the adapter gets the decision).
   */
  decide(id: string, tool: string, input: unknown): boolean {
    if (!this.match) return false;
    const decision = this.match(tool, input);
    const responder = this.hooks.responder();
    if (decision === 'ask' || !responder) return false;
    this.hooks.emit({ type: 'permission.resolved', id, decision, by: 'rule' });
    const message = decision === 'deny' ? `denied by a rule of the run's approvals (${tool})` : 'allowed by a rule';
    this.answer(responder, id, decision, message);
    return true;
  }

  /** Called with every event after it was emitted. */
  observe(event: AgentEvent): void {
    switch (event.type) {
      case 'permission.requested': {
        const unanswered = this.request.approvals?.unanswered;
        if (unanswered) this.deadline(event.id, unanswered.afterMs, () => this.permissionUnanswered(event.id));
        return;
      }
      case 'question.requested': {
        const unanswered = this.request.questions?.unanswered;
        if (unanswered) this.deadline(event.id, unanswered.afterMs, () => this.questionUnanswered(event.id));
        return;
      }
      case 'session.started':
        this.meter?.setModel(event.model);
        return;
      case 'usage': {
        if (!this.meter) return;
        const verdict = this.meter.add(event.usage, event.costUsd);
        if (!verdict.over) return;
        const { code, message } = verdict;
        this.hooks.emit({
          type: 'error',
          code,
          message,
          retryable: false,
          details: { spent: this.meter.snapshot(), budget: this.request.budget },
        });
        // On a later tick: the adapter is inside its own emit call, and its cancel must not run in the middle of it.
        queueMicrotask(() => this.hooks.fail(code, message));
        return;
      }
      default:
    }
  }

  /** The host answered `id`: its deadline no longer applies. */
  answered(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private deadline(id: string, afterMs: number, fire: () => void): void {
    if (this.disposed) return;
    this.answered(id);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      if (!this.disposed) fire();
    }, afterMs);
    timer.unref?.();
    this.timers.set(id, timer);
  }

  private permissionUnanswered(id: string): void {
    const unanswered = this.request.approvals!.unanswered!;
    if (!this.hooks.dropPermission(id)) return;
    const detail = `permission request ${id} was not answered within ${unanswered.afterMs} ms`;
    if (unanswered.decision === 'cancel') {
      this.hooks.emit({ type: 'permission.resolved', id, decision: 'cancel', by: 'unanswered' });
      this.hooks.cancel(detail);
      return;
    }
    this.hooks.emit({ type: 'permission.resolved', id, decision: 'deny', by: 'unanswered' });
    const responder = this.hooks.responder();
    if (responder) this.answer(responder, id, 'deny', `denied: ${detail}`);
  }

  private questionUnanswered(id: string): void {
    const unanswered = this.request.questions!.unanswered!;
    if (!this.hooks.dropQuestion(id)) return;
    const detail = `question ${id} was not answered within ${unanswered.afterMs} ms`;
    this.hooks.emit({ type: 'question.resolved', id, by: 'unanswered' });
    if (unanswered.action === 'cancel') this.hooks.cancel(detail);
    else this.hooks.fail(QUESTION_UNANSWERED, `The run failed: ${detail}`);
  }

  private answer(
    responder: (id: string, decision: 'allow' | 'deny', message: string) => Promise<void>,
    id: string,
    decision: 'allow' | 'deny',
    message: string,
  ): void {
    // The answer goes to the adapter asynchronously; a failure there (its process gone) ends the run by itself.
    void Promise.resolve()
      .then(() => responder(id, decision, message))
      .catch((error: unknown) => this.hooks.logger.warn('could not answer a permission request', { id, error }));
  }
}
