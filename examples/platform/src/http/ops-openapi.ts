import { z } from 'zod';
import type { Operation } from './openapi.js';

const EventLoop = z.strictObject({
  ok: z.boolean(),
  p99_ms: z.number().describe('p99 event-loop delay since the previous check.'),
  max_ms: z.number(),
  limit_ms: z.number(),
});
const Check = z.looseObject({ ok: z.boolean(), error: z.string().optional() });

export const Live = z.strictObject({ ok: z.boolean(), backend: z.string(), event_loop: EventLoop });
export const Ready = z.strictObject({
  ok: z.boolean(),
  backend: z.string(),
  checks: z.strictObject({
    event_loop: EventLoop,
    store: Check.describe('Answered a bounded query (FORGE store) and is at the newest migration (schema_version).'),
    draining: Check.describe('Not shutting down (setDraining from the shutdown path).'),
    hub: Check.optional().describe('The dial-home hub listens (only with FORGE_HUB_PORT).'),
  }),
});

const UsageFigures = {
  runs: z.number().int(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number(),
  duration_ms: z.number(),
};
export const UsageReply = z.strictObject({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  group_by: z.enum(['day', 'agent', 'provider']),
  user: z.string().describe('Whose runs: a user id, or * for everyone.'),
  groups: z.array(
    z.strictObject({
      key: z.string().describe('The UTC day (YYYY-MM-DD), the agent id or the provider name.'),
      user_id: z.string().optional().describe('With group_by=agent: whose agent.'),
      ...UsageFigures,
    }),
  ),
  total: z.strictObject(UsageFigures),
  truncated: z.boolean().describe('More than 1 000 groups matched; the first 1 000 by key are listed.'),
});

const ADMIN_403 = { 403: 'ADMIN_REQUIRED' };

/** A probe for orchestrators: open (no key), the same body whether it passes (200) or fails (503). */
function probe(summary: string, body: z.ZodType, failing: string): Partial<Record<'get', Operation>> {
  return { get: { summary, ok: [200, body], errors: {}, errorBodies: { 503: [failing, body] }, open: true } };
}

/** Health, metrics and usage in the OpenAPI document (http/openapi.ts spreads them in). */
export const OPS_OPERATIONS: Record<string, Partial<Record<'get', Operation>>> = {
  '/livez': probe(
    'Liveness: the process answers and its event loop is not stalled (p99 delay under its bound)',
    Live,
    'The event loop is stalled',
  ),
  '/readyz': probe(
    'Readiness: the store answers and is migrated, not draining, the hub listens (when enabled)',
    Ready,
    'Not ready: the failing check says why',
  ),
  '/metrics': {
    get: {
      summary:
        'Prometheus metrics (text format 0.0.4); an admin key here, or no key on FORGE_METRICS_PORT (then not here)',
      ok: [200, undefined],
      text: 'text/plain; version=0.0.4; charset=utf-8',
      errors: ADMIN_403,
    },
  },
  '/api/v1/usage': {
    get: {
      summary: "Finished runs' usage (runs, tokens in/out, cost, duration) per UTC day, agent or provider",
      query: {
        from: { schema: z.string(), description: 'ISO-8601 date or date-time with zone; default 30 days before `to`.' },
        to: { schema: z.string(), description: 'ISO-8601 (exclusive); default now. At most 367 days after `from`.' },
        group_by: { schema: z.enum(['day', 'agent', 'provider']), description: 'Default day.' },
        user: { schema: z.string(), description: 'Admin keys: another user id, or * for everyone.' },
      },
      ok: [200, UsageReply],
      errors: {
        400: 'INVALID_USAGE_QUERY (an unknown or repeated parameter, a bad instant, a range over 367 days…)',
        ...ADMIN_403,
      },
    },
  },
};
