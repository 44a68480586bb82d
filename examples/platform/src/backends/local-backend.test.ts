import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry, userSwitchProblem, ValidationError } from '@forge/core';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localBackend } from './local-backend.js';

describe('localBackend', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-local-backend-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const make = () => {
    const registry = createProviderRegistry();
    registry.register('scripted', scriptedAgent({ steps: sampleScript() }));
    return localBackend({ dataDir: dir, registry });
  };

  it('keeps no registry of its own: what exists is what is on disk', async () => {
    const a = make();
    const created = await a.create({ userId: 'alice', provider: 'scripted', timeoutMs: 1000 });
    expect(created).toMatchObject({ userId: 'alice', provider: 'scripted', phase: 'Running', ready: true });
    // A second backend over the same directory (a restarted process) sees the same agents.
    const b = make();
    expect((await b.list('alice')).map((x) => x.agentId)).toEqual([created.agentId]);
    expect(await b.get('alice', created.agentId)).toEqual(created);
    expect(await b.list('bob')).toEqual([]);
    expect(await b.get('bob', created.agentId)).toBeUndefined();
  });

  it('refuses an image (images are the k8s backend’s) with IMAGE_NOT_ALLOWED, making nothing', async () => {
    const backend = make();
    await expect(
      backend.create({ userId: 'alice', provider: 'scripted', image: 'python', timeoutMs: 1000 }),
    ).rejects.toMatchObject({ code: 'IMAGE_NOT_ALLOWED' });
    expect(await backend.list('alice')).toEqual([]);
  });

  it('reports an agent whose workspace vanished as gone, and ignores half-made directories', async () => {
    const backend = make();
    const created = await backend.create({ userId: 'alice', provider: 'scripted', timeoutMs: 1000 });
    expect(await backend.status(created)).toMatchObject({ reachable: true, provider: 'scripted' });
    await rm(join(dir, 'alice', created.agentId, 'workspace'), { recursive: true });
    const gone = (await backend.get('alice', created.agentId))!;
    expect(gone).toMatchObject({ phase: 'Failed', ready: false });
    expect(await backend.status(gone)).toMatchObject({ reachable: false, error: { code: 'WORKSPACE_GONE' } });
    await mkdir(join(dir, 'alice', 'agt_000000000000halfmade'), { recursive: true });
    await writeFile(join(dir, 'alice', 'not-an-agent'), 'x');
    expect((await backend.list('alice')).map((x) => x.agentId)).toEqual([created.agentId]);
  });

  it('refuses ids that are not safe path segments', async () => {
    const backend = make();
    expect(await backend.get('alice', '../../etc')).toBeUndefined();
    await expect(backend.list('../alice')).rejects.toBeInstanceOf(ValidationError);
    await expect(backend.create({ userId: 'alice', provider: 'missing', timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'UNKNOWN_PROVIDER',
    });
  });

  it('runs messages in the agent’s workspace, whatever cwd the request names', async () => {
    const registry = createProviderRegistry();
    registry.register('echo-cwd', scriptedAgent({ steps: [], outcome: (r) => ({ text: r.cwd ?? '' }) }));
    const backend = localBackend({ dataDir: dir, registry });
    const created = await backend.create({ userId: 'alice', provider: 'echo-cwd', timeoutMs: 1000 });
    const agent = await backend.agentFor(created);
    const { result } = await collectRun(agent.execute({ prompt: 'where am I', cwd: '/etc' }));
    expect(result.text).toBe(join(dir, 'alice', created.agentId, 'workspace'));
  });

  it('deletes the directory', async () => {
    const backend = make();
    const created = await backend.create({ userId: 'alice', provider: 'scripted', timeoutMs: 1000 });
    expect(await backend.delete('alice', created.agentId)).toBe(true);
    expect(await readdir(join(dir, 'alice'))).toEqual([]);
    expect(await backend.delete('alice', created.agentId)).toBe(false);
  });

  // chown needs root (or CAP_CHOWN); any uid will do, no account is needed.
  it.skipIf(userSwitchProblem() !== undefined)(
    'hands each workspace to the agent user, behind directories it may pass but not list',
    async () => {
      const registry = createProviderRegistry();
      registry.register('scripted', scriptedAgent({ steps: sampleScript() }));
      const agentUser = { uid: 4242, gid: 4343 };
      const plain = await localBackend({ dataDir: dir, registry }).create({
        userId: 'alice',
        provider: 'scripted',
        timeoutMs: 1000,
      });
      const backend = localBackend({ dataDir: dir, registry, agentUser });
      const created = await backend.create({ userId: 'alice', provider: 'scripted', timeoutMs: 1000 });
      const agentDir = join(dir, 'alice', created.agentId);
      expect(await stat(join(agentDir, 'workspace'))).toMatchObject({ uid: 4242, gid: 4343 });
      expect((await stat(join(agentDir, 'workspace'))).mode & 0o777).toBe(0o700);
      for (const d of [join(dir, 'alice'), agentDir]) expect((await stat(d)).mode & 0o777).toBe(0o711);
      expect(await stat(join(agentDir, 'agent.json'))).toMatchObject({ uid: process.geteuid!() });
      // A workspace made before FORGE_AGENT_USER was set is handed over, contents too, when it is next used.
      const older = join(dir, 'alice', plain.agentId, 'workspace');
      await mkdir(join(older, 'src'));
      await writeFile(join(older, 'src', 'a.ts'), '');
      await backend.agentFor(plain);
      for (const p of [older, join(older, 'src'), join(older, 'src', 'a.ts')])
        expect(await stat(p)).toMatchObject({ uid: 4242, gid: 4343 });
    },
  );
});
