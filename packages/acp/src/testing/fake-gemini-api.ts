import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeApiServer, FakeHangReply, FakeModelApi, FakeStatusReply, LoopbackAddress } from '@forge/core/testing';
import { estimateTokens, splitDeltas, standInAnswer, startFakeApiServer } from '@forge/core/testing';

/** One request the fake received. */
export interface FakeGeminiRequest {
  method: string;
  /** Path with its query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`. */
  path: string;
  /** The model named in the path. */
  model: string;
  /** `streamGenerateContent`, `generateContent`, `countTokens`, … */
  action: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string>;
  /** Text of the newest user content, without the CLI's `<session_context>` part. */
  lastUserText: string;
  /** The newest user content carries `functionResponse` parts (the model is asked to go on after a tool). */
  hasFunctionResponse: boolean;
  /** Names of the tools (function declarations) the request offers. */
  tools: string[];
  /** The text of the newest user content's `functionResponse` parts (what the tools answered). */
  functionResponseText: string;
  /** The images (`inlineData` parts with an `image/*` type) anywhere in the request's user contents. */
  images: FakeGeminiImage[];
}

/** An image the model was sent. */
export interface FakeGeminiImage {
  mimeType: string;
  /** Base64, as sent. */
  data: string;
  /** Decoded size. */
  bytes: number;
}

/** How the fake answers one model turn. */
export type FakeGeminiReply =
  /** Text, streamed in several chunks; `delayMs` pauses before each chunk. */
  | { text: string; delayMs?: number }
  /** A function call (after an optional text part); the CLI runs the tool and asks again. */
  | { functionCall: { name: string; args: Record<string, unknown> }; text?: string }
  /** An HTTP error with a Google API error body unless one is given. */
  | FakeStatusReply
  /** Never answers; the connection stays open until the client leaves or the fake closes. */
  | FakeHangReply
  /** Streams these chunks of text, then cuts the connection (a stream that breaks mid-answer). */
  | { cutAfter: string[] };

export type FakeGeminiResponder = (req: FakeGeminiRequest) => FakeGeminiReply | Promise<FakeGeminiReply>;

export interface FakeGeminiApiOptions extends LoopbackAddress {
  /** Answers each model turn (a request with tools). Default: `defaultGeminiResponder`. */
  respond?: FakeGeminiResponder;
}

/** `url`: base URL for `GOOGLE_GEMINI_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
export type FakeGeminiApi = FakeModelApi<FakeGeminiRequest>;

type Json = Record<string, unknown>;

/**
 * A friendly answer that quotes the user's last message, or what a tool answered. Scenarios by the prompt's
 * tag: `[[mcp]]` calls the offered tool whose name ends in `nonce` (the test MCP server's; see
 * `mcpToolReply`), `[[images]]` says which images it received (`imagesReply`), `[[json]]` answers with a
 * value that fits the JSON Schema the prompt ends with (core's structured-output instruction) and `[[badjson]]`
 * with one that does not — until it is asked to repair it ("did not match"), as in `jsonReply`.
 */
export const defaultGeminiResponder: FakeGeminiResponder = (req) => {
  if (req.hasFunctionResponse) return { text: standInAnswer(req.lastUserText, req.functionResponseText) };
  const tag = /\[\[(\w+)\]\]/.exec(req.lastUserText)?.[1];
  if (tag === 'mcp') return mcpToolReply(req);
  if (tag === 'images') return imagesReply(req);
  if (tag === 'json' || tag === 'badjson' || isRepairPrompt(req.lastUserText)) return jsonReply(req, tag === 'badjson');
  return { text: standInAnswer(req.lastUserText) };
};

/**
 * Calls the offered tool whose name ends in `suffix` (an MCP server's tool, however the CLI prefixes it), or
 * says there is none, listing what is offered.
 */
export function mcpToolReply(req: FakeGeminiRequest, suffix = 'nonce'): FakeGeminiReply {
  const name = req.tools.find((t) => t === suffix || t.endsWith(`_${suffix}`));
  if (!name) return { text: `No ${suffix} tool is offered (tools: ${req.tools.join(', ')}).` };
  return { functionCall: { name, args: {} }, text: `Calling ${name}.` };
}

/** The JSON Schema a prompt ends with (core's structured-output instruction and repair prompt put it last). */
export function schemaInPrompt(text: string): unknown {
  const at = text.lastIndexOf('JSON Schema');
  const start = at < 0 ? -1 : text.indexOf('{', at);
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start).trim()) as unknown;
  } catch {
    return undefined;
  }
}

