import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';
import {
  ConnectResponseSchema as WireConnectResponseSchema,
  ExecuteResponseSchema as WireExecuteResponseSchema,
} from './gen/forge/agent/wire/v1/wire_pb.js';

type Methods = typeof AgentService extends GenService<infer M> ? M : never;

/**
 * AgentService as this transport serves and calls it: the same service (same paths, same bytes
 * on the wire) with Connect and Execute responses described by wire.proto, whose events are
 * left as bytes for event-codec.ts. See proto/forge/agent/wire/v1/wire.proto.
 */
export type WireAgentService = GenService<
  Omit<Methods, 'connect' | 'execute'> & {
    connect: Omit<Methods['connect'], 'output'> & { output: typeof WireConnectResponseSchema };
    execute: Omit<Methods['execute'], 'output'> & { output: typeof WireExecuteResponseSchema };
  }
>;

function withOutputs(service: DescService, outputs: Record<string, DescMethod['output']>): DescService {
  const copy = { ...service } as { -readonly [K in keyof DescService]: DescService[K] };
  copy.methods = service.methods.map(
    (m) => ({ ...m, parent: copy, ...(outputs[m.localName] ? { output: outputs[m.localName]! } : {}) }) as DescMethod,
  );
  copy.method = Object.fromEntries(copy.methods.map((m) => [m.localName, m]));
  return copy;
}

export const WireAgentService = withOutputs(AgentService as unknown as DescService, {
  connect: WireConnectResponseSchema,
  execute: WireExecuteResponseSchema,
}) as unknown as WireAgentService;
