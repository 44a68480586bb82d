import { PassThrough } from 'node:stream';
import { createPodManager } from '@forge/k8s';
import { Exec } from '@kubernetes/client-node';
import { startFakeExecServer } from '@forge/k8s/testing';
import { compare, type BenchModule } from './harness.js';

const CHUNK = Buffer.alloc(64 * 1024, 'x');
const CHUNKS = 256; // 16 MiB per round

/**
 * Exec stdout throughput: the execRunner (a core ProcessRunner, read as an AsyncIterable) against
 * client-node's own Exec writing into a PassThrough, both talking to the same local WebSocket server that
 * speaks the Kubernetes channel protocol. The server's own cost is in both figures alike.
 */
const bench: BenchModule = {
  title: 'k8s: exec stdout over the Kubernetes WebSocket protocol',
  async run() {
    const server = await startFakeExecServer({
      onExec: (s) => {
        for (let i = 0; i < CHUNKS; i++) s.stdout(CHUNK);
        s.exit(0);
      },
    });
    try {
      const kubeConfig = server.kubeConfig();
      const pods = createPodManager({ kubeConfig, template: { image: 'bench' } });
      const id = { userId: 'bench', agentId: 'exec' };
      const runner = pods.execRunner(id);
      const expected = CHUNK.length * CHUNKS;
      const ours = async () => {
        const proc = await runner.spawn('cat', [], { input: '' });
        let n = 0;
        for await (const chunk of proc.stdout) n += chunk.length;
        const exit = await proc.exited;
        if (n !== expected || exit.code !== 0) throw new Error(`got ${n} bytes, exit ${exit.code}`);
      };
      const exec = new Exec(kubeConfig);
      const baseline = async () => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let n = 0;
        stdout.on('data', (chunk: Buffer) => (n += chunk.length));
        const done = new Promise<void>((resolve) => stdout.on('end', () => resolve()));
        await exec.exec(pods.namespace, pods.podName(id), 'agent', ['cat'], stdout, stderr, null, false);
        await done;
        if (n !== expected) throw new Error(`got ${n} bytes`);
      };
      const r = await compare(expected / (1024 * 1024), ours, baseline, 7);
      return [
        {
          name: 'exec stdout (64 KiB frames)',
          unit: 'MiB/s',
          ours: r.ours,
          baseline: r.baseline,
          baselineName: 'client-node Exec → PassThrough',
        },
      ];
    } finally {
      await server.close();
    }
  },
};
export default bench;
