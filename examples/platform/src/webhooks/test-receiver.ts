import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookPayload } from './payload.js';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  payload: WebhookPayload;
}

/**
 * How the receiver answers one request: a status (with headers), or 'hang' to never answer. `n` counts requests to
 * this path, from 1.
 */
export type ReceiverScript = (hit: ReceivedWebhook, n: number) => number | ReceiverAnswer | 'hang';

export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Reply body (default 'ok', none for 204). */
  body?: string;
  /** Send the status line and headers, then never finish the body. */
  hangBody?: boolean;
}

export interface TestReceiver {
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly hits: ReceivedWebhook[];
  hitsTo(path: string): ReceivedWebhook[];
  /** Per path; paths without a script answer 204. */
  script(path: string, script: ReceiverScript): void;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 for tests: records every POST and answers per path as scripted. */
export async function startTestReceiver(): Promise<TestReceiver> {
  const hits: ReceivedWebhook[] = [];
  const scripts = new Map<string, ReceiverScript>();
  const counts = new Map<string, number>();
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: WebhookPayload;
      try {
        payload = JSON.parse(body) as WebhookPayload;
      } catch {
        payload = undefined as unknown as WebhookPayload;
      }
      const hit: ReceivedWebhook = { path, headers: req.headers, body, payload };
      hits.push(hit);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const answer = scripts.get(path)?.(hit, n) ?? 204;
      if (answer === 'hang') return;
      const {
        status,
        headers,
        delayMs,
        body: replyBody,
        hangBody,
      }: ReceiverAnswer = typeof answer === 'number' ? { status: answer } : answer;
      const reply = () => {
        res.writeHead(status, headers);
        if (hangBody) res.write('partial');
        else res.end(status === 204 ? undefined : (replyBody ?? 'ok'));
      };
      if (delayMs) setTimeout(reply, delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hits,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hitsTo: (path) => hits.filter((h) => h.path === path),
    script: (path, script) => void scripts.set(path, script),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
