import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the fake model. */
export type FakeReply =
  | {
      kind: 'text';
      text: string /** Split into this many streamed chunks (default: per word). */;
      chunks?: string[] /** Pause between streamed chunks. */;
      chunkDelayMs?: number;
    }
  | { kind: 'tool'; calls: Array<{ name: string; arguments: Record<string, unknown>; id?: string }>; text?: string }
  | { kind: 'status'; status: number; body?: unknown }
  /** Never answers; the connection stays open until the client goes away or the server closes. */
  | { kind: 'hang' }
  /** Streams some text, then keeps the stream open without finishing. */
  | { kind: 'stall'; text: string };

export interface ChatRequest {
  model?: string;
  stream?: boolean;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string } }>;
  [key: string]: unknown;
}

export interface FakeOpenAiApiOptions {
  /**
   * Chooses the answer to each chat-completions request. Default: requests without tools (the
   * title generation of OpenCode) get `titleText`; after a tool result, "Tool said: <output>";
   * else an echo of the last user text.
   */
  reply?: (request: ChatRequest, index: number) => FakeReply;
  titleText?: string;
  port?: number;
}

export interface FakeOpenAiApi {
  /** Base URL including `/v1`, ready for an OpenAI-compatible provider's `baseURL`. */
  readonly url: string;
  /** Every chat-completions request received, in order. */
  readonly requests: ChatRequest[];
  close(): Promise<void>;
}

/** The text of the newest user message (string content or text parts). */
export function lastUserText(request: ChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return contentText(m.content);
  }
  return '';
}

/** True when the newest message is a tool result (the model is asked to go on after a tool). */
export function afterToolResult(request: ChatRequest): boolean {
  return request.messages[request.messages.length - 1]?.role === 'tool';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((p) => (p && typeof p === 'object' && 'text' in p ? String((p as { text: unknown }).text) : ''))
      .join('');
  return '';
}

export const defaultReply =
  (titleText: string) =>
  (request: ChatRequest): FakeReply => {
    if (!request.tools?.length) return { kind: 'text', text: titleText };
    if (afterToolResult(request))
      return {
        kind: 'text',
        text: `Tool said: ${contentText(request.messages[request.messages.length - 1]!.content).trim()}`,
      };
    return { kind: 'text', text: `You said: ${lastUserText(request)}` };
  };

/**
 * A small OpenAI-compatible chat-completions server on 127.0.0.1 (streaming SSE and plain JSON)
 * whose answers a test scripts: text, tool calls, HTTP errors, or a hang.
 */
export async function startFakeOpenAiApi(options: FakeOpenAiApiOptions = {}): Promise<FakeOpenAiApi> {
  const requests: ChatRequest[] = [];
  const reply = options.reply ?? defaultReply(options.titleText ?? 'Fake session title');
  let counter = 0;
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path?.endsWith('/models')) {
      return json(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', owned_by: 'fake' }] });
    }
    if (req.method !== 'POST' || !path?.endsWith('/chat/completions'))
      return json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    let body: ChatRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
    } catch {
      return json(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    const index = requests.length;
    requests.push(body);
    const answer = reply(body, index);
    const id = `chatcmpl-fake-${++counter}`;
    const model = body.model ?? 'fake-model';
    if (answer.kind === 'hang') return; // left open; close() destroys it
    if (answer.kind === 'status') {
      return json(
        res,
        answer.status,
        answer.body ?? { error: { message: `fake-llm: injected ${answer.status}`, type: 'server_error' } },
      );
    }
    const usage = { prompt_tokens: 10 + index, completion_tokens: 5, total_tokens: 15 + index };
    if (!body.stream) return json(res, 200, completion(id, model, answer, usage));

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
      );
    send({ role: 'assistant', content: '' }, null);
    if (answer.kind === 'text' || answer.kind === 'stall') {
      const pieces =
        answer.kind === 'text' && answer.chunks ? answer.chunks : (answer.text.match(/\S+\s*/g) ?? [answer.text]);
      for (const piece of pieces) {
        if (res.destroyed) return;
        send({ content: piece }, null);
        if (answer.kind === 'text' && answer.chunkDelayMs) await new Promise((r) => setTimeout(r, answer.chunkDelayMs));
      }
      if (answer.kind === 'stall') return;
      send({}, 'stop', { usage });
    } else {
      if (answer.text) send({ content: answer.text }, null);
      answer.calls.forEach((call, i) => {
        send(
          {
            tool_calls: [
              {
                index: i,
                id: call.id ?? `call_fake_${counter}_${i}`,
                type: 'function',
                function: { name: call.name, arguments: JSON.stringify(call.arguments) },
              },
            ],
          },
          null,
        );
      });
      send({}, 'tool_calls', { usage });
    }
    res.write('data: [DONE]\n\n');
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function completion(
  id: string,
  model: string,
  answer: Extract<FakeReply, { kind: 'text' | 'tool' | 'stall' }>,
  usage: Record<string, number>,
): unknown {
  const message =
    answer.kind === 'tool'
      ? {
          role: 'assistant',
          content: answer.text ?? null,
          tool_calls: answer.calls.map((c, i) => ({
            id: c.id ?? `call_fake_${i}`,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.arguments) },
          })),
        }
      : { role: 'assistant', content: answer.text };
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: answer.kind === 'tool' ? 'tool_calls' : 'stop' }],
    usage,
  };
}
