import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programArgs } from '../../../../scripts/test-support/program-bundle.js';
import {
  ALICE,
  BOB,
  ChannelClient,
  attachUrl,
  startAttachHarness,
  type AttachHarness,
} from './test-support/attach-harness.js';
import { running } from './test-support/live-processes.js';

const pg = await testDatabases();
const remoteAgentDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'remote-agent');
const HUB_SECRET = 'a-hub-secret-of-at-least-32-bytes-long!!';

async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Two replicas on one PostgreSQL and the real remote-agent program (examples/remote-agent, its scripted
 * provider) dialled into A. Every attach here goes through B, which does not hold the link: B checks the key or
 * ticket and the ownership, then relays the upgrade to A (its address from the store, a signed single-use
 * header), which runs the terminal over the link.
 */
describe.skipIf(!pg.url)(
  `attach relayed to the replica holding a remote agent's link (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`,
  () => {
    let a: AttachHarness;
    let b: AttachHarness;
    let program: ChildProcess | undefined;
    let output = '';
    let scratch: string;
    let workspace: string;
    let agent: string;
    const alice = { authorization: `Bearer ${ALICE}` };
    const viaB = (query: Record<string, string | string[]>, headers = alice) =>
      ChannelClient.open(attachUrl(b.platform.url, agent, query), headers);

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'forge-attach-relay-'));
      workspace = await realpath(await mkdtemp(join(scratch, 'remote-workspace-')));
      await writeFile(join(workspace, 'ON-THE-REMOTE-MACHINE.md'), 'hi');
      const databaseUrl = await pg.create();
      // One data dir and one database, as replicas share them (the local backend's agents are in the data dir).
      const config = { databaseUrl, hubPort: 0, hubSecret: HUB_SECRET, dataDir: join(scratch, 'data') };
      a = await startAttachHarness({ graceMs: 300 }, config);
      b = await startAttachHarness({ graceMs: 300 }, config);
      const name = 'laptop-relay';
      program = spawn(process.execPath, await programArgs(join(remoteAgentDir, 'src/main.ts')), {
        cwd: remoteAgentDir,
        env: {
          ...process.env,
          FORGE_HUB_URL: a.platform.remote!.url,
          FORGE_PROVIDER: 'scripted',
          FORGE_AGENT_NAME: name,
          FORGE_ENROLMENT_TOKEN: a.platform.remote!.hub.issueEnrolmentToken({ name }).token,
          FORGE_CREDENTIAL_FILE: join(scratch, 'agent.json'),
          FORGE_CWD: workspace,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      program.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      program.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      await until(
        async () => (await a.platform.remote!.hub.listAgents()).some((x) => x.name === name && x.status === 'online'),
        `the remote agent to dial A\n${output}`,
      );
      agent = await until(async () => {
        const id = await b.newAgent(ALICE, name).catch(() => undefined);
        return id?.startsWith('agt_') && id;
      }, 'B to accept the remote agent as a provider');
      await until(
        async () => (await b.platform.remote!.hub.listAgents()).some((x) => x.name === name && x.status === 'online'),
        'B to list it online (held by A)',
      );
    }, 120_000);

    afterAll(async () => {
      program?.kill('SIGTERM');
      await new Promise((r) => (program?.exitCode !== null ? r(undefined) : program.once('exit', r)));
      await b?.close();
      await a?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
      await pg.dropAll();
    });

    it('through the replica without the link: echo round trip, stdin EOF, the exit code in the status frame', async () => {
      const c = await viaB({ command: ['sh', '-c', 'pwd; cat; exit 7'] });
      c.send('hello via B\n');
      c.closeStdin();
      await c.closed;
      expect(c.stdout).toBe(`${workspace}\nhello via B\n`);
      expect(c.status).toMatchObject({
        status: 'Failure',
        details: { causes: [{ reason: 'ExitCode', message: '7' }] },
      });
      // The session ran on A (the holder), recorded there; B only relayed it.
      expect(b.logger.lines.some((l) => l.message === 'attach relayed' && l.fields?.agentId === agent)).toBe(true);
      await until(
        () => a.logger.lines.some((l) => l.message === 'attach ended' && l.fields?.exitCode === 7),
        'A to log the end',
      );
      expect(a.logger.lines.find((l) => l.message === 'attach opened')?.fields).toMatchObject({
        userId: 'alice',
        agentId: agent,
      });
    });

    it('with a tty: keystrokes echoed, resize reaching the PTY', async () => {
      const c = await viaB({ tty: 'true', command: ['sh'], cols: '90', rows: '20' });
      c.send('stty size; ls\n');
      await c.until(/20 90[\s\S]*ON-THE-REMOTE-MACHINE\.md/);
      c.resize(120, 40);
      c.send('stty size; exit 0\n');
      await c.until(/40 120/);
      await c.closed;
      expect(c.status).toEqual({ metadata: {}, status: 'Success' });
    });

    it('a dropped connection: nothing is left running on the remote agent once the grace period is over', async () => {
      const c = await viaB({ tty: 'true', command: ['sh'] });
      c.send('sleep 371 & echo bg-started\n');
      await c.until(/bg-started/);
      await until(() => running(['sleep', '371']).length === 1, 'the job to start');
      c.ws.terminate();
      await until(() => running(['sleep', '371']).length === 0, 'the job to end', 15_000);
    });

    it("another user's agent: 404 from B, before anything is relayed", async () => {
      const refused = await viaB({ command: ['true'] }, { authorization: `Bearer ${BOB}` }).catch(
        (e: { status: number }) => e,
      );
      expect(refused).toMatchObject({ status: 404 });
    });

    it('a ticket from B opens once; used again at B or at A it is refused', async () => {
      const t = await b.call('POST', `/api/v1/agents/${agent}/attach-tickets`);
      expect(t.status).toBe(201);
      const c = await ChannelClient.open(`${t.body.url}&command=echo&command=by-ticket`);
      await c.closed;
      expect(c.stdout).toBe('by-ticket\n');
      for (const base of [b.platform.url, a.platform.url]) {
        const again = await ChannelClient.open(
          attachUrl(base, agent, { ticket: t.body.ticket, command: 'true' }),
        ).catch((e: { status: number }) => e);
        expect(again).toMatchObject({ status: 401 });
      }
    });

    it('a relay header not signed by a replica is refused by the holder', async () => {
      const forged = await ChannelClient.open(attachUrl(a.platform.url, agent, { command: 'true' }), {
        'x-forge-attach-relay': `${Buffer.from(JSON.stringify({ userId: 'alice', agentId: agent, session: 's' })).toString('base64url')}.AAAA`,
      }).catch((e: { status: number; body: string }) => e);
      expect(forged).toMatchObject({ status: 401 });
      expect(JSON.parse((forged as { body: string }).body)).toMatchObject({ error: { code: 'INVALID_RELAY' } });
    });
  },
);
