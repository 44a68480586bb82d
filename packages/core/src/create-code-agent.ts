import type { AgentCapabilities, AgentRun, CodeAgent, ExecuteOptions } from './agent.js';
import { RunExistsError } from './errors.js';
import { validateRequest, type AgentRequestInput } from './request.js';
import { startRun, type RunFunction, type RunOptions } from './run.js';
import { randomId, type IdGenerator } from './id-generator.js';

export interface AgentDefinition extends RunOptions {
  provider: string;
  capabilities(): AgentCapabilities | Promise<AgentCapabilities>;
  /** Runs one validated request; see RunContext for what it may do. */
  run: RunFunction;
  close?(): Promise<void>;
  idGenerator?: IdGenerator;
}

/**
 * Turns an adapter's run function into a full CodeAgent: request validation before any work,
 * run ids, `cancel(runId)`, and every run rule of `startRun`. The live-run table belongs to the
 * agent instance; there is no global state.
 */
export function createCodeAgent(definition: AgentDefinition): CodeAgent {
  const live = new Map<string, AgentRun>();
  const nextId = definition.idGenerator ?? randomId;

  return {
    provider: definition.provider,
    async capabilities() {
      return definition.capabilities();
    },
    execute(input: AgentRequestInput, options: ExecuteOptions = {}): AgentRun {
      const request = validateRequest(input);
      const runId = options.runId ?? nextId();
      if (live.has(runId)) {
        throw new RunExistsError(runId);
      }
      let ended = false;
      const run = startRun({
        ...definition,
        runId,
        provider: definition.provider,
        request,
        ...(options.signal ? { signal: options.signal } : {}),
        run: definition.run,
        onEnd: () => {
          ended = true;
          live.delete(runId);
        },
      });
      // A run whose signal was already aborted has ended inside startRun; track only live ones.
      if (!ended) live.set(runId, run);
      return run;
    },
    async cancel(runId: string) {
      const run = live.get(runId);
      if (!run) return false;
      await run.cancel();
      return true;
    },
    async close() {
      await Promise.all([...live.values()].map((r) => r.cancel('the agent is closing')));
      await definition.close?.();
    },
  };
}
