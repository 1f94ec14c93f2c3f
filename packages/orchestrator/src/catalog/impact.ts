import {
  type CandidateVersion,
  type CatalogEvent,
  type ComponentDefinition,
  type Constraint,
  compareVersions,
  create,
  type ImpactItem,
  type ImpactSummary,
  isStrictVersion,
  type ResolvedComponent,
  resolveConstraints,
  type ValidationResult,
} from '@nestor/sdk';
import { LRUCache } from 'lru-cache';
import semver from 'semver';
import type { LogConsumer } from '../events/log-follower.js';
import { extended } from '../objects.js';
import { componentNotFound } from '../storage/errors.js';
import type { ComponentVersioning, DependencyReader, DependentRef, EventLog } from '../storage/interfaces.js';
import { eligibleForLatest } from '../storage/latest-rule.js';
import type { ComponentValidator } from '../validation/interfaces.js';
import { bumpMade, diffComponents, requiredBump } from '../validation/rules/changes.js';

/** What the impact index reads: dependents and versions of a name, and the log's head. */
export type ImpactSource = Pick<DependencyReader, 'getDependents'> &
  Pick<ComponentVersioning, 'getComponentVersions'> &
  Pick<EventLog, 'headSequence'>;

/** Entries kept by the index (dependent refs plus versions), about 100 bytes each. */
const DEFAULT_MAX_ENTRIES = 2_000_000;
const COMPONENT = 'impact';
const NAME_SHAPE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Something the index waits on so that it reflects the log up to a head (the log follower). */
export interface HeadWaiter {
  catchUp(head: number): Promise<void>;
}

const byNameThenVersion = (a: DependentRef, b: DependentRef): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(a.version, b.version);

/** The index of the first entry of the sorted `list` ordered after `ref` (its place on insertion). */
function insertionPoint(list: readonly DependentRef[], ref: DependentRef): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byNameThenVersion(list[mid] as DependentRef, ref) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** True when the version is out of circulation: revoked or deleted (the one rule of latest-rule.ts). */
function isUnavailable(v: { version: string; revoked?: unknown; deleted?: unknown }): boolean {
  return !eligibleForLatest(v);
}

/**
 * Reverse dependencies and version lists of names, answered from memory and kept true by the
 * event log (a `LogConsumer` driven by a `LogFollower`): name → every (dependent, version, range).
 * An entry is loaded from the store's dependency index the first time a name is asked for, then
 * advanced by `component.created` events (a new dependent is inserted in place) instead of being
 * read again; a reset drops everything. A load that an event of the same name overtook is used for
 * that answer but not kept, so the index never holds an entry older than its position.
 */
export class ImpactIndex implements LogConsumer {
  private readonly source: ImpactSource;
  private readonly dependentsByName: LRUCache<string, DependentRef[]>;
  private readonly versionsByName: LRUCache<string, readonly ComponentDefinition[]>;
  /** Moves on every event that touches a name, and on reset; a load across a move is not kept. */
  private readonly touched = new Map<string, number>();
  private epoch = 0;
  private waiter: HeadWaiter | null = null;

  constructor(opts: { source: ImpactSource; maxEntries?: number }) {
    this.source = opts.source;
    const max = Math.max(2, opts.maxEntries ?? DEFAULT_MAX_ENTRIES);
    this.dependentsByName = new LRUCache({ maxSize: Math.floor(max / 2), sizeCalculation: (l) => l.length + 1 });
    this.versionsByName = new LRUCache({ maxSize: Math.floor(max / 2), sizeCalculation: (l) => l.length + 1 });
  }

  /** The follower that feeds this index; reads wait for it to reach the store's head. */
  attach(waiter: HeadWaiter): void {
    this.waiter = waiter;
  }

  onEvents(events: readonly CatalogEvent[]): void {
    for (const event of events) {
      if (!event.type.startsWith('component.')) continue;
      const name = event.subject.name;
      this.touch(name);
      this.versionsByName.delete(name);
      if (event.type === 'component.purged') {
        // The tombstone no longer depends on anything; which lists held it is not known here.
        this.dependentsByName.clear();
        this.epoch++;
        continue;
      }
      if (event.type !== 'component.created') continue;
      const component = event.data['component'] as ComponentDefinition | undefined;
      if (!component || !Array.isArray(component.dependencies)) {
        // Cannot tell whom it depends on: forget every dependents entry rather than guess.
        this.dependentsByName.clear();
        this.epoch++;
        continue;
      }
      for (const dep of component.dependencies) {
        this.touch(dep.name);
        const list = this.dependentsByName.get(dep.name);
        if (!list) continue;
        const ref = { name: component.name, version: component.version, version_range: dep.version_range };
        // The list of a popular base holds thousands of dependents: find the place by halving.
        const at = insertionPoint(list, ref);
        // A load that ran after the write but before this event already holds it.
        const before = list[at - 1];
        if (before && byNameThenVersion(before, ref) === 0) continue;
        list.splice(at, 0, ref);
        // Re-set so that the LRU accounts for the longer list.
        this.dependentsByName.set(dep.name, list);
      }
    }
  }

