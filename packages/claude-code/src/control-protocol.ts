import type { PermissionDecision, Question } from '@forge/core';

/**
 * The CLI's stdin/stdout control protocol (`--input-format stream-json --permission-prompt-tool stdio`),
 * as the Agent SDK speaks it; shapes verified on 2.1.197 (see `__fixtures__/control-*.jsonl`).
 */

type Obj = Record<string, unknown>;

/** The model's question tool: it reaches the host as a `can_use_tool` request like any other tool. */
export const QUESTION_TOOL = 'AskUserQuestion';

/** A control request the CLI sends (`{"type":"control_request","request_id","request":{subtype,…}}`). */
export interface IncomingControlRequest {
  requestId: string;
  subtype: string;
  request: Obj;
}

/** A `can_use_tool` request: the CLI waits for an allow or deny before running the tool. */
export interface ToolPermissionRequest {
  requestId: string;
  tool: string;
  input: Obj;
  /** Rules the CLI proposes for "always allow" (sent back as `updatedPermissions`). */
  suggestions: unknown[] | undefined;
  raw: unknown;
}

/**
 * A user message: the first starts a turn; one written while a turn runs steers it. `uuid` comes back in the
 * CLI's replay of the message (`--replay-user-messages`) once the CLI has taken it.
 */
export function userMessage(content: string | Obj[], uuid?: string): Obj {
  const message: Obj = { type: 'user', message: { role: 'user', content }, parent_tool_use_id: null, session_id: '' };
  if (uuid !== undefined) message.uuid = uuid;
  return message;
}

export function controlRequest(requestId: string, request: Obj): Obj {
  return { type: 'control_request', request_id: requestId, request };
}

export function controlSuccess(requestId: string, response: Obj): Obj {
  return { type: 'control_response', response: { subtype: 'success', request_id: requestId, response } };
}

export function controlError(requestId: string, error: string): Obj {
  return { type: 'control_response', response: { subtype: 'error', request_id: requestId, error } };
}

/** The response body for `allow` / `allow_always` / `deny`. */
export function permissionResponse(req: ToolPermissionRequest, decision: PermissionDecision, message?: string): Obj {
  if (decision === 'deny') return { behavior: 'deny', message: message || 'The user denied this tool use' };
  const body: Obj = { behavior: 'allow', updatedInput: req.input };
  if (decision === 'allow_always' && req.suggestions?.length) body.updatedPermissions = req.suggestions;
  return body;
}

/**
 * `AskUserQuestion`'s input as core questions, or undefined when it does not have the expected shape (the
 * request is then offered as a plain permission). The CLI always lets the user type an answer of their own
 * besides the options ("Other"), so every question is `custom`.
 */
export function toQuestions(input: Obj): Question[] | undefined {
  const list = input.questions;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: Question[] = [];
  for (const q of list as Obj[]) {
    if (typeof q?.question !== 'string' || !Array.isArray(q.options)) return undefined;
    const options = [];
    for (const o of q.options as Obj[]) {
      if (typeof o?.label !== 'string') return undefined;
      options.push(
        typeof o.description === 'string' ? { label: o.label, description: o.description } : { label: o.label },
      );
    }
    const question: Question = { question: q.question, options, multiple: q.multiSelect === true, custom: true };
    if (typeof q.header === 'string') question.header = q.header;
    out.push(question);
  }
  return out;
}

/**
 * The response that answers `AskUserQuestion`: `allow` with the input plus `answers` keyed by question text.
 * Several labels of a multiple-choice question are joined with ", ", as the CLI's own prompt does.
 */
export function questionResponse(input: Obj, questions: Question[], answers: string[][]): Obj {
  const byText: Record<string, string> = {};
  questions.forEach((q, i) => {
    byText[q.question] = (answers[i] ?? []).join(', ');
  });
  return { behavior: 'allow', updatedInput: { ...input, answers: byText } };
}

/** Reads a `control_request` line; undefined when it is not one the protocol defines. */
export function readControlRequest(msg: Obj): IncomingControlRequest | undefined {
  const request = msg.request as Obj | undefined;
  if (typeof msg.request_id !== 'string' || !request || typeof request.subtype !== 'string') return undefined;
  return { requestId: msg.request_id, subtype: request.subtype, request };
}

export function toPermissionRequest(req: IncomingControlRequest, raw: unknown): ToolPermissionRequest {
  const input = req.request.input;
  return {
    requestId: req.requestId,
    tool: typeof req.request.tool_name === 'string' ? req.request.tool_name : '',
    input: input && typeof input === 'object' && !Array.isArray(input) ? (input as Obj) : {},
    suggestions: Array.isArray(req.request.permission_suggestions) ? req.request.permission_suggestions : undefined,
    raw,
  };
}
