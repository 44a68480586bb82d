import { createPodManager } from '@forge/k8s';
import { startFakeExecServer } from '@forge/k8s/testing';
import { describe, expect, it } from 'vitest';
import { fakePods } from './fake-pods.js';
import { k8sBackend } from './k8s-backend.js';

describe('k8sBackend attach', () => {
  it("execs into the agent's own pod with a tty and the resize channel", async () => {
    const server = await startFakeExecServer({
      onExec: async (s) => {
        for await (const chunk of s.stdin) {
          s.stdout(chunk);
          break;
        }
        s.exit(2);
      },
    });
    try {
      const real = createPodManager({
        kubeConfig: server.kubeConfig(),
        template: { image: 'img', containerName: 'agent' },
      });
      const stand = fakePods();
      const backend = k8sBackend({
        pods: { ...stand.manager, workspaceAttach: (id, o) => real.workspaceAttach(id, o) },
        connect: () => {
          throw new Error('not used');
        },
        providers: ['scripted'],
      });
      const agent = await backend.create({ userId: 'alice', provider: 'scripted', timeoutMs: 1000 });
      const p = await backend.attach!(agent, { tty: true, cols: 90, rows: 20 });
      const w = p.stdin.getWriter();
      await w.write(new TextEncoder().encode('ls\n'));
      let out = '';
      for await (const c of p.stdout as unknown as AsyncIterable<Uint8Array>) out += Buffer.from(c).toString();
      expect(out).toBe('ls\n');
      expect(await p.exited).toEqual({ code: 2, signal: null });
      const session = server.sessions[0]!;
      expect(session.path).toBe(
        `/api/v1/namespaces/agents/pods/${real.podName({ userId: 'alice', agentId: agent.agentId })}/exec`,
      );
      expect(session.query.get('tty')).toBe('true');
      expect(session.resizes).toEqual([{ cols: 90, rows: 20 }]);
    } finally {
      await server.close();
    }
  });
});
