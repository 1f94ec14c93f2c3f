import {
  type ComponentDefinition,
  type ComponentPatch,
  type ComponentSpec,
  computeDigest,
  create,
  NestorError,
  notFound,
  type ValidationResult,
  validationFailed,
} from '@nestor/sdk';
import semver from 'semver';
import type { ChangeFeed } from '../events/interfaces.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { componentDeleted, componentNotFound, versionConflict } from '../storage/errors.js';
import type {
  AuditEntry,
  ComponentJsonReader,
  ComponentReader,
  ComponentVersioning,
  ComponentWriter,
  DependencyReader,
  DependentRef,
  EventLog,
  LifecycleChange,
  StoredJson,
} from '../storage/interfaces.js';
import { eligibleForLatest } from '../storage/latest-rule.js';
import { versionSetTag } from '../storage/records.js';
import type { ComponentValidator } from '../validation/interfaces.js';
import { normalizeName } from '../validation/rules/common.js';
import { KeyedLocks } from './name-locks.js';
import { tagMatchesDigest, type VersionTag } from './version-tag.js';

/** What the manager needs of the store. */
export type ManagerStore = ComponentReader &
  ComponentJsonReader &
  ComponentWriter &
  ComponentVersioning &
  DependencyReader &
  Pick<EventLog, 'headSequence'>;

export interface CatalogManagerOptions {
  store: ManagerStore;
  validator: ComponentValidator;
  feed: ChangeFeed;
  logger: Logger;
  metrics?: Metrics;
  /**
   * How often a create is validated again when the name's versions changed between its validation
   * and its write (another replica published meanwhile) before it gives up with
   * `service_unavailable` (default 5).
   */
  maxCreateAttempts?: number;
}

export interface CreateOptions {
  /** Who publishes: `token:<name>` or `source:<name>`, stored as the version's `published_by`. */
  actor?: string | null;
  /** Written in the same atomic write as the new version (and only then). */
  audit?: AuditEntry;
}

export interface UpdateOptions {
  /** The update applies only while the version is at one of these; otherwise `precondition_failed`. */
  ifMatch?: readonly VersionTag[] | undefined;
  /** Written in the same atomic write as the change (and only when something changed). */
  audit?: AuditEntry;
  /** Called when the change (and its audit entry) was written. */
  onWritten?: () => void;
}

/** The outcome of a create: the stored version, and whether this call created it. */
export interface CreateOutcome {
  component: ComponentDefinition;
  created: boolean;
}

/** A direct dependency with the highest existing version that satisfies its range. */
export interface ResolvedDependency {
  name: string;
  version_range: string;
  resolved: ComponentDefinition | null;
}

const COMPONENT = 'catalog';

/**
 * The catalog's business logic and the only path to writes: every create is validated before it
 * is written, every write is announced on the change feed.
 */
export class CatalogManager {
  private readonly store: ManagerStore;
  private readonly validator: ComponentValidator;
  private readonly feed: ChangeFeed;
  private readonly logger: Logger;
  private readonly writes;
  private readonly maxCreateAttempts: number;
  /**
   * Creates of one name (keyed by its normalised form, so confusable names queue too) run one at a
   * time in this process: validate and write never interleave with another create here. Across
   * processes the store's condition on the name's version set catches what the lock cannot.
   */
  private readonly createLocks = new KeyedLocks();

  constructor(opts: CatalogManagerOptions) {
    this.store = opts.store;
    this.maxCreateAttempts = Math.max(1, opts.maxCreateAttempts ?? 5);
    this.validator = opts.validator;
    this.feed = opts.feed;
    this.logger = opts.logger;
    this.writes = (opts.metrics ?? noopMetrics).counter('nestor_catalog_writes_total', 'Catalog writes by outcome', [
      'operation',
      'outcome',
    ]);
  }

