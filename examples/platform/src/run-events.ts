import { emptyUsage, type AgentEvent, type AgentResult } from '@forge/core';
import type { NewEvent, RunEnd, RunRecord } from '@forge/store';

/**
 * An event's JSON, as the journal keeps it and SSE readers get it. Events come from JSON-speaking
 * providers; the fallback keeps a stray BigInt or cycle (a custom adapter's `input`) from losing one.
 */
export function eventJson(event: AgentEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(event, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}

/** The outbox row's webhook-id: one per (request, seq), so a redelivery after a restart carries the same. */
export const webhookIdOf = (requestId: string, seq: number) => `msg_${requestId.replace(/^req_/, '')}_${seq}`;

export function journalEvent(event: AgentEvent, withWebhook: boolean): NewEvent {
  return {
    seq: event.seq,
    type: event.type,
    time: event.time,
    body: eventJson(event),
    ...(withWebhook ? { webhookId: webhookIdOf(event.runId, event.seq) } : {}),
  };
}

export function runEnd(result: AgentResult, finishedAt: number, release: boolean): RunEnd {
  return {
    status: result.status,
    result: JSON.parse(JSON.stringify(result)) as Record<string, unknown>,
    ...(result.error ? { error: { ...result.error } } : {}),
    finishedAt,
    release,
  };
}

/**
 * The one run.completed of a run that is ended here rather than by its agent: a queued run
 * cancelled, a run whose instance died (PLATFORM_RESTARTED), an agent that is gone.
 */
export function endedHere(
  run: RunRecord,
  seq: number,
  now: number,
  status: 'failed' | 'cancelled',
  error: { code: string; message: string; retryable: boolean },
): { event: NewEvent; end: RunEnd } {
  const result: AgentResult = {
    status,
    text: '',
    usage: emptyUsage(),
    durationMs: run.startedAt === undefined ? 0 : Math.max(0, now - run.startedAt),
    turns: 0,
    error,
  };
  const event: AgentEvent = {
    type: 'run.completed',
    runId: run.requestId,
    seq,
    time: now,
    provider: 'platform',
    result,
  };
  return { event: journalEvent(event, run.webhook !== undefined), end: runEnd(result, now, run.webhook === undefined) };
}
