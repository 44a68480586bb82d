import type { KeyObject } from 'node:crypto';
import type { AgentEvent, Clock, Logger } from '@forge/core';
import { backoffDelay } from '@forge/core/internal';
import { parseRetryAfter } from './retry-after.js';
import { serializePayload, webhookPayload } from './payload.js';
import { webhookHeaders } from './signature.js';
import type { PostOutcome, Transport } from './transport.js';
import type { CheckedUrl } from './url-guard.js';
import type { WebhookChannel as WebhookChannelPort, WebhookSendOptions } from '../webhook-port.js';

export type WebhookGiveUpReason =
  /** A delivery kept failing (5xx, 429, network, timeout) until its retry window ran out. */
  | 'retry_window_exhausted'
  /** The receiver fell so far behind that the queue passed maxQueuedPerRequest (or its byte bound). */
  | 'queue_full'
  /** The dispatcher was closed. */
  | 'closed'
  /** The receiver answered 410 Gone: it wants no more deliveries. */
  | 'gone'
  /** The host now resolves to an address the SSRF guard refuses (DNS changed since open). */
  | 'url_refused'
  /** maxConsecutiveRejections deliveries in a row were rejected with a non-retryable status. */
  | 'too_many_rejections'
  /** A bug in delivery itself; the message says what. */
  | 'internal_error';

export interface WebhookDeliveryReport {
  /** Events the receiver acknowledged with 2xx. */
  delivered: number;
  /** Events not delivered: rejected (non-retryable status), given up on, or dropped with the rest of the queue. */
  failed: number;
  /** Set when the channel stopped before delivering everything; `seq` is the event it stopped at. */
  gaveUp?: { reason: WebhookGiveUpReason; seq?: number; message: string };
}

// The send options and the channel's shape are the platform's port (../webhook-port.ts); this module implements it.
export type { WebhookSendOptions };

export interface WebhookChannel extends WebhookChannelPort {
  /** Resolves (never rejects) when the final event (run.completed) was delivered or delivery gave up. */
  readonly done: Promise<WebhookDeliveryReport>;
}

export interface ChannelSettings {
  transport: Transport;
  clock: Clock;
  logger: Logger;
  random: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  newMessageId: () => string;
  userAgent: string;
  includeRaw: boolean;
  requestTimeoutMs: number;
  maxRetryWindowMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  maxQueuedPerRequest: number;
  maxQueuedBytesPerRequest: number;
  maxConsecutiveRejections: number;
}

export interface ChannelTarget {
  agentId: string;
  requestId: string;
  url: CheckedUrl;
  key: KeyObject | undefined;
  /** Add each event's native provider event to its payload. */
  native?: boolean;
}

interface Message {
  /** webhook-id: the same on every attempt of this message, so receivers can deduplicate retries. */
  id: string;
  seq: number;
  final: boolean;
  body: string;
  onSettled: WebhookSendOptions['onSettled'];
}

type Delivery = 'delivered' | 'rejected' | 'stopped';

/**
 * One request's ordered delivery: a queue drained by a single loop, so at most one POST is in flight and event N+1
 * is never sent before event N is settled. Channels share nothing but the connection pool, so one dead receiver
 * costs only its own channel.
 */
export class DeliveryChannel implements WebhookChannel {
  readonly done: Promise<WebhookDeliveryReport>;
  private resolveDone!: (report: WebhookDeliveryReport) => void;
  private readonly queue: Message[] = [];
  private queuedBytes = 0;
  private running = false;
  private sawFinal = false;
  private finished = false;
  private delivered = 0;
  private failed = 0;
  private rejectionsInARow = 0;
  private lastSeq: number | undefined;
  private readonly stopper = new AbortController();

