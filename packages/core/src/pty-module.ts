/** The part of `node-pty` the local attach uses (so core compiles and runs without it installed). */
export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: string | Uint8Array) => void): unknown;
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): unknown;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

export interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: {
      name?: string;
      cols?: number;
      rows?: number;
      cwd?: string;
      env?: Record<string, string>;
      encoding?: string | null;
      uid?: number;
      gid?: number;
    },
  ): PtyProcess;
}

let loaded: Promise<PtyModule | undefined> | undefined;

/** `node-pty` when it is installed (an optional peer dependency: a native addon), else undefined. */
export function loadPty(): Promise<PtyModule | undefined> {
  const name = 'node-pty';
  loaded ??= import(/* @vite-ignore */ name).then(
    (m: { default?: PtyModule } & Partial<PtyModule>) => (m.spawn ? (m as PtyModule) : m.default),
    () => undefined,
  );
  return loaded;
}
