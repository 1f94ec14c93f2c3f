/**
 * Every stable error code the orchestrator answers with, its HTTP status and a short title.
 * `docs/errors.md` lists the same table; a test keeps the two equal.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, title: 'Invalid request' },
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
  invalid_range: { status: 400, title: 'Invalid version range' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  invalid_signature: { status: 401, title: 'Invalid webhook signature' },
  forbidden: { status: 403, title: 'Forbidden' },
  route_not_found: { status: 404, title: 'Route not found' },
  component_not_found: { status: 404, title: 'Component not found' },
  no_matching_version: { status: 404, title: 'No matching version' },
  engine_not_found: { status: 404, title: 'Engine not found' },
  source_not_found: { status: 404, title: 'Source not found' },
  token_not_found: { status: 404, title: 'Token not found' },
  changeset_not_found: { status: 404, title: 'Changeset not found' },
  subscription_not_found: { status: 404, title: 'Subscription not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  version_conflict: { status: 409, title: 'Version conflict' },
  engine_conflict: { status: 409, title: 'Engine already exists' },
  has_dependents: { status: 409, title: 'Version has dependents' },
  component_deleted: { status: 410, title: 'Component version deleted' },
  token_conflict: { status: 409, title: 'Token name in use' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  validation_failed: { status: 422, title: 'Validation failed' },
  resolution_failed: { status: 422, title: 'Resolution failed' },
  changeset_too_large: { status: 422, title: 'Changeset too large' },
  resolution_too_complex: { status: 422, title: 'Resolution too complex' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  rate_limited: { status: 429, title: 'Rate limited' },
  too_many_streams: { status: 429, title: 'Too many streams' },
  internal_error: { status: 500, title: 'Internal error' },
  git_failure: { status: 502, title: 'Git operation failed' },
  storage_failure: { status: 503, title: 'Storage failure' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  timeout: { status: 504, title: 'Timed out' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** HTTP status of a code. */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
