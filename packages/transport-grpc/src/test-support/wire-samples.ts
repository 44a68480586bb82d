import type { AgentCapabilities, AgentEvent, AgentRequestInput, AgentResult } from '@forge/core';
import { scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { nonceMcpStdio } from '../../../../scripts/test-support/nonce-mcp-server.js';

/*
 * The newer request fields, events and result fields as a relay's round-trip tests send them: one request using
 * every field, a script emitting every newer event, and an agent for the far side that declares them all. Shared
 * by this package's served-pair tests and @forge/dial-home's rig tests (by relative path), so both wires are
 * checked against the same values.
 */

/** Everything newer than the first protocol, declared. */
export const EVERY_NEWER_CAPABILITY: Partial<AgentCapabilities> = {
  mcpServers: true,
  structuredOutput: 'native',
  effort: true,
  approvals: true,
  questionDeadlines: true,
  budget: true,
  // Reports cost in its usage, so core takes `budget.maxCostUsd` without a `pricing` option.
  usageCost: true,
  fork: true,
  steering: true,
  sessionPortability: true,
};

/** One request per newer field, each using just that field, keyed by the capability that covers it. */
export const ONE_NEWER_FIELD: Record<string, Partial<AgentRequestInput>> = {
  mcpServers: { mcpServers: [nonceMcpStdio('n-1')] },
  structuredOutput: { outputSchema: { type: 'object' } },
  effort: { effort: 'low' },
  approvals: { approvals: { default: 'deny' } },
  questionDeadlines: { questions: { unanswered: { afterMs: 1_000, action: 'fail' } } },
  budget: { budget: { maxTokens: 10 } },
  fork: { sessionId: 'ses_1', fork: true },
};

/** A request using every newer field (with a stdio and a url MCP server). */
export const everyNewerField = (): AgentRequestInput => ({
  prompt: 'review the diff',
  sessionId: 'ses_parent',
  fork: true,
  mcpServers: [
    nonceMcpStdio('n-4711', 'tickets'),
    { name: 'docs', url: 'https://docs.example/mcp', headers: { authorization: 'Bearer t' }, transport: 'http' },
  ],
  outputSchema: {
    type: 'object',
    properties: { verdict: { enum: ['approve', 'reject'] }, comments: { type: 'array', items: { type: 'string' } } },
    required: ['verdict'],
    additionalProperties: false,
  },
  outputRepairs: 2,
  effort: 'high',
  approvals: {
    rules: [
      { tool: 'Bash', input: { command: 'git *' }, decision: 'allow' },
      { tool: 'Bash', input: { command: 'rm *' }, decision: 'deny' },
      { tool: 'mcp__*', decision: 'ask' },
    ],
    default: 'ask',
    unanswered: { afterMs: 45_000, decision: 'deny' },
  },
  questions: { unanswered: { afterMs: 30_000, action: 'cancel' } },
  budget: { maxCostUsd: 1.5, maxTokens: 200_000, maxTurns: 12 },
});

/** One of each newer event, some inside a subagent (parentToolCallId). */
export const newerEvents: ScriptStep[] = [
  { type: 'session.started', sessionId: 'ses_fork' },
  { type: 'tool.call', callId: 'task_1', name: 'Agent', input: { description: 'edit' } },
  { type: 'text.delta', text: 'editing', messageId: 'm_sub', parentToolCallId: 'task_1' },
  { type: 'tool.call', callId: 'edit_1', name: 'Edit', input: { file_path: 'src/a.ts' }, parentToolCallId: 'task_1' },
  {
    type: 'file.changed',
    path: 'src/a.ts',
    change: 'modified',
    diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-old\n+new\n',
    toolCallId: 'edit_1',
    parentToolCallId: 'task_1',
  },
  { type: 'file.changed', path: 'src/b.ts', change: 'renamed', oldPath: 'src/old-b.ts' },
  { type: 'file.changed', path: 'tmp.txt', change: 'deleted' },
  {
    type: 'plan.updated',
    entries: [
      { id: '1', content: 'read the diff', status: 'completed', priority: 'high' },
      { content: 'write the review', status: 'in_progress' },
    ],
  },
  { type: 'permission.resolved', id: 'perm_rule', decision: 'allow', by: 'rule' },
  { type: 'permission.resolved', id: 'perm_late', decision: 'deny', by: 'unanswered' },
  { type: 'question.resolved', id: 'q_late', by: 'unanswered' },
  { type: 'message', text: '{"verdict":"approve"}', messageId: 'm_1' },
];

export const newerResult: Partial<AgentResult> = {
  output: { verdict: 'approve', comments: ['tidy', 'ünïcode'] },
  filesChanged: [
    { path: 'src/a.ts', change: 'modified' },
    { path: 'src/b.ts', change: 'renamed', oldPath: 'src/old-b.ts' },
    { path: 'tmp.txt', change: 'deleted' },
  ],
};

/** The far side's agent: declares every newer capability, plays `newerEvents`, answers with `newerResult`. */
export const farAgent = (capabilities: Partial<AgentCapabilities> = EVERY_NEWER_CAPABILITY) =>
  scriptedAgent({
    provider: 'far',
    steps: newerEvents,
    outcome: { text: '{"verdict":"approve"}', output: newerResult.output, filesChanged: newerResult.filesChanged },
    capabilities,
  });

/** What must survive the wire: an event without its run id, clock and provider (the relay sets those). */
export const comparable = (events: AgentEvent[]) =>
  events.map(({ runId: _r, time: _t, provider: _p, ...e }) =>
    e.type === 'run.completed' ? { ...e, result: { ...e.result, durationMs: 0 } } : e,
  );
