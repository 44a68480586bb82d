import type { ChatRequest, FakeReply } from './fake-openai-api.js';

/*
 * Scripted model behaviours for what a request can ask of an agent (MCP tools, a typed answer, images) and what
 * a host sees of its work (file edits, the plan, subagents), as answers of the fake chat-completions API.
 */

const toolNames = (request: ChatRequest) => (request.tools ?? []).map((t) => t.function.name);

/** The offered MCP tool named `nonce` (OpenCode calls it `<server>_nonce`, Claude Code `mcp__<server>__nonce`). */
export function mcpNonceTool(request: ChatRequest): string | undefined {
  return toolNames(request).find((n) => n === 'nonce' || /(_|__)nonce$/.test(n));
}

/** Calls the offered MCP `nonce` tool; the default reply then echoes its result ("Tool said: <nonce>"). */
export function callMcpNonce(request: ChatRequest): FakeReply {
  const tool = mcpNonceTool(request);
  if (!tool) return { kind: 'text', text: `no MCP nonce tool among: ${toolNames(request).join(', ')}` };
  return { kind: 'tool', calls: [{ name: tool, arguments: {} }] };
}

/** OpenCode's tool for a `format: json_schema` prompt. */
export const STRUCTURED_OUTPUT_TOOL = 'StructuredOutput';

/** Answers with `value`: through the structured-output tool when offered, else as JSON text. */
export function answerJson(request: ChatRequest, value: unknown): FakeReply {
  if (toolNames(request).includes(STRUCTURED_OUTPUT_TOOL)) {
    return { kind: 'tool', calls: [{ name: STRUCTURED_OUTPUT_TOOL, arguments: value as Record<string, unknown> }] };
  }
  return { kind: 'text', text: JSON.stringify(value) };
}

/** The image URLs (`data:` URLs) in the newest user message. */
export function imagesReceived(request: ChatRequest): string[] {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== 'user') continue;
    if (!Array.isArray(m.content)) return [];
    return m.content
      .filter((p): p is { type: 'image_url'; image_url: { url: string } } => p?.type === 'image_url')
      .map((p) => p.image_url.url);
  }
  return [];
}

/** Says how many images the newest user message held. */
export function reportImages(request: ChatRequest): FakeReply {
  return { kind: 'text', text: `I received ${imagesReceived(request).length} image(s)` };
}

export interface FakeTodo {
  content: string;
  status: 'pending' | 'in_progress' | 'completed' | 'cancelled';
  priority: 'low' | 'medium' | 'high';
}

/** OpenCode's built-in tools, as tool calls of one model answer. */
export const opencodeTools = {
  todowrite: (todos: FakeTodo[]) => ({ name: 'todowrite', arguments: { todos } }),
  edit: (filePath: string, oldString: string, newString: string) => ({
    name: 'edit',
    arguments: { filePath, oldString, newString },
  }),
  write: (filePath: string, content: string) => ({ name: 'write', arguments: { filePath, content } }),
  /** GPT models' file tool, in its own patch language (`*** Begin Patch` … `*** End Patch`). */
  applyPatch: (patchText: string) => ({ name: 'apply_patch', arguments: { patchText } }),
  /** A subagent (`general`) gets `prompt` in a child session. */
  task: (description: string, prompt: string) => ({
    name: 'task',
    arguments: { description, prompt, subagent_type: 'general' },
  }),
};

/**
 * A runaway: a `bash` call on every model call (`command(n)` for the n-th, from 1), whatever the last one printed,
 * so only a budget, a cancel or a timeout stops the run.
 */
export function runawayReply(command: (n: number) => string): (request: ChatRequest) => FakeReply {
  let calls = 0;
  return () => ({
    kind: 'tool',
    calls: [{ name: 'bash', arguments: { command: command(++calls), description: `step ${calls}` } }],
  });
}

/** The words every repair prompt of core starts with ("Your answer did not match the required JSON Schema: …"). */
export const REPAIR_MARKER = 'did not match the required JSON Schema';

/**
 * Structured output that needs core's repair turn: answers `first` (as `answerJson` does) until the newest user
 * message is core's repair prompt, then `repaired`; `repaired` not matching either makes one that never matches.
 */
export function outputRepairReply(first: unknown, repaired: unknown): (request: ChatRequest) => FakeReply {
  let repairing = false;
  return (request) => {
    const last = request.messages.findLast((m) => m.role === 'user');
    if (JSON.stringify(last?.content ?? '').includes(REPAIR_MARKER)) repairing = true;
    return answerJson(request, repairing ? repaired : first);
  };
}
