import type { Bump, ComponentSpec, ValidationIssue, ValidationResult, VersionChange } from '@nestor/sdk';

/**
 * Judges a component before it is written. Never throws for a bad component: every finding is in
 * the result. Throws only when it cannot judge (e.g. `storage_failure`).
 */
export interface ComponentValidator {
  validate(spec: ComponentSpec): Promise<ValidationResult>;
}

/** What one rule found. */
export interface RuleOutcome {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Only the semver rule reports these. */
  changes?: VersionChange[];
  required_bump?: Bump;
  predecessor?: string | null;
}
