import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeApiServer, FakeHangReply, FakeModelApi, FakeStatusReply, LoopbackAddress } from '@forge/core/testing';
import { estimateTokens, splitDeltas, standInAnswer, startFakeApiServer } from '@forge/core/testing';

/** One request the fake received. */
export interface FakeApiRequest {
  /** Path with its query, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string>;
  /** Text of the newest user message, without the CLI's `<system-reminder>` blocks. */
  lastUserText: string;
  /** The newest user message carries a `tool_result` (the model is asked to go on after a tool). */
  hasToolResult: boolean;
  /** The image and document blocks of the newest user message, as the model would see them. */
  attachments: FakeApiAttachment[];
  /** Names of the tools the request offers the model. */
  tools: string[];
  /** HTTP method. */
  method: string;
}

/** An image or document block the fake received. */
export interface FakeApiAttachment {
  type: 'image' | 'document';
  mediaType: string;
  /** Size of the content: decoded bytes of base64 data, characters of text. */
  size: number;
  title?: string;
}

/** How the fake answers one model turn. */
export type FakeReply =
  /** Text, streamed in several deltas; `delayMs` pauses before each delta. */
  | { text: string; delayMs?: number }
  /** A tool call (after an optional text block); the CLI runs the tool and asks again. */
  | { toolUse: { name: string; input: unknown; id?: string }; text?: string }
  /** An HTTP error, with an Anthropic error body unless one is given. */
  | FakeStatusReply
  /** Never answers; the connection stays open until the client leaves or the fake closes. */
  | FakeHangReply;

export type FakeResponder = (req: FakeApiRequest) => FakeReply | Promise<FakeReply>;

export interface FakeAnthropicApiOptions extends LoopbackAddress {
  /** Answers each model turn (`POST /v1/messages`). Default: `defaultResponder`. */
  respond?: FakeResponder;
}

/** `url`: base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
export type FakeAnthropicApi = FakeModelApi<FakeApiRequest>;

export const FAKE_MODEL = 'claude-offline-stand-in';

/** A friendly answer that quotes the user's last message. */
export const defaultResponder: FakeResponder = (req) => ({
  text: standInAnswer(req.lastUserText, req.hasToolResult ? toolResultText(req.body) : undefined),
});

type Json = Record<string, unknown>;

