import { create } from '@bufbuild/protobuf';
import { ForgeError, type AgentRequest, type Logger, type SessionKey, type SessionStore } from '@forge/core';
import { errorInfoFromError } from './errors.js';
import { SessionReplySchema, type SessionCall, type SessionReply } from './gen/forge/agent/v1/agent_pb.js';
import {
  DEFAULT_SESSION_PART_BYTES,
  infoToProto,
  patchFromProto,
  patchToProto,
  sessionParts,
} from './session-parts.js';

interface Grant {
  /** The session the run's request resumes (or forks from). */
  resumes: string | undefined;
  fork: boolean;
  /** Sessions (provider + id) the run itself created through this link. */
  created: Set<string>;
}

/**
 * The client side of session calls: answers the served agent's saves and loads from the client's session store,
 * for the live runs of this client only, and for each run only its own sessions — it may load the session its
 * request resumes, save to that one (unless it forks it), and create new ones; never read or overwrite a session
 * of another conversation. The agent's side is less trusted than the store (a pod running tools, a laptop that
 * dialled home): an id it names is not a permission.
 */
export class SessionGrants {
  private readonly runs = new Map<string, Grant>();

  constructor(
    private readonly store: SessionStore,
    private readonly logger: Logger,
    private readonly maxPartBytes = DEFAULT_SESSION_PART_BYTES,
  ) {}

  /**
   * A run starts, or is taken over (attach): the calls made for it are answered from now until `close`. A run taken
   * over gets the grants its request decides; sessions it created before the handover count as another's.
   */
  open(runId: string, request: Pick<AgentRequest, 'sessionId' | 'fork'>): void {
    this.runs.set(runId, { resumes: request.sessionId, fork: request.fork === true, created: new Set() });
  }

  close(runId: string): void {
    this.runs.delete(runId);
  }

  /** Answers one call with one reply, or for a load with its parts; failures are error replies. */
  async answer(call: SessionCall, send: (reply: SessionReply) => void): Promise<void> {
    const reply = (result: SessionReply['result']) => send(create(SessionReplySchema, { callId: call.callId, result }));
    try {
      const grant = this.runs.get(call.runId);
      const op = call.op;
      if (op.case === 'save') {
        const key = { provider: op.value.provider, sessionId: op.value.sessionId };
        await this.mayWrite(grant, call.runId, key);
        const info = await this.store.save(key, {
          files: op.value.files.map(patchFromProto),
          ...(op.value.cwd !== undefined ? { cwd: op.value.cwd } : {}),
          ...(op.value.title !== undefined ? { title: op.value.title } : {}),
        });
        reply({ case: 'saved', value: infoToProto(info) });
        return;
      }
      if (op.case === 'load') {
        const key = { provider: op.value.provider, sessionId: op.value.sessionId };
        if (!grant || grant.resumes !== key.sessionId) throw notGranted(call.runId, 'load', key);
        const snapshot = await this.store.load(key);
        if (!snapshot) {
          reply({ case: 'missing', value: true });
          return;
        }
        const parts = sessionParts(snapshot.files, this.maxPartBytes);
        for (const [i, files] of parts.entries())
          reply({
            case: 'snapshot',
            value: {
              $typeName: 'forge.agent.v1.SessionSnapshotPart',
              info: infoToProto(snapshot),
              files: files.map(patchToProto),
              more: i < parts.length - 1,
            },
          });
        return;
      }
      throw new ForgeError('INVALID_SESSION_CALL', 'The session call names no known operation', 'validation');
    } catch (error) {
      if ((error as ForgeError).code === 'SESSION_NOT_GRANTED')
        this.logger.warn('refused a session call of the agent', { runId: call.runId, error: String(error) });
      reply({ case: 'error', value: errorInfoFromError(error) });
    }
  }

  private async mayWrite(grant: Grant | undefined, runId: string, key: SessionKey): Promise<void> {
    if (!grant) throw notGranted(runId, 'save', key);
    if (key.sessionId === grant.resumes) {
      if (grant.fork) throw notGranted(runId, 'save', key);
      return;
    }
    const name = `${key.provider}\n${key.sessionId}`;
    if (grant.created.has(name)) return;
    // A session the run did not resume can only be a new one: an existing one is another conversation's.
    if (await this.store.load(key)) throw notGranted(runId, 'save', key);
    grant.created.add(name);
  }
}

const notGranted = (runId: string, op: string, key: SessionKey) =>
  new ForgeError(
    'SESSION_NOT_GRANTED',
    `run ${runId} may not ${op} session ${key.provider}/${key.sessionId}: a run reaches only the session its request resumes and the ones it creates`,
    'not_found',
    { details: { runId, ...key } },
  );
