import type {
  AgentCapabilities,
  AgentRequestInputWith,
  AgentRun,
  CodeAgent,
  Declaration,
  ExecuteOptions,
  OutputOf,
} from './agent.js';
import type { JsonSchema, OutputSchemaInput } from './output-schema.js';
import { checkPolicyOptions, withPolicyDefaults, type AgentPolicyOptions } from './agent-policy-options.js';
import { refuseUncountableCost, refuseUnsupportedFields } from './request-features.js';
import { cancelLiveRun } from './cancel-live-run.js';
import { RunExistsError } from './errors.js';
import { OutputValidator } from './output-validator.js';
import { validateRequest } from './request.js';
import { startRun, type RunFunction, type RunOptions } from './run.js';
import { randomId, type IdGenerator } from './id-generator.js';
import { withPortableSessions, type SessionExportLayout, type SessionFilesLayout } from './session-portability.js';
import type { SessionStore } from './session-store.js';

export interface AgentDefinition extends RunOptions, AgentPolicyOptions {
  provider: string;
  /**
   * What the adapter supports, known synchronously (its `declared-capabilities.ts`): `execute()` refuses every
   * request field it does not declare, before any work, with UnsupportedFieldError (UNSUPPORTED_FIELD).
   */
  declared: AgentCapabilities;
  /** Capabilities the agent's own handshake decides (false in `declared`, refused by the run when it says no). */
  probed?: readonly (keyof AgentCapabilities)[];
  /** What a probe adds (version, availability, models). Default: the declaration. */
  capabilities?(): AgentCapabilities | Promise<AgentCapabilities>;
  /** Runs one validated request; see RunContext for what it may do. */
  run: RunFunction;
  close?(): Promise<void>;
  idGenerator?: IdGenerator;
  /**
   * Where sessions are kept beyond this machine: with `sessionFiles` (the adapter's layout of its session
   * files, or its export/import of a session), each turn's additions are saved there and a resume restores
   * missing files from it.
   */
  sessionStore?: SessionStore;
  sessionFiles?: SessionFilesLayout | SessionExportLayout;
}

/**
 * Turns an adapter's run function into a full CodeAgent: request validation and the declaration's refusals
 * before any work, the agent's policy defaults (`approvals`, `budget`, `questions`; a request's own field wins),
 * run ids, `cancel(runId)`, and every run rule of `startRun` — structured output checked and repaired, approval
 * rules, deadlines and budgets enforced, for every adapter alike. The live-run table belongs to the agent
 * instance; there is no global state.
 */
export function createCodeAgent(definition: AgentDefinition): CodeAgent {
  const live = new Map<string, AgentRun>();
  const nextId = definition.idGenerator ?? randomId;
  const runFunction =
    definition.sessionStore && definition.sessionFiles
      ? withPortableSessions(definition.run, definition.provider, definition.sessionFiles, definition.sessionStore)
      : definition.run;
  const declared: Declaration = Object.freeze({
    capabilities: Object.freeze({ ...definition.declared }),
    probed: Object.freeze([...(definition.probed ?? [])]),
  });
  const policy = checkPolicyOptions(definition);
  const validator = new OutputValidator();
  const structured = declared.capabilities.structuredOutput;

  function execute<S extends OutputSchemaInput = JsonSchema>(
    input: AgentRequestInputWith<S>,
    options: ExecuteOptions = {},
  ): AgentRun<OutputOf<S>> {
    const request = validateRequest(withPolicyDefaults(input, policy));
    refuseUnsupportedFields(definition.provider, request, declared);
    refuseUncountableCost(definition.provider, request, declared, policy.pricing !== undefined);
    // Compiled now, so a schema the validator cannot take is a ValidationError before any work.
    const check =
      request.outputSchema !== undefined && structured
        ? validator.compile(request.outputSchema, input.outputSchema)
        : undefined;
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
      ...(check && structured ? { output: { mode: structured, check } } : {}),
      ...(policy.pricing ? { pricing: policy.pricing } : {}),
      run: runFunction,
      onEnd: () => {
        ended = true;
        live.delete(runId);
      },
    });
    // A run whose signal was already aborted has ended inside startRun; track only live ones.
    if (!ended) live.set(runId, run);
    return run;
  }

  return {
    provider: definition.provider,
    declared,
    async capabilities() {
      return definition.capabilities ? definition.capabilities() : { ...definition.declared };
    },
    execute,
    cancel: (runId: string) => cancelLiveRun(live, runId),
    async close() {
      await Promise.all([...live.values()].map((r) => r.cancel('the agent is closing')));
      await definition.close?.();
      // Its processes have ended: what a warm one wrote after its last turn ended reaches the session store.
      await (runFunction as { flush?: () => Promise<void> }).flush?.();
    },
  };
}
