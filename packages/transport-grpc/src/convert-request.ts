import { create } from '@bufbuild/protobuf';
import type { AgentCapabilities, AgentRequest, AgentRequestInput, PermissionDecision } from '@forge/core';
import { defaultCapabilities } from '@forge/core';
import {
  AgentCapabilitiesSchema,
  AgentRequestSchema,
  PermissionDecision as ProtoDecision,
  type AgentCapabilities as ProtoCapabilities,
  type AgentRequest as ProtoAgentRequest,
} from './gen/forge/agent/v1/agent_pb.js';
import { policiesFromProto, policiesToProto } from './convert-policies.js';
import { PROTOCOL_REVISION } from './protocol-revision.js';
import { fromJsonObject, fromJsonText, toJsonText } from './json-text.js';

export function requestToProto(r: AgentRequest): ProtoAgentRequest {
  return create(AgentRequestSchema, {
    prompt: r.prompt,
    sessionId: r.sessionId,
    cwd: r.cwd,
    model: r.model,
    systemPrompt: r.systemPrompt,
    allowedTools: r.allowedTools ? { values: r.allowedTools } : undefined,
    disallowedTools: r.disallowedTools ? { values: r.disallowedTools } : undefined,
    permissionMode: r.permissionMode,
    maxTurns: r.maxTurns,
    timeoutMs: r.timeoutMs,
    env: r.env,
    attachments: r.attachments,
    metadataJson: toJsonText(r.metadata),
    outputSchemaJson: toJsonText(r.outputSchema),
    outputRepairs: r.outputRepairs,
    effort: r.effort,
    fork: r.fork,
    ...policiesToProto(r),
  });
}

/** The wire request as core input; the agent validates it as it would a local caller's. */
export function requestFromProto(p: ProtoAgentRequest | undefined): AgentRequestInput {
  if (!p) return { prompt: '' };
  const out: Record<string, unknown> = { prompt: p.prompt };
  const optional: Record<string, unknown> = {
    sessionId: p.sessionId,
    cwd: p.cwd,
    model: p.model,
    systemPrompt: p.systemPrompt,
    allowedTools: p.allowedTools ? [...p.allowedTools.values] : undefined,
    disallowedTools: p.disallowedTools ? [...p.disallowedTools.values] : undefined,
    permissionMode: p.permissionMode,
    maxTurns: p.maxTurns,
    timeoutMs: p.timeoutMs,
    env: Object.keys(p.env).length ? { ...p.env } : undefined,
    attachments: p.attachments.length
      ? p.attachments.map((a) => {
          const att: Record<string, unknown> = { kind: a.kind };
          for (const k of ['path', 'data', 'mimeType', 'name'] as const) if (a[k] !== undefined) att[k] = a[k];
          return att;
        })
      : undefined,
    metadata: p.metadataJson === undefined ? undefined : (fromJsonObject(p.metadataJson) ?? p.metadataJson),
    // Whatever arrived goes to the agent's own validation, which refuses what is not a JSON Schema object.
    outputSchema: fromJsonText(p.outputSchemaJson),
    outputRepairs: p.outputRepairs,
    effort: p.effort,
    fork: p.fork,
    ...policiesFromProto(p),
  };
  for (const k in optional) if (optional[k] !== undefined) out[k] = optional[k];
  return out as AgentRequestInput;
}

export function capabilitiesToProto(c: AgentCapabilities): ProtoCapabilities {
  return create(AgentCapabilitiesSchema, {
    resume: c.resume,
    cancel: c.cancel,
    permissionReplies: c.permissionReplies,
    questions: c.questions,
    textDeltas: c.textDeltas,
    reasoning: c.reasoning,
    attachments: c.attachments,
    images: c.images,
    systemPrompt: c.systemPrompt,
    toolFilter: c.toolFilter,
    maxTurns: c.maxTurns,
    env: c.env,
    mcpServers: c.mcpServers,
    structuredOutput: c.structuredOutput === false ? undefined : c.structuredOutput,
    effort: c.effort,
    approvals: c.approvals,
    questionDeadlines: c.questionDeadlines,
    budget: c.budget,
    fork: c.fork,
    steering: c.steering,
    sessionPortability: c.sessionPortability,
    usageCost: c.usageCost ?? false,
    models: c.models,
    version: c.version,
    available: c.available,
    unavailableReason: c.unavailableReason,
    extraJson: toJsonText(c.extra),
    protocolRevision: PROTOCOL_REVISION,
  });
}

export function capabilitiesFromProto(p: ProtoCapabilities | undefined): AgentCapabilities {
  // An older peer leaves the newer flags unset: it does not carry those fields, so it does not claim them.
  const c = defaultCapabilities({
    resume: p?.resume ?? false,
    cancel: p?.cancel ?? false,
    permissionReplies: p?.permissionReplies ?? false,
    // An older peer leaves the field unset: it cannot relay answers, so it does not claim it can.
    questions: p?.questions ?? false,
    textDeltas: p?.textDeltas ?? false,
    reasoning: p?.reasoning ?? false,
    attachments: p?.attachments ?? false,
    images: p?.images ?? false,
    systemPrompt: p?.systemPrompt ?? false,
    toolFilter: p?.toolFilter ?? false,
    maxTurns: p?.maxTurns ?? false,
    // Unset by an older peer, which had no flag for it: its agent refuses a per-run env it cannot honour.
    env: p?.env ?? true,
    mcpServers: p?.mcpServers ?? false,
    structuredOutput: structuredOutputFromProto(p?.structuredOutput),
    effort: p?.effort ?? false,
    approvals: p?.approvals ?? false,
    questionDeadlines: p?.questionDeadlines ?? false,
    budget: p?.budget ?? false,
    fork: p?.fork ?? false,
    steering: p?.steering ?? false,
    sessionPortability: p?.sessionPortability ?? false,
    models: [...(p?.models ?? [])],
  });
  if (p?.usageCost) c.usageCost = true;
  if (p?.version !== undefined) c.version = p.version;
  if (p?.available !== undefined) c.available = p.available;
  if (p?.unavailableReason !== undefined) c.unavailableReason = p.unavailableReason;
  const extra = fromJsonObject(p?.extraJson);
  if (extra) c.extra = extra;
  return c;
}

/** A value this version does not know (from a newer peer) is not claimed. */
function structuredOutputFromProto(value: string | undefined): AgentCapabilities['structuredOutput'] {
  return value === 'native' || value === 'emulated' ? value : false;
}

const DECISION_TO_PROTO: Record<PermissionDecision, ProtoDecision> = {
  allow: ProtoDecision.ALLOW,
  allow_always: ProtoDecision.ALLOW_ALWAYS,
  deny: ProtoDecision.DENY,
};

export function decisionToProto(d: PermissionDecision): ProtoDecision {
  return DECISION_TO_PROTO[d] ?? ProtoDecision.UNSPECIFIED;
}

/** Unspecified maps to an invalid decision, which `run.respond` refuses with a ValidationError. */
export function decisionFromProto(d: ProtoDecision): PermissionDecision {
  switch (d) {
    case ProtoDecision.ALLOW:
      return 'allow';
    case ProtoDecision.ALLOW_ALWAYS:
      return 'allow_always';
    case ProtoDecision.DENY:
      return 'deny';
    default:
      return 'unspecified' as PermissionDecision;
  }
}
