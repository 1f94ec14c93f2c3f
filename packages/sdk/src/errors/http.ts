import type { ValidationIssue } from '../models/validation.js';
import { ERROR_CODES, type ErrorCode, isErrorCode } from './codes.js';
import { NestorError } from './errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://nestor.dev/problems/';

/** RFC 9457 problem body, with Nestor's members. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  component: string | null;
  operation: string | null;
  details: Record<string, unknown>;
  errors: ValidationIssue[];
  request_id?: string;
  [extension: string]: unknown;
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'code', 'component', 'operation', 'details', 'errors']);

/**
 * The problem body of an error. Only NestorError content is exposed; anything else becomes a bare
 * `internal_error` so that stack traces and driver messages never reach a client.
 */
export function toProblem(err: unknown, requestId?: string): Problem {
  const e = NestorError.is(err) ? err : new NestorError('internal_error', 'internal error');
  const meta = ERROR_CODES[e.code];
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${e.code}`,
    title: meta.title,
    status: meta.status,
    detail: e.code === 'internal_error' ? 'internal error' : e.message,
    code: e.code,
    component: e.component ?? null,
    operation: e.operation ?? null,
    details: e.code === 'internal_error' ? {} : e.details,
    errors: e.errors,
  };
  for (const [k, v] of Object.entries(e.extensions)) if (!RESERVED.has(k)) problem[k] = v;
  if (requestId) problem.request_id = requestId;
  return problem;
}

/** Rebuilds the NestorError a server answered with, so `err.code` reads the same over HTTP. */
export function fromProblem(status: number, body: unknown): NestorError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code: ErrorCode = isErrorCode(b.code) ? b.code : fallbackCode(status);
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) if (!RESERVED.has(k) && k !== 'request_id') extensions[k] = v;
  const details = (typeof b.details === 'object' && b.details !== null ? b.details : {}) as Record<string, unknown>;
  if (typeof b.request_id === 'string') details.request_id = b.request_id;
  return new NestorError(code, typeof b.detail === 'string' ? b.detail : `HTTP ${status}`, {
    component: typeof b.component === 'string' ? b.component : undefined,
    operation: typeof b.operation === 'string' ? b.operation : undefined,
    details,
    errors: Array.isArray(b.errors) ? (b.errors as ValidationIssue[]) : [],
    extensions,
  });
}

function fallbackCode(status: number): ErrorCode {
  if (status === 400) return 'invalid_request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'route_not_found';
  if (status === 409) return 'version_conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 422) return 'validation_failed';
  if (status === 503) return 'service_unavailable';
  return 'internal_error';
}
