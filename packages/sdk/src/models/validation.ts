import type { Bump } from './version.js';

/** One finding of a validation rule. */
export interface ValidationIssue {
  /** Rule that produced it: one of `VALIDATION_RULES` (`metadata`, `semver`, `dependencies`, ...). */
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
  /** Which existing dependents' ranges accept this version and which do not (the server adds it). */
  impact?: ImpactSummary;
  /**
   * When the version is inserted below existing ones: the lowest existing version above it and
   * what the step from this version up to it changes (the validator always sets it; null when the
   * version would be the highest).
   */
  successor?: SuccessorCheck | null;
}

/** A dependent: one (component, version) whose direct dependency names the component. */
export interface ImpactItem {
  name: string;
  version: string;
  version_range: string;
}

/** Counts of the dependents whose ranges accept and reject a version, with the first few of each. */
export interface ImpactSummary {
  accepted: number;
  rejected: number;
  first_accepted: ImpactItem[];
  first_rejected: ImpactItem[];
}

/** The step from a version inserted below existing ones up to its successor. */
export interface SuccessorCheck {
  version: string;
  /** Smallest bump the changes from the new version to the successor require. */
  required_bump: Bump;
  /** The bump the successor makes over the new version. */
  bump_made: Bump;
  changes: VersionChange[];
}

/** The rules a `ValidationIssue.rule` can name. */
export const VALIDATION_RULES = ['metadata', 'semver', 'dependencies', 'engines', 'conflicts', 'interface'] as const;
export type ValidationRuleName = (typeof VALIDATION_RULES)[number];

/**
 * Every change kind the semver rule detects between a version and its predecessor, with the bump
 * it requires. `docs/validation.md` lists the same table.
 */
export const CHANGE_KINDS = {
  provider_changed: 'major',
  resource_type_changed: 'major',
  output_removed: 'major',
  output_type_changed: 'major',
  input_removed: 'major',
  input_type_changed: 'major',
  required_input_added: 'major',
  input_made_required: 'major',
  engine_removed: 'major',
  enum_narrowed: 'major',
  optional_input_added: 'minor',
  output_added: 'minor',
  engine_added: 'minor',
  input_made_optional: 'minor',
  enum_widened: 'minor',
  description_changed: 'patch',
  category_changed: 'patch',
  default_changed: 'patch',
  sensitivity_changed: 'patch',
  dependency_added: 'patch',
  dependency_removed: 'patch',
  dependency_range_changed: 'patch',
  resource_limits_changed: 'patch',
  labels_changed: 'patch',
  annotations_changed: 'patch',
} as const satisfies Record<string, Bump>;
export type ChangeKind = keyof typeof CHANGE_KINDS;
