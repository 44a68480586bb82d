import type { RunUsage, UsageFigures, UsageGroup } from '@forge/store';
import { ApiError } from '../api-error.js';
import { USER_ID } from '../api-keys.js';
import { type ApiContext, reply } from './context.js';
import type { Router } from './router.js';

const DAY_MS = 86_400_000;
/** The widest range one report covers: a year and a day (a leap year's days, whole). */
export const MAX_USAGE_RANGE_MS = 367 * DAY_MS;
/** Without `from`: the 30 days before `to`. */
const DEFAULT_RANGE_MS = 30 * DAY_MS;
const GROUPS: readonly UsageGroup[] = ['day', 'agent', 'provider'];
const KNOWN = new Set(['from', 'to', 'group_by', 'user']);
/** `user=*`: every user's runs (admins only). */
export const ALL_USERS = '*';
/** ISO-8601: a date (UTC midnight), or a date and time with seconds optional and a zone (Z or ±hh:mm) required. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

const bad = (message: string) => new ApiError(400, 'INVALID_USAGE_QUERY', message);

function instant(name: string, text: string | null): number | undefined {
  if (text === null) return undefined;
  const ms = ISO.test(text) ? Date.parse(text) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March: the date part must read back as written.
  const date = text.slice(0, 10);
  if (!Number.isFinite(ms) || new Date(Date.parse(`${date}T00:00:00Z`)).toISOString().slice(0, 10) !== date)
    throw bad(`${name} must be an ISO-8601 date (2026-12-07) or date-time with a zone (2026-12-07T10:00:00Z)`);
  return ms;
}

/** The query of GET /api/v1/usage, checked: unknown or repeated parameters, bad instants and wide ranges are 400. */
export function usageQuery(params: URLSearchParams, now: number) {
  for (const name of params.keys()) if (!KNOWN.has(name)) throw bad(`Unknown query parameter ${name}`);
  for (const name of KNOWN) if (params.getAll(name).length > 1) throw bad(`${name} may be given once`);
  const to = instant('to', params.get('to')) ?? now;
  const from = instant('from', params.get('from')) ?? to - DEFAULT_RANGE_MS;
  if (from >= to) throw bad('from must be before to');
  if (to - from > MAX_USAGE_RANGE_MS) throw bad(`The range may span at most ${MAX_USAGE_RANGE_MS / DAY_MS} days`);
  const groupBy = (params.get('group_by') ?? 'day') as UsageGroup;
  if (!GROUPS.includes(groupBy)) throw bad(`group_by must be one of ${GROUPS.join(', ')}`);
  const user = params.get('user') ?? undefined;
  if (user !== undefined && user !== ALL_USERS && !USER_ID.test(user))
    throw bad(`user must be a user id, or ${ALL_USERS} for every user`);
  return { from, to, groupBy, user };
}

const figuresJson = (f: UsageFigures) => ({
  runs: f.runs,
  tokens_in: f.tokensIn,
  tokens_out: f.tokensOut,
  cost_usd: f.costUsd,
  duration_ms: f.durationMs,
});

/**
 * `GET /api/v1/usage`: the key's user's finished runs — how many, tokens in and out, cost, duration — per UTC day,
 * agent or provider, from the store (every replica answers the same). The figures are the ones each run's key spend
 * was counted from. An admin key may name any user, or `*` for everyone.
 */
export function usageRoutes(router: Router<ApiContext>, options: { usage: RunUsage; now?: () => number }): void {
  router.on('GET', '/api/v1/usage', async (ctx) => {
    const q = usageQuery(ctx.url.searchParams, (options.now ?? Date.now)());
    const own = q.user === undefined || q.user === ctx.principal.userId;
    if (!own && !ctx.principal.admin)
      throw new ApiError(403, 'ADMIN_REQUIRED', "Another user's usage takes an admin key (FORGE_ADMIN_USERS)");
    const userId = q.user === ALL_USERS ? undefined : (q.user ?? ctx.principal.userId);
    const report = await options.usage.report({
      from: q.from,
      to: q.to,
      groupBy: q.groupBy,
      ...(userId !== undefined ? { userId } : {}),
    });
    reply(ctx, 200, {
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      group_by: q.groupBy,
      user: userId ?? ALL_USERS,
      groups: report.groups.map((g) => ({
        key: g.key,
        ...(g.userId !== undefined ? { user_id: g.userId } : {}),
        ...figuresJson(g),
      })),
      total: figuresJson(report.total),
      truncated: report.truncated,
    });
  });
}
