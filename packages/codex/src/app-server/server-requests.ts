import { isAbsolute, relative } from 'node:path';
import type { AgentEventInit, PermissionDecision, Question } from '@forge/core';
import type { RequestId } from '../gen/RequestId.js';
import type { FileUpdateChange } from '../gen/v2/FileUpdateChange.js';
import type { McpServerElicitationRequestParams } from '../gen/v2/McpServerElicitationRequestParams.js';
import type { McpServerElicitationRequestResponse } from '../gen/v2/McpServerElicitationRequestResponse.js';
import type { ToolRequestUserInputParams } from '../gen/v2/ToolRequestUserInputParams.js';
import type { ToolRequestUserInputResponse } from '../gen/v2/ToolRequestUserInputResponse.js';
import type { JsonRpcClient } from './json-rpc-client.js';
import type { AppServerPolicy } from './policy.js';
import type { TurnMapper } from './turn-mapper.js';

/** Tool name of a command approval's `permission.requested`. */
export const APPROVAL_TOOL_COMMAND = 'Bash';
/** Tool name of a file-change approval's `permission.requested`. */
export const APPROVAL_TOOL_EDIT = 'Edit';
/** Tool name of an `item/permissions/requestApproval` (more sandbox access). An MCP tool's is `mcp__<server>__<tool>`. */
export const APPROVAL_TOOL_PERMISSIONS = 'Permissions';

type Params = Record<string, unknown>;
type Pending = { rpcId: RequestId; kind: 'command' | 'file' | 'permissions' | 'mcp'; params: Params };
type PendingQuestion = { rpcId: RequestId; ids: string[] };

/**
 * The server's requests to one thread's client (approvals and questions) as `permission.requested` /
 * `question.requested`, and the host's replies (`run.respond`, `run.answer`) as their JSON-RPC responses.
 */
export class ServerRequests {
  private readonly permissions = new Map<string, Pending>();
  private readonly questions = new Map<string, PendingQuestion>();

  constructor(
    private readonly rpc: JsonRpcClient,
    private readonly mapper: TurnMapper,
    private readonly policy: AppServerPolicy,
    private readonly cwd: string | undefined,
    private readonly emit: (event: AgentEventInit) => void,
  ) {}

  handle(rpcId: RequestId, method: string, params: Params): void {
    const key = String(rpcId);
    const { emit } = this;
    if (method === 'item/commandExecution/requestApproval') {
      this.permissions.set(key, { rpcId, kind: 'command', params });
      emit({
        type: 'permission.requested',
        id: key,
        tool: APPROVAL_TOOL_COMMAND,
        input: commandInput(params),
        raw: params,
      });
    } else if (method === 'item/fileChange/requestApproval') {
      const changes = fileChanges(this.mapper, params);
      if (this.policy.autoAcceptWorkspaceEdits && !params.grantRoot && changes && inside(changes, this.cwd)) {
        void this.rpc.respond(rpcId, { decision: 'accept' }).catch(() => undefined);
        return;
      }
      this.permissions.set(key, { rpcId, kind: 'file', params });
      emit({
        type: 'permission.requested',
        id: key,
        tool: APPROVAL_TOOL_EDIT,
        input: { changes: changes ?? [], reason: params.reason ?? null, grantRoot: params.grantRoot ?? null },
        raw: params,
      });
    } else if (method === 'item/permissions/requestApproval') {
      this.permissions.set(key, { rpcId, kind: 'permissions', params });
      emit({
        type: 'permission.requested',
        id: key,
        tool: APPROVAL_TOOL_PERMISSIONS,
        input: { permissions: params.permissions, reason: params.reason ?? null },
        raw: params,
      });
    } else if (method === 'mcpServer/elicitation/request' && mcpToolApproval(params)) {
      // Codex asks before an MCP tool call as an elicitation of its own kind (`_meta.codex_approval_kind`).
      const meta = mcpToolApproval(params)!;
      this.permissions.set(key, { rpcId, kind: 'mcp', params });
      emit({
        type: 'permission.requested',
        id: key,
        tool: `mcp__${String(params.serverName)}__${String(meta.tool_name)}`,
        input: meta.tool_params ?? {},
        raw: params,
      });
    } else if (method === 'item/tool/requestUserInput') {
      const p = params as unknown as ToolRequestUserInputParams;
      this.questions.set(key, { rpcId, ids: p.questions.map((q) => q.id) });
      emit({ type: 'question.requested', id: key, questions: p.questions.map(toQuestion), raw: params });
    } else {
      emit({
        type: 'log',
        text: `codex asked ${method}, which Forge does not handle: refused`,
        level: 'warn',
        raw: params,
      });
      void this.rpc.respondError(rpcId, -32601, `forge does not handle ${method}`).catch(() => undefined);
    }
  }