const isRepairPrompt = (text: string) => /did not match/.test(text) && schemaInPrompt(text) !== undefined;

/**
 * Answers with only JSON: a value that fits the schema the prompt ends with (`valueForSchema`), or — `wrong`, and
 * not a repair prompt — an object that fits no schema with required properties.
 */
export function jsonReply(req: FakeGeminiRequest, wrong = false): FakeGeminiReply {
  if (wrong && !isRepairPrompt(req.lastUserText)) return { text: '{"unexpected":true}' };
  return { text: JSON.stringify(valueForSchema(schemaInPrompt(req.lastUserText))) };
}

/** Says which images the request carried: `I received 1 image(s): image/png (67 bytes).` */
export function imagesReply(req: FakeGeminiRequest): FakeGeminiReply {
  const list = req.images.map((i) => `${i.mimeType} (${i.bytes} bytes)`).join(', ');
  return { text: `I received ${req.images.length} image(s)${list ? `: ${list}` : ''}.` };
}

function lastUser(body: Json | undefined): Json | undefined {
  const contents = Array.isArray(body?.contents) ? (body!.contents as Json[]) : [];
  for (let i = contents.length - 1; i >= 0; i--) if (contents[i]?.role === 'user') return contents[i];
  return undefined;
}

const parts = (content: Json | undefined): Json[] => (Array.isArray(content?.parts) ? (content!.parts as Json[]) : []);

/** The text of the newest user content, skipping the CLI's session context. */
export function geminiLastUserText(body: unknown): string {
  return parts(lastUser(body as Json | undefined))
    .filter((p) => typeof p.text === 'string' && !(p.text as string).trimStart().startsWith('<session_context>'))
    .map((p) => p.text as string)
    .join('\n');
}

function functionResponseText(body: Json | undefined): string {
  return parts(lastUser(body))
    .map((p) => (isJson(p.functionResponse) ? p.functionResponse.response : undefined))
    .filter((r) => r !== undefined)
    .map((r) => (isJson(r) && typeof r.output === 'string' ? r.output : JSON.stringify(r)))
    .join('\n');
}

function userImages(body: Json | undefined): FakeGeminiImage[] {
  const contents = Array.isArray(body?.contents) ? (body!.contents as Json[]) : [];
  return contents
    .filter((c) => c?.role === 'user')
    .flatMap(parts)
    .map((p) => p.inlineData)
    .filter((d): d is Json => isJson(d) && typeof d.mimeType === 'string' && d.mimeType.startsWith('image/'))
    .map((d) => {
      const data = typeof d.data === 'string' ? d.data : '';
      return { mimeType: d.mimeType as string, data, bytes: Buffer.from(data, 'base64').length };
    });
}

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function toolNames(body: Json | undefined): string[] {
  const tools = Array.isArray(body?.tools) ? (body!.tools as Json[]) : [];
  return tools.flatMap((t) =>
    Array.isArray(t.functionDeclarations) ? (t.functionDeclarations as Json[]).map((f) => String(f.name)) : [],
  );
}

/** A value that satisfies a JSON schema (enough for the CLI's router and checkers: integers ≥ their minimum, ≥ 1). */
export function valueForSchema(schema: unknown): unknown {
  const s = (schema ?? {}) as Json;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = String(s.type ?? 'object').toLowerCase();
  if (type === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries((s.properties ?? {}) as Json)) out[k] = valueForSchema(v);
    return out;
  }
  if (type === 'array') return [];
  if (type === 'integer' || type === 'number') return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : 1;
  if (type === 'boolean') return false;
  return 'offline stand-in';
}

/**
 * A small Gemini API (`/v1beta/models/<model>:<action>`) on 127.0.0.1 for running the real Gemini
 * CLI offline: `streamGenerateContent?alt=sse` (SSE `data:` chunks of GenerateContentResponse),
 * `generateContent`, `countTokens`, `embedContent` and `GET /v1beta/models`. Requests the CLI makes
 * besides the agent's turns get answers of their own and never reach the responder: JSON-schema
 * requests (the model router's `complexity_score`, checkers) get a value filled from the schema,
 * requests without tools a short text.
 */
