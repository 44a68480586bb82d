import type { AgentRequest, Approvals, Budget, McpServer, QuestionsPolicy } from '@forge/core';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AgentRequest as ProtoAgentRequest,
  AgentRequestSchema,
  McpServerSchema,
} from './gen/forge/agent/v1/agent_pb.js';

/*
 * The structured request fields of the run policies (MCP servers, approvals, question deadlines, budget) in both
 * directions. Values are passed as they are, never checked here: the agent on the far side validates the request
 * as it would a local caller's, so a bad value gets the same typed error wherever it was sent from.
 */

type ProtoInit = Pick<MessageInitShape<typeof AgentRequestSchema>, 'mcpServers' | 'approvals' | 'questions' | 'budget'>;

const nonEmpty = <T extends object>(o: T | undefined): T | undefined =>
  o && Object.keys(o).length > 0 ? { ...o } : undefined;

/** Copies the defined entries of `fields` onto `target`, so a round trip gives back an equal object. */
function defined<T extends object>(target: T, fields: Record<string, unknown>): T {
  for (const key in fields) if (fields[key] !== undefined) (target as Record<string, unknown>)[key] = fields[key];
  return target;
}

export function policiesToProto(r: AgentRequest): ProtoInit {
  const out: Record<string, unknown> = {};
  if (r.mcpServers) out.mcpServers = r.mcpServers.map(mcpServerToProto);
  const a = r.approvals;
  if (a)
    out.approvals = {
      rules: (a.rules ?? []).map((rule) => ({ tool: rule.tool, input: rule.input ?? {}, decision: rule.decision })),
      defaultDecision: a.default,
      unanswered: a.unanswered,
    };
  if (r.questions) out.questions = { unanswered: r.questions.unanswered };
  if (r.budget) out.budget = { ...r.budget };
  return out as ProtoInit;
}

function mcpServerToProto(s: McpServer): MessageInitShape<typeof McpServerSchema> {
  if ('url' in s) return { name: s.name, url: s.url, headers: s.headers ?? {}, transport: s.transport };
  return { name: s.name, command: s.command, args: s.args ?? [], env: s.env ?? {} };
}

export function policiesFromProto(p: ProtoAgentRequest): Partial<AgentRequest> {
  const out: Record<string, unknown> = {};
  if (p.mcpServers.length) {
    out.mcpServers = p.mcpServers.map((s) =>
      defined({ name: s.name } as McpServer, {
        command: s.command,
        args: s.args.length ? [...s.args] : undefined,
        env: nonEmpty(s.env),
        url: s.url,
        headers: nonEmpty(s.headers),
        transport: s.transport,
      }),
    );
  }
  if (p.approvals) {
    const a = p.approvals;
    out.approvals = defined({} as Approvals, {
      rules: a.rules.length
        ? a.rules.map((rule) => defined({ tool: rule.tool, decision: rule.decision }, { input: nonEmpty(rule.input) }))
        : undefined,
      default: a.defaultDecision,
      unanswered: a.unanswered ? { afterMs: a.unanswered.afterMs, decision: a.unanswered.decision } : undefined,
    });
  }
  if (p.questions) {
    const u = p.questions.unanswered;
    out.questions = defined({} as QuestionsPolicy, {
      unanswered: u ? { afterMs: u.afterMs, action: u.action } : undefined,
    });
  }
  if (p.budget) {
    const b = p.budget;
    out.budget = defined({} as Budget, { maxCostUsd: b.maxCostUsd, maxTokens: b.maxTokens, maxTurns: b.maxTurns });
  }
  return out as Partial<AgentRequest>;
}
