import type { AgentEvent } from '../events.js';

const FILE_CHANGES = ['added', 'modified', 'deleted', 'renamed'];
const PLAN_STATUSES = ['pending', 'in_progress', 'completed'];
const RESOLUTIONS = ['allow', 'allow_always', 'deny', 'cancel'];

const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
const isOptionalText = (v: unknown) => v === undefined || typeof v === 'string';

/** What is wrong with the shape of one event of the newer vocabulary (empty when nothing is). */
export function eventShapeProblems(e: AgentEvent): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${e.type} #${e.seq}: ${what}`);
  };
  check(isOptionalText(e.parentToolCallId), 'parentToolCallId must be a string');
  switch (e.type) {
    case 'file.changed':
      check(isText(e.path), 'path must be a non-empty string');
      check(FILE_CHANGES.includes(e.change), `change must be one of ${FILE_CHANGES.join(', ')}`);
      check(isOptionalText(e.diff) && isOptionalText(e.toolCallId), 'diff and toolCallId must be strings');
      check(e.change === 'renamed' ? isText(e.oldPath) : e.oldPath === undefined, 'oldPath goes with renamed only');
      break;
    case 'plan.updated':
      check(
        Array.isArray(e.entries) &&
          e.entries.every((p) => isText(p.content) && PLAN_STATUSES.includes(p.status) && isOptionalText(p.id)),
        'entries must each have content and a status',
      );
      break;
    case 'permission.resolved':
      check(isText(e.id), 'id must be a non-empty string');
      check(RESOLUTIONS.includes(e.decision), `decision must be one of ${RESOLUTIONS.join(', ')}`);
      check(['host', 'rule', 'unanswered'].includes(e.by), 'by must be host, rule or unanswered');
      break;
    case 'question.resolved':
      check(isText(e.id), 'id must be a non-empty string');
      check(['host', 'unanswered'].includes(e.by), 'by must be host or unanswered');
      break;
  }
  return problems;
}
