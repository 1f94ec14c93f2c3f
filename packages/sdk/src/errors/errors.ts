import type { ValidationIssue } from '../models/validation.js';
import { ERROR_CODES, type ErrorCode } from './codes.js';

const BRAND = Symbol.for('nestor.error');

/** Options of a NestorError beyond its code and message. */
export interface NestorErrorInit {
  component?: string | undefined;
  operation?: string | undefined;
  details?: Record<string, unknown> | undefined;
  /** Rule findings carried by `validation_failed`. */
  errors?: ValidationIssue[] | undefined;
  /** Extra top-level members of the problem body (e.g. `warnings`, `required_bump`). */
  extensions?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/**
 * The one error type of the orchestrator and its SDK. Transport-neutral: the HTTP layer maps
 * `code` to a status. Identity survives duplicate copies of the SDK (`NestorError.is`).
 */
export class NestorError extends Error {
  readonly code: ErrorCode;
  readonly component: string | undefined;
  readonly operation: string | undefined;
  readonly details: Record<string, unknown>;
  readonly errors: ValidationIssue[];
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, init: NestorErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'NestorError';
    this.code = code;
    this.component = init.component;
    this.operation = init.operation;
    this.details = init.details ?? {};
    this.errors = init.errors ?? [];
    this.extensions = init.extensions ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** HTTP status that the code maps to. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** True for a NestorError from any copy of the SDK. */
  static is(value: unknown): value is NestorError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** True when `value` is a NestorError with this code. */
  static hasCode(value: unknown, code: ErrorCode): value is NestorError {
    return NestorError.is(value) && value.code === code;
  }
}

/** The guide's builder: `create(code).component(..).operation(..).message(..).detail(k, v).build()`. */
export class ErrorBuilder {
  private readonly init: NestorErrorInit & { details: Record<string, unknown> } = { details: {} };
  private text: string;

  constructor(private readonly code: ErrorCode) {
    this.text = ERROR_CODES[code].title;
  }

  component(name: string): this {
    this.init.component = name;
    return this;
  }

  operation(name: string): this {
    this.init.operation = name;
    return this;
  }

  message(text: string): this {
    this.text = text;
    return this;
  }

  detail(key: string, value: unknown): this {
    this.init.details[key] = value;
    return this;
  }

  issues(list: ValidationIssue[]): this {
    this.init.errors = list;
    return this;
  }

  extension(key: string, value: unknown): this {
    this.init.extensions = { ...this.init.extensions, [key]: value };
    return this;
  }

  cause(err: unknown): this {
    this.init.cause = err;
    return this;
  }

  build(): NestorError {
    return new NestorError(this.code, this.text, this.init);
  }
}

/** Starts building an error with a stable code. */
export function create(code: ErrorCode): ErrorBuilder {
  return new ErrorBuilder(code);
}

/** A missing component, version, engine or source. */
export function notFound(
  code:
    | 'component_not_found'
    | 'engine_not_found'
    | 'source_not_found'
    | 'no_matching_version'
    | 'token_not_found'
    | 'changeset_not_found'
    | 'subscription_not_found',
  component: string,
  operation: string,
  message: string,
  details: Record<string, unknown> = {},
): NestorError {
  return new NestorError(code, message, { component, operation, details });
}

/** Same name+version published with another digest, or a duplicate registration. */
export function conflict(
  component: string,
  operation: string,
  message: string,
  details: Record<string, unknown> = {},
  code: 'version_conflict' | 'engine_conflict' | 'token_conflict' = 'version_conflict',
): NestorError {
  return new NestorError(code, message, { component, operation, details });
}

/** A request that does not decode; `field` names what is wrong. */
export function invalidRequest(
  component: string,
  operation: string,
  message: string,
  details: Record<string, unknown> = {},
): NestorError {
  return new NestorError('invalid_request', message, { component, operation, details });
}

/** Wraps a failure of the storage backend; the cause is kept for logs, never sent to clients. */
export function storageFailure(component: string, operation: string, cause: unknown): NestorError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new NestorError('storage_failure', `storage operation failed: ${reason}`, { component, operation, cause });
}

/** Whatever the rules found, with the rest of the validation result as problem extensions. */
export function validationFailed(
  component: string,
  operation: string,
  result: {
    name?: string;
    version?: string;
    errors: ValidationIssue[];
    warnings?: ValidationIssue[];
    required_bump?: string;
    changes?: unknown[];
    predecessor?: string | null;
    successor?: unknown;
    impact?: unknown;
  },
): NestorError {
  const count = result.errors.length;
  const first = result.errors[0];
  const message =
    count === 1 && first
      ? `validation failed: ${first.message}`
      : `validation failed with ${count} errors${first ? `; first: ${first.message}` : ''}`;
  return new NestorError('validation_failed', message, {
    component,
    operation,
    details: result.name ? { name: result.name, version: result.version } : {},
    errors: result.errors,
    extensions: {
      warnings: result.warnings ?? [],
      required_bump: result.required_bump ?? 'none',
      changes: result.changes ?? [],
      predecessor: result.predecessor ?? null,
      successor: result.successor ?? null,
      ...(result.impact === undefined ? {} : { impact: result.impact }),
    },
  });
}

/** Anything that is not a NestorError, wrapped as `internal_error` (the cause stays server-side). */
export function internal(component: string, operation: string, cause: unknown): NestorError {
  return new NestorError('internal_error', 'internal error', { component, operation, cause });
}

/** Returns the error itself when it is a NestorError, otherwise wraps it with `wrap`. */
export function ensureNestorError(err: unknown, wrap: (cause: unknown) => NestorError): NestorError {
  return NestorError.is(err) ? err : wrap(err);
}

/**
 * The error package as one namespace, for the guide's spelling:
 * `errors.create('component_not_found').component('catalog').operation('GetComponent').build()`.
 */
export const errors = {
  create,
  notFound,
  conflict,
  invalidRequest,
  storageFailure,
  validationFailed,
  internal,
  ensureNestorError,
  is: NestorError.is,
} as const;
