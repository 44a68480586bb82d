import { emptyUsage, type AgentEvent, type AgentResult } from '@forge/core';
import type { NewEvent, RunEnd, RunRecord, RunUsageFigures } from '@forge/store';

/**
 * An event's JSON, as the journal keeps it and SSE readers get it, whatever it holds. Core bounds
 * depth and size where events are built; a BigInt (or a value whose toJSON throws) from a custom
 * adapter would still make JSON.stringify throw and lose the event. Then the odd values are
 * spelled out, or, failing that, the body is marked.
 */
export function eventJson(event: AgentEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    try {
      return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    } catch (error) {
      const { runId, seq, time, provider, type } = event;
      return JSON.stringify({ runId, seq, time, provider, type, $unserialisable: String((error as Error)?.message) });
    }
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

export function runEnd(result: AgentResult, finishedAt: number, release: boolean, usage?: RunUsageFigures): RunEnd {
  return {
    status: result.status,
    result: JSON.parse(JSON.stringify(result)) as Record<string, unknown>,
    ...(result.error ? { error: { ...result.error } } : {}),
    finishedAt,
    release,
    ...(usage ? { usage } : {}),
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
  usage?: RunUsageFigures,
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
  return {
    event: journalEvent(event, run.webhook !== undefined),
    end: runEnd(result, now, run.webhook === undefined, usage && { ...usage, durationMs: result.durationMs }),
  };
}
