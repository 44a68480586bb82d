import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { SeenWebhookStore } from '@forge/store';
import type { AddressInfo } from 'node:net';
import { createWebhookVerifier, WebhookVerificationError, type WebhookPayload } from './webhooks/index.js';

export interface ReceivedWebhook {
  /** webhook-id: the same on every retry of one event. */
  id: string;
  payload: WebhookPayload;
}

/** What to do with an incoming POST before it is verified: answer with a status, or never answer. */
export type ReceiverBehaviour = (attempt: { n: number; headers: IncomingHttpHeaders }) => number | 'hang' | undefined;

export interface WebhookReceiverOptions {
  /** The secret the platform signs with (the message's `webhook_secret`). */
  secret: string;
  host?: string;
  port?: number;
  /** Called once per verified event (retries of one event are not repeated). */
  onEvent?: (webhook: ReceivedWebhook) => void;
  /** Test seam: fail or hang some requests. Default: accept every one. */
  behaviour?: ReceiverBehaviour;
  /**
   * Webhook ids already handled, in a database: a redelivery is dropped even after this receiver
   * restarts (or by another receiver sharing it). Without one, duplicates are dropped while it runs.
   */
  seen?: SeenWebhookStore;
  /** How long `seen` remembers an id. Default 24 h (the platform retries a delivery for minutes, resumes it after a restart). */
  seenTtlMs?: number;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Verified events, in arrival order. */
  readonly received: ReceivedWebhook[];
  /** Requests that failed verification (bad signature, stale timestamp…). */
  readonly rejected: Array<{ code: string }>;
  /** Verified redeliveries of an already handled webhook-id, acknowledged and dropped. */
  readonly duplicates: number;
  /** Every POST that arrived, verified or not. */
  readonly attempts: number;
  /** Resolves with the request's events once its final one (is_final) has arrived. */
  final(requestId: string): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 that does what a real one should: read the raw body, verify the
 * Standard Webhooks signature and timestamp (rejecting replays), answer 2xx fast, and treat a
 * redelivered webhook-id as already handled.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const verifier = createWebhookVerifier(options.secret);
  const received: ReceivedWebhook[] = [];
  const rejected: Array<{ code: string }> = [];
  const waiters = new Map<string, Array<(events: ReceivedWebhook[]) => void>>();
  let attempts = 0;
  let duplicates = 0;

  const server = createServer((req, res) => {
    const n = ++attempts;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const verdict = options.behaviour?.({ n, headers: req.headers });
      if (verdict === 'hang') return;
      if (verdict !== undefined) {
        res.writeHead(verdict).end();
        return;
      }
      void (async () => {
        let handling: string | undefined;
        try {
          const { id, payload } = verifier.verify(req.headers, Buffer.concat(chunks));
          handling = id;
          if (options.seen && !(await options.seen.remember(id, Date.now(), options.seenTtlMs ?? 86_400_000))) {
            duplicates++;
            return void res.writeHead(200).end();
          }
          const webhook = { id, payload };
          received.push(webhook);
          options.onEvent?.(webhook);
          if (payload.is_final) {
            const events = received.filter((w) => w.payload.request_id === payload.request_id);
            for (const resolve of waiters.get(payload.request_id) ?? []) resolve(events);
            waiters.delete(payload.request_id);
          }
          res.writeHead(204).end();
        } catch (error) {
          const code = error instanceof WebhookVerificationError ? error.code : 'INTERNAL';
          // A redelivery of an event already handled: acknowledge it so the sender stops.
          if (code === 'WEBHOOK_REPLAYED') {
            duplicates++;
            return void res.writeHead(200).end();
          }
          rejected.push({ code });
          // Not handled after all: the sender's retry of this id must be let in.
          if (code === 'INTERNAL' && handling !== undefined) verifier.forget(handling);
          res.writeHead(code === 'INTERNAL' ? 500 : 400).end();
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/forge-webhook`,
    received,
    rejected,
    get duplicates() {
      return duplicates;
    },
    get attempts() {
      return attempts;
    },
    final(requestId) {
      const done = received.filter((w) => w.payload.request_id === requestId);
      if (done.some((w) => w.payload.is_final)) return Promise.resolve(done);
      return new Promise((resolve) => waiters.set(requestId, [...(waiters.get(requestId) ?? []), resolve]));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A 'hang' behaviour leaves requests open; close them too.
        server.closeAllConnections();
      });
    },
  };
}
