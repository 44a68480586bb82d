import type { AgentEvent } from '@forge/core';

/**
 * What the platform needs from webhook delivery (implemented by ./webhooks/): one ordered channel
 * per request whose `send` never blocks, ending after `run.completed`.
 */
export interface WebhookChannel {
  send(event: AgentEvent): void;
  readonly done: Promise<unknown>;
}

export interface WebhookOpenOptions {
  url: string;
  secret?: string;
  agentId: string;
  requestId: string;
}

export interface WebhookDispatcherPort {
  /** Throws a ForgeError of category 'validation' (WebhookUrlError) for a URL it will not deliver to. */
  open(options: WebhookOpenOptions): Promise<WebhookChannel>;
  close(): Promise<void>;
}
