import type { RunRecord } from '@forge/store';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A run as the API shows it (never its webhook URL or secret: they may carry credentials). */
export function runJson(run: RunRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    request_id: run.requestId,
    agent_id: run.agentId,
    status: run.status,
    event_count: run.eventCount,
    created_at: iso(run.createdAt),
  };
  // The user's own message and the conversation it continued: what a client needs to show the history.
  if (typeof run.request.prompt === 'string') out.content = run.request.prompt;
  if (typeof run.request.sessionId === 'string') out.session_id = run.request.sessionId;
  if (run.startedAt !== undefined) out.started_at = iso(run.startedAt);
  if (run.finishedAt !== undefined) out.finished_at = iso(run.finishedAt);
  if (run.result) {
    out.result = run.result;
    // The checked structured answer and the files changed, at the top as well: what a client reads first.
    if (run.result.output !== undefined) out.output = run.result.output;
    if (Array.isArray(run.result.filesChanged)) out.files_changed = run.result.filesChanged;
  }
  if (run.error) out.error = run.error;
  return { ...out, ...extra };
}
