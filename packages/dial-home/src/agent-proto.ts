/**
 * The forge.agent.v1 protocol as the generated dialhome_pb.ts imports it (`#agent-proto/…`, see
 * buf.gen.yaml and "imports" in package.json): @forge/transport-grpc's own generated module, so
 * an event or command is one schema on both sides of a dial-home link and the transport's
 * converters apply. Lists what dialhome.proto uses; a new import there needs a line here.
 */
import { proto } from '@forge/transport-grpc';

export const file_forge_agent_v1_agent = proto.file_forge_agent_v1_agent;
export type AgentCapabilities = proto.AgentCapabilities;
export type CommandAck = proto.CommandAck;
export type CommandError = proto.CommandError;
export type ConnectRequest = proto.ConnectRequest;
export type EventBatch = proto.EventBatch;
export type Pong = proto.Pong;
export type SessionCall = proto.SessionCall;
