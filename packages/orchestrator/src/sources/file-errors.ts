import type { SourceFileError } from '@nestor/sdk';

/**
 * Every per-file code a sync (`GET /v1/sources/{name}` `errors`, the `source.synced` event) or
 * `nestor validate` reports, with its meaning. `docs/sources.md` lists the same table in the same
 * order; a test keeps the two equal, as it does for the HTTP codes in docs/errors.md.
 */
export const SOURCE_FILE_ERRORS = {
  invalid_yaml: 'the YAML does not parse, has duplicate keys, or expands too many aliases',
  yaml_too_complex: 'the YAML goes over a parsing bound; no document of the file is used',
  invalid_request: 'a document does not decode as a component (unknown field, wrong type, missing field)',
  no_component: 'the file has no YAML document',
  validation_failed: 'a validation rule failed',
  version_conflict: 'this name and version are already published with other content',
  changeset_refused: "another file changed by the same commit failed: nothing of the commit's files was written",
  file_too_large: 'the file is larger than the per-file limit (never read)',
  binary_file: 'the file contains NUL bytes',
  invalid_encoding: 'the file is not UTF-8',
  symlink_not_allowed: 'the path is a symlink; symlinks are never followed',
  path_not_allowed: 'the path is absolute or has `..`, `.` or empty segments',
  not_a_file: 'a submodule or another non-file matched the globs',
  file_unreadable: 'the file matched but could not be read',
  file_not_found: 'a path given to `nestor validate` does not exist',
  storage_failure: 'the write itself failed; the next sync retries',
  service_unavailable: 'the write was refused while the orchestrator shuts down; the next sync retries',
  timeout: 'the write timed out; the next sync retries',
  internal_error: 'the write failed unexpectedly; the next sync retries',
} as const;

export type SourceFileErrorCode = keyof typeof SOURCE_FILE_ERRORS;

export function isSourceFileErrorCode(code: unknown): code is SourceFileErrorCode {
  return typeof code === 'string' && Object.hasOwn(SOURCE_FILE_ERRORS, code);
}

/** A position in a file, 1-based. */
export interface Position {
  line: number | null;
  column: number | null;
}

/** A per-file error; the code can only come from the table. */
export function fileError(
  path: string,
  code: SourceFileErrorCode,
  message: string,
  position?: Position,
): SourceFileError {
  return { path, line: position?.line ?? null, column: position?.column ?? null, code, message };
}