  constructor(
    private readonly target: ChannelTarget,
    private readonly settings: ChannelSettings,
    private readonly onFinish: () => void,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get queued(): number {
    return this.queue.length;
  }

  send(event: AgentEvent, options?: WebhookSendOptions): void {
    try {
      this.enqueue(event, options);
    } catch (error) {
      // A bug here must not reach the run that is emitting events; the event is lost, and said so.
      this.failed++;
      this.settings.logger.error('webhook: could not queue an event', {
        ...this.logFields(),
        seq: event?.seq,
        error: String(error),
      });
    }
  }

  /** Stops at once: aborts the POST in flight, cancels retries, drops the queue. */
  stop(reason: WebhookGiveUpReason = 'closed', message = 'The webhook dispatcher was closed'): void {
    this.giveUp(reason, this.queue[0]?.seq ?? this.lastSeq, message);
  }

  private enqueue(event: AgentEvent, options: WebhookSendOptions | undefined): void {
    if (this.finished) {
      this.settings.logger.debug('webhook: event after the channel finished, dropped', {
        ...this.logFields(),
        seq: event.seq,
      });
      return;
    }
    if (this.sawFinal) {
      this.settings.logger.warn('webhook: event after run.completed, dropped', { ...this.logFields(), seq: event.seq });
      return;
    }
    const final = event.type === 'run.completed';
    const body = serializePayload(
      webhookPayload(this.target.agentId, this.target.requestId, event, {
        includeRaw: this.settings.includeRaw,
        native: this.target.native === true,
      }),
    );
    this.lastSeq = event.seq;
    const { maxQueuedPerRequest, maxQueuedBytesPerRequest } = this.settings;
    if (this.queue.length >= maxQueuedPerRequest || this.queuedBytes + body.length > maxQueuedBytesPerRequest) {
      this.failed++; // this event, which never made it into the queue
      this.giveUp(
        'queue_full',
        event.seq,
        `More than ${maxQueuedPerRequest} events (or ${maxQueuedBytesPerRequest} bytes) waiting: the receiver is too slow`,
      );
      return;
    }
    this.queue.push({
      id: options?.webhookId ?? this.settings.newMessageId(),
      seq: event.seq,
      final,
      body,
      onSettled: options?.onSettled,
    });
    this.queuedBytes += body.length;
    if (final) this.sawFinal = true;
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.finished) {
        const message = this.queue[0]!;
        const result = await this.deliver(message);
        if (result === 'stopped' || this.finished) break;
        this.queue.shift();
        this.queuedBytes -= message.body.length;
        try {
          message.onSettled?.(result);
        } catch (error) {
          this.settings.logger.error('webhook: onSettled failed', {
            ...this.logFields(),
            seq: message.seq,
            error: String(error),
          });
        }
        if (result === 'delivered') {
          this.delivered++;
          this.rejectionsInARow = 0;
        } else {
          this.failed++;
          if (++this.rejectionsInARow >= this.settings.maxConsecutiveRejections) {
            this.giveUp(
              'too_many_rejections',
              message.seq,
              `${this.rejectionsInARow} deliveries in a row were rejected`,
            );
            break;
          }
        }
        if (message.final) this.finish(undefined);
      }
    } catch (error) {
      this.giveUp('internal_error', this.queue[0]?.seq, String(error));
    } finally {
      this.running = false;
    }
  }

  private async deliver(message: Message): Promise<Delivery> {
    const settings = this.settings;
    const clock = settings.clock;
    const started = clock.now();
    for (let attempt = 1; ; attempt++) {
      const timestamp = Math.floor(clock.now() / 1000);
      const outcome = await settings.transport({
        url: this.target.url.url,
        headers: this.headers(message, timestamp),
        body: message.body,
        signal: this.stopper.signal,
        timeoutMs: settings.requestTimeoutMs,
      });
      if (this.finished) return 'stopped';
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        if (attempt > 1)
          settings.logger.info('webhook: delivered after retrying', this.attemptFields(message, attempt, outcome));
        return 'delivered';
      }
      // For the log lines below; the success above, nearly every delivery, logs nothing and builds none.
      const fields = () => this.attemptFields(message, attempt, outcome);
      if (outcome.kind === 'error' && outcome.reason === 'aborted') return 'stopped';
      if (outcome.kind === 'error' && outcome.reason === 'refused') {
        this.giveUp('url_refused', message.seq, outcome.message);
        return 'stopped';
      }
      if (outcome.kind === 'response' && outcome.status === 410) {
        this.giveUp('gone', message.seq, 'The receiver answered 410 Gone');
        return 'stopped';
      }
      const retryable = outcome.kind === 'error' || outcome.status >= 500 || outcome.status === 429;
      if (!retryable) {
        // 3xx (redirects are never followed: the target could be anywhere) and 4xx: the receiver refused this
        // event; repeating it would only be refused again. The next event may still be welcome.
        settings.logger.warn('webhook: rejected by the receiver, not retried; moving on to the next event', fields());
        return 'rejected';
      }

      const now = clock.now();
      const retryAfter = outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, now) : undefined;
      // Never earlier than Retry-After asks; never a tight loop when it says 0 again and again.
      const delay = Math.max(
        retryAfter ?? 0,
        backoffDelay(attempt, settings.retryBaseDelayMs, settings.retryMaxDelayMs, settings.random),
      );
      if (now - started + delay > settings.maxRetryWindowMs) {
        const why =
          retryAfter !== undefined ? `Retry-After asks for ${delay} ms` : `the next retry would be in ${delay} ms`;
        this.giveUp(
          'retry_window_exhausted',
          message.seq,
          `Delivery failed ${attempt} time(s) over ${now - started} ms (last: ${describe(outcome)}) and ${why}, past the ${settings.maxRetryWindowMs} ms retry window`,
        );
        return 'stopped';
      }
      settings.logger.debug('webhook: delivery failed, will retry', { ...fields(), delayMs: delay });
      await settings.sleep(delay, this.stopper.signal);
      if (this.finished) return 'stopped';
    }
  }

  private headers(message: Message, timestamp: number): Record<string, string> {
    // One object per attempt, filled in place (no spreads: this runs for every POST).
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.settings.userAgent,
    };
    webhookHeaders(this.target.key, message.id, timestamp, message.body, headers);
    if (this.target.url.authorization) headers.authorization = this.target.url.authorization;
    return headers;
  }

  private giveUp(reason: WebhookGiveUpReason, seq: number | undefined, message: string): void {
    if (this.finished) return;
    const dropped = this.queue.length;
    this.failed += dropped;
    const fields = {
      ...this.logFields(),
      reason,
      seq,
      dropped,
      delivered: this.delivered,
      failed: this.failed,
      message,
    };
    if (reason === 'closed' && dropped === 0) this.settings.logger.info('webhook: channel closed', fields);
    else this.settings.logger.warn('webhook: delivery gave up', fields);
    this.finish({ reason, ...(seq === undefined ? {} : { seq }), message });
  }

  private finish(gaveUp: WebhookDeliveryReport['gaveUp']): void {
    if (this.finished) return;
    this.finished = true;
    this.stopper.abort();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.resolveDone({ delivered: this.delivered, failed: this.failed, ...(gaveUp ? { gaveUp } : {}) });
    this.onFinish();
  }

  private attemptFields(message: Message, attempt: number, outcome: PostOutcome): Record<string, unknown> {
    return { ...this.logFields(), seq: message.seq, webhookId: message.id, attempt, ...outcomeFields(outcome) };
  }

  /** What every log line carries. Never the secret; the URL without credentials or query. */
  private logFields(): Record<string, unknown> {
    return { agentId: this.target.agentId, requestId: this.target.requestId, url: this.target.url.display };
  }
}

function outcomeFields(outcome: PostOutcome): Record<string, unknown> {
  return outcome.kind === 'response' ? { status: outcome.status } : { error: outcome.reason, detail: outcome.message };
}

function describe(outcome: PostOutcome): string {
  return outcome.kind === 'response' ? `HTTP ${outcome.status}` : `${outcome.reason}: ${outcome.message}`;
}
