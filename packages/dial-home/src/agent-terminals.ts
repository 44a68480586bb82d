import { create } from '@bufbuild/protobuf';
import { ForgeError, type AttachOptions, type AttachedProcess, type Logger, type WorkspaceAttach } from '@forge/core';
import type { AsyncQueue } from '@forge/core/internal';
import { errorInfoFromError } from '@forge/transport-grpc/internal';
import { DialHomeCodes } from './errors.js';
import {
  TerminalUpSchema,
  type TerminalDown,
  type TerminalOpen,
  type TerminalUp,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import { subjects } from './subject.js';
import { TERMINAL_CHUNK, type Outgoing } from './wire.js';

/** Output of one stream merged into one message while it waits for the link, at most. */
const MERGED_OUTPUT = 4 * TERMINAL_CHUNK;

/** Stdin bytes the platform may have in flight to one terminal. */
const STDIN_WINDOW = 256 * 1024;

export interface AgentTerminalsOptions {
  /** Where terminals open (the agent's workspace); undefined: attach is off and every open is refused. */
  attach: WorkspaceAttach | undefined;
  agentId: string;
  outbound: AsyncQueue<Outgoing>;
  logger: Logger;
  /** Terminals open at once on one link. Default 16. */
  maxTerminals?: number;
}

interface Terminal {
  id: string;
  proc?: AttachedProcess;
  killed: boolean;
  /** Output bytes the platform has room for. */
  credit: number;
  wake?: () => void;
  stdin?: WritableStreamDefaultWriter<Uint8Array>;
  /** Stdin bytes the platform may still send (a bound it must keep). */
  stdinAllowed: number;
  /** Stdin bytes written to the process and not yet granted back. */
  stdinDone: number;
}

/**
 * The agent side of the terminals the platform opens on one Attach stream: each a process in the
 * workspace (through `attach`, core's local attach in examples/remote-agent), its output sent only
 * within the credit the platform grants, its stdin credited back as the process takes it. A
 * terminal does not outlive its link: `drop` ends every process.
 */
export class AgentTerminals {
  readonly #o: AgentTerminalsOptions;
  readonly #terminals = new Map<string, Terminal>();
  #dropped = false;

  constructor(options: AgentTerminalsOptions) {
    this.#o = options;
  }

  get open(): number {
    return this.#terminals.size;
  }

  #send(id: string, kind: string, body: TerminalUp['body']): boolean {
    return this.#o.outbound.push({
      subject: subjects.terminal(this.#o.agentId, id, kind),
      body: { case: 'terminal', value: create(TerminalUpSchema, { terminalId: id, body }) },
    });
  }

  /** Queues output, merged into the stream's previous message if that is still waiting for the link. */
  #output(id: string, channel: 'stdout' | 'stderr', data: Uint8Array): boolean {
    const subject = subjects.terminal(this.#o.agentId, id, channel);
    const n = data.byteLength;
    return this.#o.outbound.push(
      { subject, body: { case: 'terminalOutput', terminalId: id, channel, chunks: [data], bytes: n } },
      (last) => {
        const b = last.body;
        if (last.subject !== subject || b.case !== 'terminalOutput' || b.bytes + n > MERGED_OUTPUT) return false;
        b.chunks.push(data);
        b.bytes += n;
        return true;
      },
    );
  }

  handle(message: TerminalDown): void {
    if (this.#dropped) return;
    const id = message.terminalId;
    const body = message.body;
    const t = this.#terminals.get(id);
    switch (body.case) {
      case 'open':
        void this.#open(id, body.value);
        return;
      case 'stdin': {
        if (!t?.stdin) return;
        if (body.value.byteLength > t.stdinAllowed) {
          this.#o.logger.warn('the platform sent stdin beyond its credit; ending the terminal', { terminal: id });
          this.#kill(t);
          return;
        }
        t.stdinAllowed -= body.value.byteLength;
        const n = body.value.byteLength;
        t.stdin.write(body.value).then(
          () => this.#stdinTaken(t, n),
          () => {},
        );
        return;
      }
      case 'stdinEof':
        t?.stdin?.close().catch(() => {});
        return;
      case 'resize':
        t?.proc?.resize({ cols: body.value.cols, rows: body.value.rows });
        return;
      case 'outputCredit':
        if (!t) return;
        t.credit += body.value;
        t.wake?.();
        return;
      case 'kill':
        if (t) this.#kill(t);
        return;
      default:
    }
  }

  #stdinTaken(t: Terminal, n: number): void {
    t.stdinDone += n;
    // Granted back in quarters of the window: the platform never runs dry while the process keeps reading.
    if (t.stdinDone < STDIN_WINDOW / 4 || t.proc === undefined) return;
    const grant = t.stdinDone;
    t.stdinDone = 0;
    t.stdinAllowed += grant;
    this.#send(t.id, 'credit', { case: 'stdinCredit', value: grant });
  }

  #kill(t: Terminal): void {
    t.killed = true;
    t.proc?.kill();
    t.wake?.();
  }

  async #open(id: string, open: TerminalOpen): Promise<void> {
    const refuse = (error: unknown) => this.#send(id, 'refused', { case: 'refused', value: errorInfoFromError(error) });
    if (!this.#o.attach) {
      refuse(
        new ForgeError(
          DialHomeCodes.ATTACH_DISABLED,
          'Attach is turned off on this agent by its operator',
          'unsupported',
        ),
      );
      return;
    }
    if (this.#terminals.has(id)) {
      refuse(new ForgeError('TERMINAL_EXISTS', `Terminal ${id} is already open`, 'conflict'));
      return;
    }
    const max = this.#o.maxTerminals ?? 16;
    if (this.#terminals.size >= max) {
      refuse(new ForgeError('TOO_MANY_TERMINALS', `At most ${max} terminals are open on this agent`, 'conflict'));
      return;
    }
    const t: Terminal = { id, killed: false, credit: open.outputWindow, stdinAllowed: STDIN_WINDOW, stdinDone: 0 };
    this.#terminals.set(id, t);
    const options: AttachOptions = {
      tty: open.tty,
      ...(open.command.length ? { command: open.command } : {}),
      ...(open.cwd ? { cwd: open.cwd } : {}),
      ...(open.cols && open.rows ? { cols: open.cols, rows: open.rows } : {}),
      ...(Object.keys(open.env).length ? { env: { ...open.env } } : {}),
    };
    let proc: AttachedProcess;
    try {
      proc = await this.#o.attach.open(options);
    } catch (error) {
      this.#terminals.delete(id);
      refuse(error);
      return;
    }
    t.proc = proc;
    // Killed (or the link dropped) while it was starting.
    if (t.killed || this.#dropped) proc.kill();
    t.stdin = proc.stdin.getWriter();
    t.stdin.closed.catch(() => {});
    this.#o.logger.info('terminal opened for the platform', { terminal: id, tty: proc.tty });
    this.#send(id, 'opened', {
      case: 'opened',
      value: {
        $typeName: 'forge.dialhome.v1.TerminalOpened',
        tty: proc.tty,
        stdinWindow: STDIN_WINDOW,
        notes: [...proc.notes],
      },
    });
    await Promise.all([this.#pump(t, 'stdout', proc.stdout), this.#pump(t, 'stderr', proc.stderr)]);
    const exit = await proc.exited;
    this.#terminals.delete(id);
    t.stdin.releaseLock();
    this.#o.logger.info('terminal ended', { terminal: id, code: exit.code, signal: exit.signal });
    if (this.#dropped) return;
    this.#send(id, 'exit', {
      case: 'exit',
      value: {
        $typeName: 'forge.dialhome.v1.TerminalExit',
        ...(exit.code !== null ? { code: exit.code } : {}),
        signal: exit.signal ?? '',
      },
    });
  }

  /** Sends a stream's output within the credit; without credit the stream is not read, and the process waits. */
  async #pump(t: Terminal, channel: 'stdout' | 'stderr', stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        let rest = value;
        while (rest.byteLength > 0) {
          while (t.credit <= 0 && !t.killed && !this.#dropped) await new Promise<void>((r) => (t.wake = r));
          // Killed or gone: what is left is read and dropped so the process can end.
          if (t.killed || this.#dropped) break;
          const n = Math.min(rest.byteLength, t.credit, TERMINAL_CHUNK);
          t.credit -= n;
          const ok = this.#output(t.id, channel, rest.subarray(0, n));
          rest = rest.subarray(n);
          if (!ok) await this.#o.outbound.drained();
        }
      }
    } catch {
      // The process was killed mid-read.
    } finally {
      reader.releaseLock();
    }
  }

  /** The link is gone: every terminal's process ends (no one could see it any more). */
  drop(): void {
    this.#dropped = true;
    for (const t of this.#terminals.values()) this.#kill(t);
  }
}
