import type { RunStatus } from '@forge/store';
import { ApiError } from '../api-error.js';
import type { AgentState } from '../backends/backend.js';

/** RFC 3339 with a zone, as the API writes times (`2026-12-07T09:30:00Z`, `…+01:00`, fractions allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
];
export const AGENT_STATES: readonly AgentState[] = ['starting', 'ready', 'gone'];

/** A time from the query as epoch ms, or 400 `code`: anything but an RFC 3339 time with its zone is refused. */
export function timeOf(text: string | null, field: string, code: string): number | undefined {
  if (text === null) return undefined;
  const ms = RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new ApiError(
      400,
      code,
      `${field} must be an RFC 3339 time with its zone, e.g. 2026-12-07T09:30:00Z`,
      {},
      {
        field,
      },
    );
  return ms;
}

/** `?since=&until=` (since inclusive, until exclusive), or 400 INVALID_SINCE, INVALID_UNTIL, INVALID_TIME_RANGE. */
export function timeRangeOf(params: URLSearchParams): { since?: number; until?: number } {
  const since = timeOf(params.get('since'), 'since', 'INVALID_SINCE');
  const until = timeOf(params.get('until'), 'until', 'INVALID_UNTIL');
  if (since !== undefined && until !== undefined && since > until)
    throw new ApiError(400, 'INVALID_TIME_RANGE', 'since must not be after until');
  return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
}

/** `?status=completed,failed`: known statuses only, or 400 INVALID_STATUS. */
export function runStatusesOf(params: URLSearchParams): RunStatus[] | undefined {
  const text = params.get('status');
  if (text === null) return undefined;
  const asked = text.split(',');
  const bad = asked.find((s) => !RUN_STATUSES.includes(s as RunStatus));
  if (bad !== undefined)
    throw new ApiError(
      400,
      'INVALID_STATUS',
      `status must be one or more of ${RUN_STATUSES.join(', ')}, comma-separated`,
    );
  return [...new Set(asked)] as RunStatus[];
}

/** `?status=&since=&until=` of a runs listing. */
export function runFilterOf(params: URLSearchParams): { statuses?: RunStatus[]; since?: number; until?: number } {
  const statuses = runStatusesOf(params);
  return { ...(statuses ? { statuses } : {}), ...timeRangeOf(params) };
}

/** `?provider=&state=` of the agents listing, or 400 INVALID_PROVIDER, INVALID_STATE. */
export function agentFilterOf(params: URLSearchParams): { provider?: string; state?: AgentState } {
  const provider = params.get('provider');
  const state = params.get('state');
  if (provider !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(provider))
    throw new ApiError(400, 'INVALID_PROVIDER', 'provider must be a provider name (letters, digits, ".", "_", "-")');
  if (state !== null && !AGENT_STATES.includes(state as AgentState))
    throw new ApiError(400, 'INVALID_STATE', `state must be one of ${AGENT_STATES.join(', ')}`);
  return { ...(provider !== null ? { provider } : {}), ...(state !== null ? { state: state as AgentState } : {}) };
}
