/** What the platform keeps about an enrolled agent. Never the credential itself: its hash. */
export interface AgentRecord {
  agentId: string;
  name: string;
  /** SHA-256 (hex) of the credential; see credential.ts. */
  credentialHash: string;
  /** Epoch ms. */
  enrolledAt: number;
  /** Epoch ms; set once revoked. A revoked agent is refused at its next message. */
  revokedAt?: number;
  /** From the agent's last Hello. */
  provider?: string;
  version?: string;
  /** Epoch ms of the last message, as of the last time the agent went offline. */
  lastSeen?: number;
}

export type EnrolOutcome = 'enrolled' | 'token-used' | 'name-taken';

/**
 * Where the hub keeps enrolled agents and spent enrolment tokens. Implement it over a database
 * to share one store between platform replicas: the hub reads `get` on every message an agent
 * sends, so a revocation written by any replica takes effect at the agent's next message.
 */
export interface CredentialStore {
  get(agentId: string): Promise<AgentRecord | undefined>;
  /**
   * Creates or replaces the record. A store shared by several hubs should refuse a second live
   * (not revoked) record under one name with a ForgeError coded `DialHomeCodes.NAME_TAKEN`: the hub
   * checks a name is free only within its process, and answers that error as a name seen taken.
   */
  put(record: AgentRecord): Promise<void>;
  /**
   * Optional: changes a record atomically (read, `change`, write, with no other write between) and
   * resolves with what was written, or undefined when there is no such record. Implement it when
   * other processes write the same store: the hub's own updates (last seen, provider) then can
   * never write back a copy read before another process's revocation. Without it the hub reads
   * with `get` and writes with `put`, one at a time within its process only.
   */
  update?(agentId: string, change: (record: AgentRecord) => AgentRecord): Promise<AgentRecord | undefined>;
  list(): Promise<AgentRecord[]>;
  /**
   * Optional: enrols in one step, spending the token (as `consumeToken`) and creating the record
   * together, or doing neither: `token-used` when the token was spent already, `name-taken` when
   * another live (not revoked) agent holds `record.name`. Implement it when several hubs share the
   * store: without it, a hub that loses a race for a name to another process has spent its token.
   */
  enrol?(record: AgentRecord, token: { id: string; expiresAt: number }, now: number): Promise<EnrolOutcome>;
  /**
   * Marks an enrolment token id spent. Resolves true the first time, false ever after (until
   * `expiresAt` has passed, when the token is refused as expired anyway and may be forgotten).
   * Must be atomic: two agents racing on one token, one wins.
   */
  consumeToken(tokenId: string, expiresAt: number, now: number): Promise<boolean>;
}

/** A store in memory, for tests and single-process hosts that re-enrol agents after a restart. */
export function memoryCredentialStore(): CredentialStore {
  const agents = new Map<string, AgentRecord>();
  const spent = new Map<string, number>();
  return {
    async get(agentId) {
      const r = agents.get(agentId);
      return r && { ...r };
    },
    async put(record) {
      agents.set(record.agentId, { ...record });
    },
    async update(agentId, change) {
      const found = agents.get(agentId);
      if (!found) return undefined;
      const changed = { ...change({ ...found }) };
      agents.set(agentId, changed);
      return { ...changed };
    },
    async list() {
      return [...agents.values()].map((r) => ({ ...r }));
    },
    async consumeToken(tokenId, expiresAt, now) {
      for (const [id, exp] of spent) if (exp <= now) spent.delete(id);
      if (spent.has(tokenId)) return false;
      spent.set(tokenId, expiresAt);
      return true;
    },
  };
}
