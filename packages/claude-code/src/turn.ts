import { randomUUID } from 'node:crypto';
import {
  CoreErrorCode,
  ForgeError,
  NotFoundError,
  ProviderError,
  type AgentEventInit,
  type ProcessExit,
  type Question,
  type RunContext,
  type RunOutcome,
} from '@forge/core';
import type { ClaudeProcess, TurnListener } from './claude-process.js';
import {
  controlSuccess,
  permissionResponse,
  QUESTION_TOOL,
  questionResponse,
  toPermissionRequest,
  toQuestions,
  userMessage,
  type ToolPermissionRequest,
} from './control-protocol.js';
import { ClaudeEventMapper, resultOutcome } from './mapper.js';
import type { SteerRelay } from './steer-relay.js';
import type { ClaudeMessage } from './stream-json.js';
import { exitWithin } from '@forge/core/internal';

export interface TurnEnd {
  outcome: RunOutcome;
  /** The turn ended with a `result` and the process is fit for another. */
  reusable: boolean;
  /** The process ended before saying anything for this turn (a warm process that had died). */
  silentDeath: boolean;
}

export interface TurnOptions {
  /** Where `run.steer()` messages come from (installed by the run function as it starts). */
  steering?: SteerRelay | undefined;
  /** The user message's content: the prompt, with its attachments as content blocks. */
  content: string | Record<string, unknown>[];
  /** Where the run's files are: `file.changed` paths inside it are relative to it. */
  cwd?: string | undefined;
  /** After the `interrupt` request, how long before the signals start. */
  sigintGraceMs: number;
  /** How long an ending process (stdout closed) may take to exit before it is killed. */
  exitGraceMs: number;
}

type Waiting = ToolPermissionRequest & { questions: Question[] | undefined };

/**
 * One turn of a run in a live process: the prompt goes in as a user message, `can_use_tool` control requests
 * become `permission.requested` / `question.requested` (answered by `run.respond` / `run.answer`), and the turn
 * ends at the CLI's `result`. A cancel sends `interrupt`, which ends the turn with a `result` and keeps the
 * process; only when none comes within the grace period do the signals start.
 *
 * `run.steer(text)` writes another user message while the turn runs. The CLI takes it into the running turn (as
 * a note to the model before its next request) or, when the turn is already answering for the last time, runs
 * a turn of its own for it after the `result`. Either way it replays the message once taken; a `result` that
 * comes while a steering message is still untaken is not the run's last, and the run goes on to the next.
 */
