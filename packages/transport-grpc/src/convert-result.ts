import { create } from '@bufbuild/protobuf';
import type { AgentResult, FileChange, RunStatus, Usage } from '@forge/core';
import {
  AgentResultSchema,
  RunStatus as ProtoRunStatus,
  type AgentResult as ProtoAgentResult,
  type Usage as ProtoUsage,
} from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonText, toJsonText } from './json-text.js';

const STATUS_TO_PROTO: Record<RunStatus, ProtoRunStatus> = {
  completed: ProtoRunStatus.COMPLETED,
  failed: ProtoRunStatus.FAILED,
  cancelled: ProtoRunStatus.CANCELLED,
  timed_out: ProtoRunStatus.TIMED_OUT,
};
const STATUS_FROM_PROTO: Record<number, RunStatus> = {
  [ProtoRunStatus.COMPLETED]: 'completed',
  [ProtoRunStatus.FAILED]: 'failed',
  [ProtoRunStatus.CANCELLED]: 'cancelled',
  [ProtoRunStatus.TIMED_OUT]: 'timed_out',
};
export function usageToProto(u: Usage) {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWriteTokens,
    reasoningTokens: u.reasoningTokens,
  };
}

export function usageFromProto(u: ProtoUsage | undefined): Usage {
  const out: Usage = {
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    cacheReadTokens: u?.cacheReadTokens ?? 0,
    cacheWriteTokens: u?.cacheWriteTokens ?? 0,
  };
  if (u?.reasoningTokens !== undefined) out.reasoningTokens = u.reasoningTokens;
  return out;
}

export function resultToProto(r: AgentResult): ProtoAgentResult {
  return create(AgentResultSchema, {
    status: STATUS_TO_PROTO[r.status],
    text: r.text,
    sessionId: r.sessionId,
    usage: usageToProto(r.usage),
    costUsd: r.costUsd,
    durationMs: r.durationMs,
    turns: r.turns,
    error: r.error,
    outputJson: toJsonText(r.output),
    filesChanged: r.filesChanged
      ? { files: r.filesChanged.map((f) => ({ path: f.path, change: f.change, oldPath: f.oldPath })) }
      : undefined,
  });
}

export function resultFromProto(r: ProtoAgentResult | undefined): AgentResult {
  const out: AgentResult = {
    status: (r && STATUS_FROM_PROTO[r.status]) ?? 'failed',
    text: r?.text ?? '',
    usage: usageFromProto(r?.usage),
    durationMs: r?.durationMs ?? 0,
    turns: r?.turns ?? 0,
  };
  if (r?.sessionId !== undefined) out.sessionId = r.sessionId;
  if (r?.costUsd !== undefined) out.costUsd = r.costUsd;
  if (r?.error) {
    out.error = { code: r.error.code, message: r.error.message };
    if (r.error.retryable !== undefined) out.error.retryable = r.error.retryable;
  } else if (out.status !== 'completed')
    out.error = { code: 'PROVIDER_ERROR', message: 'The remote run did not say why it ended' };
  if (r?.outputJson !== undefined) out.output = fromJsonText(r.outputJson);
  if (r?.filesChanged) {
    out.filesChanged = r.filesChanged.files.map((f) => {
      // The kind passes as it came: a newer peer's kind is still the agent's word about the file.
      const change: FileChange = { path: f.path, change: f.change as FileChange['change'] };
      if (f.oldPath !== undefined) change.oldPath = f.oldPath;
      return change;
    });
  }
  return out;
}
