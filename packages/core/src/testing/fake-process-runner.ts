import { ProcessSpawnError } from '../errors.js';
import { AsyncQueue } from '../async-queue.js';
import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from '../process-runner.js';
import { delay } from '../delay.js';

export type OutputStep = string | Uint8Array | { delayMs: number };

export interface SignalReaction {
  /** Printed after the signal arrives. */
  stdout?: OutputStep[];
  stderr?: OutputStep[];
  /** Exit this way after printing (default: code null, signal = the signal received). */
  exitCode?: number | null;
  exitSignal?: string | null;
}

export interface FakeProcessScript {
  stdout?: OutputStep[];
  stderr?: OutputStep[];
  /** Exit code once the output is written (default 0). */
  exitCode?: number | null;
  exitSignal?: string | null;
  /** After writing its output, wait for a signal instead of exiting. */
  hang?: boolean;
  /** What to do per signal; 'ignore' keeps running. Unlisted signals end the process at once. */
  onSignal?: Partial<Record<NodeJS.Signals, SignalReaction | 'ignore'>>;
  /** Fail to start, as a missing binary does. */
  spawnError?: string;
}

export interface FakeProcessCall {
  command: string;
  args: string[];
  options: SpawnOptions;
  /** Everything written to stdin, decoded as UTF-8. */
  stdin: string;
  stdinClosed: boolean;
  signals: NodeJS.Signals[];
  exit: ProcessExit | undefined;
}

export interface FakeProcessRunner extends ProcessRunner {
  readonly calls: FakeProcessCall[];
}

type ScriptSource =
  | FakeProcessScript
  | ((command: string, args: readonly string[], options: SpawnOptions, callIndex: number) => FakeProcessScript);

const encoder = new TextEncoder();

/** A ProcessRunner that plays scripted processes, for adapter unit tests. Records every call. */
export function fakeProcessRunner(script: ScriptSource): FakeProcessRunner {
  const calls: FakeProcessCall[] = [];
  return {
    calls,
    async spawn(command, args, options = {}) {
      const s = typeof script === 'function' ? script(command, args, options, calls.length) : script;
      if (s.spawnError) throw new ProcessSpawnError(command, s.spawnError);
      const call: FakeProcessCall = {
        command,
        args: [...args],
        options,
        stdin: '',
        stdinClosed: false,
        signals: [],
        exit: undefined,
      };
      calls.push(call);
      const stdout = new AsyncQueue<Uint8Array>();
      const stderr = new AsyncQueue<Uint8Array>();
      const decoder = new TextDecoder();
      const stopped = new AbortController();
      let resolveExit!: (e: ProcessExit) => void;
      const exited = new Promise<ProcessExit>((r) => (resolveExit = r));

      const exit = (e: ProcessExit) => {
        if (call.exit) return;
        call.exit = e;
        stopped.abort();
        stdout.end();
        stderr.end();
        resolveExit(e);
      };
      const play = async (steps: OutputStep[] | undefined, into: AsyncQueue<Uint8Array>, signal?: AbortSignal) => {
        for (const step of steps ?? []) {
          if (call.exit || signal?.aborted) return;
          if (typeof step === 'object' && 'delayMs' in step) await delay(step.delayMs, signal);
          else into.push(typeof step === 'string' ? encoder.encode(step) : step);
        }
      };
      if (options.input !== undefined) {
        call.stdin += typeof options.input === 'string' ? options.input : decoder.decode(options.input);
        call.stdinClosed = true;
      }
      const running: RunningProcess = {
        pid: 10_000 + calls.length,
        stdout,
        stderr,
        stdin: {
          async write(data) {
            call.stdin += typeof data === 'string' ? data : decoder.decode(data, { stream: true });
          },
          async end() {
            call.stdinClosed = true;
          },
        },
        exited,
        kill(signal: NodeJS.Signals = 'SIGTERM') {
          if (call.exit) return false;
          call.signals.push(signal);
          const reaction = signal === 'SIGKILL' ? undefined : s.onSignal?.[signal];
          if (reaction === 'ignore') return true;
          stopped.abort();
          void (async () => {
            await Promise.all([play(reaction?.stdout, stdout), play(reaction?.stderr, stderr)]);
            exit({
              code: reaction?.exitCode !== undefined ? reaction.exitCode : null,
              signal:
                reaction?.exitSignal !== undefined
                  ? reaction.exitSignal
                  : reaction?.exitCode !== undefined
                    ? null
                    : signal,
            });
          })();
          return true;
        },
      };
      void (async () => {
        await Promise.all([play(s.stdout, stdout, stopped.signal), play(s.stderr, stderr, stopped.signal)]);
        if (stopped.signal.aborted || call.exit) return;
        if (s.hang) return;
        exit({ code: s.exitSignal ? null : (s.exitCode ?? 0), signal: s.exitSignal ?? null });
      })();
      return running;
    },
  };
}
