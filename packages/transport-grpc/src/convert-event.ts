import { create } from '@bufbuild/protobuf';
import type { AgentEvent, AgentResult, Question, RunStatus, Usage } from '@forge/core';
import {
  AgentEventSchema,
  AgentResultSchema,
  LogLevel,
  LogStream,
  RunStatus as ProtoRunStatus,
  type AgentEvent as ProtoAgentEvent,
  type AgentResult as ProtoAgentResult,
  type Usage as ProtoUsage,
} from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonObject, fromJsonText, toJsonText } from './json-text.js';

type ProtoBody = NonNullable<Parameters<typeof create<typeof AgentEventSchema>>[1]>['body'];

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
const LEVEL_TO_PROTO = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
} as const;
const LEVEL_FROM_PROTO = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
} as const;
const STREAM_TO_PROTO = { stdout: LogStream.STDOUT, stderr: LogStream.STDERR } as const;
const STREAM_FROM_PROTO = { [LogStream.STDOUT]: 'stdout', [LogStream.STDERR]: 'stderr' } as const;

function usageToProto(u: Usage) {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWriteTokens,
    reasoningTokens: u.reasoningTokens,
  };
}

function usageFromProto(u: ProtoUsage | undefined): Usage {
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
  return out;
}

function bodyToProto(e: AgentEvent): ProtoBody {
  switch (e.type) {
    case 'session.started':
      return {
        case: 'sessionStarted',
        value: {
          sessionId: e.sessionId,
          model: e.model,
          tools: e.tools ? { values: e.tools } : undefined,
          cwd: e.cwd,
          permissionMode: e.permissionMode,
        },
      };
    case 'text.delta':
      return { case: 'textDelta', value: { text: e.text, messageId: e.messageId } };
    case 'message':
      return { case: 'message', value: { text: e.text, messageId: e.messageId } };
    case 'reasoning':
      return { case: 'reasoning', value: { text: e.text, messageId: e.messageId } };
    case 'tool.call':
      return { case: 'toolCall', value: { callId: e.callId, name: e.name, inputJson: toJsonText(e.input) } };
    case 'tool.result':
      return { case: 'toolResult', value: { callId: e.callId, outputJson: toJsonText(e.output), isError: e.isError } };
    case 'permission.requested':
      return { case: 'permissionRequested', value: { id: e.id, tool: e.tool, inputJson: toJsonText(e.input) } };
    case 'question.requested':
      return {
        case: 'questionRequested',
        value: {
          id: e.id,
          questions: e.questions.map((q) => ({
            question: q.question,
            header: q.header,
            options: q.options.map((o) => ({ label: o.label, description: o.description })),
            multiple: q.multiple,
            custom: q.custom,
          })),
        },
      };
    case 'usage':
      return { case: 'usage', value: { usage: usageToProto(e.usage), costUsd: e.costUsd, messageId: e.messageId } };
    case 'log':
      return {
        case: 'log',
        value: {
          text: e.text,
          level: e.level ? LEVEL_TO_PROTO[e.level] : LogLevel.UNSPECIFIED,
          stream: e.stream ? STREAM_TO_PROTO[e.stream] : LogStream.UNSPECIFIED,
        },
      };
    case 'error':
      return {
        case: 'error',
        value: { code: e.code, message: e.message, retryable: e.retryable, detailsJson: toJsonText(e.details) },
      };
    case 'run.completed':
      return { case: 'runCompleted', value: { result: resultToProto(e.result) } };
    case 'permission.resolved':
    case 'question.resolved':
    case 'file.changed':
    case 'plan.updated':
      // agent.proto has no body for these yet: a debug log keeps the seq without gaps, and `raw` keeps the event.
      return {
        case: 'log',
        value: { text: `${e.type} (not carried by this protocol version)`, level: LogLevel.DEBUG },
      };
  }
}

const UNCARRIED = new Set<string>(['permission.resolved', 'question.resolved', 'file.changed', 'plan.updated']);

function uncarriedBody(event: AgentEvent): Record<string, unknown> {
  const { runId: _r, seq: _s, time: _t, provider: _p, raw: _raw, ...body } = event;
  return body;
}

