/**
 * Every error Forge throws or reports is a ForgeError with a stable `code`.
 * `category` lets a host tell a bad request from a provider failure from a transport failure
 * without knowing every code.
 */
export type ErrorCategory =
  | 'validation'
  | 'provider'
  | 'transport'
  | 'not_found'
  | 'conflict'
  | 'unsupported'
  | 'internal';

export interface ForgeErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

/**
 * Marks a ForgeError on its prototype. `Symbol.for` is shared by every copy of this package loaded in one
 * process, so `isForgeError` and `instanceof` hold for errors made by another copy (two versions in node_modules,
 * ESM beside CJS) — the way connect-es's ConnectError and vercel/ai's marker symbols work.
 */
const FORGE_ERROR = Symbol.for('@forge/core.ForgeError');

/** What `ForgeError.from` uses for something that is not a ForgeError yet. */
export interface ErrorFallback {
  code: string;
  category?: ErrorCategory;
  retryable?: boolean;
  /** Used when the thrown value carries no message. */
  message?: string;
  details?: Record<string, unknown>;
}

export class ForgeError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, category: ErrorCategory = 'internal', options: ForgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = category;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /**
   * The one way an unknown error crosses a boundary: a ForgeError (of any copy of this package) is returned as it
   * is; anything else is wrapped with the fallback's code and category, keeping the original as `cause`.
   */
  static from(error: unknown, fallback: ErrorFallback | string = 'INTERNAL_ERROR'): ForgeError {
    if (isForgeError(error)) return error;
    const fb: ErrorFallback = typeof fallback === 'string' ? { code: fallback } : fallback;
    const message =
      error instanceof Error ? error.message : typeof error === 'string' ? error : (fb.message ?? String(error));
    return new ForgeError(fb.code, message || fb.message || fb.code, fb.category ?? 'internal', {
      cause: error,
      ...(fb.retryable !== undefined ? { retryable: fb.retryable } : {}),
      ...(fb.details ? { details: fb.details } : {}),
    });
  }

  /**
   * `instanceof` that also recognises errors from another copy of this package: same marker, and for a subclass
   * the same class name somewhere on the prototype chain.
   */
  // biome-ignore-start lint/complexity/noThisInStatic: `this` is the class on the right of instanceof (a subclass too)
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (!isForgeError(value)) return false;
    for (let proto = Object.getPrototypeOf(value); proto; proto = Object.getPrototypeOf(proto)) {
      if ((proto as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }
  // biome-ignore-end lint/complexity/noThisInStatic: see above

  toJSON(): {
    name: string;
    code: string;
    category: ErrorCategory;
    message: string;
    retryable: boolean;
    details?: Record<string, unknown>;
  } {
    return {
      name: this.name,
      code: this.code,
      category: this.category,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `timeoutMs` or `attachments.0.path`. */
  path: string;
  code: string;
  message: string;
}

export class ValidationError extends ForgeError {
  readonly issues: ValidationIssue[];
  constructor(code: string, message: string, issues: ValidationIssue[] = [], options: ForgeErrorOptions = {}) {
    super(code, message, 'validation', options);
    this.issues = issues;
  }
}

export class ProviderNotFoundError extends ForgeError {
  readonly known: string[];
  constructor(name: string, known: string[]) {
    super(
      'PROVIDER_NOT_FOUND',
      `No provider named "${name}" is registered${known.length ? ` (known: ${known.join(', ')})` : ' (none are registered)'}`,
      'not_found',
      { details: { name, known } },
    );
    this.known = known;
  }
}

export class DuplicateProviderError extends ForgeError {
  constructor(name: string) {
    super('PROVIDER_EXISTS', `A provider named "${name}" is already registered`, 'conflict', { details: { name } });
  }
}

/** The agent ran and failed (the provider reported an error, or its process died). */
export class ProviderError extends ForgeError {
  constructor(code: string, message: string, options: ForgeErrorOptions = {}) {
    super(code, message, 'provider', options);
  }
}

/** The agent could not be reached or the link to it broke. Retryable unless said otherwise. */
export class TransportError extends ForgeError {
  constructor(code: string, message: string, options: ForgeErrorOptions = {}) {
    super(code, message, 'transport', { retryable: true, ...options });
  }
}

/** A process could not be started at all (missing binary, bad cwd, permission denied). */
export class ProcessSpawnError extends ForgeError {
  constructor(command: string, message: string, options: ForgeErrorOptions = {}) {
    super('PROCESS_SPAWN_FAILED', `Could not start "${command}": ${message}`, 'provider', {
      ...options,
      details: { command, ...options.details },
    });
  }
}

export class UnsupportedError extends ForgeError {
  constructor(provider: string, feature: string, code = 'UNSUPPORTED', details: Record<string, unknown> = {}) {
    super(code, `Provider "${provider}" does not support ${feature}`, 'unsupported', {
      details: { provider, feature, ...details },
    });
  }
}

/**
 * A request used fields the adapter does not declare (`UNSUPPORTED_FIELD`), thrown by `execute` before any work;
 * `details.fields` names them as the request spells them.
 */
export class UnsupportedFieldError extends UnsupportedError {
  readonly fields: string[];
  constructor(provider: string, fields: string[]) {
    super(provider, fields.join(', '), 'UNSUPPORTED_FIELD', { fields });
    this.fields = fields;
  }
}

export class NotFoundError extends ForgeError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, 'not_found', details ? { details } : {});
  }
}

Object.defineProperty(ForgeError.prototype, FORGE_ERROR, { value: true });

/** True for a ForgeError from any copy of `@forge/core` loaded in this process. */
export function isForgeError(value: unknown): value is ForgeError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FORGE_ERROR] === true;
}

/** A run id that is already live on this agent or link. */
export class RunExistsError extends ForgeError {
  constructor(runId: string) {
    super('RUN_EXISTS', `A run with id ${runId} is already live`, 'conflict', { details: { runId } });
  }
}

/** Turns anything thrown into a `{ code, message }` pair fit for an AgentResult or an error event. */
export function describeError(
  error: unknown,
  fallbackCode = 'INTERNAL_ERROR',
): { code: string; message: string; retryable: boolean } {
  if (isForgeError(error)) return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof Error) return { code: fallbackCode, message: error.message, retryable: false };
  return { code: fallbackCode, message: String(error), retryable: false };
}
