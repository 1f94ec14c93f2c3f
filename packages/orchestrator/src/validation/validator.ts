import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type Bump,
  CONTENT_FIELDS,
  type ComponentDefinition,
  type ComponentSpec,
  canonicalJson,
  compareVersions,
  computeDigest,
  contentOf,
  type SuccessorCheck,
  type ValidationResult,
  type VersionChange,
} from '@nestor/sdk';
import type { EngineReader } from '../engines/interfaces.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { Counter, Histogram, Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { versionSetTag } from '../storage/records.js';
import { LruValidationCache } from './cache.js';
import { StoreCatalogState, type ValidationRevision, type ValidationStore } from './catalog-state.js';
import type {
  CatalogSnapshot,
  CatalogState,
  ComponentValidator,
  ContentRule,
  RuleOutcome,
  StateRule,
  ValidateOptions,
  ValidationCache,
  ValidationRule,
} from './interfaces.js';
import { normalizeName } from './rules/common.js';
import { conflictsRule } from './rules/conflicts.js';
import { dependencyListRule, dependencyResolutionRule } from './rules/dependencies.js';
import { enginesRule } from './rules/engines.js';
import { interfaceRule } from './rules/interface.js';
import { componentSizeRule, metadataRule } from './rules/metadata.js';
import { versionChangesRule, versionFormatRule } from './rules/semver.js';

export interface RuleValidatorOptions {
  /** Run in this order; findings are reported in this order. */
  rules: ValidationRule[];
  /** Where state rules read from. */
  state: CatalogState;
  /** Omit to judge every call afresh. */
  cache?: ValidationCache | undefined;
  metrics?: Metrics | undefined;
  logger?: Logger | undefined;
}

const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const CONTENT_KEYS: ReadonlySet<string> = new Set(CONTENT_FIELDS);

/**
 * Runs every rule and folds their outcomes into one `ValidationResult`. Content rules are cached
 * by digest; whole verdicts are cached under the spec's fingerprint and the catalog stamp, so a
 * cached verdict is always the verdict a fresh run would give.
 */
export class RuleValidator implements ComponentValidator {
  private readonly rules: ValidationRule[];
  private readonly contentRules: ContentRule[];
  private readonly state: CatalogState;
  private readonly cache: ValidationCache | undefined;
  private readonly logger: Logger;
  private readonly duration: Histogram;
  private readonly hits: Counter;
  private readonly misses: Counter;
  private readonly failures: Counter;

  constructor(opts: RuleValidatorOptions) {
    this.rules = opts.rules;
    this.contentRules = opts.rules.filter((r): r is ContentRule => r.kind === 'content');
    this.state = opts.state;
    this.cache = opts.cache;
    this.logger = opts.logger ?? silentLogger;
    const metrics = opts.metrics ?? noopMetrics;
    this.duration = metrics.histogram(
      'nestor_validation_duration_seconds',
      'Time spent validating, by rule (`all` for a whole validation)',
      ['rule'],
      DURATION_BUCKETS,
    );
    this.hits = metrics.counter('nestor_validation_cache_hits_total', 'Validation cache hits', ['cache']);
    this.misses = metrics.counter('nestor_validation_cache_misses_total', 'Validation cache misses', ['cache']);
    this.failures = metrics.counter('nestor_validation_failures_total', 'Validation errors by rule and code', [
      'rule',
      'code',
    ]);
  }

  /** Reads ahead what validations need (`CatalogState.warm`); the server does so once it is ready. */
  warm(): Promise<void> {
    return this.state.warm();
  }

  async validate(spec: ComponentSpec, opts: ValidateOptions = {}): Promise<ValidationResult> {
    const started = performance.now();
    const digest = opts.digest ?? computeDigest(spec);
    const snapshot = withAlongside(
      withOwnVersions(await this.state.snapshot(), spec.name, opts.ownVersions),
      opts.alongside,
    );
    const key = this.cache ? { fingerprint: fingerprint(spec, digest), stamp: snapshot.stamp } : undefined;
    if (this.cache && key) {
      const hit = this.cache.getVerdict(key);
      if (hit) {
        this.hits.inc({ cache: 'verdict' });
        return this.finish(hit, started);
      }
      this.misses.inc({ cache: 'verdict' });
    }

    const content = this.contentOutcomes(spec, digest);
    const outcomes = await Promise.all(
      this.rules.map((rule) => {
        if (rule.kind === 'content') return content.get(rule) as RuleOutcome;
        return this.timed(rule, { spec, digest, catalog: snapshot.view });
      }),
    );
    const result = assemble(spec, digest, outcomes);
    if (this.cache && key && !(opts.forWrite && result.valid)) this.cache.setVerdict(key, result);
    return this.finish(result, started);
  }

  private contentOutcomes(spec: ComponentSpec, digest: string): Map<ContentRule, RuleOutcome> {
    const cached = this.cache?.getContent(digest);
    if (cached && cached.length === this.contentRules.length) {
      this.hits.inc({ cache: 'content' });
      return new Map(this.contentRules.map((rule, i) => [rule, cached[i] as RuleOutcome]));
    }
    if (this.cache) this.misses.inc({ cache: 'content' });
    const ctx = { content: contentOf(spec), digest };
    const outcomes = this.contentRules.map((rule) => {
      const t0 = performance.now();
      const outcome = rule.check(ctx);
      this.duration.observe({ rule: rule.name }, (performance.now() - t0) / 1000);
      return outcome;
    });
    this.cache?.setContent(digest, outcomes);
    return new Map(this.contentRules.map((rule, i) => [rule, outcomes[i] as RuleOutcome]));
  }

