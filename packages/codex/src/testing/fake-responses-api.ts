import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeApiServer, FakeHangReply, FakeModelApi, FakeStatusReply, LoopbackAddress } from '@forge/core/testing';
import { estimateTokens, splitDeltas, standInAnswer, startFakeApiServer } from '@forge/core/testing';

/** One request the fake received. */
export interface FakeResponsesRequest {
  method: string;
  /** Path with its query, e.g. `/v1/responses`. */
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  body: any;
  /** Text of the newest user message in `input`. */
  lastUserText: string;
  /** The newest input item is a tool's output: the model is asked to go on after a tool call. */
  hasToolOutput: boolean;
  /** That output, when there is one. */
  toolOutput: string;
  /** The offered tools' names; a namespace's tools as `<namespace>.<tool>` (Codex's MCP tools: `mcp__<server>.<tool>`). */
  tools: string[];
  /** The `image_url` of each `input_image` in the user messages (a data URL for a local image). */
  images: string[];
  /** `reasoning.effort` of the request, when it has one. */
  effort: string | undefined;
  /** The JSON Schema of `text.format` when the answer is constrained to one (`type: json_schema`). */
  outputSchema: unknown;
}

/** How the fake answers one model call. */
export type FakeResponsesReply =
  /** Text, streamed in several deltas; `delayMs` pauses before each delta. `reasoning` adds a summary first. */
  | { text: string; delayMs?: number; reasoning?: string }
  /** A shell call (after an optional text message) with the tool Codex offers (`exec_command`). */
  | { shell: string; text?: string }
  /**
   * A call of any tool the CLI offers (e.g. `request_user_input`), after an optional text message; a tool of a
   * namespace (an MCP server's, `mcp__<server>`) names it.
   */
  | { call: { name: string; arguments: unknown; namespace?: string }; text?: string }
  /** An HTTP error, with an OpenAI error body unless one is given. */
  | FakeStatusReply
  /** Starts streaming, then reports `response.failed`. */
  | { failed: string }
  /** Never answers: headers are not even sent, as a stuck upstream. */
  | FakeHangReply;

export type FakeResponsesResponder = (req: FakeResponsesRequest) => FakeResponsesReply | Promise<FakeResponsesReply>;

export interface FakeResponsesApiOptions extends LoopbackAddress {
  /** Answers each model call (`POST …/responses`). Default: `defaultResponsesResponder`. */
  respond?: FakeResponsesResponder;
}

/** `url`: base URL for a provider's `base_url`, with `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
export type FakeResponsesApi = FakeModelApi<FakeResponsesRequest>;

export const FAKE_RESPONSES_MODEL = 'fake-model';

/** A friendly answer quoting the user's last message, or the tool's output after a call. */
export const defaultResponsesResponder: FakeResponsesResponder = (req) => ({
  text: standInAnswer(req.lastUserText, req.hasToolOutput ? req.toolOutput : undefined),
});

type Json = Record<string, unknown>;

function inputItems(body: Json | undefined): Json[] {
  return Array.isArray(body?.input) ? (body!.input as Json[]) : [];
}

/** The text of the newest user message (Codex also sends an `<environment_context>` user message first). */
export function lastUserText(body: unknown): string {
  const items = inputItems(body as Json | undefined);
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.role !== 'user') continue;
    const content = item.content;
    if (typeof content === 'string') return content;
    if (!Array.isArray(content)) return '';
    return (content as Json[])
      .filter((p) => typeof p.text === 'string')
      .map((p) => p.text as string)
      .join('\n');
  }
  return '';
}

/** The offered tools, a namespace's as `<namespace>.<tool>`. */
export function offeredTools(body: unknown): string[] {
  const tools = Array.isArray((body as Json | undefined)?.tools) ? ((body as Json).tools as Json[]) : [];
  return tools.flatMap((t) =>
    t.type === 'namespace' && Array.isArray(t.tools)
      ? (t.tools as Json[]).map((n) => `${String(t.name)}.${String(n.name)}`)
      : [String(t.name ?? t.type)],
  );
}

/** The `image_url` of every `input_image` in the request's user messages. */
export function inputImages(body: unknown): string[] {
  return inputItems(body as Json | undefined).flatMap((item) =>
    item.role === 'user' && Array.isArray(item.content)
      ? (item.content as Json[]).filter((p) => p.type === 'input_image').map((p) => String(p.image_url))
      : [],
  );
}

/** Codex's tool output text carries a header (`Chunk ID`, `Wall time`…); the command's output follows `Output:`. */
export function toolOutputText(body: unknown): string {
  const last = inputItems(body as Json | undefined).at(-1);
  if (last?.type !== 'function_call_output') return '';
  const output = typeof last.output === 'string' ? last.output : JSON.stringify(last.output ?? '');
  const at = output.indexOf('\nOutput:\n');
  return at === -1 ? output : output.slice(at + '\nOutput:\n'.length);
}

const shortId = () => randomUUID().replace(/-/g, '').slice(0, 24);

/**
 * A small OpenAI Responses API on 127.0.0.1 for running the real Codex CLI offline: `POST
 * …/responses` streamed as Server-Sent Events the way the CLI reads them (response.created,
 * output_item.added/done, content_part, output_text deltas, function_call items, response.completed
 * with usage, response.failed), HTTP errors with an OpenAI error body, and a hang. Anything else
 * gets a 404.
 */
