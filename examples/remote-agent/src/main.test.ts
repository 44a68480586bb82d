import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProviderRegistry } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { createAgentHub, memoryCredentialStore, type AgentHub, type HubServer } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programArgs } from '../../../scripts/test-support/program-bundle.js';

const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** src/main.ts, bundled once per test run (programArgs: ~1 s of CPU less per start than through tsx). */
const mainArgs = await programArgs(join(exampleDir, 'src/main.ts'));
const SECRET = 'remote-agent-example-test-secret-0123456789';

interface Program {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Runs src/main.ts as its own process, the way a user starts it. */
function startProgram(env: Record<string, string>): Program {
  const child = spawn(process.execPath, mainArgs, {
    cwd: exampleDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ message: line });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  program?: Program,
  timeoutMs = 20_000,
): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `timed out waiting for ${what}${program ? `\nstdout: ${JSON.stringify(program.lines)}\nstderr: ${program.stderr()}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('examples/remote-agent', () => {
  const registry = createProviderRegistry();
  let hub: AgentHub;
  let server: HubServer;
  let dir: string;
  const programs: Program[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-remote-agent-'));
    hub = createAgentHub({
      secret: SECRET,
      credentialStore: memoryCredentialStore(),
      registry,
      heartbeatMs: 200,
      missedHeartbeats: 5,
    });
    server = await hub.listen();
  });
  afterAll(async () => {
    for (const p of programs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  });

  const statusOf = async (name: string) => (await hub.listAgents()).find((a) => a.name === name)?.status;

  it('enrols, goes online, serves runs through the hub, and on SIGTERM cancels its run and goes offline', {
    timeout: 60_000,
  }, async () => {
    const credentialFile = join(dir, 'nested', 'agent.json');
    const env = {
      FORGE_HUB_URL: server.url,
      FORGE_CREDENTIAL_FILE: credentialFile,
      FORGE_AGENT_NAME: 'example-box',
      FORGE_PROVIDER: 'scripted',
    };
    const first = startProgram({ ...env, FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token });
    programs.push(first);
    await waitUntil(async () => (await statusOf('example-box')) === 'online', 'the agent online', first);
    expect((await stat(credentialFile)).mode & 0o777).toBe(0o600);
    // The hub may see it online a moment before its log line reaches us.
    await waitUntil(
      () => first.lines.some((l) => l.message === 'connection' && l.status === 'online'),
      'the online log line',
      first,
    );

    const agent = await registry.get('example-box');
    expect(agent.provider).toBe('scripted');
    const { events, result } = await collectRun(agent.execute({ prompt: 'hello from the platform' }));
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'echo: hello from the platform' });

    // Its own log, read by the platform over the link: the JSON lines it printed, the latest last.
    const log: string[] = [];
    for await (const line of hub.logs('example-box', { tail: 100 })) log.push(line);
    const messages = log.map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages).toEqual(expect.arrayContaining(['remote agent starting', 'connection']));
    expect(messages.indexOf('remote agent starting')).toBeLessThan(messages.lastIndexOf('connection'));

    // A run still going when the program is told to stop is cancelled and reported, not cut.
    const live = agent.execute({ prompt: 'please hang' });
    await firstEvent(live).event;
    first.child.kill('SIGTERM');
    expect((await live.result).status).toBe('cancelled');
    expect(await first.exited).toBe(0);
    await waitUntil(async () => (await statusOf('example-box')) === 'offline', 'the agent offline', first);
    expect(registry.has('example-box')).toBe(false);
    const [info] = await hub.listAgents();
    expect(info!.lastSeen).toEqual(expect.any(Number));
    expect(first.lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['remote agent stopping', 'remote agent stopped']),
    );

    // Started again without a token: the stored credential is enough, same agent id.
    const second = startProgram(env);
    programs.push(second);
    await waitUntil(async () => (await statusOf('example-box')) === 'online', 'the agent online again', second);
    expect((await hub.listAgents()).map((a) => a.id)).toEqual([info!.id]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await waitUntil(async () => (await statusOf('example-box')) === 'offline', 'the agent offline again', second);
  });

  it('opens the platform’s terminals in FORGE_CWD; FORGE_ALLOW_ATTACH=0 refuses them', {
    timeout: 60_000,
  }, async () => {
    const workspace = await mkdtemp(join(dir, 'workspace-'));
    const env = (name: string, allow: string) => ({
      FORGE_HUB_URL: server.url,
      FORGE_CREDENTIAL_FILE: join(dir, `${name}.json`),
      FORGE_AGENT_NAME: name,
      FORGE_PROVIDER: 'scripted',
      FORGE_CWD: workspace,
      FORGE_ALLOW_ATTACH: allow,
      FORGE_ENROLMENT_TOKEN: hub.issueEnrolmentToken().token,
    });
    const open = startProgram(env('attach-box', '1'));
    const locked = startProgram(env('locked-box', '0'));
    programs.push(open, locked);
    await waitUntil(async () => (await statusOf('attach-box')) === 'online', 'attach-box online', open);
    await waitUntil(async () => (await statusOf('locked-box')) === 'online', 'locked-box online', locked);
    const ids = new Map((await hub.listAgents()).map((a) => [a.name, a.id]));

    const terminal = await hub.openTerminal(ids.get('attach-box')!, { command: ['sh', '-c', 'pwd; cat; exit 7'] });
    const writer = terminal.stdin.getWriter();
    await writer.write(new TextEncoder().encode('typed\n'));
    await writer.close();
    const out = await new Response(terminal.stdout).text();
    expect(out).toBe(`${await realpath(workspace)}\ntyped\n`);
    expect(await terminal.exited).toEqual({ code: 7, signal: null });

    await expect(hub.openTerminal(ids.get('locked-box')!, { command: ['true'] })).rejects.toMatchObject({
      code: 'ATTACH_DISABLED',
    });
    open.child.kill('SIGTERM');
    locked.child.kill('SIGTERM');
    expect(await open.exited).toBe(0);
    expect(await locked.exited).toBe(0);
  });

  it('exits 2 with a clear message on bad configuration, and 1 when the platform refuses it', {
    timeout: 60_000,
  }, async () => {
    const bad = startProgram({
      FORGE_HUB_URL: server.url,
      FORGE_PROVIDER: 'nope',
      FORGE_CREDENTIAL_FILE: join(dir, 'bad.json'),
    });
    programs.push(bad);
    expect(await bad.exited).toBe(2);
    expect(bad.lines).toContainEqual(
      expect.objectContaining({ message: 'remote agent could not start', code: 'INVALID_CONFIG' }),
    );

    const refused = startProgram({
      FORGE_HUB_URL: server.url,
      FORGE_PROVIDER: 'scripted',
      FORGE_AGENT_NAME: 'refused-box',
      FORGE_CREDENTIAL_FILE: join(dir, 'refused.json'),
      FORGE_ENROLMENT_TOKEN: 'fdh1.not.valid',
    });
    programs.push(refused);
    expect(await refused.exited).toBe(1);
    expect(refused.lines).toContainEqual(
      expect.objectContaining({ message: 'remote agent gave up', code: 'ENROLMENT_TOKEN_INVALID' }),
    );
  });
});
