import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRemoteAgents } from '../remote-agents.js';
import { startApiHarness, testStore } from './api-harness.js';

/**
 * The API harness (alice an admin, bob not) with a real dial-home hub on loopback behind its remote-agent routes,
 * and a scratch folder for the agents' credential files.
 */
export async function startHubApiHarness(scratchPrefix: string) {
  const scratch = await mkdtemp(join(tmpdir(), scratchPrefix));
  const remote = await startRemoteAgents({
    port: 0,
    host: '127.0.0.1',
    secret: 'a-hub-secret-of-at-least-32-bytes-long!!',
    credentialStore: (await testStore()).credentials,
  });
  const api = await startApiHarness({
    adminUsers: 'alice',
    api: {
      remoteAgents: {
        list: () => remote.list(),
        revoke: (name) => remote.revoke(name),
        issueToken: (o) => remote.issueToken(o),
      },
    },
  });
  return {
    api,
    remote,
    scratch,
    async close() {
      await api.close();
      await remote.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export type HubApiHarness = Awaited<ReturnType<typeof startHubApiHarness>>;