function lastUserMessage(body: Json | undefined): Json | undefined {
  const messages = Array.isArray(body?.messages) ? (body!.messages as Json[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return messages[i];
  return undefined;
}

function blocks(message: Json | undefined): Json[] {
  const content = message?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Json[]) : [];
}

/** The text of the newest user message, skipping the reminders the CLI adds to it. */
export function lastUserText(body: unknown): string {
  return blocks(lastUserMessage(body as Json | undefined))
    .filter(
      (b) =>
        b?.type === 'text' &&
        typeof b.text === 'string' &&
        !(b.text as string).trimStart().startsWith('<system-reminder>'),
    )
    .map((b) => b.text as string)
    .join('\n');
}

/** The text of the newest user message's tool results. */
export function toolResultText(body: unknown): string {
  return blocks(lastUserMessage(body as Json | undefined))
    .filter((b) => b?.type === 'tool_result')
    .map((b) =>
      typeof b.content === 'string'
        ? b.content
        : blocks(b as Json)
            .map((p) => (typeof p.text === 'string' ? p.text : ''))
            .join(''),
    )
    .join('\n');
}

function attachmentsOf(body: unknown): FakeApiAttachment[] {
  return blocks(lastUserMessage(body as Json | undefined))
    .filter((b) => b?.type === 'image' || b?.type === 'document')
    .map((b) => {
      const source = (b.source ?? {}) as Json;
      const data = typeof source.data === 'string' ? source.data : '';
      const a: FakeApiAttachment = {
        type: b.type as 'image' | 'document',
        mediaType: String(source.media_type ?? ''),
        size: source.type === 'base64' ? Buffer.from(data, 'base64').length : data.length,
      };
      if (typeof b.title === 'string') a.title = b.title;
      return a;
    });
}

function toolNames(body: unknown): string[] {
  const tools = (body as Json | undefined)?.tools;
  return Array.isArray(tools) ? (tools as Json[]).map((t) => String(t?.name)) : [];
}

function hasToolResult(body: unknown): boolean {
  return blocks(lastUserMessage(body as Json | undefined)).some((b) => b?.type === 'tool_result');
}

/**
 * A small Anthropic Messages API on 127.0.0.1 for running the real Claude Code CLI offline:
 * `POST /v1/messages` streamed (SSE, as the real API: message_start, content_block_start/delta/stop,
 * message_delta with usage, message_stop) or whole, `POST /v1/messages/count_tokens`, `GET
 * /v1/models`, and a 200 for anything else (the CLI's `HEAD /` probe). Side requests of the CLI
 * (a title or summary: no tools, not the agent's system prompt) get a short text, not the responder.
 */
export async function startFakeAnthropicApi(options: FakeAnthropicApiOptions = {}): Promise<FakeAnthropicApi> {
  const respond = options.respond ?? defaultResponder;
  const http: FakeApiServer<FakeApiRequest> = await startFakeApiServer(options, {
    record: (request) => ({
      ...request,
      lastUserText: lastUserText(request.body),
      hasToolResult: hasToolResult(request.body),
      attachments: attachmentsOf(request.body),
      tools: toolNames(request.body),
    }),
    answer: handle,
    errorBody,
    headers: () => ({ 'request-id': `req_fake_${randomUUID().slice(0, 8)}` }),
  });

  async function handle(req: IncomingMessage, res: ServerResponse, record: FakeApiRequest, pathname: string) {
    const body = record.body;

    if (req.method === 'POST' && pathname.endsWith('/messages/count_tokens')) {
      return http.sendJson(res, 200, { input_tokens: estimateTokens((body as Json | undefined)?.messages) });
    }
    if (req.method === 'GET' && pathname.endsWith('/models')) {
      return http.sendJson(res, 200, {
        data: [{ type: 'model', id: FAKE_MODEL, display_name: 'Offline stand-in', created_at: '2026-01-01T00:00:00Z' }],
        has_more: false,
        first_id: FAKE_MODEL,
        last_id: FAKE_MODEL,
      });
    }
    if (req.method !== 'POST' || !pathname.endsWith('/messages')) {
      if (req.method === 'HEAD') return void res.writeHead(200).end();
      return http.sendJson(res, 200, { ok: true });
    }

    const request = body as Json | undefined;
    const reply: FakeReply = isSideRequest(request) ? { text: 'Offline stand-in' } : await respond(record);
    await answer(res, request ?? {}, reply);
  }

  async function answer(res: ServerResponse, request: Json, asked: FakeReply): Promise<void> {
    const reply = await http.answerStatusOrHang(res, asked);
    if (!reply) return;
    const model = typeof request.model === 'string' ? request.model : FAKE_MODEL;
    const id = `msg_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const inputTokens = estimateTokens(request.messages);
    const content: Json[] = [];
    if ('toolUse' in reply) {
      if (reply.text) content.push({ type: 'text', text: reply.text });
      content.push({
        type: 'tool_use',
        id: reply.toolUse.id ?? `toolu_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
        name: reply.toolUse.name,
        input: reply.toolUse.input ?? {},
      });
    } else {
      content.push({ type: 'text', text: reply.text });
    }
    const stopReason = 'toolUse' in reply ? 'tool_use' : 'end_turn';
    const outputTokens = estimateTokens(content);
    const usage = {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };

    if (request.stream !== true) {
      return http.sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage,
      });
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': `req_fake_${randomUUID().slice(0, 8)}`,
    });
    const send = (event: string, data: Json) => {
      if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    };
    const pause = 'delayMs' in reply && reply.delayMs ? reply.delayMs : 0;
    send('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    send('ping', {});
    for (let index = 0; index < content.length; index++) {
      const block = content[index]!;
      if (block.type === 'text') {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const piece of splitDeltas(block.text as string)) {
          if (pause && !(await http.sleep(pause, res))) return;
          send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        }
      } else {
        send('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        const json = JSON.stringify(block.input);
        const cut = Math.ceil(json.length / 2);
        for (const part of [json.slice(0, cut), json.slice(cut)]) {
          if (part) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } });
        }
      }
      send('content_block_stop', { index });
    }
    send('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    });
    send('message_stop', {});
    res.end();
  }

  return {
    url: http.origin,
    requests: http.requests,
    close: () => http.close(),
  };
}

/**
 * A request the CLI makes besides the agent's turns (a session title, a summary): no tools, and
 * not the agent's own system prompt. Those get a short text and never reach the responder, so a
 * scripted conversation is not thrown off by them.
 */
function isSideRequest(request: Json | undefined): boolean {
  if (Array.isArray(request?.tools) && (request!.tools as unknown[]).length > 0) return false;
  const system = JSON.stringify(request?.system ?? '');
  return !/Claude (agent|Code)/i.test(system);
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function errorBody(status: number, message: string): Json {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } };
}
