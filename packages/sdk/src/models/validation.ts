import type { Bump } from './version.js';

/** One finding of a validation rule. */
export interface ValidationIssue {
  /** Rule that produced it: `semver`, `dependencies`, `engines`, `conflicts`, `interface`. */
  rule: string;
  /** Stable snake_case code, e.g. `invalid_version`, `dependency_not_found`. */
  code: string;
  /** JSON path into the component, e.g. `required_inputs[2].type`; empty for the whole component. */
  field: string;
  message: string;
  details?: Record<string, unknown>;
}

/** One difference between a version and its predecessor, and the bump it requires. */
export interface VersionChange {
  kind: string;
  path: string;
  bump: Bump;
  message: string;
}

/** The verdict of every rule on one component. */
export interface ValidationResult {
  valid: boolean;
  name: string;
  version: string;
  digest: string;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Smallest bump the detected changes require (`none` without a predecessor). */
  required_bump: Bump;
  changes: VersionChange[];
  /** Version compared against, or null when this is the lowest version of the name. */
  predecessor: string | null;
}