/** A core AgentEvent as the wire message; nothing is dropped (see agent.proto for the mapping). */
export function eventToProto(event: AgentEvent): ProtoAgentEvent {
  return create(AgentEventSchema, {
    runId: event.runId,
    seq: event.seq,
    time: event.time,
    provider: event.provider,
    rawJson: toJsonText(UNCARRIED.has(event.type) ? { event: uncarriedBody(event) } : event.raw),
    body: bodyToProto(event),
  });
}

/** Sets only the optional fields that are present, so a round trip gives back an equal object. */
function withOptional<T extends object>(target: T, fields: Record<string, unknown>): T {
  for (const key in fields) if (fields[key] !== undefined) (target as Record<string, unknown>)[key] = fields[key];
  return target;
}

/**
 * The wire message as a core AgentEvent. A body this version does not know (from a newer server)
 * becomes a `log` event, so the run's seq stays without gaps.
 */
export function eventFromProto(message: ProtoAgentEvent): AgentEvent {
  const envelope = { runId: message.runId, seq: message.seq, time: message.time, provider: message.provider };
  const raw = message.rawJson === undefined ? undefined : fromJsonText(message.rawJson);
  const event = bodyFromProto(envelope, message.body);
  if (raw !== undefined) event.raw = raw;
  return event;
}

type Envelope = { runId: string; seq: number; time: number; provider: string };

function bodyFromProto(env: Envelope, body: ProtoAgentEvent['body']): AgentEvent {
  switch (body.case) {
    case 'sessionStarted': {
      const v = body.value;
      return withOptional({ ...env, type: 'session.started', sessionId: v.sessionId } as AgentEvent, {
        model: v.model,
        tools: v.tools ? [...v.tools.values] : undefined,
        cwd: v.cwd,
        permissionMode: v.permissionMode,
      });
    }
    case 'textDelta':
      return withOptional({ ...env, type: 'text.delta', text: body.value.text } as AgentEvent, {
        messageId: body.value.messageId,
      });
    case 'message':
      return withOptional({ ...env, type: 'message', text: body.value.text } as AgentEvent, {
        messageId: body.value.messageId,
      });
    case 'reasoning':
      return withOptional({ ...env, type: 'reasoning', text: body.value.text } as AgentEvent, {
        messageId: body.value.messageId,
      });
    case 'toolCall':
      return {
        ...env,
        type: 'tool.call',
        callId: body.value.callId,
        name: body.value.name,
        input: fromJsonText(body.value.inputJson),
      };
    case 'toolResult':
      return {
        ...env,
        type: 'tool.result',
        callId: body.value.callId,
        output: fromJsonText(body.value.outputJson),
        isError: body.value.isError,
      };
    case 'permissionRequested':
      return {
        ...env,
        type: 'permission.requested',
        id: body.value.id,
        tool: body.value.tool,
        input: fromJsonText(body.value.inputJson),
      };
    case 'questionRequested':
      return {
        ...env,
        type: 'question.requested',
        id: body.value.id,
        questions: body.value.questions.map((q) =>
          withOptional(
            {
              question: q.question,
              options: q.options.map((o) => withOptional({ label: o.label }, { description: o.description })),
              multiple: q.multiple,
              custom: q.custom,
            } as Question,
            { header: q.header },
          ),
        ),
      };
    case 'usage':
      return withOptional({ ...env, type: 'usage', usage: usageFromProto(body.value.usage) } as AgentEvent, {
        costUsd: body.value.costUsd,
        messageId: body.value.messageId,
      });
    case 'log':
      return withOptional({ ...env, type: 'log', text: body.value.text } as AgentEvent, {
        level: LEVEL_FROM_PROTO[body.value.level as keyof typeof LEVEL_FROM_PROTO],
        stream: STREAM_FROM_PROTO[body.value.stream as keyof typeof STREAM_FROM_PROTO],
      });
    case 'error':
      return withOptional(
        {
          ...env,
          type: 'error',
          code: body.value.code,
          message: body.value.message,
          retryable: body.value.retryable,
        } as AgentEvent,
        { details: fromJsonObject(body.value.detailsJson) },
      );
    case 'runCompleted':
      return { ...env, type: 'run.completed', result: resultFromProto(body.value.result) };
    default:
      return {
        ...env,
        type: 'log',
        level: 'warn',
        text: 'The remote agent sent an event of a type this client does not know',
      };
  }
}
