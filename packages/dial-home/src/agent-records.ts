import { revokedError } from './session-ends.js';
import type { Logger } from '@forge/core';
import { Code, refuse } from './connect-errors.js';
import { credentialAgentId, credentialMatches } from './credential.js';
import type { AgentRecord, CredentialStore } from './credential-store.js';
import { DialHomeCodes } from './errors.js';

const bearer = (header: string | null): string | undefined => {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
};

/** The hub's use of its CredentialStore: credential checks, and record updates that lose nothing. */
export class AgentRecords {
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: CredentialStore,
    private readonly logger: Logger,
  ) {}

  /** Resolves once every update asked for so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.writes.then(() => {});
  }

  /** The record of the agent whose credential is in `authorization: Bearer …`; refuses with Unauthenticated / PermissionDenied. */
  async authenticate(header: string | null): Promise<AgentRecord> {
    const credential = bearer(header);
    const agentId = credential && credentialAgentId(credential);
    if (!credential || !agentId) {
      throw refuse(
        Code.Unauthenticated,
        DialHomeCodes.CREDENTIAL_INVALID,
        'Attach needs `authorization: Bearer <agent credential>`',
      );
    }
    const record = await this.store.get(agentId);
    if (!record || !credentialMatches(credential, record.credentialHash)) {
      throw refuse(Code.Unauthenticated, DialHomeCodes.CREDENTIAL_INVALID, 'The agent credential is not valid', {
        agentId,
      });
    }
    return this.authorize(agentId, record.credentialHash);
  }

  /** Run on an agent's messages (at most once per `credentialCheckMs`), so a revocation anywhere bites within that bound. */
  async authorize(agentId: string, credentialHash: string): Promise<AgentRecord> {
    const record = await this.store.get(agentId);
    if (!record || record.credentialHash !== credentialHash) {
      throw refuse(Code.Unauthenticated, DialHomeCodes.CREDENTIAL_INVALID, 'The agent credential is not valid', {
        agentId,
      });
    }
    if (record.revokedAt !== undefined) {
      throw revokedError(agentId);
    }
    return record;
  }

  /**
   * Read-modify-write of a record, one at a time, each on the freshest copy: a lastSeen update
   * must never write back a record read before a revocation. Resolves with the record written
   * (undefined when there is none); only `strict` callers see a failure, the rest have it logged.
   */
  update(agentId: string, change: (r: AgentRecord) => AgentRecord, strict = false): Promise<AgentRecord | undefined> {
    // A revocation is never undone by an update: whatever `change` returns keeps revokedAt.
    const keepRevocation = (current: AgentRecord): AgentRecord => {
      const changed = change(current);
      return current.revokedAt !== undefined && changed.revokedAt === undefined
        ? { ...changed, revokedAt: current.revokedAt }
        : changed;
    };
    const next = this.writes.then(async () => {
      if (this.store.update) return this.store.update(agentId, keepRevocation);
      const current = await this.store.get(agentId);
      if (!current) return undefined;
      const changed = keepRevocation(current);
      if (changed !== current) await this.store.put(changed);
      return changed;
    });
    this.writes = next.catch(() => {});
    if (strict) return next;
    return next.catch((error: unknown) => {
      this.logger.warn('could not update the agent record', { agentId, error: String(error) });
      return undefined;
    });
  }
}
