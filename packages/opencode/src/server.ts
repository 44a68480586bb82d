import { createServer } from 'node:net';
import { ProcessSpawnError, localProcessRunner, type ProcessRunner, type RunningProcess } from '@forge/core';

export interface StartOpencodeServerOptions {
  /** The `opencode` executable. Default `opencode` on PATH. */
  bin?: string;
  /** The project directory the server serves (its default instance). */
  cwd?: string;
  /** Default: a free port picked here (`--port 0` is not random in OpenCode 1.18). */
  port?: number;
  hostname?: string;
  /** Added to the environment (over the runner's minimal set unless `inheritEnv` is false). */
  env?: Record<string, string>;
  inheritEnv?: boolean;
  /** Host variables the server gets (names or `PREFIX*`). Default `OPENCODE_PASS_ENV`: its settings and model keys. */
  passEnv?: readonly string[];
  /** OpenCode config, passed as `OPENCODE_CONFIG_CONTENT` (merged over the project's own). */
  config?: Record<string, unknown>;
  /** Aborting it stops a server that is still starting. */
  signal?: AbortSignal;
  /** How long the server may take to answer its health check. Default 30 s. */
  startTimeoutMs?: number;
  /** Default: `localProcessRunner()` (own process group, so children die with it). */
  runner?: ProcessRunner;
}

export interface OpencodeServer {
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops the server and everything it started. Idempotent. */
  close(): Promise<void>;
}

/**
 * What `opencode serve` reads from the host to reach its models: its own settings and the API keys
 * of the providers it ships with. Not the host's other variables.
 */
export const OPENCODE_PASS_ENV: readonly string[] = Object.freeze([
  'OPENCODE_*',
  'ANTHROPIC_*',
  'OPENAI_*',
  'OPENROUTER_*',
  'GEMINI_*',
  'GOOGLE_GENERATIVE_AI_*',
  'GROQ_*',
  'MISTRAL_*',
  'DEEPSEEK_*',
  'XAI_*',
]);

const LISTENING = /listening on (https?:\/\/[^\s]+)/;

export async function freePort(hostname = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, hostname, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `opencode serve`, waits until it says where it listens and answers `GET /global/health`,
 * and returns its URL. `close()` sends SIGTERM, then SIGKILLs the whole process group.
 */
export async function startOpencodeServer(options: StartOpencodeServerOptions = {}): Promise<OpencodeServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  const port = options.port ?? (await freePort(hostname));
  const bin = options.bin ?? 'opencode';
  const runner = options.runner ?? localProcessRunner();
  const env: Record<string, string> = {
    OPENCODE_DISABLE_AUTOUPDATE: 'true',
    ...options.env,
    ...(options.config ? { OPENCODE_CONFIG_CONTENT: JSON.stringify(options.config) } : {}),
  };
  const child = await runner.spawn(bin, ['serve', '--hostname', hostname, '--port', String(port)], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env,
    inheritEnv: options.inheritEnv ?? true,
    passEnv: options.passEnv ?? OPENCODE_PASS_ENV,
    input: '',
  });

  let closed: Promise<void> | undefined;
  const close = () => (closed ??= stop(child));
  let output = '';
  let url: string | undefined;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  const collect = async (stream: AsyncIterable<Uint8Array>) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        // Keep a bounded tail for error messages; the URL line comes first anyway.
        output = (output + decoder.decode(chunk, { stream: true })).slice(-8_000);
        url ??= LISTENING.exec(output)?.[1];
      }
    } catch {
      // The pipe closes with the process.
    }
  };
  void collect(child.stdout);
  void collect(child.stderr);

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      if (exited) {
        const status = await child.exited;
        throw new ProcessSpawnError(
          bin,
          `opencode serve exited (code ${status.code}, signal ${status.signal}) before it answered: ${output.trim().slice(-1_000)}`,
        );
      }
      if (Date.now() > deadline)
        throw new ProcessSpawnError(
          bin,
          `opencode serve did not answer within ${options.startTimeoutMs ?? 30_000} ms: ${output.trim().slice(-1_000)}`,
        );
      const base = url ?? `http://${hostname}:${port}`;
      if (url && (await healthy(base))) return { url: base.replace(/\/+$/, ''), pid: child.pid, close };
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await close();
    throw error;
  }
}

async function healthy(base: string): Promise<boolean> {
  try {
    // A per-request timeout: one early poll once hung for minutes on a half-started server.
    const res = await fetch(`${base}/global/health`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function stop(child: RunningProcess): Promise<void> {
  if (!child.kill('SIGTERM')) {
    await child.exited;
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  try {
    await child.exited;
  } finally {
    clearTimeout(timer);
  }
  // The runner SIGKILLs the process group once the leader exits, so tools it started die too.
}