  private async timed(rule: StateRule, ctx: Parameters<StateRule['check']>[0]): Promise<RuleOutcome> {
    const t0 = performance.now();
    try {
      return await rule.check(ctx);
    } finally {
      this.duration.observe({ rule: rule.name }, (performance.now() - t0) / 1000);
    }
  }

  private finish(result: ValidationResult, started: number): ValidationResult {
    for (const error of result.errors) this.failures.inc({ rule: error.rule, code: error.code });
    this.duration.observe({ rule: 'all' }, (performance.now() - started) / 1000);
    if (!result.valid) {
      this.logger.debug(
        { component: result.name, version: result.version, codes: result.errors.map((e) => e.code) },
        'component failed validation',
      );
    }
    return result;
  }
}

function assemble(spec: ComponentSpec, digest: string, outcomes: RuleOutcome[]): ValidationResult {
  const errors = outcomes.flatMap((o) => o.errors);
  const warnings = outcomes.flatMap((o) => o.warnings);
  let changes: VersionChange[] = [];
  let requiredBump: Bump = 'none';
  let predecessor: string | null = null;
  let successor: SuccessorCheck | null = null;
  for (const o of outcomes) {
    if (o.successor !== undefined) successor = o.successor;
    if (o.changes) changes = o.changes;
    if (o.required_bump) requiredBump = o.required_bump;
    if (o.predecessor !== undefined) predecessor = o.predecessor;
  }
  return {
    valid: errors.length === 0,
    name: spec.name,
    version: spec.version,
    digest,
    errors,
    warnings,
    required_bump: requiredBump,
    changes,
    predecessor,
    successor,
  };
}

/**
 * Hash of the whole spec: the digest covers the content fields, the rest (labels, annotations,
 * maturity, ...) is hashed alongside because rules such as the change list read it.
 */
export function fingerprint(spec: ComponentSpec, digest = computeDigest(spec)): string {
  const rest: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(spec)) if (!CONTENT_KEYS.has(field)) rest[field] = value;
  return createHash('sha256').update(digest).update('\n').update(canonicalJson(rest)).digest('hex');
}

export interface DefaultRulesOptions {
  unhealthyEngine: 'error' | 'warn';
}

/** Every rule of design section 5, content rules first (they are cheap and cached). */
export function defaultRules(opts: DefaultRulesOptions): ValidationRule[] {
  return [
    metadataRule,
    componentSizeRule,
    versionFormatRule,
    dependencyListRule,
    interfaceRule,
    versionChangesRule,
    dependencyResolutionRule,
    enginesRule({ unhealthyEngine: opts.unhealthyEngine }),
    conflictsRule,
  ];
}

export interface CreateValidatorOptions {
  reader: ValidationStore;
  /** The stamp of a cached `reader` (see `StoreCatalogStateOptions.revision`). */
  revision?: ValidationRevision | undefined;
  engines: EngineReader;
  unhealthyEngine: 'error' | 'warn';
  /** Most cached verdicts (and content outcomes); 0 disables the cache. */
  cacheSize: number;
  metrics?: Metrics | undefined;
  logger?: Logger | undefined;
}

/** The validator the server uses: every rule, the store and engines as state, an LRU cache. */
export function createValidator(opts: CreateValidatorOptions): RuleValidator {
  return new RuleValidator({
    rules: defaultRules({ unhealthyEngine: opts.unhealthyEngine }),
    state: new StoreCatalogState({ store: opts.reader, engines: opts.engines, revision: opts.revision }),
    cache: opts.cacheSize > 0 ? new LruValidationCache({ maxEntries: opts.cacheSize }) : undefined,
    metrics: opts.metrics,
    logger: opts.logger,
  });
}

/**
 * The snapshot with `name`'s versions pinned to what the caller read: the stamp alone may lag a
 * write by another replica (a cached log head), and a verdict remembered under it must not stand
 * for a version set it never saw.
 */
function withOwnVersions(
  snapshot: CatalogSnapshot,
  name: string,
  own: readonly ComponentDefinition[] | undefined,
): CatalogSnapshot {
  if (!own) return snapshot;
  const pinned = Promise.resolve(own);
  const inner = snapshot.view;
  return {
    stamp: `${snapshot.stamp}/${versionSetTag(own)}`,
    view: { ...inner, versions: (n) => (normalizeName(n) === normalizeName(name) ? pinned : inner.versions(n)) },
  };
}

/**
 * The snapshot with a changeset's other members added to the versions of their names (semver-
 * descending, as the view promises) and to the similar-name lookup; the stamp names them, so a
 * verdict judged beside them is never reused without them.
 */
function withAlongside(
  snapshot: CatalogSnapshot,
  alongside: readonly ComponentDefinition[] | undefined,
): CatalogSnapshot {
  if (!alongside || alongside.length === 0) return snapshot;
  const byName = new Map<string, ComponentDefinition[]>();
  for (const c of alongside) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const inner = snapshot.view;
  const tag = createHash('sha256')
    .update(
      alongside
        .map((c) => `${c.name}@${c.version} ${c.digest}`)
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 32);
  return {
    stamp: `${snapshot.stamp}/set:${tag}`,
    view: {
      ...inner,
      versions: async (n) => {
        const added = byName.get(n);
        const stored = await inner.versions(n);
        if (!added) return stored;
        const taken = new Set(stored.map((v) => v.version));
        return [...stored, ...added.filter((c) => !taken.has(c.version))].sort((a, b) =>
          compareVersions(b.version, a.version),
        );
      },
      similarNames: async (n) => {
        const found = new Set(await inner.similarNames(n));
        for (const other of byName.keys()) {
          if (other !== n && normalizeName(other) === normalizeName(n)) found.add(other);
        }
        return [...found].sort();
      },
    },
  };
}
