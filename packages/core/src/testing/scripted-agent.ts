import { defaultCapabilities, type AgentCapabilities, type CodeAgent, type PermissionDecision } from '../agent.js';
import { createCodeAgent } from '../create-code-agent.js';
import type { AgentEventInit } from '../events.js';
import type { AgentRequest } from '../request.js';
import type { RunOptions, RunOutcome } from '../run.js';
import type { IdGenerator } from '../id-generator.js';
import type { AgentPolicyOptions } from '../agent-policy-options.js';
import { delay } from '../delay.js';

export type ScriptStep =
  | AgentEventInit
  | { delayMs: number }
  /** Waits until the run is cancelled or times out. */
  | { hang: true }
  /** Waits until `run.respond(id, …)` is called, then emits a tool.result saying what was decided. */
  | { awaitPermission: string }
  /** Waits until `run.answer(id, …)` is called, then emits a tool.result carrying the answers. */
  | { awaitQuestion: string };

export interface ScriptedAgentOptions extends RunOptions, AgentPolicyOptions {
  provider?: string;
  /** The steps, or a function of the request that returns them. */
  steps: ScriptStep[] | ((request: AgentRequest) => ScriptStep[]);
  /** The outcome once all steps have played. Default: completed. */
  outcome?: RunOutcome | ((request: AgentRequest) => RunOutcome);
  /**
   * What the double declares, over its defaults (every request field that existed before the vocabulary of
   * mcpServers/outputSchema/…, plus resume, permission replies, questions and text deltas). Declare any newer
   * field (`mcpServers: true`, `structuredOutput: 'native'`, `steering: true`, …) to test a host against a
   * provider that honours it; what is not declared is refused by `execute` like a real adapter's.
   */
  capabilities?: Partial<AgentCapabilities>;
  idGenerator?: IdGenerator;
}

/**
 * A fake CodeAgent that plays a script of events, with delays, honouring cancel, abort and
 * timeout the way a real adapter must. Useful for host-app tests and as the conformance reference.
 */
export function scriptedAgent(options: ScriptedAgentOptions): CodeAgent {
  const { steps, outcome, capabilities, provider = 'scripted', ...runOptions } = options;
  const declared = defaultCapabilities({
    resume: true,
    permissionReplies: true,
    questions: true,
    textDeltas: true,
    attachments: true,
    images: true,
    systemPrompt: true,
    toolFilter: true,
    maxTurns: true,
    ...capabilities,
  });
  return createCodeAgent({
    ...runOptions,
    provider,
    declared,
    async run(ctx) {
      // Core records what was asked and refuses unknown ids; an answer can come before the script reaches its
      // await step (the reader answers as soon as it sees the event), so early answers wait here.
      const early = new Map<string, unknown>();
      const waiters = new Map<string, (v: unknown) => void>();
      const deliver = async (id: string, value: unknown) => {
        const waiter = waiters.get(id);
        if (waiter) waiter(value);
        else early.set(id, value);
      };
      if (declared.permissionReplies) ctx.onRespond((id, decision) => deliver(id, decision));
      if (declared.questions) ctx.onAnswer((id, answers) => deliver(id, answers));
      // A steering message shows up as a log event, so a host's test can see it arrived.
      if (declared.steering)
        ctx.onSteer(async (text) => {
          ctx.emit({ type: 'log', text: `steered: ${text}`, level: 'info' });
        });
      const waitFor = <T>(id: string) =>
        new Promise<T | undefined>((resolve) => {
          if (early.has(id)) return resolve(early.get(id) as T);
          // Removed once answered: a script awaiting many replies must not pile listeners on the run's signal.
          const onAbort = () => resolve(undefined);
          waiters.set(id, (v: unknown) => {
            ctx.signal.removeEventListener('abort', onAbort);
            resolve(v as T);
          });
          ctx.signal.addEventListener('abort', onAbort, { once: true });
        });
      const script = typeof steps === 'function' ? steps(ctx.request) : steps;
      for (const step of script) {
        if (ctx.signal.aborted) break;
        if ('delayMs' in step) {
          await delay(step.delayMs, ctx.signal);
        } else if ('hang' in step) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        } else if ('awaitPermission' in step) {
          const decision = await waitFor<PermissionDecision>(step.awaitPermission);
          if (decision) {
            ctx.emit({
              type: 'tool.result',
              callId: step.awaitPermission,
              output: `permission ${decision}`,
              isError: decision === 'deny',
            });
          }
        } else if ('awaitQuestion' in step) {
          const answers = await waitFor<string[][]>(step.awaitQuestion);
          if (answers) {
            ctx.emit({ type: 'tool.result', callId: step.awaitQuestion, output: { answers }, isError: false });
          }
        } else {
          if (!ctx.emit(step)) await ctx.drained();
        }
      }
      const base = typeof outcome === 'function' ? outcome(ctx.request) : outcome;
      return { turns: 1, ...base };
    },
  });
}

/** A short script that exercises the common event types. */
export function sampleScript(text = 'Hello from the scripted agent.'): ScriptStep[] {
  const words = text.split(/(?<= )/);
  return [
    { type: 'session.started', sessionId: 'ses_scripted', model: 'scripted-model', tools: ['Bash'], cwd: '/tmp' },
    ...words.map((w) => ({ type: 'text.delta' as const, text: w, messageId: 'msg_1' })),
    { type: 'message', text, messageId: 'msg_1' },
    { type: 'usage', usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 } },
  ];
}
