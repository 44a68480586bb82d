import { create, fromBinary, toBinary, type DescMethod, type DescService, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import type { AgentEvent } from '@forge/core';
import { encodeEvent, proto } from '@forge/transport-grpc';
import { decodeBatch, encodeBatch } from '@forge/transport-grpc/internal';
import { joinChunks } from '@forge/core/internal';
import {
  AgentHubService,
  HeartbeatSchema,
  HelloSchema,
  LogLinesSchema,
  TerminalUpSchema,
  type Heartbeat,
  type Hello,
  type LogLines,
  type TerminalUp,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import {
  AttachRequestSchema as WireAttachRequestSchema,
  type AttachRequest as WireAttachRequest,
} from './gen/forge/dialhome/wire/v1/wire_pb.js';

/**
 * An AttachRequest as this package handles it: bodies decoded, events as AgentEvents (agent side:
 * already encoded, so a batch grows without re-encoding). On the wire it is
 * forge.dialhome.v1.AttachRequest, byte for byte; see proto/forge/dialhome/wire/v1/wire.proto.
 */
export type AttachBody =
  | { case: 'hello'; value: Hello }
  | { case: 'heartbeat'; value: Heartbeat }
  | { case: 'ack'; value: proto.CommandAck }
  | { case: 'error'; value: proto.CommandError }
  | { case: 'pong'; value: proto.Pong }
  | { case: 'logLines'; value: LogLines }
  | { case: 'sessionCall'; value: proto.SessionCall }
  | { case: 'terminal'; value: TerminalUp };

/** Most output or stdin bytes in one terminal message. */
export const TERMINAL_CHUNK = 64 * 1024;

/**
 * A terminal's output as the agent queues it: consecutive chunks of one stream merge while they
 * wait for the link (one TerminalUp, one envelope, one HTTP/2 write for many pipe reads).
 */
export interface TerminalOutput {
  case: 'terminalOutput';
  terminalId: string;
  channel: 'stdout' | 'stderr';
  chunks: Uint8Array[];
  bytes: number;
}

/** What the agent queues to send. */
export type Outgoing = {
  subject: string;
  body: AttachBody | { case: 'events'; value: Uint8Array[]; bytes: number } | TerminalOutput;
};

/** What the hub reads. */
export type Incoming = {
  subject: string;
  body: AttachBody | { case: 'events'; value: AgentEvent[] } | { case: undefined };
};

type Methods = typeof AgentHubService extends GenService<infer M> ? M : never;

/** AgentHubService with Attach's requests described by wire.proto: the same service, same bytes. */
export type WireAgentHubService = GenService<
  Omit<Methods, 'attach'> & { attach: Omit<Methods['attach'], 'input'> & { input: typeof WireAttachRequestSchema } }
>;

function withInput(service: DescService, method: string, input: DescMethod['input']): DescService {
  const copy = { ...service } as { -readonly [K in keyof DescService]: DescService[K] };
  copy.methods = service.methods.map(
    (m) => ({ ...m, parent: copy, ...(m.localName === method ? { input } : {}) }) as DescMethod,
  );
  copy.method = Object.fromEntries(copy.methods.map((m) => [m.localName, m]));
  return copy;
}

export const WireAgentHubService = withInput(
  AgentHubService as unknown as DescService,
  'attach',
  WireAttachRequestSchema,
) as unknown as WireAgentHubService;

export { encodeEvent };

/**
 * Each body's message, for both directions (toWire, fromWire): one table, so they cannot disagree. The
 * `satisfies` ties every case to the schema of its own value type.
 */
const BODY_SCHEMAS = {
  hello: HelloSchema,
  heartbeat: HeartbeatSchema,
  ack: proto.CommandAckSchema,
  error: proto.CommandErrorSchema,
  pong: proto.PongSchema,
  logLines: LogLinesSchema,
  sessionCall: proto.SessionCallSchema,
  terminal: TerminalUpSchema,
} as const satisfies { [K in AttachBody['case']]: GenMessage<Extract<AttachBody, { case: K }>['value']> };

// The table's schemas, as one that reads and writes any of their messages (each entry is checked above).
const schemaOf = (c: AttachBody['case']) => BODY_SCHEMAS[c] as unknown as GenMessage<Message>;

export function toWire(message: Outgoing): WireAttachRequest {
  const b = message.body;
  const subject = message.subject;
  switch (b.case) {
    case 'events':
      return create(WireAttachRequestSchema, { subject, body: { case: 'events', value: encodeBatch(b.value) } });
    case 'terminalOutput': {
      const body = { case: b.channel, value: joinChunks(b.chunks, b.bytes) } as const;
      const value = toBinary(TerminalUpSchema, create(TerminalUpSchema, { terminalId: b.terminalId, body }));
      return create(WireAttachRequestSchema, { subject, body: { case: 'terminal', value } });
    }
    default:
      return create(WireAttachRequestSchema, {
        subject,
        body: { case: b.case, value: toBinary(schemaOf(b.case), b.value as Message) },
      });
  }
}

/** Decodes a request's body. Throws on bytes that are not the message they claim to be. */
export function fromWire(message: WireAttachRequest): Incoming {
  const b = message.body;
  const subject = message.subject;
  if (b.case === 'events') return { subject, body: { case: 'events', value: decodeBatch(b.value) } };
  if (b.case === undefined || !Object.hasOwn(BODY_SCHEMAS, b.case)) return { subject, body: { case: undefined } };
  return { subject, body: { case: b.case, value: fromBinary(schemaOf(b.case), b.value) } as AttachBody };
}

/**
 * The agent's queue as the request stream of an Attach call. Not a generator: Connect may call
 * `return()` while a `next()` is pending, and that must close the queue at once, not wait for
 * its next item.
 */
export function wireStream(outgoing: AsyncIterable<Outgoing>): AsyncIterable<WireAttachRequest> {
  return {
    [Symbol.asyncIterator]() {
      const it = outgoing[Symbol.asyncIterator]();
      const done = async (): Promise<IteratorResult<WireAttachRequest>> => {
        await it.return?.();
        return { done: true, value: undefined };
      };
      return {
        async next() {
          const r = await it.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: toWire(r.value) };
        },
        return: done,
        throw: done,
      };
    },
  };
}
