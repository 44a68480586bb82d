import { AsyncLocalStorage } from 'node:async_hooks';
import {
  UnsupportedError,
  checkSessionSave,
  checkSessionKey,
  type SessionInfo,
  type SessionKey,
  type SessionSave,
  type SessionSnapshot,
  type SessionStore,
} from '@forge/core';
import { forgeErrorFromInfo } from './errors.js';
import type { SessionReply } from './gen/forge/agent/v1/agent_pb.js';
import type { SessionCallChannel } from './session-call-client.js';
import {
  DEFAULT_SESSION_PART_BYTES,
  infoFromProto,
  joinSessionParts,
  patchFromProto,
  patchToProto,
  sessionParts,
} from './session-parts.js';

export interface LinkedSessionStoreOptions {
  /** Most file bytes per message over the link. Default 1 MiB. */
  maxPartBytes?: number;
}

/**
 * The session store of an agent served over a link (serveAgent, dial-home): its saves and loads go to the store of
 * the client whose run made them — the platform's, which stays the authoritative copy — so a session outlives the
 * pod or machine the agent runs on. Give it to the adapter (`claudeCode({ sessionStore })`) and to the server
 * (`serveAgent(agent, { sessionStore })`, `dialHome({ sessionStore })`), which binds each run to its client.
 *
 * A run whose client keeps no session store (an older client, or one without the option) is not linked: its saves
 * are dropped and its loads find nothing, so its sessions stay where the agent runs, as without a store.
 */
export interface LinkedSessionStore extends SessionStore {
  /**
   * Calls `start` (which starts run `runId`) so that the store's calls for that run go over `channel`; without a
   * channel the run is not linked. The run must start inside `start`: its work inherits the binding.
   */
  bind<T>(runId: string, channel: SessionCallChannel | undefined, start: () => T): T;
}

interface Binding {
  runId: string;
  channel: SessionCallChannel | undefined;
}

export function linkedSessionStore(options: LinkedSessionStoreOptions = {}): LinkedSessionStore {
  const maxPartBytes = options.maxPartBytes ?? DEFAULT_SESSION_PART_BYTES;
  // Which run (and so which client) a call belongs to: core calls save/load from inside the run's own work.
  const scope = new AsyncLocalStorage<Binding>();

  const result = (reply: SessionReply | undefined) => {
    const r = reply?.result;
    if (r?.case === 'error') throw forgeErrorFromInfo(r.value);
    return r;
  };

  return {
    bind(runId, channel, start) {
      return scope.run({ runId, channel }, start);
    },

    async save(key: SessionKey, save: SessionSave): Promise<SessionInfo> {
      checkSessionSave(key, save);
      const bound = scope.getStore();
      if (!bound?.channel) {
        const now = new Date().toISOString();
        return { ...key, createdAt: now, updatedAt: now, size: 0 };
      }
      let info: SessionInfo | undefined;
      for (const part of sessionParts(save.files, maxPartBytes)) {
        const [reply] = await bound.channel.call(bound.runId, {
          case: 'save',
          value: {
            $typeName: 'forge.agent.v1.SessionSave',
            provider: key.provider,
            sessionId: key.sessionId,
            files: part.map(patchToProto),
            ...(save.cwd !== undefined ? { cwd: save.cwd } : {}),
            ...(save.title !== undefined ? { title: save.title } : {}),
          },
        });
        const r = result(reply);
        if (r?.case !== 'saved') throw unexpected(r?.case);
        info = infoFromProto(r.value);
      }
      return info!;
    },

    async load(key: SessionKey): Promise<SessionSnapshot | undefined> {
      checkSessionKey(key);
      const bound = scope.getStore();
      if (!bound?.channel) return undefined;
      const replies = await bound.channel.call(bound.runId, {
        case: 'load',
        value: { $typeName: 'forge.agent.v1.SessionLoad', provider: key.provider, sessionId: key.sessionId },
      });
      const first = result(replies[0]);
      if (first?.case === 'missing') return undefined;
      const parts = replies.map((reply) => {
        const r = result(reply);
        if (r?.case !== 'snapshot') throw unexpected(r?.case);
        return r.value;
      });
      return joinSessionParts(
        infoFromProto(parts[0]!.info),
        parts.flatMap((p) => p.files.map(patchFromProto)),
      );
    },

    // The platform keeps, lists and deletes sessions; an agent on a pod or laptop only saves and loads its own.
    async delete() {
      throw new UnsupportedError('linked session store', 'deleting sessions (the client keeps them)');
    },
    async list() {
      throw new UnsupportedError('linked session store', 'listing sessions (the client keeps them)');
    },
  };
}

const unexpected = (got: string | undefined) =>
  new UnsupportedError(
    'linked session store',
    `the reply "${got ?? 'empty'}" to a session call`,
    'SESSION_REPLY_UNEXPECTED',
  );