export async function startFakeResponsesApi(options: FakeResponsesApiOptions = {}): Promise<FakeResponsesApi> {
  const respond = options.respond ?? defaultResponsesResponder;
  const http: FakeApiServer<FakeResponsesRequest> = await startFakeApiServer(options, {
    record: (request) => ({
      ...request,
      lastUserText: lastUserText(request.body),
      hasToolOutput: inputItems(request.body as Json | undefined).at(-1)?.type === 'function_call_output',
      toolOutput: toolOutputText(request.body),
      tools: offeredTools(request.body),
      images: inputImages(request.body),
      effort: ((request.body as Json | undefined)?.reasoning as Json | undefined)?.effort as string | undefined,
      outputSchema: jsonSchemaFormat(request.body),
    }),
    answer: handle,
    errorBody,
    headers: () => ({ 'x-request-id': `req_${shortId()}` }),
  });

  async function handle(req: IncomingMessage, res: ServerResponse, record: FakeResponsesRequest, pathname: string) {
    if (req.method !== 'POST' || !pathname.endsWith('/responses')) {
      return http.sendJson(res, 404, errorBody(404, `no route ${req.method} ${pathname} in the fake`));
    }
    await answer(res, (record.body as Json | undefined) ?? {}, await respond(record));
  }

  async function answer(res: ServerResponse, request: Json, asked: FakeResponsesReply): Promise<void> {
    const reply = await http.answerStatusOrHang(res, asked);
    if (!reply) return;
    const model = typeof request.model === 'string' ? request.model : FAKE_RESPONSES_MODEL;
    const responseId = `resp_${shortId()}`;
    const base = { id: responseId, object: 'response', created_at: Math.floor(Date.now() / 1000), model };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': `req_${shortId()}`,
    });
    let sequence = 0;
    const send = (type: string, data: Json) => {
      if (!res.destroyed)
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
    };
    send('response.created', { response: { ...base, status: 'in_progress', output: [] } });
    send('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } });
    if ('failed' in reply) {
      send('response.failed', {
        response: { ...base, status: 'failed', output: [], error: { code: 'server_error', message: reply.failed } },
      });
      res.end();
      return;
    }
    const output: Json[] = [];
    const pause = 'delayMs' in reply && reply.delayMs ? reply.delayMs : 0;
    if ('reasoning' in reply && reply.reasoning) {
      const item = {
        id: `rs_${shortId()}`,
        type: 'reasoning',
        summary: [{ type: 'summary_text', text: reply.reasoning }],
      };
      const index = output.length;
      send('response.output_item.added', { output_index: index, item: { ...item, summary: [] } });
      send('response.reasoning_summary_part.added', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
      send('response.reasoning_summary_text.delta', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        delta: reply.reasoning,
      });
      send('response.reasoning_summary_text.done', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        text: reply.reasoning,
      });
      send('response.reasoning_summary_part.done', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: reply.reasoning },
      });
      send('response.output_item.done', { output_index: index, item });
      output.push(item);
    }
    const text = 'text' in reply ? reply.text : undefined;
    if (text !== undefined) {
      const id = `msg_${shortId()}`;
      const index = output.length;
      send('response.output_item.added', {
        output_index: index,
        item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      send('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const delta of splitDeltas(text)) {
        if (pause && !(await http.sleep(pause, res))) return;
        send('response.output_text.delta', { item_id: id, output_index: index, content_index: 0, delta });
      }
      const part = { type: 'output_text', text, annotations: [] };
      send('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text });
      send('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part });
      const item = { id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      send('response.output_item.done', { output_index: index, item });
      output.push(item);
    }
    if ('shell' in reply || 'call' in reply) {
      const index = output.length;
      const name = 'call' in reply ? reply.call.name : 'exec_command';
      const args = JSON.stringify('call' in reply ? reply.call.arguments : { cmd: reply.shell });
      const item = {
        id: `fc_${shortId()}`,
        type: 'function_call',
        status: 'completed',
        call_id: `call_${shortId()}`,
        name,
        ...('call' in reply && reply.call.namespace ? { namespace: reply.call.namespace } : {}),
        arguments: args,
      };
      send('response.output_item.added', {
        output_index: index,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      send('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta: args });
      send('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: args });
      send('response.output_item.done', { output_index: index, item });
      output.push(item);
    }
    const inputTokens = estimateTokens(request.input);
    const outputTokens = estimateTokens(output);
    send('response.completed', {
      response: {
        ...base,
        status: 'completed',
        output,
        usage: {
          input_tokens: inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: inputTokens + outputTokens,
        },
      },
    });
    res.end();
  }

  return {
    url: `${http.origin}/v1`,
    requests: http.requests,
    close: () => http.close(),
  };
}

function jsonSchemaFormat(body: unknown): unknown {
  const format = ((body as Json | undefined)?.text as Json | undefined)?.format as Json | undefined;
  return format?.type === 'json_schema' ? format.schema : undefined;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_exceeded',
};

function errorBody(status: number, message: string): Json {
  return {
    error: {
      message,
      type: ERROR_TYPES[status] ?? 'server_error',
      param: null,
      code: ERROR_TYPES[status] ?? 'server_error',
    },
  };
}
