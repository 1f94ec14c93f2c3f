import { randomUUID } from 'node:crypto';
import {
  type ComponentDefinition,
  type ComponentPatch,
  type ComponentSpec,
  computeDigest,
  create,
  NestorError,
  notFound,
  type ValidationIssue,
  type ValidationResult,
  validationFailed,
} from '@nestor/sdk';
import semver from 'semver';
import type { ChangeFeed } from '../events/interfaces.js';
import { extended } from '../objects.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { componentDeleted, componentNotFound, versionConflict } from '../storage/errors.js';
import type {
  AuditEntry,
  ChangesetItem,
  ChangesetRecord,
  ChangesetStore,
  ComponentJsonReader,
  ComponentReader,
  ComponentVersioning,
  ComponentWriter,
  DependencyReader,
  DependentRef,
  EventLog,
  LifecycleChange,
  StoredJson,
  WriteOutcome,
} from '../storage/interfaces.js';
import { eligibleForLatest } from '../storage/latest-rule.js';
import { changesetConflict, newDefinition, versionSetTag } from '../storage/records.js';
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
  ChangesetStore &
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

/** Most members of one changeset (`changeset_too_large` beyond): validation reads each one. */
export const MAX_CHANGESET_MEMBERS = 1000;

export interface ChangesetOptions {
  /** Who publishes: `token:<name>` or `source:<name>`; the record's actor and each version's `published_by`. */
  actor?: string | null;
  message?: string | null;
  /** The audit entry of the write, made once the set's id is known; written with the set (and only then). */
  audit?: (id: string) => AuditEntry;
}

/** What a changeset did. `id` is null when every member was published already (nothing written). */
export interface ChangesetResult {
  id: string | null;
  /** The set's last event; the catalog revision when nothing was written. */
  revision: number;
  items: ChangesetItem[];
}

/** A changeset judged without writing (`?dry_run=true`). */
export interface ChangesetVerdict {
  valid: boolean;
  /** One per member, in input order. */
  results: ValidationResult[];
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
    const result = await this.validator.validate(spec, { ownVersions: versions, digest, forWrite: true });
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
    const outcome = await this.store.createComponent(extended(spec, { digest, published_by: actor }), {
      expectedVersionSet,
      audit,
    });
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

