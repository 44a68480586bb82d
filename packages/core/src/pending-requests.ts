import { PERMISSION_DECISIONS, type PermissionDecision } from './agent.js';
import { CoreErrorCode } from './error-codes.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { AgentEvent, AgentEventOf, Question } from './events.js';

/**
 * The permission requests and questions of one run that still wait for an answer. A run records an id when it
 * emits the event, not when a reader takes it, so an answer given before the event has been read still finds it;
 * an id answered once, or never asked, is a typed NotFoundError rather than something the provider has to guess.
 */
export type PendingRequest = AgentEventOf<'permission.requested'> | AgentEventOf<'question.requested'>;

export class PendingRequests {
  private readonly permissions = new Map<string, AgentEventOf<'permission.requested'>>();
  private readonly questions = new Map<string, AgentEventOf<'question.requested'>>();

  /** Call with every event the run emits. */
  observe(event: AgentEvent): void {
    if (event.type === 'permission.requested' && typeof event.id === 'string') this.permissions.set(event.id, event);
    else if (event.type === 'question.requested' && typeof event.id === 'string') this.questions.set(event.id, event);
  }

  /** The requests waiting now, as the events that asked them, in the order they were asked. */
  list(): PendingRequest[] {
    return [...this.permissions.values(), ...this.questions.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Forgets every request: the run has ended, so nothing waits any more. */
  clear(): void {
    this.permissions.clear();
    this.questions.clear();
  }

  /** Forgets one waiting request (a deadline passed): false when it was not waiting. */
  drop(id: string): boolean {
    return this.permissions.delete(id) || this.questions.delete(id);
  }

  /** Removes a waiting permission request (so a second answer is refused); `restore` puts it back on failure. */
  takePermission(id: string): AgentEventOf<'permission.requested'> {
    const event = this.permissions.get(id);
    if (!event) {
      throw new NotFoundError(CoreErrorCode.PERMISSION_NOT_FOUND, `No permission request ${id} is waiting`, { id });
    }
    this.permissions.delete(id);
    return event;
  }

  restorePermission(event: AgentEventOf<'permission.requested'>): void {
    this.permissions.set(event.id, event);
  }

  /** Checks the answers against the questions asked, then removes the question. */
  takeQuestion(id: string, answers: string[][]): AgentEventOf<'question.requested'> {
    const event = this.questions.get(id);
    if (!event) {
      throw new NotFoundError(CoreErrorCode.QUESTION_NOT_FOUND, `No question ${id} is waiting`, { id });
    }
    checkAnswers(event.questions ?? [], answers);
    this.questions.delete(id);
    return event;
  }

  restoreQuestion(event: AgentEventOf<'question.requested'>): void {
    this.questions.set(event.id, event);
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

/** A steering message is text, like a prompt: a string that is not blank. */
export function checkSteeringText(text: unknown): asserts text is string {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ValidationError(CoreErrorCode.INVALID_STEERING, 'A steering message must be non-empty text', [
      { path: 'text', code: CoreErrorCode.INVALID_STEERING, message: `got ${describe(text)}` },
    ]);
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