export async function startFakeGeminiApi(options: FakeGeminiApiOptions = {}): Promise<FakeGeminiApi> {
  const respond = options.respond ?? defaultGeminiResponder;
  const http: FakeApiServer<FakeGeminiRequest> = await startFakeApiServer(options, {
    record: (request) => {
      const body = request.body as Json | undefined;
      const m = /\/models\/([^/:]+):(\w+)$/.exec(request.path.split('?')[0]!);
      return {
        ...request,
        body,
        model: m?.[1] ?? '',
        action: m?.[2] ?? '',
        lastUserText: geminiLastUserText(body),
        hasFunctionResponse: parts(lastUser(body)).some((p) => p.functionResponse !== undefined),
        tools: toolNames(body),
        functionResponseText: functionResponseText(body),
        images: userImages(body),
      };
    },
    answer: handle,
    errorBody,
  });

  async function handle(req: IncomingMessage, res: ServerResponse, record: FakeGeminiRequest, pathname: string) {
    const body = record.body;

    if (req.method === 'GET' && /\/models\/?$/.test(pathname)) {
      return http.sendJson(res, 200, {
        models: [
          {
            name: 'models/gemini-2.5-flash',
            displayName: 'Offline stand-in',
            supportedGenerationMethods: ['generateContent'],
          },
        ],
      });
    }
    if (!record.action || req.method !== 'POST')
      return http.sendJson(res, 404, errorBody(404, `fake: nothing at ${req.method} ${pathname}`));
    if (record.action === 'countTokens')
      return http.sendJson(res, 200, { totalTokens: estimateTokens(body?.contents) });
    if (record.action === 'embedContent') return http.sendJson(res, 200, { embedding: { values: [0, 0, 0] } });
    if (record.action !== 'generateContent' && record.action !== 'streamGenerateContent') {
      return http.sendJson(res, 404, errorBody(404, `fake: unknown action ${record.action}`));
    }

    const config = (body?.generationConfig ?? {}) as Json;
    const schema = config.responseJsonSchema ?? config.responseSchema;
    let reply: FakeGeminiReply;
    if (schema !== undefined || config.responseMimeType === 'application/json') {
      reply = { text: JSON.stringify(valueForSchema(schema)) };
    } else if (record.tools.length === 0) {
      reply = { text: 'Offline stand-in' };
    } else {
      reply = await respond(record);
    }
    await answer(res, record, reply);
  }

  async function answer(res: ServerResponse, req: FakeGeminiRequest, asked: FakeGeminiReply): Promise<void> {
    const reply = await http.answerStatusOrHang(res, asked);
    if (!reply) return;
    const model = req.model || 'gemini-2.5-flash';
    const responseId = randomUUID().replace(/-/g, '').slice(0, 16);
    const promptTokens = estimateTokens(req.body?.contents);
    const pieces: Json[][] = [];
    if ('cutAfter' in reply) for (const t of reply.cutAfter) pieces.push([{ text: t }]);
    else {
      if ('text' in reply && reply.text !== undefined)
        for (const t of splitDeltas(reply.text)) pieces.push([{ text: t }]);
      if ('functionCall' in reply) pieces.push([{ functionCall: reply.functionCall }]);
    }
    const outputTokens = estimateTokens(pieces);
    const usage = {
      promptTokenCount: promptTokens,
      candidatesTokenCount: outputTokens,
      totalTokenCount: promptTokens + outputTokens,
    };
    const response = (p: Json[], last: boolean): Json => ({
      candidates: [{ content: { role: 'model', parts: p }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
      ...(last ? { usageMetadata: usage } : {}),
      modelVersion: model,
      responseId,
    });

    if (req.action === 'generateContent') {
      // Not streamed: the text in one part (the router's JSON must stay whole).
      const whole: Json[] = [];
      const text = pieces
        .flat()
        .filter((p) => typeof p.text === 'string')
        .map((p) => p.text as string)
        .join('');
      if (text) whole.push({ text });
      whole.push(...pieces.flat().filter((p) => p.functionCall !== undefined));
      return http.sendJson(res, 200, response(whole, true));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const pause = 'delayMs' in reply && reply.delayMs ? reply.delayMs : 0;
    for (let i = 0; i < pieces.length; i++) {
      if (pause && !(await http.sleep(pause, res))) return;
      if (res.destroyed) return;
      const last = i === pieces.length - 1 && !('cutAfter' in reply);
      res.write(`data: ${JSON.stringify(response(pieces[i]!, last))}\r\n\r\n`);
    }
    if ('cutAfter' in reply) {
      // Let the chunks reach the client, then break the connection without ending the stream.
      await http.sleep(20, res);
      res.destroy();
      return;
    }
    res.end();
  }

  return {
    url: http.origin,
    requests: http.requests,
    close: () => http.close(),
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

function errorBody(status: number, message: string): Json {
  return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } };
}
