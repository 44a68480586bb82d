import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FakeHangReply, FakeStatusReply } from './fake-api-reply.js';
import { type JsonRequest, readJsonRequest, sendJson } from './json-request.js';
import { type LoopbackAddress, type LoopbackServer, startLoopbackServer } from './loopback-server.js';

/** What makes a fake model API one API and not another. */
export interface FakeApiHandlers<R> {
  /** What the fake keeps of a request, in `requests`, for tests to read. */
  record(request: JsonRequest): R;
  /** Answers a request once it is recorded; `pathname` is its path without the query. */
  answer(req: IncomingMessage, res: ServerResponse, record: R, pathname: string): Promise<void>;
  /** The imitated API's error body. */
  errorBody(status: number, message: string): unknown;
  /** Headers the imitated API puts on every JSON answer (a request id). */
  headers?(): OutgoingHttpHeaders;
}

/** A started fake model API, as a test holds it. */
export interface FakeModelApi<R> {
  /** The base URL to point the CLI at. */
  url: string;
  /** Every request received, in order (model turns, token counts, probes). */
  requests: R[];
  close(): Promise<void>;
}

export interface FakeApiServer<R> extends LoopbackServer {
  /** Every request received, in order. */
  readonly requests: R[];
  /** Answers with a JSON body and the API's headers. */
  sendJson(res: ServerResponse, status: number, body: unknown): void;
  /**
   * Answers the two replies every fake takes besides its own and hands any other back: a status (an HTTP error,
   * with the API's error body unless one is given) and a hang (not even headers: the client waits on the
   * response, as on a stuck upstream, until it leaves or the fake closes).
   */
  answerStatusOrHang<T extends object>(
    res: ServerResponse,
    reply: T,
  ): Promise<Exclude<T, FakeStatusReply | FakeHangReply> | undefined>;
}

/**
 * The loop every fake model API runs (Anthropic, OpenAI Responses, Gemini): on loopback, read each request whole
 * (JSON body, flattened headers), record it, then answer it the API's way; a handler that throws before it writes
 * gets the API's 500.
 */
export async function startFakeApiServer<R>(
  address: LoopbackAddress,
  handlers: FakeApiHandlers<R>,
): Promise<FakeApiServer<R>> {
  const requests: R[] = [];
  const send = (res: ServerResponse, status: number, body: unknown) =>
    sendJson(res, status, body, handlers.headers?.() ?? {});
  const server = await startLoopbackServer({
    host: address.host,
    port: address.port,
    onError: (res, error) => send(res, 500, handlers.errorBody(500, `fake server error: ${(error as Error)?.message}`)),
    async handle(req, res) {
      const request = await readJsonRequest(req);
      const record = handlers.record(request);
      requests.push(record);
      await handlers.answer(req, res, record, request.path.split('?')[0]!);
    },
  });
  return Object.assign(server, {
    requests,
    sendJson: send,
    async answerStatusOrHang<T extends object>(res: ServerResponse, reply: T) {
      const common = reply as T | FakeStatusReply | FakeHangReply;
      if ('hang' in common) {
        await new Promise<void>((resolve) => {
          res.on('close', resolve);
          server.closing.addEventListener('abort', () => resolve(), { once: true });
        });
        return undefined;
      }
      if ('status' in common) {
        const message = common.message ?? `fake error ${common.status}`;
        send(res, common.status, common.body ?? handlers.errorBody(common.status, message));
        return undefined;
      }
      return reply as Exclude<T, FakeStatusReply | FakeHangReply>;
    },
  });
}
