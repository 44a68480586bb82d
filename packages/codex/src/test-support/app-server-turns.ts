import type { AgentEvent, AgentRun } from '@forge/core';
import { type CodexOptions, codex } from '../agent.js';
import { completed, type ScriptedHandler, scriptedAppServer, threadAndTurn } from './scripted-app-server.js';

/** The scripted app-server tests' shared parts: an agent on a scripted peer and the turns it plays. */
export const agentOn = (handler: ScriptedHandler, options: Partial<CodexOptions> = {}) => {
  const runner = scriptedAppServer(handler);
  const agent = codex({
    transport: 'app-server',
    runner,
    cwd: '/work',
    model: 'm',
    sigintGraceMs: 50,
    sigtermGraceMs: 50,
    ...options,
  });
  return { runner, agent };
};
export const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
export const item = (threadId: string, turnId: string, done: boolean, it: Record<string, unknown>) => ({
  method: done ? 'item/completed' : 'item/started',
  params: { threadId, turnId, item: it },
});
export const textTurn = (text: string) =>
  threadAndTurn((s, { threadId, turnId }) => {
    const id = 'msg-1';
    s.send(item(threadId, turnId, false, { type: 'agentMessage', id, text: '' }));
    for (const delta of text.split(/(?<= )/))
      s.notify('item/agentMessage/delta', { threadId, turnId, itemId: id, delta });
    s.send(item(threadId, turnId, true, { type: 'agentMessage', id, text }));
    const last = {
      totalTokens: 30,
      inputTokens: 20,
      cachedInputTokens: 5,
      cacheWriteInputTokens: 0,
      outputTokens: 10,
      reasoningOutputTokens: 2,
    };
    s.notify('thread/tokenUsage/updated', { threadId, turnId, tokenUsage: { total: last, last } });
    s.send(completed(threadId, turnId));
  });
/** A turn that asks `method` first and ends once the client has answered. */
export const askingTurn = (method: string, params: Record<string, unknown>, before?: Record<string, unknown>) => {
  const base = threadAndTurn((s, { threadId, turnId }) => {
    if (before) s.send(item(threadId, turnId, false, before));
    s.send({ id: 900, method, params: { threadId, turnId, itemId: 'call-1', ...params } });
  });
  return ((m, s) => {
    if (m.id === 900 && !m.method) {
      const turn = s.received.find((r) => r.method === 'turn/start');
      s.notify('item/agentMessage/delta', { threadId: 'thread-1', turnId: 'turn-1', itemId: 'x', delta: 'ok' });
      s.send(completed(turn!.params.threadId, 'turn-1'));
      return;
    }
    base(m, s);
  }) as ScriptedHandler;
};
export const answerAll = async (run: AgentRun, decide: (e: AgentEvent) => Promise<void>) => {
  const events: AgentEvent[] = [];
  for await (const e of run) {
    events.push(e);
    await decide(e);
  }
  return { events, result: await run.result };
};
