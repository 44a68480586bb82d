import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentHub } from '@forge/dial-home';
import { programArgs } from '../../../../scripts/test-support/program-bundle.js';

const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** src/main.ts, bundled once per test run (programArgs: ~1 s of CPU less per start than through tsx). */
const mainArgs = await programArgs(join(exampleDir, 'src/main.ts'));

export interface RunningRemoteAgent {
  /** Resolves once the hub lists `name` online; rejects (with the program's output) after 30 s or if it exits. */
  online(): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running — for `finally`. */
  kill(): void;
  /** What it wrote to stdout and stderr (its log), for failure messages. */
  output(): string;
}

/** Starts `src/main.ts` (its bundle) as its own process, as a user would run it, with `env` on top of this one's. */
export function startRemoteAgent(hub: AgentHub, name: string, env: Record<string, string>): RunningRemoteAgent {
  const child = spawn(process.execPath, mainArgs, {
    cwd: exampleDir,
    env: { ...process.env, ...env, FORGE_AGENT_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    async online() {
      const started = Date.now();
      while ((await hub.listAgents()).find((a) => a.name === name)?.status !== 'online') {
        if (Date.now() - started > 30_000 || child.exitCode !== null)
          throw new Error(`the agent did not come online:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
    output: () => output,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
