import type { AgentEvent } from '@forge/core';

export type WebhookEventType = 'agent.event' | 'agent.error' | 'agent.complete';

/** The JSON body of every webhook POST. */
export interface WebhookPayload {
  event_type: WebhookEventType;
  agent_id: string;
  request_id: string;
  /** The event's `seq` (1, 2, 3… per run); deliveries of one request arrive in this order. */
  seq: number;
  /** True exactly once per request: on the `run.completed` event (`event_type: agent.complete`). */
  is_final: boolean;
  event: AgentEvent;
  /**
   * Only with `webhook_payload: "native"`, on events whose adapter kept one: the provider's own event as it was
   * read (an OpenCode server event, a Claude Code stream-json line, an ACP notification…).
   */
  native_event?: unknown;
  /** The native event's own type, where it names one (OpenCode's `message.part.updated`, Claude's `assistant`). */
  native_event_type?: string;
}

export interface WebhookPayloadOptions {
  /** Keep the provider's native `raw` event in `event` (default false: it is large and provider-specific). */
  includeRaw?: boolean;
  /** Add the provider's native event beside `event` as `native_event` (+ `native_event_type`). */
  native?: boolean;
}

export function webhookEventType(event: AgentEvent): WebhookEventType {
  if (event.type === 'run.completed') return 'agent.complete';
  if (event.type === 'error') return 'agent.error';
  return 'agent.event';
}

export function webhookPayload(
  agentId: string,
  requestId: string,
  event: AgentEvent,
  options: WebhookPayloadOptions = {},
): WebhookPayload {
  let body: AgentEvent = event;
  if (!options.includeRaw && 'raw' in event) {
    const { raw: _raw, ...rest } = event;
    body = rest as AgentEvent;
  }
  const raw = 'raw' in event ? event.raw : undefined;
  const nativeType =
    typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string'
      ? (raw as { type: string }).type
      : undefined;
  return {
    event_type: webhookEventType(event),
    agent_id: agentId,
    request_id: requestId,
    seq: event.seq,
    is_final: event.type === 'run.completed',
    event: body,
    ...(options.native && raw !== undefined ? { native_event: raw } : {}),
    ...(options.native && nativeType !== undefined ? { native_event_type: nativeType } : {}),
  };
}

/**
 * JSON for a payload. Events come from JSON-speaking providers, so plain JSON.stringify nearly always works;
 * the fallback keeps a stray BigInt or cycle (a custom adapter's `input`) from losing the event.
 */
export function serializePayload(payload: WebhookPayload): string {
  try {
    return JSON.stringify(payload);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(payload, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}
