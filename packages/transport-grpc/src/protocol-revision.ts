import { featuresUsed, type AgentRequest, type RequestFeature } from '@forge/core';

/**
 * The additions to agent.proto this version reads and writes, announced as `AgentCapabilities.protocol_revision`.
 * 1: the request fields mcp_servers … fork, and steering. 2: session calls (ExecuteCommand.session_store,
 * SessionCall, SessionReply). A peer below a revision drops that revision's request fields unread (protobuf skips
 * unknown fields), so they must not be sent to it: a dropped field is an ignored one.
 */
export const PROTOCOL_REVISION = 2;

/** The revision from which a server carries its agent's sessions to the client's session store. */
export const SESSION_STORE_REVISION = 2;

/**
 * The request features a revision-0 peer reads; every later one (mcpServers … fork) came with revision 1, and
 * one added to core's REQUEST_FEATURES later is beyond revision 0 too without being listed here.
 */
const REVISION_0 = new Set<RequestFeature>(['attachments', 'images', 'systemPrompt', 'toolFilter', 'maxTurns', 'env']);

/** The fields of `request` (as the request spells them) that a peer of `revision` would drop. */
export function fieldsBeyondRevision(request: AgentRequest, revision: number): string[] {
  if (revision >= 1) return [];
  return [...new Set(featuresUsed(request).flatMap((f) => (REVISION_0.has(f.feature) ? [] : [f.field])))];
}
