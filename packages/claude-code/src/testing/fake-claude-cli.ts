import { AsyncQueue } from '@forge/core/internal';
import {
  ProcessSpawnError,
  type ProcessExit,
  type ProcessRunner,
  type RunningProcess,
  type SpawnOptions,
} from '@forge/core';

/**
 * A scripted stand-in for the Claude Code CLI in `--input-format stream-json` mode, for unit tests: it reads
 * user messages and control messages from stdin and plays each turn's steps on stdout, asking `can_use_tool`
 * and waiting for the answer like the real CLI (shapes of 2.1.197, see `__fixtures__/control-*.jsonl`).
 */
export type FakeClaudeStep =
  /** An `assistant` text block. */
  | { text: string }
  /** A tool call that needs permission: `can_use_tool`, then the tool result (`output`) or the denial. */
  | { tool: string; input?: Record<string, unknown>; suggestions?: unknown[]; output?: string }
  /** `AskUserQuestion`: `can_use_tool` with the questions; the answers come back in `updatedInput.answers`. */
  | {
      ask: Array<{
        question: string;
        header?: string;
        options: Array<{ label: string; description?: string }>;
        multiSelect?: boolean;
      }>;
    }
  /** Waits until the turn is interrupted (or the process is stopped). */
  | { hang: true }
  /** Any line, as is. */
  | { line: Record<string, unknown> }
  /** The process exits here with this code, in the middle of the turn. */
  | { exit: number };

export interface FakeClaudeOptions {
  /** Session id of a fresh session (a `--resume=<id>` argument wins). Default a fixed uuid. */
  sessionId?: string;
  /** The steps of each turn, from its prompt and its number in this process (0-based). Default: a text echo. */
  turn?: (prompt: string, index: number) => FakeClaudeStep[];
  /** Leave `interrupt` requests unanswered, as a CLI that is stuck. */
  deafToInterrupt?: boolean;
  /** Ignore SIGINT (and SIGTERM) like a CLI that does not stop: only SIGKILL ends it. */
  deafToSignals?: boolean;
}

export const FAKE_SESSION = '0b6c8f6e-1111-4222-8333-944455556666';

type Json = Record<string, unknown>;

/** One fake CLI process: feed it stdin, read its stdout lines through `write`. */
export class FakeClaudeCli {
  /** Every JSON message read from stdin, in order. */
  readonly received: Json[] = [];
  readonly sessionId: string;
  private turns = 0;
  private queue: Promise<void> = Promise.resolve();
  private current: AbortController | undefined;
  private readonly waiting = new Map<string, (response: Json | undefined) => void>();
  private nextId = 0;
  private exitWith: ((code: number) => void) | undefined;
  /** `--replay-user-messages`: each user message is echoed (with its uuid) when its turn starts. */
  private readonly replay: boolean;

  constructor(
    private readonly write: (text: string) => void,
    private readonly options: FakeClaudeOptions = {},
    args: readonly string[] = [],
  ) {
    const resume = args.find((a) => a.startsWith('--resume='));
    this.sessionId = resume ? resume.slice('--resume='.length) : (options.sessionId ?? FAKE_SESSION);
    this.replay = args.includes('--replay-user-messages');
  }

  /** Reads stdin to its end (or until a step exits); resolves with the exit code. */
  async play(stdin: AsyncIterable<Uint8Array | string>): Promise<number> {
    const exited = new Promise<number>((resolve) => (this.exitWith = resolve));
    const reading = (async () => {
      const decoder = new TextDecoder();
      let carry = '';
      for await (const chunk of stdin) {
        carry += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
        let nl = carry.indexOf('\n');
        while (nl !== -1) {
          const text = carry.slice(0, nl).trim();
          carry = carry.slice(nl + 1);
          if (text) this.onLine(text);
          nl = carry.indexOf('\n');
        }
      }
      // EOF: the queued turns finish, then the process exits 0.
      await this.queue;
      return 0;
    })();
    return Promise.race([reading, exited]);
  }

  /** What SIGINT does to the real CLI: the turn is interrupted. */
  interrupt(): void {
    this.current?.abort();
  }

  private send(message: Json): void {
    this.write(`${JSON.stringify(message)}\n`);
  }

