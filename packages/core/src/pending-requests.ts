import { PERMISSION_DECISIONS, type PermissionDecision } from './agent.js';
import { CoreErrorCode } from './error-codes.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { AgentEventInit, Question } from './events.js';

/**
 * The permission requests and questions of one run that still wait for an answer. A run records an id when it
 * emits the event, not when a reader takes it, so an answer given before the event has been read still finds it;
 * an id answered once, or never asked, is a typed NotFoundError rather than something the provider has to guess.
 */
export class PendingRequests {
  private readonly permissions = new Set<string>();
  private readonly questions = new Map<string, Question[]>();

  /** Call with every event the run emits. */
  observe(event: Pick<AgentEventInit, 'type'> & Partial<{ id: string; questions: Question[] }>): void {
    if (event.type === 'permission.requested' && typeof event.id === 'string') this.permissions.add(event.id);
    else if (event.type === 'question.requested' && typeof event.id === 'string')
      this.questions.set(event.id, event.questions ?? []);
  }

  /** Removes a waiting permission request (so a second answer is refused); `restore` puts it back on failure. */
  takePermission(id: string): void {
    if (!this.permissions.delete(id)) {
      throw new NotFoundError(CoreErrorCode.PERMISSION_NOT_FOUND, `No permission request ${id} is waiting`, { id });
    }
  }

  restorePermission(id: string): void {
    this.permissions.add(id);
  }

  /** Checks the answers against the questions asked, then removes the question. */
  takeQuestion(id: string, answers: string[][]): Question[] {
    const questions = this.questions.get(id);
    if (!questions) {
      throw new NotFoundError(CoreErrorCode.QUESTION_NOT_FOUND, `No question ${id} is waiting`, { id });
    }
    checkAnswers(questions, answers);
    this.questions.delete(id);
    return questions;
  }

  restoreQuestion(id: string, questions: Question[]): void {
    this.questions.set(id, questions);
  }
}

export function checkDecision(decision: unknown): asserts decision is PermissionDecision {
  if (!PERMISSION_DECISIONS.includes(decision as PermissionDecision)) {
    throw new ValidationError(
      CoreErrorCode.INVALID_DECISION,
      `decision must be one of ${PERMISSION_DECISIONS.join(', ')}`,
      [{ path: 'decision', code: CoreErrorCode.INVALID_DECISION, message: `got ${describe(decision)}` }],
    );
  }
}

/** The shape every answer must have, whatever was asked: an array of arrays of strings. */
export function checkAnswerShape(answers: unknown): asserts answers is string[][] {
  const ok =
    Array.isArray(answers) && answers.every((a) => Array.isArray(a) && a.every((item) => typeof item === 'string'));
  if (!ok) {
    throw invalidAnswer('answers', 'answers must be an array with one array of strings per question');
  }
}

/** One answer per question, in order; labels from the options unless free text is allowed; one unless multiple. */
export function checkAnswers(questions: Question[], answers: string[][]): void {
  if (answers.length !== questions.length) {
    throw invalidAnswer('answers', `expected ${questions.length} answer(s), one per question, got ${answers.length}`);
  }
  questions.forEach((q, i) => {
    const chosen = answers[i]!;
    const path = `answers.${i}`;
    if (chosen.length === 0 || chosen.some((c) => c.trim() === '')) {
      throw invalidAnswer(path, `"${q.question}" needs an answer`);
    }
    if (!q.multiple && chosen.length > 1) throw invalidAnswer(path, `"${q.question}" takes one answer`);
    if (!q.custom) {
      const labels = new Set(q.options.map((o) => o.label));
      const unknown = chosen.find((c) => !labels.has(c));
      if (unknown !== undefined) {
        throw invalidAnswer(
          path,
          `"${unknown}" is not an option of "${q.question}" (options: ${[...labels].join(', ')})`,
        );
      }
    }
  });
}

function invalidAnswer(path: string, message: string): ValidationError {
  return new ValidationError(CoreErrorCode.INVALID_ANSWER, `Invalid answer: ${message}`, [
    { path, code: CoreErrorCode.INVALID_ANSWER, message },
  ]);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}
