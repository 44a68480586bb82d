import { fromJsonColumn } from './json-column.js';
import type { Sql } from './sql.js';

/**
 * The run defaults each agent was created with (the API's JSON), shared by every replica. The backend knows
 * which agents exist; this only holds what they were given beyond their provider.
 */
export class AgentSettings {
  constructor(private readonly sql: Sql) {}

  async put(userId: string, agentId: string, settings: Record<string, unknown>, now: number): Promise<void> {
    await this.sql.query(
      `insert into forge_agent_settings (user_id, agent_id, settings, updated_at) values ($1, $2, $3, $4)
       on conflict (user_id, agent_id) do update set settings = excluded.settings, updated_at = excluded.updated_at`,
      [userId, agentId, JSON.stringify(settings), now],
    );
  }

  /** Undefined when the agent was created with none. */
  async get(userId: string, agentId: string): Promise<Record<string, unknown> | undefined> {
    const [row] = await this.sql.query(
      'select settings from forge_agent_settings where user_id = $1 and agent_id = $2',
      [userId, agentId],
    );
    return row ? fromJsonColumn<Record<string, unknown>>(row.settings) : undefined;
  }

  async remove(userId: string, agentId: string): Promise<void> {
    await this.sql.query('delete from forge_agent_settings where user_id = $1 and agent_id = $2', [userId, agentId]);
  }
}