  async respond(permissionId: string, decision: PermissionDecision): Promise<void> {
    const p = this.permissions.get(permissionId);
    if (!p) throw new Error(`no pending permission ${permissionId}`);
    this.permissions.delete(permissionId);
    await this.rpc.respond(p.rpcId, approvalResponse(p, decision));
  }

  async answer(questionId: string, answers: string[][]): Promise<void> {
    const q = this.questions.get(questionId);
    if (!q) throw new Error(`no pending question ${questionId}`);
    this.questions.delete(questionId);
    const response: ToolRequestUserInputResponse = { answers: {} };
    q.ids.forEach((id, i) => {
      response.answers[id] = { answers: answers[i] ?? [] };
    });
    await this.rpc.respond(q.rpcId, response);
  }
}

/** The `_meta` of an elicitation that is Codex's approval of an MCP tool call, else undefined. */
function mcpToolApproval(params: Params): { tool_name?: unknown; tool_params?: unknown } | undefined {
  const meta = (params as Partial<McpServerElicitationRequestParams>)._meta as Record<string, unknown> | null;
  return meta?.codex_approval_kind === 'mcp_tool_call' ? meta : undefined;
}

function commandInput(params: Params): Record<string, unknown> {
  return {
    command: params.command ?? null,
    cwd: params.cwd ?? null,
    reason: params.reason ?? null,
    commandActions: params.commandActions ?? [],
  };
}

/** The file change an approval is about, from the item the server announced before asking. */
function fileChanges(mapper: TurnMapper, params: Params): FileUpdateChange[] | undefined {
  const item = mapper.items.get(String(params.itemId));
  return item?.type === 'fileChange' ? item.changes : undefined;
}

function inside(changes: FileUpdateChange[], cwd: string | undefined): boolean {
  if (cwd === undefined || changes.length === 0) return false;
  return changes.every((c) => {
    const rel = relative(cwd, isAbsolute(c.path) ? c.path : `${cwd}/${c.path}`);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  });
}

/**
 * Forge's decision → the server's: `allow` → `accept`, `allow_always` → `acceptForSession` (the same kind of
 * request is not asked again in this thread), `deny` → `decline` (the item ends declined, the model goes on).
 * A permissions request is granted what it asked for, for the turn or the session.
 */
function approvalResponse(p: Pending, decision: PermissionDecision): unknown {
  if (p.kind === 'mcp') {
    const response: McpServerElicitationRequestResponse = {
      action: decision === 'deny' ? 'decline' : 'accept',
      content: null,
      _meta: decision === 'allow_always' ? { persist: 'session' } : null,
    };
    return response;
  }
  if (p.kind === 'permissions') {
    if (decision === 'deny') return { permissions: {}, scope: 'turn' };
    const asked = (p.params.permissions ?? {}) as Record<string, unknown>;
    const granted = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== null));
    return { permissions: granted, scope: decision === 'allow_always' ? 'session' : 'turn' };
  }
  return { decision: decision === 'allow' ? 'accept' : decision === 'allow_always' ? 'acceptForSession' : 'decline' };
}

function toQuestion(q: ToolRequestUserInputParams['questions'][number]): Question {
  const question: Question = {
    question: q.question,
    options: (q.options ?? []).map((o) =>
      o.description ? { label: o.label, description: o.description } : { label: o.label },
    ),
    multiple: false,
    custom: q.isOther || !q.options?.length,
  };
  if (q.header) question.header = q.header;
  return question;
}
