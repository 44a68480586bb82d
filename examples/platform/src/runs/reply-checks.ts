import { PERMISSION_DECISIONS, ValidationError, type PermissionDecision } from '@forge/core';
import { ApiError } from '../api-error.js';

/** What a reply is answered when no run waits on it: the owner's own 404s, also for relayed ones. */
export const permissionNotFound = (agentId: string, permissionId: string) =>
  new ApiError(404, 'PERMISSION_NOT_FOUND', `No run of agent ${agentId} is waiting on permission ${permissionId}`);
export const questionNotFound = (agentId: string, questionId: string) =>
  new ApiError(404, 'QUESTION_NOT_FOUND', `No run of agent ${agentId} is waiting on question ${questionId}`);

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
