/**
 * The attach port: a process opened in an agent's workspace for a person (a terminal, a test run),
 * beside the agent's own runs. Backends implement it: a local child (a real PTY when asked), an
 * exec into the agent's pod, a stream over a dial-home link.
 */
export interface AttachOptions {
  /** argv; default: the login shell of the account the workspace belongs to (`<shell> -l`). */
  command?: readonly string[];
  /** Default: the workspace itself. */
  cwd?: string;
  /** A terminal: stdout and stderr become one stream, stdin is line-disciplined, `resize` works. */
  tty?: boolean;
  /** Terminal size when `tty`; default 80×24. */
  cols?: number;
  rows?: number;
  /** Added to the process's environment. */
  env?: Record<string, string>;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface AttachExit {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: string | null;
}

/** An open attachment. Streams carry backpressure: an unread stdout stops the process's writes. */
export interface AttachedProcess {
  /** Whether the process really has a terminal (false when one was asked for and none could be had: see `notes`). */
  readonly tty: boolean;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  /** Empty with a tty (the terminal carries both). */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Sizes the terminal; ignored without one. */
  resize(size: TerminalSize): void;
  /** Settles once the process has exited and its output has been read or cancelled. */
  readonly exited: Promise<AttachExit>;
  /** Ends the process and everything it started. Idempotent. */
  kill(): void;
  /** Anything the caller should tell its user (e.g. that no PTY library is installed). */
  readonly notes: readonly string[];
}

/** Opens processes in one workspace. */
export interface WorkspaceAttach {
  open(options?: AttachOptions): Promise<AttachedProcess>;
}

/** Kubernetes' limits on a terminal's size are 16-bit; anything else is a caller's mistake. */
export function validTerminalSize(size: Partial<TerminalSize>): TerminalSize | undefined {
  const { cols, rows } = size;
  if (cols === undefined || rows === undefined) return undefined;
  const ok = (n: number) => Number.isInteger(n) && n > 0 && n <= 0xffff;
  return ok(cols) && ok(rows) ? { cols, rows } : undefined;
}