  private onLine(text: string): void {
    let msg: Json;
    try {
      msg = JSON.parse(text) as Json;
    } catch {
      this.exitWith?.(1);
      return;
    }
    this.received.push(msg);
    if (msg.type === 'user') {
      const content = (msg.message as Json | undefined)?.content;
      const prompt = typeof content === 'string' ? content : JSON.stringify(content);
      const index = this.turns++;
      this.queue = this.queue.then(() => this.playTurn(prompt, index, msg));
    } else if (msg.type === 'control_response') {
      const response = msg.response as Json | undefined;
      const id = response?.request_id as string;
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve?.(response?.subtype === 'success' ? (response.response as Json) : undefined);
    } else if (msg.type === 'control_request') {
      const id = msg.request_id as string;
      const subtype = (msg.request as Json | undefined)?.subtype;
      if (subtype === 'initialize') this.send(success(id, { commands: [] }));
      else if (subtype === 'interrupt') {
        if (this.options.deafToInterrupt) return;
        this.send(success(id));
        this.current?.abort();
      } else this.send({ type: 'control_response', response: { subtype: 'error', request_id: id, error: 'unknown' } });
    }
  }

  private async playTurn(prompt: string, index: number, msg: Json): Promise<void> {
    const abort = new AbortController();
    this.current = abort;
    const session_id = this.sessionId;
    const steps = this.options.turn?.(prompt, index) ?? [{ text: `You said: ${prompt}` }];
    const first = steps[0];
    // A process that dies on this message says nothing at all.
    if (first && 'exit' in first) {
      this.exitWith?.(first.exit);
      return new Promise(() => {});
    }
    this.send({
      type: 'system',
      subtype: 'init',
      session_id,
      cwd: '/work',
      model: 'claude-test',
      tools: ['Bash', 'Write', 'AskUserQuestion'],
      permissionMode: 'default',
    });
    if (this.replay) {
      const uuid = typeof msg.uuid === 'string' ? msg.uuid : `replay-${index}`;
      this.send({ type: 'user', message: msg.message, session_id, parent_tool_use_id: null, uuid, isReplay: true });
    }
    let last = '';
    let n = 0;
    const interrupted = () => {
      this.send({
        type: 'user',
        message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] },
        session_id,
      });
      this.send(resultLine(session_id, { subtype: 'error_during_execution', is_error: true, errors: ['interrupted'] }));
    };
    for (const step of steps) {
      if (abort.signal.aborted) return interrupted();
      if ('exit' in step) {
        this.exitWith?.(step.exit);
        return new Promise(() => {});
      }
      if ('line' in step) this.send(step.line);
      else if ('text' in step) {
        last = step.text;
        this.send(assistant(session_id, `msg_${index}_${n++}`, { type: 'text', text: step.text }));
      } else if ('hang' in step) {
        await untilAborted(abort.signal);
        return interrupted();
      } else {
        const isQuestion = 'ask' in step;
        const tool = isQuestion ? 'AskUserQuestion' : step.tool;
        const input: Json = isQuestion
          ? { questions: step.ask.map((q) => ({ multiSelect: false, ...q })) }
          : (step.input ?? {});
        const toolUseId = `toolu_${index}_${n}`;
        this.send(assistant(session_id, `msg_${index}_${n++}`, { type: 'tool_use', id: toolUseId, name: tool, input }));
        const requestId = `req-${++this.nextId}`;
        const answered = new Promise<Json | undefined>((resolve) => this.waiting.set(requestId, resolve));
        const request: Json = {
          subtype: 'can_use_tool',
          tool_name: tool,
          display_name: tool,
          input,
          tool_use_id: toolUseId,
        };
        if (!isQuestion && step.suggestions) request.permission_suggestions = step.suggestions;
        this.send({ type: 'control_request', request_id: requestId, request });
        const response = await Promise.race([answered, untilAborted(abort.signal).then(() => 'aborted' as const)]);
        if (response === 'aborted') {
          this.waiting.delete(requestId);
          this.send({ type: 'control_cancel_request', request_id: requestId });
          return interrupted();
        }
        const allowed = response?.behavior === 'allow';
        const content = !allowed
          ? String(response?.message ?? 'denied')
          : isQuestion
            ? `Your questions have been answered: ${Object.entries(
                ((response.updatedInput as Json)?.answers ?? {}) as Json,
              )
                .map(([q, a]) => `"${q}"="${String(a)}"`)
                .join(', ')}.`
            : (step.output ?? 'ok');
        this.send({
          type: 'user',
          message: {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: toolUseId, content, is_error: !allowed }],
          },
          session_id,
        });
        last = content;
      }
    }
    this.send(resultLine(session_id, { result: last, num_turns: steps.length }));
    if (this.current === abort) this.current = undefined;
  }
}

