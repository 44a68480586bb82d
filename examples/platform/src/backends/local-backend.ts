import { chmod, chown, lchown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, localWorkspaceAttach, type CodeAgent, type ProviderRegistry } from '@forge/core';
import { USER_ID } from '../api-keys.js';
import { AgentLogBook } from './agent-log-book.js';
import { bindCwd } from './bind-cwd.js';
import {
  AGENT_ID,
  newAgentId,
  unreachable,
  type AgentBackend,
  type AgentRecord,
  type CreateAgentInput,
} from './backend.js';

export interface LocalBackendOptions {
  /** Agents live in `<dataDir>/<userId>/<agentId>/` (`agent.json` + `workspace/`, the agent's cwd). */
  dataDir: string;
  registry: ProviderRegistry;
  /**
   * The OS user agents run as (FORGE_AGENT_USER), when not the platform's own: it is given each
   * workspace, and the directories above it become traversable (0711) but not listable, so it
   * reaches its workspace without seeing the others or reading `agent.json`.
   */
  agentUser?: { uid: number; gid: number; name?: string; home?: string };
  /**
   * Agents' logs (their programs' stderr, teed into it by `stderrTeeRunner` around the registry's runner). Default:
   * an empty book of this backend's own.
   */
  logs?: AgentLogBook;
}

interface AgentFile {
  provider: string;
  createdAt: number;
}

const META = 'agent.json';
const WORKSPACE = 'workspace';

/** `dir` and everything in it, without following links: a workspace made before FORGE_AGENT_USER was set. */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid, gid);
    else await lchown(path, uid, gid);
  }
}

/**
 * Each agent is a working directory on this machine. What exists is read from disk on every call,
 * so the directory tree is the only truth; messages run through the registry's provider with the
 * workspace as cwd.
 */
export function localBackend(options: LocalBackendOptions): AgentBackend {
  const { dataDir, registry, agentUser } = options;
  const book = options.logs ?? new AgentLogBook();
  const userDir = (userId: string) => {
    if (!USER_ID.test(userId)) throw new ValidationError('INVALID_USER_ID', `"${userId}" is not a valid user id`);
    return join(dataDir, userId);
  };
  const agentDir = (userId: string, agentId: string) => join(userDir(userId), agentId);

  async function read(userId: string, agentId: string): Promise<AgentRecord | undefined> {
    if (!AGENT_ID.test(agentId)) return undefined;
    const dir = agentDir(userId, agentId);
    let meta: AgentFile;
    try {
      meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as AgentFile;
    } catch {
      return undefined;
    }
    const workspace = await stat(join(dir, WORKSPACE)).then(
      (s) => s.isDirectory(),
      () => false,
    );
    return {
      userId,
      agentId,
      provider: meta.provider,
      createdAt: meta.createdAt,
      phase: workspace ? 'Running' : 'Failed',
      ready: workspace,
    };
  }

  /** The agent's workspace, handed to FORGE_AGENT_USER first when it was made before that was set. */
  async function ownedWorkspace(agent: AgentRecord): Promise<string> {
    const dir = agentDir(agent.userId, agent.agentId);
    const workspace = join(dir, WORKSPACE);
    if (agentUser && (await stat(workspace)).uid !== agentUser.uid) {
      for (const d of [userDir(agent.userId), dir]) await chmod(d, 0o711);
      await chownTree(workspace, agentUser.uid, agentUser.gid);
    }
    return workspace;
  }

  return {
    kind: 'local',
    async create(input: CreateAgentInput) {
      if (input.image !== undefined) {
        const message = 'The local backend runs no container images (image is for the k8s backend)';
        throw new ValidationError('IMAGE_NOT_ALLOWED', message, [
          { path: 'image', code: 'IMAGE_NOT_ALLOWED', message },
        ]);
      }
      if (!registry.has(input.provider)) {
        throw new ValidationError(
          'UNKNOWN_PROVIDER',
          `No provider "${input.provider}" (known: ${registry.list().join(', ')})`,
          [{ path: 'provider', code: 'UNKNOWN_PROVIDER', message: `one of ${registry.list().join(', ')}` }],
        );
      }
      const agentId = newAgentId();
      const dir = agentDir(input.userId, agentId);
      await mkdir(join(dir, WORKSPACE), { recursive: true, mode: 0o700 });
      if (agentUser) {
        for (const d of [userDir(input.userId), dir]) await chmod(d, 0o711);
        await chown(join(dir, WORKSPACE), agentUser.uid, agentUser.gid);
      }
      const meta: AgentFile = { provider: input.provider, createdAt: Date.now() };
      // Written last: a directory without agent.json is a half-made agent and is not listed.
      await writeFile(join(dir, META), JSON.stringify(meta), { mode: 0o600 });
      return {
        userId: input.userId,
        agentId,
        provider: meta.provider,
        createdAt: meta.createdAt,
        phase: 'Running',
        ready: true,
      };
    },
    get: (userId, agentId) => read(userId, agentId),
    async status(agent) {
      if (!agent.ready)
        return unreachable({ code: 'WORKSPACE_GONE', message: `The workspace of ${agent.agentId} is gone` });
      try {
        const capabilities = await (await registry.get(agent.provider)).capabilities();
        return {
          reachable: true,
          provider: agent.provider,
          ...(capabilities.version ? { version: capabilities.version } : {}),
          capabilities,
        };
      } catch (error) {
        return unreachable(error);
      }
    },
    async list(userId) {
      const names = await readdir(userDir(userId)).catch(() => [] as string[]);
      const agents = await Promise.all(names.filter((n) => AGENT_ID.test(n)).map((n) => read(userId, n)));
      return agents
        .filter((a): a is AgentRecord => a !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.agentId.localeCompare(b.agentId));
    },
    async listAll() {
      const users = await readdir(dataDir).catch(() => [] as string[]);
      const lists = await Promise.all(users.filter((u) => USER_ID.test(u)).map((u) => this.list(u)));
      return lists.flat();
    },
    async delete(userId, agentId) {
      if (!(await read(userId, agentId))) return false;
      await rm(agentDir(userId, agentId), { recursive: true, force: true });
      book.forget(`${userId}/${agentId}`);
      return true;
    },
    async agentFor(agent): Promise<CodeAgent> {
      return bindCwd(await registry.get(agent.provider), await ownedWorkspace(agent));
    },
    async attach(agent, attachOptions) {
      // As the agent's user, never the platform's: a terminal sees what the agent sees, no more.
      const workspace = await ownedWorkspace(agent);
      return localWorkspaceAttach({ workspace, ...(agentUser ? { user: agentUser } : {}) }).open(attachOptions);
    },
    logs: (agent, logOptions) => book.read(`${agent.userId}/${agent.agentId}`, logOptions),
    async close() {},
  };
}
