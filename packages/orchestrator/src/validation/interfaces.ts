import type {
  Bump,
  CONTENT_FIELDS,
  ComponentDefinition,
  ComponentSpec,
  DeploymentEngine,
  SuccessorCheck,
  ValidationIssue,
  ValidationResult,
  ValidationRuleName,
  VersionChange,
} from '@nestor/sdk';

/**
 * Judges a component before it is written. Never throws for a bad component: every finding is in
 * the result. Throws only when it cannot judge (e.g. `storage_failure`).
 */
export interface ComponentValidator {
  validate(spec: ComponentSpec, opts?: ValidateOptions): Promise<ValidationResult>;
}

export interface ValidateOptions {
  /**
   * The versions of `spec.name` the caller read and will name in its write condition. The rules
   * then judge exactly this set (not a possibly older snapshot of it), and a remembered verdict is
   * reused only for the same set, so the store's version-set check guards what was validated.
   */
  ownVersions?: readonly ComponentDefinition[] | undefined;
  /**
   * Versions written in the same atomic write as `spec` (the other members of a changeset): every
   * rule sees them as published, so a member may depend on another member's new version and is
   * compared with the versions of its name that the set adds.
   */
  alongside?: readonly ComponentDefinition[] | undefined;
  /** `computeDigest(spec)` when the caller holds it already: the spec is not hashed again. */
  digest?: string | undefined;
  /**
   * The caller writes `spec` when the verdict is valid and reads only a failed one (a create). A
   * valid verdict is then not remembered, since the write moves the stamp it would be found under,
   * and not annotated with what nobody reads (the impact on dependents); a failed one is both, as
   * always.
   */
  forWrite?: boolean | undefined;
}

/** What one rule found. */
export interface RuleOutcome {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Only the semver rule reports these. */
  changes?: VersionChange[];
  required_bump?: Bump;
  predecessor?: string | null;
  successor?: SuccessorCheck | null;
}

/** The digest-covered fields of a spec: all a content rule may read. */
type ComponentContent = Pick<ComponentSpec, (typeof CONTENT_FIELDS)[number]>;

/** Input of a content rule: nothing but the component's content, so its outcome is a function of the digest. */
export interface ContentContext {
  content: ComponentContent;
  digest: string;
}

/**
 * Catalog lookups for one validation. Each lookup is memoised for the duration of that validation,
 * so rules that need the same versions share one store read.
 */
export interface CatalogView {
  /** Every version of the name, semver-descending; [] when the name is unknown. Shared: read only. */
  versions(name: string): Promise<readonly ComponentDefinition[]>;
  /** Existing names other than `name` that equal it after normalising case and `-`, `_`, `.`. */
  similarNames(name: string): Promise<string[]>;
  /** The registered engine, or null. */
  engine(name: string): Promise<DeploymentEngine | null>;
}

/** Input of a state rule: the whole spec and the catalog as it stands. */
export interface StateContext {
  spec: ComponentSpec;
  digest: string;
  catalog: CatalogView;
}

/** A rule whose outcome depends only on the component's content; cached by digest. */
export interface ContentRule {
  name: ValidationRuleName;
  kind: 'content';
  check(ctx: ContentContext): RuleOutcome;
}

/** A rule that reads the catalog or the engines; its outcome is cached only under a state stamp. */
export interface StateRule {
  name: ValidationRuleName;
  kind: 'state';
  check(ctx: StateContext): Promise<RuleOutcome>;
}

/** One rule of `validation/rules/`. */
export type ValidationRule = ContentRule | StateRule;

/** The catalog state a validation judges against, and a stamp that names it. */
export interface CatalogSnapshot {
  /**
   * Changes whenever anything a state rule can read changes (catalog revision, engine health
   * epoch). It is read before any lookup of `view`, so a verdict cached under it never describes
   * a state older than the one it names.
   */
  stamp: string;
  /** Lookups for this one validation. */
  view: CatalogView;
}

/** Where state rules read from. */
export interface CatalogState {
  /** Reads the current stamp and opens a view for one validation. */
  snapshot(): Promise<CatalogSnapshot>;
  /** Reads ahead what every validation's view needs, so that the first validation does not wait for it. */
  warm(): Promise<void>;
}

/** Identifies a cached verdict: the whole spec and the state it was judged against. */
export interface VerdictKey {
  /** Hash of the whole spec (content and mutable fields): rules such as the change list read labels. */
  fingerprint: string;
  /** `CatalogSnapshot.stamp` of the state the verdict was judged against. */
  stamp: string;
}

/**
 * The validation cache, as the guide sketches it (cached lookup, cache write) but keyed so that it
 * can never answer a stale verdict: whole verdicts by spec fingerprint and catalog state, content
 * rule outcomes by digest alone. Bounded; entries are copies, so callers may mutate what they get.
 */
export interface ValidationCache {
  /** Cached lookup of a whole verdict; undefined when absent. */
  getVerdict(key: VerdictKey): ValidationResult | undefined;
  /** Cache write of a whole verdict. */
  setVerdict(key: VerdictKey, result: ValidationResult): void;
  /** Content-rule outcomes for a digest, in rule order; undefined when absent. */
  getContent(digest: string): RuleOutcome[] | undefined;
  setContent(digest: string, outcomes: RuleOutcome[]): void;
  /** Entries held (verdicts + content outcomes). */
  size(): number;
}