export async function playTurn(ctx: RunContext, proc: ClaudeProcess, options: TurnOptions): Promise<TurnEnd> {
  const mapper = new ClaudeEventMapper(options.cwd);
  const waiting = new Map<string, Waiting>();
  /** Steering messages written but not yet replayed by the CLI. */
  const steering = new Set<string>();
  /** Results of the turns before the last, when steering made the CLI run more than one. */
  const earlier: ClaudeMessage[] = [];
  // A steer that comes before the prompt is written waits for it: the CLI would take the first message it
  // reads as the prompt.
  let promptWritten!: () => void;
  const prompted = new Promise<void>((resolve) => (promptWritten = resolve));
  let over = false;
  let said = false;
  let behind = false;
  let killed = false;
  let end!: (how: 'result' | 'closed') => void;
  const ended = new Promise<'result' | 'closed'>((resolve) => (end = resolve));
  const emit = (event: AgentEventInit) => {
    if (!ctx.emit(event)) behind = true;
  };

  const listener: TurnListener = {
    item(item) {
      said = true;
      if (item.kind === 'object' && item.value.type === 'user' && item.value.isReplay === true)
        steering.delete(String(item.value.uuid));
      mapper.mapItem(item, emit);
      if (mapper.result && steering.size > 0 && !ctx.signal.aborted) {
        earlier.push(mapper.result);
        mapper.result = undefined;
      }
      if (mapper.result) {
        over = true;
        end('result');
      }
      const ok = !behind;
      behind = false;
      return ok;
    },
    controlRequest(req, raw) {
      said = true;
      if (req.subtype !== 'can_use_tool') return false;
      const p = toPermissionRequest(req, raw);
      const questions = p.tool === QUESTION_TOOL ? toQuestions(p.input) : undefined;
      waiting.set(p.requestId, { ...p, questions });
      if (questions) emit({ type: 'question.requested', id: p.requestId, questions, raw });
      else emit({ type: 'permission.requested', id: p.requestId, tool: p.tool, input: p.input, raw });
      return true;
    },
    controlCancel(requestId) {
      if (waiting.delete(requestId))
        emit({ type: 'log', text: `The CLI withdrew its request ${requestId}`, level: 'info' });
    },
    stderrLine(line) {
      emit({ type: 'log', text: line, level: 'warn', stream: 'stderr' });
    },
    // A stopping run reads on regardless, to catch the final result and its session id.
    drained: () => ctx.drained(),
    closed: () => end('closed'),
  };

  const take = (id: string, code: string): Waiting => {
    const w = waiting.get(id);
    if (!w) throw new NotFoundError(code, `The CLI no longer waits for ${id} (the turn was interrupted)`, { id });
    waiting.delete(id);
    return w;
  };
  const reply = async (id: string, body: Record<string, unknown>) => {
    try {
      await proc.send(controlSuccess(id, body));
    } catch (error) {
      throw new ProviderError('PROCESS_EXITED', 'The Claude Code process is gone; the answer could not be sent', {
        cause: error,
      });
    }
  };
  ctx.onRespond(async (id, decision, message) => {
    const w = take(id, CoreErrorCode.PERMISSION_NOT_FOUND);
    await reply(id, permissionResponse(w, decision, message));
  });
  ctx.onAnswer(async (id, answers) => {
    const w = take(id, CoreErrorCode.QUESTION_NOT_FOUND);
    await reply(id, questionResponse(w.input, w.questions ?? [], answers));
  });
  options.steering?.attach(async (text) => {
    await prompted;
    if (over || ctx.signal.aborted)
      throw new ForgeError(CoreErrorCode.RUN_FINISHED, `Run ${ctx.runId} has already ended`, 'conflict');
    const uuid = randomUUID();
    steering.add(uuid);
    try {
      await proc.send(userMessage(text, uuid));
    } catch (error) {
      steering.delete(uuid);
      throw new ProviderError('PROCESS_EXITED', 'The Claude Code process is gone; the message could not be sent', {
        cause: error,
      });
    }
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    void proc.request({ subtype: 'interrupt' });
    timer = setTimeout(() => {
      killed = true;
      void proc.kill();
    }, options.sigintGraceMs);
  };

  proc.attach(listener);
  try {
    if (proc.stdoutEnded) end('closed');
    // A write to a process that is gone fails; its closed stdout ends the turn.
    else await proc.send(userMessage(options.content, randomUUID())).catch(() => undefined);
    promptWritten();
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const how = await ended;
    if (how === 'result' && mapper.result) {
      const outcome = mapper.finish(resultOutcome(mapper.result, earlier));
      // A steering message the CLI never took (the turn was interrupted) may still start a turn: not reusable.
      return { outcome, reusable: !killed && proc.alive && steering.size === 0, silentDeath: false };
    }
    await proc.done();
    const exit = (await exitWithin(proc.proc, options.exitGraceMs)) ?? (await proc.end(true));
    const outcome = mapper.finish({ status: 'failed', error: exitError(exit, proc.stderrTail.text()) });
    if (mapper.sessionId) outcome.sessionId = mapper.sessionId;
    return { outcome, reusable: false, silentDeath: !said };
  } finally {
    over = true;
    promptWritten();
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    proc.detach(listener);
  }
}

function exitError(exit: ProcessExit, stderrTail: string): { code: string; message: string } {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  return {
    code: 'PROCESS_EXITED',
    message: `Claude Code ${how} without a result${stderrTail ? `: ${stderrTail}` : ''}`,
  };
}
