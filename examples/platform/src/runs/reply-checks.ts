import { PERMISSION_DECISIONS, ValidationError, type PermissionDecision } from '@forge/core';
import { ApiError } from '../api-error.js';

/** What a reply is answered when no run waits on it: the owner's own 404s, also for relayed ones. */
export const permissionNotFound = (agentId: string, permissionId: string) =>
  new ApiError(404, 'PERMISSION_NOT_FOUND', `No run of agent ${agentId} is waiting on permission ${permissionId}`);
export const questionNotFound = (agentId: string, questionId: string) =>
  new ApiError(404, 'QUESTION_NOT_FOUND', `No run of agent ${agentId} is waiting on question ${questionId}`);

/** A run the agent does not have (or another user's): the same 404 whatever the reason. */
export const runNotFound = (agentId: string, requestId: string) =>
  new ApiError(404, 'REQUEST_NOT_FOUND', `No run ${requestId} of agent ${agentId}`);
/** A steering message for a run that is queued, has ended, or is no longer executing where it was sent. */
export const runNotRunning = (requestId: string, status?: string) =>
  new ApiError(
    409,
    'RUN_NOT_RUNNING',
    `Run ${requestId} is ${status ?? 'not running'}; only a running run can be steered`,
    {},
    status ? { status } : undefined,
  );

export function checkSteerText(text: unknown): asserts text is string {
  if (typeof text !== 'string' || !text.trim())
    throw new ValidationError('INVALID_STEER_TEXT', 'text must be a non-empty string', [
      { path: 'text', code: 'INVALID_STEER_TEXT', message: 'text must be a non-empty string' },
    ]);
}

export function checkDecision(decision: unknown): asserts decision is PermissionDecision {
  if (typeof decision !== 'string' || !PERMISSION_DECISIONS.includes(decision as PermissionDecision)) {
    throw new ValidationError('INVALID_DECISION', `decision must be one of ${PERMISSION_DECISIONS.join(', ')}`, [
      { path: 'decision', code: 'INVALID_DECISION', message: `got ${JSON.stringify(decision)}` },
    ]);
  }
}

export function checkAnswerShape(answers: unknown): asserts answers is string[][] {
  const shaped =
    Array.isArray(answers) && answers.every((a) => Array.isArray(a) && a.every((item) => typeof item === 'string'));
  if (!shaped) {
    throw new ValidationError('INVALID_ANSWER', 'answers must be an array with one array of strings per question', [
      { path: 'answers', code: 'INVALID_ANSWER', message: `got ${JSON.stringify(answers)?.slice(0, 200)}` },
    ]);
  }
}