  onReset(): void {
    this.epoch++;
    this.dependentsByName.clear();
    this.versionsByName.clear();
    this.touched.clear();
  }

  /** Every (component, version) whose direct dependencies name `name`, by name then version. */
  async dependents(name: string): Promise<readonly DependentRef[]> {
    await this.current();
    return this.load(name, this.dependentsByName, () => this.source.getDependents(name));
  }

  /** Every version of `name`, semver-descending; [] for an unknown name. Shared: never change it. */
  async versions(name: string): Promise<readonly ComponentDefinition[]> {
    await this.current();
    return this.load(name, this.versionsByName, () => this.source.getComponentVersions(name));
  }

  /**
   * A token that changes whenever an answer about `name` may change: any event of the name itself
   * or of a component depending on it, and every reset. Read after catching up with the head.
   */
  async stamp(name: string): Promise<string> {
    await this.current();
    return `${this.epoch}.${this.touched.get(name) ?? 0}`;
  }

  private async current(): Promise<void> {
    if (this.waiter) await this.waiter.catchUp(await this.source.headSequence());
  }

  private async load<T extends readonly unknown[]>(
    name: string,
    cache: LRUCache<string, T>,
    read: () => Promise<T>,
  ): Promise<T> {
    const hit = cache.get(name);
    if (hit) return hit;
    const epoch = this.epoch;
    const touched = this.touched.get(name) ?? 0;
    const value = await read();
    if (epoch === this.epoch && touched === (this.touched.get(name) ?? 0)) cache.set(name, value);
    return value;
  }

  private touch(name: string): void {
    this.touched.set(name, (this.touched.get(name) ?? 0) + 1);
  }
}

/** Most constraints one `POST /v1/resolve` takes. */
export const MAX_RESOLVE_CONSTRAINTS = 1_000;
/** Most component names a resolution may reach; beyond it the answer is `resolution_too_complex`. */
const MAX_RESOLVE_CLOSURE = 5_000;
/** Longest `from` label. */
export const MAX_FROM_LENGTH = 200;

/**
 * Impact, diff and resolution (DESIGN.md 10.2), all answered from the impact index: no request
 * scans the catalog.
 */
export class ImpactService {
  private readonly index: ImpactIndex;
  private readonly stepBudget: number;
  /** Serialized impact answers by `name@version`, with the index stamp they were built at. */
  private readonly answers: LRUCache<string, { stamp: string; json: string }>;

  constructor(opts: { index: ImpactIndex; stepBudget?: number; answerCacheBytes?: number }) {
    this.index = opts.index;
    this.stepBudget = opts.stepBudget ?? 200_000;
    this.answers = new LRUCache({
      maxSize: Math.max(1, opts.answerCacheBytes ?? 32 * 1024 * 1024),
      sizeCalculation: (a) => a.json.length + 64,
    });
  }

  /**
   * `versionImpact` serialized, kept until an event touches the name or one of its dependents: a
   * popular version has thousands of dependents, and building and serializing them on every read
   * costs far more than the read itself.
   */
  async versionImpactJson(name: string, version: string): Promise<string> {
    const key = `${name}@${version}`;
    const stamp = await this.index.stamp(name);
    const hit = this.answers.get(key);
    if (hit && hit.stamp === stamp) return hit.json;
    const json = JSON.stringify(await this.versionImpact(name, version));
    // Kept only when nothing moved while it was built.
    if ((await this.index.stamp(name)) === stamp) this.answers.set(key, { stamp, json });
    return json;
  }

  /**
   * Every published (component, version) whose direct dependency on `name` admits `version`;
   * `selected` when `version` is the highest available version satisfying that range today.
   * Throws `component_not_found` when the version is not published.
   */
  async versionImpact(name: string, version: string) {
    const versions = await this.index.versions(name);
    const target = versions.find((v) => v.version === version);
    if (!target) {
      throw componentNotFound(COMPONENT, 'VersionImpact', name, version);
    }
    const available = versions.filter((v) => !isUnavailable(v)).map((v) => v.version);
    const highest = new Map<string, string | null>();
    const admitted = memoAdmits(version);
    const items = [];
    for (const dep of await this.index.dependents(name)) {
      if (!admitted(dep.version_range)) continue;
      let best = highest.get(dep.version_range);
      if (best === undefined) {
        best = available.find((v) => admits(v, dep.version_range)) ?? null;
        highest.set(dep.version_range, best);
      }
      items.push({
        name: dep.name,
        version: dep.version,
        version_range: dep.version_range,
        selected: best === version,
      });
    }
    return { name, version, items };
  }

  /**
   * Which dependents' ranges would accept `proposed` (a version that need not exist yet) and which
   * would not. Throws `component_not_found` for a name with no versions.
   */
  async proposedImpact(name: string, proposed: string) {
    const versions = await this.index.versions(name);
    if (versions.length === 0) {
      throw componentNotFound(COMPONENT, 'ProposedImpact', name);
    }
    const { accepted, rejected } = await this.split(name, proposed);
    return { name, proposed, accepted, rejected };
  }

