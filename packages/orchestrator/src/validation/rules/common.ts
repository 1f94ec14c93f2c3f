import { MAX_DEPENDENCIES, type ValidationIssue, type ValidationRuleName } from '@nestor/sdk';
import type { RuleOutcome } from '../interfaces.js';

/** Caps that keep one validation bounded in time, whatever a client sends. */
export const LIMITS = {
  nameLength: 63,
  descriptionLength: 4096,
  fieldLength: 128,
  dependencies: MAX_DEPENDENCIES,
  rangeLength: 256,
  inputs: 200,
  outputs: 200,
  identifierLength: 64,
  enumValues: 500,
  engines: 32,
} as const;

/**
 * Every code a rule can report, by the rule that reports it. `docs/validation.md` lists the same
 * codes; a test keeps the two equal, and `Findings` accepts no other code.
 */
export const ISSUE_CODES = {
  metadata: [
    'invalid_name',
    'name_too_long',
    'description_too_long',
    'missing_field',
    'field_too_long',
    'invalid_field_value',
    'component_too_large',
  ],
  semver: [
    'invalid_version',
    'build_metadata_not_allowed',
    'invalid_version_range',
    'insufficient_version_bump',
    'insufficient_successor_bump',
  ],
  dependencies: [
    'too_many_dependencies',
    'invalid_dependency_name',
    'self_dependency',
    'duplicate_dependency',
    'dependency_not_found',
    'dependency_unsatisfied',
    'dependency_revoked',
    'dependency_deprecated',
    'dependency_cycle',
  ],
  engines: [
    'no_deployment_engine',
    'too_many_engines',
    'duplicate_engine',
    'engine_not_found',
    'engine_missing',
    'engine_unhealthy',
    'engine_health_unknown',
  ],
  conflicts: ['version_conflict', 'similar_name', 'provider_changed', 'resource_type_changed'],
  interface: [
    'too_many_inputs',
    'too_many_outputs',
    'invalid_input_name',
    'invalid_output_name',
    'duplicate_input',
    'duplicate_output',
    'unknown_type',
    'description_too_long',
    'enum_not_supported',
    'empty_enum',
    'enum_too_large',
    'enum_type_mismatch',
    'duplicate_enum_value',
    'required_input_has_default',
    'default_type_mismatch',
    'default_not_in_enum',
    'sensitive_default',
    'sensitive_not_flagged',
    'possibly_sensitive',
  ],
} as const satisfies Record<ValidationRuleName, readonly string[]>;

/** A code the rule `R` may report. */
export type IssueCode<R extends ValidationRuleName> = (typeof ISSUE_CODES)[R][number];

/** DNS label: lowercase letters, digits and inner hyphens (design section 8). */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Collects the findings of one rule. */
export class Findings<R extends ValidationRuleName> {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];

  constructor(private readonly rule: R) {}

  error(code: IssueCode<R>, field: string, message: string, details?: Record<string, unknown>): void {
    this.errors.push(this.issue(code, field, message, details));
  }

  warn(code: IssueCode<R>, field: string, message: string, details?: Record<string, unknown>): void {
    this.warnings.push(this.issue(code, field, message, details));
  }

  outcome(): RuleOutcome {
    return { errors: this.errors, warnings: this.warnings };
  }

  private issue(code: string, field: string, message: string, details?: Record<string, unknown>): ValidationIssue {
    return details ? { rule: this.rule, code, field, message, details } : { rule: this.rule, code, field, message };
  }
}

/** A value shortened for messages, so that a megabyte of junk never ends up in a response twice. */
export function preview(value: string, max = 64): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/**
 * Why a component or dependency name is not a DNS label, or null when it is one. The reasons are
 * specific because "invalid name" alone sends people guessing.
 */
export function nameProblem(name: string): { code: 'invalid_name' | 'name_too_long'; message: string } | null {
  if (name.length === 0) return { code: 'invalid_name', message: 'name is empty' };
  if (name.length > LIMITS.nameLength) {
    return {
      code: 'name_too_long',
      message: `name has ${name.length} characters; at most ${LIMITS.nameLength} are allowed`,
    };
  }
  if (NAME_PATTERN.test(name)) return null;
  const shown = JSON.stringify(preview(name));
  if (name.includes('/') || name.includes('\\') || name.includes('..')) {
    return { code: 'invalid_name', message: `name ${shown} contains a path separator or "..", which is never allowed` };
  }
  if (/[A-Z]/.test(name) && NAME_PATTERN.test(name.toLowerCase())) {
    return { code: 'invalid_name', message: `name ${shown} must be lowercase: use "${name.toLowerCase()}"` };
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    return { code: 'invalid_name', message: `name ${shown} must start and end with a letter or digit` };
  }
  return {
    code: 'invalid_name',
    message: `name ${shown} must match ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ (lowercase letters, digits, inner hyphens)`,
  };
}

const NAME_SEPARATORS = /[-_.]/;

/**
 * Folds case and `-`, `_`, `.` away: two names with the same fold are too easily confused. Split and
 * joined rather than replaced: a replace's result is a chain of string pieces, and the catalog index
 * keeps one fold per name (at 100 000 names, about a million heap objects every full collection
 * walked); a join makes one flat string.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().split(NAME_SEPARATORS).join('');
}
