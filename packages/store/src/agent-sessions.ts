import type { SessionInfo } from '@forge/core';
import { sessionInfoOfRow } from './session-store.js';
import type { SqlClient } from './sql.js';

/**
 * The platform's view of the session store by agent: a session is an agent's when one of the agent's runs
 * started it or continued it (`result.sessionId`, `request.sessionId`), so a listing never shows another
 * user's conversation and needs no column of its own. Retention goes the same way: a session no run names
 * any more, and not saved since the cut-off, is deleted with the runs.
 */
export interface AgentSessions {
  /** The agent's sessions, newest first (at most `limit`, default 100). */
  list(userId: string, agentId: string, options?: { provider?: string; limit?: number }): Promise<SessionInfo[]>;
  /** Deletes the sessions no run names, last saved before `updatedBefore` (ms). */
  sweep(updatedBefore: number): Promise<{ sessions: number }>;
}

/**
 * The top-level `sessionId` of a JSON text column (migration 5 keeps `request` and `result` as text, since
 * jsonb refuses them). PostgreSQL's `->>` refuses a `\u0000` or lone-surrogate escape anywhere in the text, and a
 * model's answer may hold one: those escapes become `\u0020` first (still valid JSON, whether the backslash
 * was an escape or an escaped backslash's second half), which cannot change a session id.
 */
const sessionIdOf = (column: string) =>
  `regexp_replace(${column}, '\\\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})', '\\\\u0020', 'g')::json->>'sessionId'`;

// The ids the runs name (nulls dropped: `not in` a list holding a null is never true). A run that goes on has
// no `result` yet, so the session it is starting is kept by its age.
const RUN_SESSION_IDS = `select id from (select ${sessionIdOf('result')} as id from forge_runs
  union select ${sessionIdOf('request')} from forge_runs) named where id is not null`;

export function sqlAgentSessions(sql: SqlClient): AgentSessions {
  return {
    async list(userId, agentId, options = {}) {
      const rows = await sql.query(
        `select provider, session_id, cwd, title, created_at, updated_at, size from forge_sessions
           where ($3::text is null or provider = $3) and session_id in (
             select ${sessionIdOf('result')} from forge_runs where user_id = $1 and agent_id = $2
             union select ${sessionIdOf('request')} from forge_runs where user_id = $1 and agent_id = $2)
           order by updated_at desc, session_id limit $4`,
        [userId, agentId, options.provider ?? null, Math.min(Math.max(options.limit ?? 100, 1), 1_000)],
      );
      return rows.map(sessionInfoOfRow);
    },
    async sweep(updatedBefore) {
      // Chunks go with their session (on delete cascade).
      const rows = await sql.query(
        `delete from forge_sessions where updated_at < $1 and session_id not in (${RUN_SESSION_IDS}) returning 1`,
        [updatedBefore],
      );
      return { sessions: rows.length };
    },
  };
}
