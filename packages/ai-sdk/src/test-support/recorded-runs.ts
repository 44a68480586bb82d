import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSessionNotification, SessionUpdateMapper, toolInput, toolName } from '@forge/acp/internal';
import { ClaudeEventMapper, StreamJsonParser } from '@forge/claude-code/internal';
import { CodexEventMapper, parseCodexJsonl } from '@forge/codex/internal';
import type { AgentEvent, AgentEventInit, PermissionResolution } from '@forge/core';
import { TurnMapper } from '@forge/opencode/internal';
import { sseFrames } from '@forge/opencode/testing';

/*
 * Recorded runs of every provider, as the Forge events each adapter's own mapper makes of the real program's
 * output (`src/__fixtures__/`, copied from each adapter's fixtures). Tests replay them with core's
 * `scriptedAgent`, so what reaches the AI SDK is what the adapter emits for that recording — file.changed and
 * plan.updated included as soon as an adapter maps them.
 */

const fixtures = path.join(import.meta.dirname, '..', '__fixtures__');
const read = (file: string) => readFileSync(path.join(fixtures, file), 'utf8');

export interface RecordedRun {
  provider: string;
  /** The fixture, relative to `src/__fixtures__/`. */
  file: string;
  events: AgentEventInit[];
}

/** Claude Code's stream-json stdout; `cwd` the recording's, for file paths relative to it. */
function claudeCode(file: string, cwd?: string): RecordedRun {
  const mapper = new ClaudeEventMapper(cwd);
  const events: AgentEventInit[] = [];
  const parser = new StreamJsonParser((item) => mapper.mapItem(item, (e) => events.push(e)));
  parser.push(new TextEncoder().encode(read(file)));
  parser.end();
  return { provider: 'claude-code', file, events };
}

/** `codex exec --json` stdout. */
function codex(file: string): RecordedRun {
  const mapper = new CodexEventMapper();
  const events: AgentEventInit[] = [];
  for (const item of parseCodexJsonl([read(file)])) mapper.mapItem(item, (e) => events.push(e));
  return { provider: 'codex', file, events };
}

/** `opencode serve`'s `GET /event` stream: the turn of the session the recording created. */
function opencode(file: string): RecordedRun {
  const frames = sseFrames(read(file));
  const created = frames.map((f) => JSON.parse(f)).find((f) => f.type === 'session.created');
  const events: AgentEventInit[] = [];
  const mapper = new TurnMapper(created.properties.sessionID, (e) => events.push(e));
  for (const frame of frames) if (mapper.handleFrame(frame) === 'idle') break;
  mapper.finish();
  return { provider: 'opencode', file, events };
}

/**
 * ACP traffic: the agent's `session/update` notifications through the adapter's mapper, and its permission
 * requests with the recorded client's answers, as the adapter and core report them.
 */
function acp(file: string): RecordedRun {
  const mapper = new SessionUpdateMapper();
  const events: AgentEventInit[] = [];
  const emit = (e: AgentEventInit) => events.push(e);
  const asked = new Map<unknown, string>();
  let n = 0;
  for (const line of read(file).split('\n').filter(Boolean)) {
    const { dir, msg } = JSON.parse(line);
    if (dir === '<-' && msg.method === 'session/update') {
      mapper.map(parseSessionNotification(msg.params), emit, msg);
    } else if (dir === '<-' && msg.method === 'session/request_permission') {
      const call = mapper.permissionCall(msg.params.toolCall, emit, msg);
      const id = `perm_${++n}_${msg.params.toolCall.toolCallId}`;
      asked.set(msg.id, id);
      emit({ type: 'permission.requested', id, tool: toolName(call), input: toolInput(call) });
    } else if (dir === '->' && asked.has(msg.id) && msg.result) {
      const option = String(msg.result.outcome?.optionId ?? '');
      const decision: PermissionResolution = /always/.test(option)
        ? 'allow_always'
        : /proceed|allow/.test(option)
          ? 'allow'
          : 'deny';
      emit({ type: 'permission.resolved', id: asked.get(msg.id)!, decision, by: 'host' });
      asked.delete(msg.id);
    }
  }
  mapper.finish(emit);
  return { provider: 'acp', file, events };
}

/**
 * Forge events as a live run emitted them (JSON lines, `raw` left out): for adapters whose program speaks a
 * protocol both ways, where replaying the program's side alone would leave out the adapter's part.
 */
function forgeEvents(provider: string, file: string): RecordedRun {
  const events = read(file)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AgentEvent)
    .filter((e) => e.type !== 'run.completed')
    .map(({ runId: _r, seq: _s, time: _t, provider: _p, ...init }) => init as AgentEventInit);
  return { provider, file, events };
}

/** One or more recorded runs of each provider. */
export function recordedRuns(): RecordedRun[] {
  return [
    claudeCode('claude-code/partial.jsonl'),
    claudeCode('claude-code/think.jsonl'),
    claudeCode('claude-code/edit-plan.jsonl', '/tmp/cc-harness'),
    claudeCode('claude-code/subagent.jsonl', '/tmp/cc-harness'),
    codex('codex/tool.jsonl'),
    codex('codex/write-workspace.jsonl'),
    forgeEvents('codex', 'codex/app-server-patch.events.jsonl'),
    opencode('opencode/tool-prompt-async.sse'),
    opencode('opencode/question.sse'),
    forgeEvents('opencode', 'opencode/edit-write.events.jsonl'),
    forgeEvents('opencode', 'opencode/todo-write.events.jsonl'),
    forgeEvents('opencode', 'opencode/task-subagent.events.jsonl'),
    acp('acp/gemini.tool.jsonl'),
    acp('acp/gemini-nofs.write-allow.jsonl'),
    acp('acp/claude-acp.write-reject.jsonl'),
  ];
}
