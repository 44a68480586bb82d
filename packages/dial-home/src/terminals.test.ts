import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { localWorkspaceAttach, type AttachedProcess, type WorkspaceAttach } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from './test-support/rig.js';

const agent = () => scriptedAgent({ steps: sampleScript('hi') });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

describe('terminals over a dial-home link', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  const online = async (name: string, attach?: WorkspaceAttach) => {
    const d = rig.dial(name, agent(), attach ? { attach } : {});
    await d.whenOnline();
    return d.agentId!;
  };

  it('carries 8 MiB of stdin and its echo both ways within small credit windows, in order', async () => {
    rig = await new Rig().start();
    const id = await online('pipe', localWorkspaceAttach({ workspace: await mkdtemp(join(rig.dir, 'ws-')) }));
    // A 64 KiB output window: the 8 MiB go through 128 windows' worth of grants.
    const t = await rig.hub.openTerminal(id, { command: ['cat'], outputWindow: 64 * 1024 });
    const input = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < input.length; i += 4) input.writeUInt32LE(i, i);
    const writer = t.stdin.getWriter();
    const out = readAll(t.stdout);
    await writer.write(input);
    await writer.close();
    expect((await out).equals(input)).toBe(true);
    expect(await t.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses with the agent’s reason: attach off, a cwd that does not exist; an agent not connected', async () => {
    rig = await new Rig().start();
    const off = await online('off');
    await expect(rig.hub.openTerminal(off, { command: ['true'] })).rejects.toMatchObject({ code: 'ATTACH_DISABLED' });
    const on = await online('on', localWorkspaceAttach({ workspace: rig.dir }));
    await expect(rig.hub.openTerminal(on, { command: ['true'], cwd: join(rig.dir, 'nope') })).rejects.toMatchObject({
      category: 'not_found',
    });
    await expect(rig.hub.openTerminal('agt_nobody', {})).rejects.toMatchObject({ code: 'AGENT_OFFLINE' });
  });

  it('kill ends the process on the agent; the exit names the signal', async () => {
    rig = await new Rig().start();
    const id = await online('killer', localWorkspaceAttach({ workspace: rig.dir }));
    const t = await rig.hub.openTerminal(id, { command: ['sleep', '30'] });
    t.kill();
    await readAll(t.stdout);
    expect(await t.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('the agent sends no more output than the window: a larger read goes in window-sized parts, as credit comes back', async () => {
    rig = await new Rig().start();
    const big = new Uint8Array(200 * 1024).fill(7);
    let stdout!: ReadableStreamDefaultController<Uint8Array>;
    const oneBigRead: WorkspaceAttach = {
      async open() {
        let killed!: () => void;
        const exited = new Promise<{ code: number | null; signal: string | null }>(
          (r) => (killed = () => r({ code: null, signal: 'SIGKILL' })),
        );
        return {
          tty: false,
          notes: [],
          stdin: new WritableStream(),
          stdout: new ReadableStream({
            start: (c) => {
              stdout = c;
              c.enqueue(big);
            },
          }),
          stderr: new ReadableStream({ start: (c) => c.close() }),
          resize() {},
          exited,
          kill: () => {
            stdout.close();
            killed();
          },
        } satisfies AttachedProcess;
      },
    };
    const id = await online('big-read', oneBigRead);
    const t = await rig.hub.openTerminal(id, { command: ['x'], outputWindow: 64 * 1024 });
    const reader = t.stdout.getReader();
    const sizes: number[] = [];
    for (let n = 0; n < big.byteLength; ) {
      const { value } = await reader.read();
      sizes.push(value!.byteLength);
      n += value!.byteLength;
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    expect(sizes.reduce((a, b) => a + b)).toBe(big.byteLength);
    t.kill();
    expect(await t.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
