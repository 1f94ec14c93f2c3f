import type { ImpactSummary, SourceFileError, ValidationIssue, ValidationResult } from '@nestor/sdk';

// What `nestor validate` reports, shared by the command and its output formats.

/** One issue of a result, with where its field is written in the file. */
export interface LocatedIssue extends ValidationIssue {
  line: number | null;
  column: number | null;
}

/** The verdict on one component document. */
export interface ComponentReport {
  name: string;
  version: string;
  /** Index of the YAML document in its file (0-based). */
  document: number;
  line: number | null;
  column: number | null;
  valid: boolean;
  errors: LocatedIssue[];
  warnings: LocatedIssue[];
  required_bump: ValidationResult['required_bump'];
  changes: ValidationResult['changes'];
  predecessor: string | null;
  /** Existing dependents whose ranges accept or reject this version (null when not reported). */
  impact: ImpactSummary | null;
}

/** Everything found in one file: documents that did not parse or decode, and verdicts. */
export interface FileReport {
  path: string;
  errors: SourceFileError[];
  components: ComponentReport[];
}

/** The machine-readable outcome (`--format json`). */
export interface ValidateReport {
  /** `server <url>` or `local <store>`. */
  against: string;
  files: FileReport[];
  summary: { valid: number; invalid: number; file_errors: number; warnings: number };
}
