import type { AttachedProcess, AttachOptions } from '@forge/core';
import {
  type AgentBackend,
  type AgentRecord,
  ApiKeyStore,
  AttachService,
  listen,
  parseApiKeyList,
} from '@forge/example-platform/attach';

export const KEY = 'bench-attach-key-0123456789';
const AGENT = 'agt_benchattach000000';

/** The platform's attach endpoint alone, over `open` (a local workspace, a dialled-home agent's). */
export async function endpoint(open: (options: AttachOptions) => Promise<AttachedProcess>) {
  const record: AgentRecord = {
    userId: 'bench',
    agentId: AGENT,
    provider: 'x',
    phase: 'Running',
    ready: true,
    createdAt: 0,
  };
  const backend = {
    kind: 'local',
    get: async (userId: string, agentId: string) => (userId === 'bench' && agentId === AGENT ? record : undefined),
    attach: (_agent: AgentRecord, options: AttachOptions) => open(options),
  } as unknown as AgentBackend;
  const attach = new AttachService({
    keys: new ApiKeyStore(parseApiKeyList(`bench:${KEY}`)),
    backend,
    maxPerUser: 64,
  });
  const server = await listen((_req, res) => res.end(), { port: 0, host: '127.0.0.1', upgrade: attach.upgrade });
  return {
    url: `${server.url.replace('http', 'ws')}/api/v1/agents/${AGENT}/attach`,
    async close() {
      await attach.close();
      await server.close();
    },
  };
}