  /**
   * Validates and stores a new version. An identical re-submission is a no-op (`created: false`);
   * the same name+version with other content is `version_conflict`; a failed rule is
   * `validation_failed` carrying the whole result. Nothing is written unless validation passes.
   */
  async createComponent(spec: ComponentSpec, opts: CreateOptions = {}): Promise<CreateOutcome> {
    const digest = computeDigest(spec);
    return this.createLocks.run(normalizeName(spec.name), async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.createOnce(spec, digest, opts.actor ?? null, opts.audit);
        } catch (err) {
          if (!(NestorError.is(err) && err.code === 'precondition_failed')) throw err;
          this.writes.inc({ operation: 'create', outcome: 'retried' });
          this.logger.debug(
            { component: spec.name, version: spec.version, attempt },
            'versions changed; validating again',
          );
          if (attempt >= this.maxCreateAttempts) throw this.tooBusy(spec, attempt, err);
        }
      }
    });
  }

  /**
   * One validate-then-write. The write carries the tag of the version set read before validating:
   * the store refuses it (`precondition_failed`) when the set moved, whoever moved it.
   */
  private async createOnce(
    spec: ComponentSpec,
    digest: string,
    actor: string | null,
    audit: AuditEntry | undefined,
  ): Promise<CreateOutcome> {
    const versions = await this.store.getComponentVersions(spec.name);
    const existing = versions.find((v) => v.version === spec.version);
    if (existing) {
      // A deleted version's number is never reusable, whatever the content.
      if (existing.digest === digest && !existing.deleted) {
        this.writes.inc({ operation: 'create', outcome: 'unchanged' });
        return { component: existing, created: false };
      }
      this.writes.inc({ operation: 'create', outcome: 'conflict' });
      throw this.versionConflict(spec, existing.digest, digest);
    }
    const expectedVersionSet = versionSetTag(versions);
    const result = await this.validator.validate(spec, { ownVersions: versions });
    if (!result.valid) {
      // Another process published this version between the check above and validation (replicas
      // sharing a store): the same clash the check answers with 409, so answer it the same way.
      const raced = result.errors.length > 0 && result.errors.every((e) => e.code === 'version_conflict');
      const existingDigest = raced ? result.errors[0]?.details?.['existing_digest'] : undefined;
      if (typeof existingDigest === 'string') {
        this.writes.inc({ operation: 'create', outcome: 'conflict' });
        throw this.versionConflict(spec, existingDigest, digest);
      }
      this.writes.inc({ operation: 'create', outcome: 'invalid' });
      throw validationFailed(COMPONENT, 'CreateComponent', result);
    }
    const outcome = await this.store.createComponent(
      { ...spec, digest, published_by: actor },
      { expectedVersionSet, audit },
    );
    if (outcome.event) {
      this.writes.inc({ operation: 'create', outcome: 'created' });
      this.feed.publish(outcome.event.id);
      this.logger.info(
        { component: spec.name, version: spec.version, revision: outcome.event.id },
        'component version created',
      );
    } else {
      this.writes.inc({ operation: 'create', outcome: 'unchanged' });
    }
    return { component: outcome.component, created: outcome.event !== null };
  }

  /** Runs every rule without writing (`POST /v1/validate`, `nestor validate`). */
  async validateComponent(spec: ComponentSpec): Promise<ValidationResult> {
    return this.validator.validate(spec);
  }

  /**
   * Changes mutable fields (labels, annotations, maturity, support level, deprecation). With
   * `ifMatch`, the store applies the patch only while the version is at one of the given revisions
   * (checked in the write itself); otherwise `precondition_failed` and nothing is written.
   */
  async updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    opts: UpdateOptions = {},
  ): Promise<ComponentDefinition> {
    let expectedRevisions: number[] | undefined;
    if (opts.ifMatch) {
      // The digest never changes for a name+version, so checking it outside the write is safe;
      // only the revision can move, and the store checks that atomically.
      const current = await this.getComponent(name, version);
      expectedRevisions = opts.ifMatch
        .filter((tag) => tagMatchesDigest(tag, current.digest))
        .map((tag) => tag.revision);
    }
    const outcome = await this.store.updateComponent(name, version, patch, { expectedRevisions, audit: opts.audit });
    if (outcome.event) {
      opts.onWritten?.();
      this.writes.inc({ operation: 'update', outcome: 'updated' });
      this.feed.publish(outcome.event.id);
      this.logger.info({ component: name, version, revision: outcome.event.id }, 'component version updated');
    }
    return outcome.component;
  }

  /**
   * One exact version (revoked ones too, with `revoked` set); throws `component_not_found`, and
   * `component_deleted` (410) for a deleted or purged version.
   */
  async getComponent(name: string, version: string): Promise<ComponentDefinition> {
    const found = await this.store.getComponent(name, version);
    if (!found) {
      throw componentNotFound(COMPONENT, 'GetComponent', name, version);
    }
    if (found.deleted) {
      throw componentDeleted(COMPONENT, 'GetComponent', name, version, Boolean(found.deleted.purged_at));
    }
    return found;
  }

  /**
   * `getComponent` as the stored JSON text, for answers that pass it through unparsed; the same
   * errors.
   */
  async getComponentJson(name: string, version: string): Promise<StoredJson> {
    const found = await this.store.getComponentJson(name, version);
    if (!found) {
      throw componentNotFound(COMPONENT, 'GetComponent', name, version);
    }
    if (found.deleted) {
      throw componentDeleted(COMPONENT, 'GetComponent', name, version, found.deleted.purged);
    }
    return found;
  }

  /**
   * Latest version as the stored JSON text (stable unless only prereleases exist or they are
   * included), never a revoked or deleted one. Throws `component_not_found` for an unknown name, `no_matching_version` when every
   * version is revoked or deleted.
   */
  async getLatestComponentJson(name: string, includePrerelease = false): Promise<StoredJson> {
    return (await this.store.getLatestComponentJson(name, { includePrerelease })) ?? this.noLatest(name);
  }

  /** Why a name has no latest version: it has none at all, or every one is revoked or deleted. */
  private async noLatest(name: string): Promise<never> {
    const versions = await this.store.getComponentVersions(name);
    if (versions.length > 0) {
      throw notFound(
        'no_matching_version',
        COMPONENT,
        'GetLatestComponent',
        `every version of ${name} is revoked or deleted`,
        { component_name: name },
      );
    }
    throw componentNotFound(COMPONENT, 'GetLatestComponent', name);
  }

  /** Revokes a version (admin): latest, resolve, list and search skip it; exact reads still show it. */
  revokeComponent(name: string, version: string, reason: string): Promise<ComponentDefinition> {
    return this.changeLifecycle(name, version, { kind: 'revoke', reason });
  }

  /**
   * Deletes a version softly (admin). Refused with `has_dependents` (409, listing them) while a
   * version that is neither revoked nor deleted depends on it through a range no other available
   * version satisfies. Throws `component_not_found`, `component_deleted`.
   */
  async deleteComponent(name: string, version: string, reason: string | null): Promise<ComponentDefinition> {
    const target = await this.getComponent(name, version);
    const blocking = await this.blockingDependents(target);
    if (blocking.length > 0) {
      this.writes.inc({ operation: 'delete', outcome: 'conflict' });
      throw create('has_dependents')
        .component(COMPONENT)
        .operation('DeleteComponent')
        .message(
          `${name}@${version} is the only available version satisfying ${blocking.length} dependent version(s) (${blocking
            .slice(0, 5)
            .map((d) => `${d.name}@${d.version}`)
            .join(
              ', ',
            )}${blocking.length > 5 ? ', ...' : ''}); revoke or delete them first, or publish a version they accept`,
        )
        .detail('component_name', name)
        .detail('version', version)
        .detail('dependents', blocking)
        .build();
    }
    return this.changeLifecycle(name, version, { kind: 'delete', reason });
  }

  /** Strips a deleted version to its tombstone (the purge after `lifecycle.purge_after`). */
  purgeComponent(name: string, version: string): Promise<ComponentDefinition> {
    return this.changeLifecycle(name, version, { kind: 'purge' });
  }

  /** Lifts a revocation and a not-yet-purged deletion (admin); a no-op on an active version. */
  restoreComponent(name: string, version: string): Promise<ComponentDefinition> {
    return this.changeLifecycle(name, version, { kind: 'restore' });
  }

  /**
   * Dependents of `target` that would be left with nothing: available (neither revoked nor
   * deleted) versions whose range `target` satisfies and no other available version does.
   */
  private async blockingDependents(target: ComponentDefinition): Promise<DependentRef[]> {
    const refs = await this.store.getDependents(target.name);
    const admitting = refs.filter(
      (r) => semver.validRange(r.version_range) && semver.satisfies(target.version, r.version_range),
    );
    if (admitting.length === 0) return [];
    const others = (await this.store.getComponentVersions(target.name)).filter(
      (v) => v.version !== target.version && eligibleForLatest(v),
    );
    const out: DependentRef[] = [];
    for (const ref of admitting) {
      if (others.some((v) => semver.satisfies(v.version, ref.version_range))) continue;
      const dependent = await this.store.getComponent(ref.name, ref.version);
      if (dependent && eligibleForLatest(dependent)) out.push(ref);
    }
    return out;
  }

  private async changeLifecycle(name: string, version: string, change: LifecycleChange): Promise<ComponentDefinition> {
    const outcome = await this.store.changeLifecycle(name, version, change);
    if (outcome.event) {
      this.writes.inc({ operation: change.kind, outcome: 'changed' });
      this.feed.publish(outcome.event.id);
      this.logger.info(
        { component: name, version, revision: outcome.event.id, lifecycle: change.kind },
        `component version ${outcome.event.type.slice('component.'.length)}`,
      );
    } else {
      this.writes.inc({ operation: change.kind, outcome: 'unchanged' });
    }
    return outcome.component;
  }

  /** Every version, semver-descending; throws `component_not_found` for an unknown name. */
  async getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    const versions = await this.store.getComponentVersions(name);
    if (versions.length === 0) {
      throw componentNotFound(COMPONENT, 'GetComponentVersions', name);
    }
    return versions;
  }

  /**
   * Highest version satisfying `range` (prereleases only when the range names one, as npm does).
   * Throws `invalid_range`, `component_not_found` or `no_matching_version`.
   */
  async resolveVersion(name: string, range: string): Promise<ComponentDefinition> {
    const valid = semver.validRange(range);
    if (valid === null) {
      throw create('invalid_range')
        .component(COMPONENT)
        .operation('ResolveVersion')
        .message(`"${range}" is not a valid semver range`)
        .detail('range', range)
        .build();
    }
    const versions = (await this.getComponentVersions(name)).filter(eligibleForLatest);
    const match = versions.find((v) => semver.satisfies(v.version, range));
    if (!match) {
      throw notFound('no_matching_version', COMPONENT, 'ResolveVersion', `no version of ${name} satisfies ${range}`, {
        component_name: name,
        range,
        // Revoked and deleted versions are never chosen, so they are not offered either.
        versions: versions.map((v) => v.version),
      });
    }
    return match;
  }

  /** Direct dependencies of one version, each resolved to its highest satisfying version (or null). */
  async getDependencies(name: string, version: string): Promise<ResolvedDependency[]> {
    const component = await this.getComponent(name, version);
    return Promise.all(
      component.dependencies.map(async (dep) => {
        const versions = await this.store.getComponentVersions(dep.name);
        const resolved = semver.validRange(dep.version_range)
          ? (versions.find((v) => eligibleForLatest(v) && semver.satisfies(v.version, dep.version_range)) ?? null)
          : null;
        return { name: dep.name, version_range: dep.version_range, resolved };
      }),
    );
  }

  /** Every (component, version) whose direct dependencies name this component. */
  getDependents(name: string): Promise<DependentRef[]> {
    return this.store.getDependents(name);
  }

  private tooBusy(spec: ComponentSpec, attempts: number, cause: NestorError) {
    return create('service_unavailable')
      .component(COMPONENT)
      .operation('CreateComponent')
      .message(
        `the versions of ${spec.name} kept changing while ${spec.name}@${spec.version} was validated (${attempts} attempts); retry`,
      )
      .detail('component_name', spec.name)
      .detail('version', spec.version)
      .cause(cause)
      .build();
  }

  private versionConflict(spec: ComponentSpec, existing: string, submitted: string) {
    return versionConflict(COMPONENT, 'CreateComponent', spec.name, spec.version, { existing, submitted });
  }
}
