import { ForgeError, TransportError, type AttachedProcess } from '@forge/core';
import type { AgentHub, AgentInfo } from '@forge/dial-home';
import { describe, expect, it } from 'vitest';
import type { AgentBackend, AgentRecord } from '../backends/backend.js';
import type { RemoteAgents } from '../remote-agents.js';
import { withRemoteAttach } from './remote-attach.js';

const record = (provider: string): AgentRecord => ({
  userId: 'alice',
  agentId: 'agt_0123456789abcdef',
  provider,
  phase: 'Running',
  ready: true,
  createdAt: 0,
});

const local = { tty: false, notes: ['local'] } as unknown as AttachedProcess;
const backend = { kind: 'local', attach: async () => local } as unknown as AgentBackend;

function remoteAgents(open: AgentHub['openTerminal'], status: AgentInfo['status'] = 'offline'): RemoteAgents {
  const hub = {
    openTerminal: open,
    listAgents: async () => [{ id: 'dh_laptop', name: 'laptop', status } as AgentInfo],
  } as unknown as AgentHub;
  return { hub, agentIdOf: (p: string) => (p === 'laptop' ? 'dh_laptop' : undefined) } as unknown as RemoteAgents;
}

describe('withRemoteAttach', () => {
  it('attaches an agent whose provider is a remote agent over its link, without the platform’s cwd; others locally', async () => {
    const asked: unknown[] = [];
    const remote = { tty: true, notes: ['remote'] } as unknown as AttachedProcess;
    const wrapped = withRemoteAttach(backend, () =>
      remoteAgents(async (id, options) => {
        asked.push([id, options]);
        return remote;
      }),
    );
    expect(await wrapped.attach!(record('laptop'), { tty: true, cwd: '/here', cols: 90, rows: 20 })).toBe(remote);
    expect(asked).toEqual([['dh_laptop', { tty: true, cols: 90, rows: 20 }]]);
    expect(await wrapped.attach!(record('claude-code'), {})).toBe(local);
    expect(wrapped.kind).toBe('local');
  });

  it('answers why it cannot: offline 409, on another replica 421, turned off 403, an older program 501', async () => {
    const failing = (error: Error, status: AgentInfo['status'] = 'offline') =>
      withRemoteAttach(backend, () =>
        remoteAgents(async () => {
          throw error;
        }, status),
      ).attach!(record('laptop'), {});
    const offline = new TransportError('AGENT_OFFLINE', 'not here');
    await expect(failing(offline)).rejects.toMatchObject({ status: 409, code: 'AGENT_OFFLINE' });
    await expect(failing(offline, 'online')).rejects.toMatchObject({
      status: 421,
      code: 'AGENT_ON_OTHER_REPLICA',
      message: expect.stringContaining('another platform instance'),
    });
    await expect(failing(new ForgeError('ATTACH_DISABLED', 'off', 'unsupported'))).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('FORGE_ALLOW_ATTACH=0'),
    });
    await expect(failing(new ForgeError('ATTACH_UNSUPPORTED', 'old', 'unsupported'))).rejects.toMatchObject({
      status: 501,
    });
    const other = new ForgeError('CWD_NOT_FOUND', 'no such directory', 'validation');
    await expect(failing(other)).rejects.toBe(other);
  });
});