export interface FakeClaudeCall {
  args: string[];
  options: SpawnOptions;
  cli: FakeClaudeCli;
  signals: NodeJS.Signals[];
  exit: ProcessExit | undefined;
  pid: number;
  /** The process as the adapter sees it (kill it to play a crash). */
  process: RunningProcess;
}

export interface FakeClaudeRunner extends ProcessRunner {
  /** The CLI runs (not the `--version` probes), in order. */
  readonly calls: FakeClaudeCall[];
}

/** A ProcessRunner whose processes are `FakeClaudeCli`s (and whose `--version` says 2.1.197). */
export function fakeClaudeRunner(
  options: FakeClaudeOptions | ((callIndex: number) => FakeClaudeOptions) = {},
): FakeClaudeRunner {
  const calls: FakeClaudeCall[] = [];
  let pids = 20_000;
  return {
    calls,
    async spawn(command, args, spawnOptions = {}) {
      if (command.includes('no-such')) throw new ProcessSpawnError(command, 'not found');
      const stdout = new AsyncQueue<Uint8Array>();
      const stderr = new AsyncQueue<Uint8Array>();
      const stdin = new AsyncQueue<string>();
      const encoder = new TextEncoder();
      let resolveExit!: (e: ProcessExit) => void;
      const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
      const call: FakeClaudeCall | undefined =
        args[0] === '--version'
          ? undefined
          : {
              args: [...args],
              options: spawnOptions,
              cli: undefined as unknown as FakeClaudeCli,
              signals: [],
              exit: undefined,
              pid: ++pids,
              process: undefined as unknown as RunningProcess,
            };
      let done: ProcessExit | undefined;
      const exit = (e: ProcessExit) => {
        if (done) return;
        done = e;
        if (call) call.exit = e;
        stdin.end();
        stdout.end();
        stderr.end();
        resolveExit(e);
      };
      const opts: FakeClaudeOptions = call ? (typeof options === 'function' ? options(calls.length) : options) : {};
      if (!call) {
        stdout.push(encoder.encode('2.1.197 (Claude Code)\n'));
        queueMicrotask(() => exit({ code: 0, signal: null }));
      } else {
        call.cli = new FakeClaudeCli((text) => !done && stdout.push(encoder.encode(text)), opts, args);
        calls.push(call);
        void call.cli.play(stdin).then((code) => exit({ code, signal: null }));
      }
      if (spawnOptions.input !== undefined) {
        stdin.push(
          typeof spawnOptions.input === 'string' ? spawnOptions.input : new TextDecoder().decode(spawnOptions.input),
        );
        stdin.end();
      }
      const running: RunningProcess = {
        pid: call?.pid ?? ++pids,
        stdout,
        stderr,
        stdin: {
          async write(data) {
            if (done) throw new Error('EPIPE: the process has exited');
            stdin.push(typeof data === 'string' ? data : new TextDecoder().decode(data));
          },
          async end() {
            stdin.end();
          },
        },
        exited,
        kill(signal: NodeJS.Signals = 'SIGTERM') {
          if (done) return false;
          call?.signals.push(signal);
          if (signal !== 'SIGKILL' && opts.deafToSignals) return true;
          if (signal === 'SIGINT' && call) {
            call.cli.interrupt();
            setTimeout(() => exit({ code: 0, signal: null }), 1);
          } else exit({ code: null, signal });
          return true;
        },
      };
      if (call) call.process = running;
      return running;
    },
  };
}

function success(requestId: string, response?: Json): Json {
  return {
    type: 'control_response',
    response:
      response === undefined
        ? { subtype: 'success', request_id: requestId }
        : { subtype: 'success', request_id: requestId, response },
  };
}

function assistant(sessionId: string, id: string, block: Json): Json {
  return {
    type: 'assistant',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [block],
      usage: { input_tokens: 10, output_tokens: 3 },
    },
    parent_tool_use_id: null,
    session_id: sessionId,
  };
}

function resultLine(sessionId: string, fields: Json): Json {
  return {
    type: 'result',
    subtype: 'success',
    is_error: false,
    duration_ms: 5,
    num_turns: 1,
    session_id: sessionId,
    total_cost_usd: 0.001,
    usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    ...fields,
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