  /** Counts and the first few of each side, for validation answers; zero for a new name. */
  async summary(name: string, version: string, first = 5): Promise<ImpactSummary> {
    // A name or version validation rejects has no dependents; skipping it also keeps arbitrary
    // request strings out of the index's keys.
    if (!NAME_SHAPE.test(name) || name.length > 63 || !isStrictVersion(version)) {
      return { accepted: 0, rejected: 0, first_accepted: [], first_rejected: [] };
    }
    const { accepted, rejected } = await this.split(name, version);
    return {
      accepted: accepted.length,
      rejected: rejected.length,
      first_accepted: accepted.slice(0, first),
      first_rejected: rejected.slice(0, first),
    };
  }

  /**
   * The changes between two published versions, as the semver rule reports them against a
   * predecessor. Throws `component_not_found` when either is not published.
   */
  async diff(name: string, from: string, to: string) {
    const versions = await this.index.versions(name);
    const find = (version: string) => {
      const found = versions.find((v) => v.version === version);
      if (!found) {
        throw componentNotFound(COMPONENT, 'Diff', name, version);
      }
      return found;
    };
    const before = find(from);
    const after = find(to);
    const changes = diffComponents(before, after);
    const prev = new semver.SemVer(from);
    const next = new semver.SemVer(to);
    let required = requiredBump(changes);
    // As the semver rule: in 0.y.z a breaking change is a minor bump.
    if (required === 'major' && prev.major === 0 && next.major === 0) required = 'minor';
    const made = compareVersions(to, from) > 0 ? bumpMade(prev, next) : 'none';
    return { name, from, to, required_bump: required, bump_made: made, changes };
  }

  /**
   * Resolves the closure of the constraints (see `resolveConstraints`). Reads every version of each
   * name reachable from the request, then runs the SDK's algorithm over that snapshot. Throws
   * `resolution_failed`, `resolution_too_complex`.
   */
  async resolve(constraints: readonly Constraint[], includePrerelease: boolean): Promise<ResolvedComponent[]> {
    const snapshot = new Map<string, readonly CandidateVersion[]>();
    const queue = [...new Set(constraints.map((c) => c.name))].sort();
    while (queue.length > 0) {
      const name = queue.shift() as string;
      if (snapshot.has(name)) continue;
      if (snapshot.size >= MAX_RESOLVE_CLOSURE) {
        throw create('resolution_too_complex')
          .component(COMPONENT)
          .operation('Resolve')
          .message(`the constraints reach more than ${MAX_RESOLVE_CLOSURE} components; narrow them`)
          .detail('max_components', MAX_RESOLVE_CLOSURE)
          .build();
      }
      const versions: readonly CandidateVersion[] = await this.index.versions(name);
      snapshot.set(name, versions);
      for (const v of versions) {
        if (isUnavailable(v)) continue;
        for (const d of v.dependencies) if (!snapshot.has(d.name)) queue.push(d.name);
      }
    }
    return resolveConstraints(constraints, (name) => snapshot.get(name) ?? [], {
      includePrerelease,
      stepBudget: this.stepBudget,
    });
  }

  private async split(name: string, version: string) {
    const accepted: ImpactItem[] = [];
    const rejected: ImpactItem[] = [];
    const admitted = memoAdmits(version);
    for (const dep of await this.index.dependents(name)) {
      const item = { name: dep.name, version: dep.version, version_range: dep.version_range };
      (admitted(dep.version_range) ? accepted : rejected).push(item);
    }
    return { accepted, rejected };
  }
}

/** semver's reading (prereleases only when the range names one); an unreadable range admits nothing. */
function admits(version: string, range: string): boolean {
  try {
    return semver.satisfies(version, range);
  } catch {
    return false;
  }
}

/**
 * Adds the impact of the validated version on its dependents to every validation result, so that
 * `POST /v1/validate`, `nestor validate` and a 422 create answer all carry it; a create's valid
 * verdict (`forWrite`), which nobody reads, goes without.
 */
export class ImpactAnnotatingValidator implements ComponentValidator {
  private readonly inner: ComponentValidator;
  private readonly impact: Pick<ImpactService, 'summary'>;

  constructor(opts: { inner: ComponentValidator; impact: Pick<ImpactService, 'summary'> }) {
    this.inner = opts.inner;
    this.impact = opts.impact;
  }

  async validate(...args: Parameters<ComponentValidator['validate']>): Promise<ValidationResult> {
    const [spec, opts] = args;
    const result = await this.inner.validate(...args);
    if (opts?.forWrite && result.valid) return result;
    return extended(result, { impact: await this.impact.summary(spec.name, spec.version) });
  }
}

/** `admits(version, range)` remembered per range: thousands of dependents share a few ranges. */
function memoAdmits(version: string): (range: string) => boolean {
  const seen = new Map<string, boolean>();
  return (range) => {
    let ok = seen.get(range);
    if (ok === undefined) {
      ok = admits(version, range);
      seen.set(range, ok);
    }
    return ok;
  };
}
