import { z } from 'zod';

/**
 * Schemas for the parts of OpenCode's API this adapter reads. Objects are loose (unknown fields
 * pass through untouched) so a newer server that adds fields does not break a run.
 */

export const SessionInfoSchema = z.looseObject({
  id: z.string(),
  title: z.string().optional(),
  directory: z.string().optional(),
  version: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const ErrorInfoSchema = z.looseObject({
  name: z.string(),
  data: z.looseObject({ message: z.string().optional() }).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

const TokensSchema = z.looseObject({
  input: z.number().default(0),
  output: z.number().default(0),
  reasoning: z.number().default(0),
  cache: z.looseObject({ read: z.number().default(0), write: z.number().default(0) }).optional(),
});

export const MessageInfoSchema = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  role: z.string(),
  parentID: z.string().optional(),
  modelID: z.string().optional(),
  providerID: z.string().optional(),
  cost: z.number().optional(),
  tokens: TokensSchema.optional(),
  time: z.looseObject({ created: z.number().optional(), completed: z.number().optional() }).optional(),
  finish: z.string().optional(),
  error: ErrorInfoSchema.optional(),
});
export type MessageInfo = z.infer<typeof MessageInfoSchema>;

export const ToolStateSchema = z.looseObject({
  status: z.string(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  title: z.string().optional(),
  metadata: z.unknown().optional(),
});

export const PartSchema = z.looseObject({
  id: z.string(),
  messageID: z.string(),
  sessionID: z.string(),
  type: z.string(),
  text: z.string().optional(),
  time: z.looseObject({ start: z.number().optional(), end: z.number().optional() }).optional(),
  callID: z.string().optional(),
  tool: z.string().optional(),
  state: ToolStateSchema.optional(),
});
export type Part = z.infer<typeof PartSchema>;

export const SessionMessagesSchema = z.array(z.looseObject({ info: MessageInfoSchema, parts: z.array(PartSchema) }));
export type SessionMessage = z.infer<typeof SessionMessagesSchema>[number];

/** Every frame on `GET /event` has this envelope. */
export const EventEnvelopeSchema = z.looseObject({
  id: z.string().optional(),
  type: z.string(),
  properties: z.unknown(),
});

/** The properties of the event types a run maps; anything else is ignored. */
export const EVENT_PROPERTIES = {
  'message.updated': z.looseObject({ sessionID: z.string(), info: MessageInfoSchema }),
  'message.part.updated': z.looseObject({ sessionID: z.string().optional(), part: PartSchema }),
  'message.part.delta': z.looseObject({
    sessionID: z.string(),
    messageID: z.string(),
    partID: z.string(),
    field: z.string(),
    delta: z.string(),
  }),
  'session.status': z.looseObject({
    sessionID: z.string(),
    status: z.looseObject({
      type: z.string(),
      attempt: z.number().optional(),
      message: z.string().optional(),
      next: z.number().optional(),
    }),
  }),
  'session.idle': z.looseObject({ sessionID: z.string() }),
  'session.error': z.looseObject({ sessionID: z.string().optional(), error: ErrorInfoSchema.optional() }),
  'permission.asked': z.looseObject({
    id: z.string(),
    sessionID: z.string(),
    permission: z.string(),
    patterns: z.array(z.string()).optional(),
    metadata: z.unknown().optional(),
    always: z.array(z.string()).optional(),
    tool: z.looseObject({ messageID: z.string().optional(), callID: z.string().optional() }).optional(),
  }),
  'permission.replied': z.looseObject({ sessionID: z.string(), requestID: z.string(), reply: z.string() }),
  // `question` tool calls (see __fixtures__/question.sse); `custom` absent means free text is allowed.
  'question.asked': z.looseObject({
    id: z.string(),
    sessionID: z.string(),
    questions: z.array(
      z.looseObject({
        question: z.string(),
        header: z.string().optional(),
        options: z.array(z.looseObject({ label: z.string(), description: z.string().optional() })),
        multiple: z.boolean().optional(),
        custom: z.boolean().optional(),
      }),
    ),
    tool: z.looseObject({ messageID: z.string().optional(), callID: z.string().optional() }).optional(),
  }),
  'question.replied': z.looseObject({ sessionID: z.string(), requestID: z.string() }),
  // The whole todo list each time (its `todowrite` tool).
  'todo.updated': z.looseObject({ sessionID: z.string(), todos: z.array(z.unknown()) }),
  // Entries are `{ file, patch, additions, deletions, status }`; 1.18.33 was only seen sending `[]`.
  'session.diff': z.looseObject({ sessionID: z.string(), diff: z.array(z.unknown()) }),
  'question.rejected': z.looseObject({ sessionID: z.string(), requestID: z.string() }),
} as const;

export type MappedEventType = keyof typeof EVENT_PROPERTIES;
export type EventProperties<T extends MappedEventType> = z.infer<(typeof EVENT_PROPERTIES)[T]>;

const MAPPED = new Set<string>(Object.keys(EVENT_PROPERTIES));

export function isMappedEventType(type: string): type is MappedEventType {
  return MAPPED.has(type);
}

/*
 * Hand-written checks that accept exactly what the schemas above accept for the hot event types,
 * without zod's copying. A value they refuse still goes through zod, which either accepts it
 * (defaults applied) or explains what is wrong — so zod stays the one definition of validity.
 */
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const optNum = (v: unknown) => v === undefined || typeof v === 'number';
const optTime = (v: unknown, a: string, b: string) => v === undefined || (isObj(v) && optNum(v[a]) && optNum(v[b]));

function isPart(p: unknown): boolean {
  if (!isObj(p)) return false;
  return (
    typeof p.id === 'string' &&
    typeof p.messageID === 'string' &&
    typeof p.sessionID === 'string' &&
    typeof p.type === 'string' &&
    optStr(p.text) &&
    optStr(p.callID) &&
    optStr(p.tool) &&
    optTime(p.time, 'start', 'end') &&
    (p.state === undefined || (isObj(p.state) && typeof p.state.status === 'string' && optStr(p.state.title)))
  );
}

function isMessageInfo(i: unknown): boolean {
  if (!isObj(i)) return false;
  const t = i.tokens;
  return (
    typeof i.id === 'string' &&
    typeof i.sessionID === 'string' &&
    typeof i.role === 'string' &&
    optStr(i.parentID) &&
    optStr(i.modelID) &&
    optStr(i.providerID) &&
    optNum(i.cost) &&
    optStr(i.finish) &&
    optTime(i.time, 'created', 'completed') &&
    (t === undefined ||
      (isObj(t) &&
        typeof t.input === 'number' &&
        typeof t.output === 'number' &&
        typeof t.reasoning === 'number' &&
        (t.cache === undefined ||
          (isObj(t.cache) && typeof t.cache.read === 'number' && typeof t.cache.write === 'number')))) &&
    (i.error === undefined ||
      (isObj(i.error) &&
        typeof i.error.name === 'string' &&
        (i.error.data === undefined || (isObj(i.error.data) && optStr(i.error.data.message)))))
  );
}

export const FAST_CHECKS: Partial<Record<MappedEventType, (properties: unknown) => boolean>> = {
  'message.part.delta': (p) =>
    isObj(p) &&
    typeof p.sessionID === 'string' &&
    typeof p.messageID === 'string' &&
    typeof p.partID === 'string' &&
    typeof p.field === 'string' &&
    typeof p.delta === 'string',
  'message.part.updated': (p) => isObj(p) && optStr(p.sessionID) && isPart(p.part),
  'message.updated': (p) => isObj(p) && typeof p.sessionID === 'string' && isMessageInfo(p.info),
};
