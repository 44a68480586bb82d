import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgliteTemplateEnv } from '@forge/store/testing';
import { programArgs } from '../../../../scripts/test-support/program-bundle.js';

const pkg = fileURLToPath(new URL('../..', import.meta.url));

export interface PlatformProcess {
  readonly url: string;
  readonly instance: string;
  /** Its dial-home hub's URL, with FORGE_HUB_PORT. */
  readonly hub?: string;
  readonly child: ChildProcess;
  /** What it wrote to stderr (its log), for failure messages. */
  readonly log: () => string;
  /** kill -9, and wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Node flags for a platform process a test starts. `--liftoff-only`: V8 otherwise compiles PGlite's 9 MB of
 * WebAssembly a second time with TurboFan in background threads, ~0.8 s of CPU per process (4.2-4.5 s → 3.5 s
 * from start to serving on this 2-core machine), which a process living a few seconds never earns back; the
 * code does the same either way. A test suite starts dozens of them, each from its program's bundle
 * (programArgs: not through tsx's hooks, ~1 s of CPU less each).
 */
export const PLATFORM_NODE_FLAGS = ['--liftoff-only'] as const;

/**
 * Starts test-support/durable-platform.ts (or another such `program`) as a child process and waits until it serves.
 * Without spare agent processes unless `env` asks for them (FORGE_PREWARM_MAX; see test-config.ts), and with this
 * process's initialised PGlite database to unpack instead of an initdb of its own (pgliteTemplateEnv).
 */
export async function startPlatformProcess(
  env: Record<string, string>,
  program = 'src/test-support/durable-platform.ts',
): Promise<PlatformProcess> {
  const child = spawn(process.execPath, [...PLATFORM_NODE_FLAGS, ...(await programArgs(join(pkg, program)))], {
    cwd: pkg,
    env: { ...process.env, FORGE_DATABASE_URL: '', FORGE_PREWARM_MAX: '0', ...(await pgliteTemplateEnv()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; instance: string; hub?: string }>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      const line = text.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve(JSON.parse(line) as { url: string; instance: string; hub?: string });
    });
    child.once('exit', (code) => reject(new Error(`the platform exited (${code}) before serving:\n${text}\n${err}`)));
  });
  const gone = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    ...ready,
    child,
    log: () => err,
    kill9: () => gone('SIGKILL'),
    stop: () => gone('SIGTERM'),
  };
}
