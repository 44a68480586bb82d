import type { AgentEvent } from '@forge/core';

/** How one event is delivered: the outbox row's stable webhook-id, and who hears how it went. */
export interface WebhookSendOptions {
  /** The `webhook-id` header, the same on every attempt and after a restart (default: a fresh one). */
  webhookId?: string;
  /** The receiver acknowledged it (2xx) or refused it for good (other 4xx/3xx): either way it is settled. */
  onSettled?: (outcome: 'delivered' | 'rejected') => void;
}

/**
 * What the platform needs from webhook delivery (implemented by ./webhooks/): one ordered channel
 * per request whose `send` never blocks, ending after `run.completed`.
 */
export interface WebhookChannel {
  send(event: AgentEvent, options?: WebhookSendOptions): void;
  readonly done: Promise<unknown>;
  /** Stops at once (shutdown); what is unsettled stays in the outbox for the next instance. */
  stop?(): void;
}

export interface WebhookOpenOptions {
  url: string;
  secret?: string;
  /** `native`: payloads carry the provider's native event too (`webhook_payload: "native"`). */
  payload?: 'native';
  agentId: string;
  requestId: string;
}

export interface WebhookDispatcherPort {
  /** Throws a ForgeError of category 'validation' (WebhookUrlError) for a URL it will not deliver to. */
  open(options: WebhookOpenOptions): Promise<WebhookChannel>;
  close(): Promise<void>;
}
