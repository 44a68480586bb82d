import type { RunUsageFigures } from './run-record.js';
import type { Sql } from './sql.js';

export type UsageGroup = 'day' | 'agent' | 'provider';

export interface UsageQuery {
  /** Only this user's runs; undefined: every user's. */
  userId?: string;
  /** Runs finished at or after (epoch ms). */
  from: number;
  /** Runs finished before (epoch ms). */
  to: number;
  groupBy: UsageGroup;
  /** Groups returned at most (the largest first by runs are not chosen: groups are in key order). Default 1 000. */
  limit?: number;
}

export interface UsageFigures {
  runs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  durationMs: number;
}

export interface UsageGroupRow extends UsageFigures {
  /** The UTC day (`2026-12-07`), the agent id or the provider name. */
  key: string;
  /** With `agent`: whose agent it is (agent ids are per user). */
  userId?: string;
}

export interface UsageReport {
  groups: UsageGroupRow[];
  total: UsageFigures;
  /** More groups than `limit` matched. */
  truncated: boolean;
}

const GROUP_SQL: Record<UsageGroup, { select: string; group: string }> = {
  day: {
    select: `to_char(to_timestamp(finished_at / 1000.0) at time zone 'UTC', 'YYYY-MM-DD') as key, null as user_id`,
    group: '1',
  },
  agent: { select: 'agent_id as key, user_id', group: 'agent_id, user_id' },
  provider: { select: 'provider as key, null as user_id', group: 'provider' },
};

const FIGURES = `count(*)::int as runs, coalesce(sum(tokens_in), 0) as tokens_in, coalesce(sum(tokens_out), 0) as tokens_out,
  coalesce(sum(cost_usd), 0) as cost_usd, coalesce(sum(duration_ms), 0) as duration_ms`;

const figuresOf = (r: Record<string, unknown> | undefined): UsageFigures => ({
  runs: Number(r?.runs ?? 0),
  tokensIn: Number(r?.tokens_in ?? 0),
  tokensOut: Number(r?.tokens_out ?? 0),
  costUsd: Number(r?.cost_usd ?? 0),
  durationMs: Number(r?.duration_ms ?? 0),
});

/**
 * A CTE inserting a finished run's usage row from `held` (a CTE or subquery naming the run's request_id, user_id,
 * agent_id, key_id, status and finished_at), so the row is written by the very statement that ends the run.
 */
export function usageCte(usage: RunUsageFigures, params: unknown[], held = ''): string {
  const p = (v: unknown) => `$${params.push(v)}`;
  const prefix = held ? `${held},\n` : '';
  return `${prefix}usage as (insert into forge_run_usage
      (request_id, user_id, agent_id, key_id, provider, status, finished_at, duration_ms, tokens_in, tokens_out, cost_usd)
    select request_id, user_id, agent_id, key_id, ${p(usage.provider)}::text, status, finished_at,
      ${p(usage.durationMs)}::double precision, ${p(usage.tokensIn)}::double precision,
      ${p(usage.tokensOut)}::double precision, ${p(usage.costUsd)}::double precision
    from held on conflict (request_id) do nothing)`;
}

/** Usage reports over finished runs: runs, tokens, cost and duration, per day, agent or provider. */
export class RunUsage {
  constructor(private readonly sql: Sql) {}

  async report(query: UsageQuery): Promise<UsageReport> {
    const limit = query.limit ?? 1_000;
    const where = 'finished_at >= $1 and finished_at < $2 and ($3::text is null or user_id = $3)';
    const params = [query.from, query.to, query.userId ?? null];
    const g = GROUP_SQL[query.groupBy];
    const [rows, totals] = await Promise.all([
      this.sql.query(
        `select ${g.select}, ${FIGURES} from forge_run_usage where ${where} group by ${g.group} order by 1, 2 limit $4`,
        [...params, limit + 1],
      ),
      this.sql.query(`select ${FIGURES} from forge_run_usage where ${where}`, params),
    ]);
    return {
      groups: rows.slice(0, limit).map((r) => ({
        key: String(r.key),
        ...(r.user_id ? { userId: String(r.user_id) } : {}),
        ...figuresOf(r),
      })),
      total: figuresOf(totals[0]),
      truncated: rows.length > limit,
    };
  }

  /** Removes rows of runs finished before `before` (retention, kept longer than the runs themselves). */
  async sweep(before: number): Promise<number> {
    return (await this.sql.query('delete from forge_run_usage where finished_at < $1 returning request_id', [before]))
      .length;
  }
}