  /**
   * Validates the members as one set and writes them all or nothing (DESIGN.md 10.4): a member may
   * depend on another member's new version, each is compared with its name's versions (the set's
   * included). Members published already with the same content are `unchanged`; other content is
   * `version_conflict` naming the member; a failed rule is `validation_failed` with `results` in
   * input order. Every name is locked as a single create locks it, and the write carries the tag of
   * each name's version set, so a set judged against versions that moved is judged again.
   */
  async createChangeset(specs: readonly ComponentSpec[], opts: ChangesetOptions = {}): Promise<ChangesetResult> {
    checkChangesetShape(specs);
    const digests = specs.map((s) => computeDigest(s));
    return this.createLocks.runAll(
      specs.map((s) => normalizeName(s.name)),
      async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.changesetOnce(specs, digests, opts);
          } catch (err) {
            if (!(NestorError.is(err) && err.code === 'precondition_failed')) throw err;
            this.writes.inc({ operation: 'changeset', outcome: 'retried' });
            if (attempt >= this.maxCreateAttempts) {
              throw create('service_unavailable')
                .component(COMPONENT)
                .operation('CreateChangeset')
                .message(
                  `the versions of the changeset's components kept changing while it was validated (${attempt} attempts); retry`,
                )
                .cause(err)
                .build();
            }
          }
        }
      },
    );
  }

  /** Runs every rule over the set as `createChangeset` would, writing nothing (`?dry_run=true`). */
  async validateChangeset(specs: readonly ComponentSpec[]): Promise<ChangesetVerdict> {
    checkChangesetShape(specs);
    const digests = specs.map((s) => computeDigest(s));
    const plan = await this.planChangeset(specs, digests, false);
    const results = await this.validateSet(specs, digests, plan);
    return { valid: results.every((r) => r.valid), results };
  }

  private async changesetOnce(
    specs: readonly ComponentSpec[],
    digests: readonly string[],
    opts: ChangesetOptions,
  ): Promise<ChangesetResult> {
    const plan = await this.planChangeset(specs, digests, true);
    const items = specs.map((s, i) => ({ name: s.name, version: s.version, status: plan.statuses[i] ?? 'created' }));
    if (!plan.statuses.includes('created')) {
      this.writes.inc({ operation: 'changeset', outcome: 'unchanged' });
      return { id: null, revision: await this.store.headSequence(), items };
    }
    const results = await this.validateSet(specs, digests, plan);
    if (results.some((r) => !r.valid)) {
      this.writes.inc({ operation: 'changeset', outcome: 'invalid' });
      throw changesetInvalid(results);
    }
    const actor = opts.actor ?? null;
    const id = randomUUID();
    const expectedVersionSets: Record<string, string> = {};
    for (const [i, spec] of specs.entries()) {
      if (plan.statuses[i] === 'created')
        expectedVersionSets[spec.name] = versionSetTag(plan.versions.get(spec.name) ?? []);
    }
    const outcome = await this.store.createChangeset({
      id,
      actor: actor ?? 'anonymous',
      message: opts.message ?? null,
      members: specs.map((s, i) => extended(s, { digest: digests[i] as string, published_by: actor })),
      expectedVersionSets,
      audit: opts.audit?.(id),
    });
    const last = outcome.events.at(-1);
    if (!outcome.changeset || !last) {
      // Published meanwhile by another process, identically: nothing was written.
      return {
        id: null,
        revision: await this.store.headSequence(),
        items: outcome.components.map((c) => ({ name: c.name, version: c.version, status: 'unchanged' as const })),
      };
    }
    this.writes.inc({ operation: 'changeset', outcome: 'created' });
    this.feed.publish(last.id);
    this.logger.info(
      { changeset: id, members: specs.length, created: outcome.events.length, revision: last.id },
      'changeset written',
    );
    return { id, revision: outcome.changeset.revision, items: outcome.changeset.items };
  }

  /**
   * The stored versions of every name of the set and what the set does to each member. With
   * `refuseConflicts`, a member whose version is stored with other content (or deleted) is a 409
   * before anything is validated; a dry run leaves that to the conflicts rule's finding instead.
   */
  private async planChangeset(specs: readonly ComponentSpec[], digests: readonly string[], refuseConflicts: boolean) {
    const versions = new Map<string, ComponentDefinition[]>();
    for (const name of new Set(specs.map((s) => s.name)))
      versions.set(name, await this.store.getComponentVersions(name));
    const statuses = specs.map((spec, i): ChangesetItem['status'] => {
      const existing = versions.get(spec.name)?.find((v) => v.version === spec.version);
      if (!existing) return 'created';
      if (existing.digest === digests[i] && !existing.deleted) return 'unchanged';
      if (refuseConflicts) {
        this.writes.inc({ operation: 'changeset', outcome: 'conflict' });
        throw changesetConflict(COMPONENT, spec.name, spec.version, {
          existing: existing.digest,
          submitted: digests[i] as string,
        });
      }
      return 'created';
    });
    return { versions, statuses };
  }

  /** One result per member, in input order: every new member judged beside the others. */
  private async validateSet(
    specs: readonly ComponentSpec[],
    digests: readonly string[],
    plan: { versions: Map<string, ComponentDefinition[]>; statuses: ChangesetItem['status'][] },
  ): Promise<ValidationResult[]> {
    const now = new Date(0).toISOString();
    const pending = specs.map((s, i) =>
      plan.statuses[i] === 'created' ? newDefinition(extended(s, { digest: digests[i] as string }), now, 0) : null,
    );
    const results: ValidationResult[] = [];
    for (const [i, spec] of specs.entries()) {
      if (plan.statuses[i] === 'unchanged') {
        results.push(publishedAlready(spec, digests[i] as string));
        continue;
      }
      const alongside = pending.filter((p, j): p is ComponentDefinition => p !== null && j !== i);
      results.push(await this.validator.validate(spec, { ownVersions: plan.versions.get(spec.name) ?? [], alongside }));
    }
    return flagCycles(specs, plan.statuses, results);
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
   * Marks a version orphaned by `source` (its file left the source); a no-op on an orphan. The
   * audit entry is written with the change. Throws `component_not_found`, `component_deleted`.
   */
  async orphanComponent(
    name: string,
    version: string,
    source: string,
    opts: { audit?: AuditEntry } = {},
  ): Promise<{ changed: boolean }> {
    return this.changeLifecycleWith(name, version, { kind: 'orphan', source }, opts.audit);
  }

  /** Lifts the orphan mark (the file came back with the same content); a no-op otherwise. */
  async unorphanComponent(
    name: string,
    version: string,
    opts: { audit?: AuditEntry } = {},
  ): Promise<{ changed: boolean }> {
    return this.changeLifecycleWith(name, version, { kind: 'unorphan' }, opts.audit);
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
    return (await this.applyLifecycle(name, version, change, undefined)).component;
  }

  private async changeLifecycleWith(
    name: string,
    version: string,
    change: LifecycleChange,
    audit: AuditEntry | undefined,
  ): Promise<{ changed: boolean }> {
    return { changed: (await this.applyLifecycle(name, version, change, audit)).event !== null };
  }

  private async applyLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    audit: AuditEntry | undefined,
  ): Promise<WriteOutcome> {
    const outcome = await this.store.changeLifecycle(name, version, change, audit ? { audit } : {});
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
    return outcome;
  }

  /** A written changeset; throws `changeset_not_found`. */
  async getChangeset(id: string): Promise<ChangesetRecord> {
    const found = await this.store.getChangeset(id);
    if (!found) {
      throw notFound('changeset_not_found', COMPONENT, 'GetChangeset', `no changeset with id "${id}"`, { id });
    }
    return found;
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

/**
 * What is refused before anything is read: an empty set, more than `MAX_CHANGESET_MEMBERS` (422
 * `changeset_too_large`, so that a huge set costs nothing), a name+version given twice.
 */
function checkChangesetShape(specs: readonly ComponentSpec[]): void {
  if (specs.length === 0) {
    throw create('invalid_request')
      .component(COMPONENT)
      .operation('CreateChangeset')
      .message('a changeset needs at least one component')
      .detail('field', 'components')
      .build();
  }
  if (specs.length > MAX_CHANGESET_MEMBERS) {
    throw changesetTooLarge(specs.length);
  }
  const seen = new Map<string, number>();
  for (const [i, spec] of specs.entries()) {
    const key = `${spec.name}@${spec.version}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw create('invalid_request')
        .component(COMPONENT)
        .operation('CreateChangeset')
        .message(`${key} appears twice in the changeset (components[${first}] and components[${i}])`)
        .detail('field', `components[${i}]`)
        .detail('name', spec.name)
        .detail('version', spec.version)
        .build();
    }
    seen.set(key, i);
  }
}

/** 422 `changeset_too_large` for a set of more than `MAX_CHANGESET_MEMBERS` members. */
export function changesetTooLarge(members: number) {
  return create('changeset_too_large')
    .component(COMPONENT)
    .operation('CreateChangeset')
    .message(`the changeset holds ${members} components; at most ${MAX_CHANGESET_MEMBERS} are accepted: split it`)
    .detail('members', members)
    .detail('limit', MAX_CHANGESET_MEMBERS)
    .build();
}

/** The 422 of a set with an invalid member: every member's result, in input order. */
function changesetInvalid(results: ValidationResult[]) {
  const failing = results.filter((r) => !r.valid);
  const errors = results.flatMap((r, i) =>
    r.errors.map((e) => ({ ...e, field: e.field ? `components[${i}].${e.field}` : `components[${i}]` })),
  );
  const first = failing[0];
  return new NestorError(
    'validation_failed',
    `validation failed for ${failing.length} of ${results.length} components${first ? `; first: ${first.name}@${first.version}: ${first.errors[0]?.message ?? ''}` : ''}`,
    { component: COMPONENT, operation: 'CreateChangeset', errors, extensions: { results } },
  );
}

/** The result of a member published already with the same content: nothing to judge, nothing written. */
function publishedAlready(spec: ComponentSpec, digest: string): ValidationResult {
  return {
    valid: true,
    name: spec.name,
    version: spec.version,
    digest,
    errors: [],
    warnings: [],
    required_bump: 'none',
    changes: [],
    predecessor: null,
    successor: null,
  };
}

/**
 * Cycles through the set that the per-member rule cannot see (it looks one step ahead): members
 * each depending, by a range the other's new version satisfies, on the next, around a loop of
 * three or more. Each member on such a loop gets a `dependency_cycle` error naming it.
 */
function flagCycles(
  specs: readonly ComponentSpec[],
  statuses: readonly ChangesetItem['status'][],
  results: ValidationResult[],
): ValidationResult[] {
  const edges = specs.map((spec, i) =>
    statuses[i] === 'created'
      ? specs.flatMap((other, j) => {
          if (j === i || statuses[j] !== 'created') return [];
          const dep = spec.dependencies.find((d) => d.name === other.name);
          return dep && semver.validRange(dep.version_range) && semver.satisfies(other.version, dep.version_range)
            ? [j]
            : [];
        })
      : [],
  );
  return results.map((result, i) => {
    if (result.errors.some((e) => e.code === 'dependency_cycle')) return result;
    const loop = loopThrough(i, edges);
    if (!loop) return result;
    const path = [...loop, i].map((k) => `${specs[k]?.name}@${specs[k]?.version}`);
    const issue: ValidationIssue = {
      rule: 'dependencies',
      code: 'dependency_cycle',
      field: 'dependencies',
      message: `${path.join(' -> ')}: members of the changeset depend on each other in a cycle`,
      details: { cycle: path },
    };
    return { ...result, valid: false, errors: [...result.errors, issue] };
  });
}

/** A path from `start` back to itself along `edges` (breadth first, so the shortest), or null. */
function loopThrough(start: number, edges: readonly number[][]): number[] | null {
  const from = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head] as number;
    for (const next of edges[at] ?? []) {
      if (next === start) {
        const path = [at];
        for (let k = at; k !== start; ) {
          k = from.get(k) as number;
          path.unshift(k);
        }
        return path;
      }
      if (from.has(next)) continue;
      from.set(next, at);
      queue.push(next);
    }
  }
  return null;
}
