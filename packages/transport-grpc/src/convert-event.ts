import { create } from '@bufbuild/protobuf';
import type { AgentEvent, AgentEventOf, PlanEntry, Question } from '@forge/core';
import { resultFromProto, resultToProto, usageFromProto, usageToProto } from './convert-result.js';
import {
  AgentEventSchema,
  LogLevel,
  LogStream,
  type AgentEvent as ProtoAgentEvent,
} from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonObject, fromJsonText, toJsonText } from './json-text.js';

export { resultFromProto, resultToProto } from './convert-result.js';

type ProtoBody = NonNullable<Parameters<typeof create<typeof AgentEventSchema>>[1]>['body'];

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
      return { case: 'permissionResolved', value: { id: e.id, decision: e.decision, by: e.by } };
    case 'question.resolved':
      return { case: 'questionResolved', value: { id: e.id, by: e.by } };
    case 'file.changed':
      return {
        case: 'fileChanged',
        value: { path: e.path, change: e.change, diff: e.diff, oldPath: e.oldPath, toolCallId: e.toolCallId },
      };
    case 'plan.updated':
      return {
        case: 'planUpdated',
        value: {
          entries: e.entries.map((p) => ({ id: p.id, content: p.content, status: p.status, priority: p.priority })),
        },
      };
  }
}

/** A core AgentEvent as the wire message; nothing is dropped (see agent.proto for the mapping). */
export function eventToProto(event: AgentEvent): ProtoAgentEvent {
  return create(AgentEventSchema, {
    runId: event.runId,
    seq: event.seq,
    time: event.time,
    provider: event.provider,
    rawJson: toJsonText(event.raw),
    parentToolCallId: event.parentToolCallId,
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
  if (message.parentToolCallId !== undefined) event.parentToolCallId = message.parentToolCallId;
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
    // The string fields pass as they came: a value from a newer peer is still the agent's word.
    case 'permissionResolved':
      return {
        ...env,
        type: 'permission.resolved',
        id: body.value.id,
        decision: body.value.decision as AgentEventOf<'permission.resolved'>['decision'],
        by: body.value.by as AgentEventOf<'permission.resolved'>['by'],
      };
    case 'questionResolved':
      return {
        ...env,
        type: 'question.resolved',
        id: body.value.id,
        by: body.value.by as AgentEventOf<'question.resolved'>['by'],
      };
    case 'fileChanged': {
      const v = body.value;
      return withOptional({ ...env, type: 'file.changed', path: v.path, change: v.change } as AgentEvent, {
        diff: v.diff,
        oldPath: v.oldPath,
        toolCallId: v.toolCallId,
      });
    }
    case 'planUpdated':
      return {
        ...env,
        type: 'plan.updated',
        entries: body.value.entries.map((p) =>
          withOptional({ content: p.content, status: p.status } as PlanEntry, { id: p.id, priority: p.priority }),
        ),
      };
    default:
      return {
        ...env,
        type: 'log',
        level: 'warn',
        text: 'The remote agent sent an event of a type this client does not know',
      };
  }
}
