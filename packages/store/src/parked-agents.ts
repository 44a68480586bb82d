import type { Sql } from './sql.js';

/** An agent without a pod: what its next pod is made from. */
export interface ParkedAgent {
  userId: string;
  agentId: string;
  provider: string;
  /** The allow-listed image name it was created with; undefined: the default image. */
  image?: string;
  /** Epoch ms: when the agent was created (not the pod). */
  createdAt: number;
  /** Epoch ms: when its pod was removed. */
  parkedAt: number;
}

type Row = {
  user_id: string;
  agent_id: string;
  provider: string;
  image: string | null;
  created_at: number;
  parked_at: number;
};

const toParked = (r: Row): ParkedAgent => ({
  userId: r.user_id,
  agentId: r.agent_id,
  provider: r.provider,
  ...(r.image !== null ? { image: r.image } : {}),
  createdAt: Number(r.created_at),
  parkedAt: Number(r.parked_at),
});

/**
 * Agents of the k8s backend whose pod was removed while idle, shared by every replica: they stay listed, and
 * their next message makes a new pod from this row (then the row goes).
 */
export class ParkedAgents {
  constructor(private readonly sql: Sql) {}

  async park(agent: ParkedAgent): Promise<void> {
    await this.sql.query(
      `insert into forge_parked_agents (user_id, agent_id, provider, image, created_at, parked_at)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (user_id, agent_id) do update set provider = excluded.provider, image = excluded.image,
         created_at = excluded.created_at, parked_at = excluded.parked_at`,
      [agent.userId, agent.agentId, agent.provider, agent.image ?? null, agent.createdAt, agent.parkedAt],
    );
  }

  async get(userId: string, agentId: string): Promise<ParkedAgent | undefined> {
    const [row] = await this.sql.query<Row>('select * from forge_parked_agents where user_id = $1 and agent_id = $2', [
      userId,
      agentId,
    ]);
    return row ? toParked(row) : undefined;
  }

  async list(userId: string): Promise<ParkedAgent[]> {
    const rows = await this.sql.query<Row>('select * from forge_parked_agents where user_id = $1', [userId]);
    return rows.map(toParked);
  }

  /** False when there was no such row. */
  async remove(userId: string, agentId: string): Promise<boolean> {
    const rows = await this.sql.query(
      'delete from forge_parked_agents where user_id = $1 and agent_id = $2 returning agent_id',
      [userId, agentId],
    );
    return rows.length > 0;
  }
}
