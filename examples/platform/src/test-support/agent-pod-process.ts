import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { programArgs } from '../../../../scripts/test-support/program-bundle.js';

const agentPod = fileURLToPath(new URL('../../../agent-pod', import.meta.url));

export interface AgentPodProcess {
  /** Where it serves, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** What it logged, for failure messages. */
  readonly log: () => string;
  /** SIGTERM, as Kubernetes stops a pod being replaced (it drains, then ends its CLIs), and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts examples/agent-pod's program (src/main.ts, as the pod image runs it) as a local process with `env` on top
 * of this one's — what a fake pod runs — and waits until it serves.
 */
export async function startAgentPodProcess(env: Record<string, string>): Promise<AgentPodProcess> {
  // Bundled once per test run (programArgs: ~1 s of CPU less per start than through tsx).
  const child = spawn(process.execPath, await programArgs(join(agentPod, 'src/main.ts')), {
    cwd: agentPod,
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output = (output + c.toString()).slice(-20_000);
      for (const line of output.split('\n')) {
        if (!line.includes('agent pod listening')) continue;
        try {
          const url = (JSON.parse(line) as { url?: string }).url;
          if (url) resolve(url);
        } catch {
          // Not the whole line yet.
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the agent pod exited (${code}) before serving:\n${output}`)));
  });
  return {
    url,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
