import type { CatalogEvent, ComponentDefinition, ComponentPatch, DeploymentEngine, NewCatalogEvent } from '@nestor/sdk';
import { LRUCache } from 'lru-cache';
import { type Logger, silentLogger } from '../../observability/logging/logger.js';
import type { Counter, Metrics } from '../../observability/metrics/interfaces.js';
import { noopMetrics } from '../../observability/metrics/metrics.js';
import type {
  AuditEntry,
  AuditQuery,
  CatalogStore,
  ChangesetOutcome,
  ChangesetRecord,
  ChangesetWrite,
  CreateConditions,
  DeletedRef,
  DeliveryRecord,
  DependentRef,
  LifecycleChange,
  ListQuery,
  NewComponent,
  Page,
  StateChange,
  StoredJson,
  StoredSubscription,
  StoredToken,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import { storedJson } from '../stored-json.js';
import type { CatalogRevision, InvalidatableCache, SharedCache } from './interfaces.js';
import { NameList } from './name-list.js';

export interface CachingStoreOptions {
  /** The store being cached; every miss and every write goes to it. */
  inner: CatalogStore;
  /** Upper bound of the in-process cache, in approximate bytes of cached JSON (default 64 MiB). */
  maxBytes?: number;
  /** How long an entry may be served, in milliseconds (default 5 minutes). */
  ttlMs?: number;
  metrics?: Metrics;
  /** Optional second level shared by replicas (Redis); per-name reads use it. */
  shared?: SharedCache;
  /** Time-to-live of shared entries (default `ttlMs`). Bounds how long a cross-replica race can last. */
  sharedTtlMs?: number;
  /** Prefix of shared cache keys (default `v1:`): a new cached format gets a new prefix and never reads old entries. */
  sharedPrefix?: string;
  /** Told about shared entries that are refused (not JSON, or not the component the key names). */
  logger?: Logger;
}

interface Entry {
  value: unknown;
}

/** Reads whose answer depends on every name, not just one: dropped on any component write. */
type GlobalOp = 'list' | 'dependents';
type Op = 'get' | 'latest' | 'versions' | 'names' | GlobalOp;

/** What a write did, as far as the cache can tell. */
type Change = 'created' | 'updated' | 'unknown';

const NAMES_KEY = 'names';
/**
 * In-process keys of the JSON reads: `json|` and the parsed read's key. The shared cache holds one
 * entry for both, since its value is the definition's JSON either way.
 */
const JSON_PREFIX = 'json|';

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_TTL_MS = 300_000;

/**
 * CatalogStore decorator that caches reads in an LRU bounded by bytes, optionally backed by a
 * shared cache. Writes through it invalidate before they return; writes by other processes arrive
 * as catalog events through `invalidate(event)`.
 *
 * Values are shared between callers and deeply frozen, so that a hit costs no copy and a caller
 * that mutates a result fails loudly instead of corrupting the cache; arrays and pages are fresh
 * on every call, so sorting a result is fine.
 *
 * A read that started before an invalidation never fills the cache (an epoch counter guards it):
 * without that, a slow read could store the value that a concurrent write just replaced.
 */
export class CachingStore implements CatalogStore, InvalidatableCache, CatalogRevision {
  private readonly inner: CatalogStore;
  private readonly cache: LRUCache<string, Entry>;
  private readonly shared: SharedCache | null;
  private readonly sharedTtlMs: number;
  private readonly sharedPrefix: string;
  private readonly hits: Counter;
  private readonly misses: Counter;
  private readonly sharedErrors: Counter;
  private readonly logger: Logger;
  /** Keys of reads that depend on every name (list pages, dependents). */
  private readonly globalKeys = new Set<string>();
  private epoch = 0;
  /** Every event of the log up to this sequence is reflected in what this cache serves. */
  private applied = 0;

  constructor(opts: CachingStoreOptions) {
    this.inner = opts.inner;
    const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.cache = new LRUCache<string, Entry>({
      maxSize: Math.max(1024, opts.maxBytes ?? DEFAULT_MAX_BYTES),
      ttl: ttl > 0 ? ttl : DEFAULT_TTL_MS,
      dispose: (_value, key) => {
        this.globalKeys.delete(key);
      },
    });
    this.shared = opts.shared ?? null;
    this.sharedTtlMs = opts.sharedTtlMs ?? ttl;
    this.sharedPrefix = opts.sharedPrefix ?? 'v1:';
    this.logger = opts.logger ?? silentLogger;
    const metrics = opts.metrics ?? noopMetrics;
    this.hits = metrics.counter('nestor_cache_hits_total', 'Catalog reads served from the cache', ['op']);
    this.misses = metrics.counter('nestor_cache_misses_total', 'Catalog reads that went to the store', ['op']);
    this.sharedErrors = metrics.counter(
      'nestor_shared_cache_errors_total',
      'Shared cache calls that failed (reads fell back to the store)',
      ['op'],
    );
    metrics.observableGauge(
      'nestor_cache_size_bytes',
      'Approximate bytes held by the in-process catalog cache',
      () => this.cache.calculatedSize,
    );
  }

  /**
   * Drops whatever a catalog event makes stale. Call it for every event of the durable log that
   * was not written through this instance (other replicas, other processes).
   */
  invalidate(event: CatalogEvent): void {
    if (!event.type.startsWith('component.')) return;
    const change: Change =
      event.type === 'component.created'
        ? 'created'
        : event.type === 'component.updated' || event.type === 'component.deprecated'
          ? 'updated'
          : 'unknown';
    this.invalidateComponent(event.subject.name, event.subject.version, change);
  }

  /**
   * A number that moves on every invalidation (writes through this instance, events from the log,
   * `clear`). Caches of what was built from reads (serialized HTTP answers) key on it.
   */
  generation(): number {
    return this.epoch;
  }

  /**
   * The sequence up to which every event of the log is reflected in what this cache serves: reads
   * through it show those events' changes, perhaps newer ones, never older data. It is the catalog
   * revision this process can vouch for, kept in memory so a read costs no store round trip.
   * Writes through the cache move it when their event is the next one; anything else (other
   * processes' writes, events out of order) moves it through `markApplied` once the invalidator
   * has applied the log up to there.
   */
  appliedSequence(): number {
    return this.applied;
  }

  /** The catalog revision this cache vouches for: its applied sequence. */
  current(): number {
    return this.applied;
  }

  /** Records that every event up to `sequence` has been applied to this cache. Never moves back. */
  markApplied(sequence: number): void {
    if (sequence > this.applied) this.applied = sequence;
  }

  /** Drops everything, e.g. when events were missed and it is unknown what changed. */
  clear(): void {
    this.epoch++;
    this.cache.clear();
    this.globalKeys.clear();
  }

  async getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    return this.read('get', `get|${name}|${version}`, isVersionOf(name, version), () =>
      this.inner.getComponent(name, version),
    );
  }

  async getLatestComponent(
    name: string,
    opts: { includePrerelease?: boolean } = {},
  ): Promise<ComponentDefinition | null> {
    const pre = opts.includePrerelease === true;
    return this.read('latest', latestKey(name, pre), isVersionOf(name, null), () =>
      this.inner.getLatestComponent(name, { includePrerelease: pre }),
    );
  }

  async getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    return this.readJson('get', `get|${name}|${version}`, isVersionOf(name, version), () =>
      this.inner.getComponentJson(name, version),
    );
  }

  async getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    const pre = opts.includePrerelease === true;
    return this.readJson('latest', latestKey(name, pre), isVersionOf(name, null), () =>
      this.inner.getLatestComponentJson(name, { includePrerelease: pre }),
    );
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    const page = await this.read('list', `list|${queryKey(query)}`, null, () => this.inner.listComponents(query));
    return { items: [...page.items], nextCursor: page.nextCursor };
  }

  /** Not kept: its one reader (the search projection's build) reads each page once. */
  listComponentsJson(query: ListQuery): Promise<Page<string>> {
    return this.inner.listComponentsJson(query);
  }

  async getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    const versions = await this.read('versions', versionsKey(name), areVersionsOf(name), () =>
      this.inner.getComponentVersions(name),
    );
    return [...versions];
  }

  async listComponentNames(): Promise<string[]> {
    const kept = this.cache.get(NAMES_KEY)?.value;
    if (kept instanceof NameList) {
      this.hits.inc({ op: 'names' });
      return kept.toArray();
    }
    return [...(await this.read('names', NAMES_KEY, null, () => this.inner.listComponentNames()))];
  }

  async getDependents(name: string): Promise<DependentRef[]> {
    return [...(await this.read('dependents', `dependents|${name}`, null, () => this.inner.getDependents(name)))];
  }

  async createComponent(component: NewComponent, conditions?: CreateConditions): Promise<WriteOutcome> {
    return this.write(component.name, component.version, 'created', () =>
      this.inner.createComponent(component, conditions),
    );
  }

  async createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    let outcome: ChangesetOutcome;
    try {
      outcome = await this.inner.createChangeset(write);
    } catch (err) {
      // A failed write may still have committed (e.g. a lost connection after the commit).
      for (const m of write.members) this.invalidateComponent(m.name, m.version, 'unknown');
      throw err;
    }
    for (const event of outcome.events) {
      const version = event.subject.version as string;
      this.invalidateComponent(event.subject.name, version, 'created');
      this.advance(event.id);
    }
    return outcome;
  }

  getChangeset(id: string): Promise<ChangesetRecord | null> {
    return this.inner.getChangeset(id);
  }

  async updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome> {
    return this.write(name, version, 'updated', () => this.inner.updateComponent(name, version, patch, conditions));
  }

  async changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome> {
    // Latest, list and the name list may all move.
    return this.write(name, version, 'unknown', () => this.inner.changeLifecycle(name, version, change, conditions));
  }

  listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    return this.inner.listDeletedVersions(before, limit);
  }

  async appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    const appended = await this.inner.appendEvent(event, change, audit);
    this.invalidate(appended);
    this.advance(appended.id);
    return appended;
  }

  readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    return this.inner.readEvents(after, limit);
  }

  headSequence(): Promise<number> {
    return this.inner.headSequence();
  }

  oldestSequence(): Promise<number> {
    return this.inner.oldestSequence();
  }

  compactEvents(upTo: number): Promise<number> {
    return this.inner.compactEvents(upTo);
  }

  listEngines(): Promise<DeploymentEngine[]> {
    return this.inner.listEngines();
  }

  getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.inner.getEngine(name);
  }

  putEngine(engine: DeploymentEngine): Promise<void> {
    return this.inner.putEngine(engine);
  }

  deleteEngine(name: string): Promise<boolean> {
    return this.inner.deleteEngine(name);
  }

  getState(key: string): Promise<unknown | null> {
    return this.inner.getState(key);
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.inner.putState(key, value);
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.inner.acquireLease(name, holder, ttlMs);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.inner.releaseLease(name, holder);
  }

  // Tokens are not cached here: revocation must reach every replica quickly (see tokens/).
  createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    return this.inner.createToken(token, audit);
  }

  getToken(id: string): Promise<StoredToken | null> {
    return this.inner.getToken(id);
  }

  listTokens(): Promise<StoredToken[]> {
    return this.inner.listTokens();
  }

  deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.inner.deleteToken(id, audit);
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.inner.appendAudit(entry);
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.inner.listAudit(query);
  }

  pruneAudit(before: string): Promise<number> {
    return this.inner.pruneAudit(before);
  }

  touchToken(id: string, at: string, notBefore: string): Promise<void> {
    return this.inner.touchToken(id, at, notBefore);
  }

  // Subscriptions and their delivery logs are read by the one delivering replica and by admins:
  // passed through, never cached.
  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    return this.inner.createSubscription(subscription, audit);
  }

  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.inner.getSubscription(id);
  }

  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.inner.listSubscriptions();
  }

  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.inner.deleteSubscription(id, audit);
  }

  advanceSubscription(id: string, position: number): Promise<void> {
    return this.inner.advanceSubscription(id, position);
  }

  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    return this.inner.disableSubscription(id, reason, audit);
  }

  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    return this.inner.recordDelivery(id, record, keep);
  }

  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return this.inner.listDeliveries(id, limit);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** Drops the cache and closes the inner store (closing a store twice is harmless). */
  async close(): Promise<void> {
    this.clear();
    await this.inner.close();
  }

  private async write(
    name: string,
    version: string,
    change: Change,
    run: () => Promise<WriteOutcome>,
  ): Promise<WriteOutcome> {
    let outcome: WriteOutcome;
    try {
      outcome = await run();
    } catch (err) {
      // A failed write may still have committed (e.g. a lost connection after the commit).
      this.invalidateComponent(name, version, 'unknown');
      throw err;
    }
    if (outcome.event) {
      this.invalidateComponent(name, version, change);
      this.advance(outcome.event.id);
    }
    return outcome;
  }

  /**
   * After this instance applied its own event: the applied sequence moves only when the event is
   * the very next one, since an event between the two may be another process's that the
   * invalidator has not applied yet.
   */
  private advance(sequence: number): void {
    if (sequence === this.applied + 1) this.applied = sequence;
  }

  private invalidateComponent(name: string, version: string | null, change: Change): void {
    this.epoch++;
    const keys = [latestKey(name, false), latestKey(name, true), versionsKey(name)];
    if (version !== null) keys.push(`get|${name}|${version}`);
    for (const key of keys) {
      this.cache.delete(key);
      this.cache.delete(JSON_PREFIX + key);
    }
    for (const key of [...this.globalKeys]) this.cache.delete(key);
    this.globalKeys.clear();
    this.updateNames(name, change);
    if (this.shared) {
      this.shared.delete(keys.map((k) => this.sharedPrefix + k)).catch(() => this.sharedErrors.inc({ op: 'delete' }));
    }
  }

  /**
   * `fitsShared` says whether a value read from the shared cache is what this key holds; reads
   * without it do not use the shared cache.
   */
  private async read<T>(
    op: Op,
    key: string,
    fitsShared: ((value: unknown) => boolean) | null,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.hits.inc({ op });
      return hit.value as T;
    }
    const epoch = this.epoch;
    const useShared = fitsShared !== null;
    if (useShared && this.shared) {
      const fromShared = await this.readShared(key);
      const value = fromShared === null ? undefined : this.decodeShared(key, fromShared, fitsShared);
      if (fromShared !== null && value !== undefined) {
        this.hits.inc({ op });
        deepFreeze(value);
        if (epoch === this.epoch) this.fill(op, key, value, fromShared);
        return value as T;
      }
    }
    this.misses.inc({ op });
    const value = await load();
    if (value === null || epoch !== this.epoch) return value;
    const json = JSON.stringify(value);
    deepFreeze(value);
    this.fill(op, key, value, json);
    if (useShared && this.shared) {
      this.shared
        .set(this.sharedPrefix + key, json, this.sharedTtlMs)
        .catch(() => this.sharedErrors.inc({ op: 'set' }));
    }
    return value;
  }

  /**
   * `read` for the JSON reads: the stored text is cached as it came, so a hit costs neither a parse
   * nor a serialisation. A shared entry is checked (parsed) like any other before it is used.
   */
  private async readJson(
    op: Op,
    key: string,
    fitsShared: (value: unknown) => boolean,
    load: () => Promise<StoredJson | null>,
  ): Promise<StoredJson | null> {
    const local = JSON_PREFIX + key;
    const hit = this.cache.get(local);
    if (hit !== undefined) {
      this.hits.inc({ op });
      return hit.value as StoredJson;
    }
    const epoch = this.epoch;
    if (this.shared) {
      const fromShared = await this.readShared(key);
      if (fromShared !== null && this.decodeShared(key, fromShared, fitsShared) !== undefined) {
        this.hits.inc({ op });
        const value = deepFreeze(storedJson(fromShared));
        if (epoch === this.epoch) this.fill(op, local, value, value.json);
        return value;
      }
    }
    this.misses.inc({ op });
    const value = await load();
    if (value === null || epoch !== this.epoch) return value;
    deepFreeze(value);
    this.fill(op, local, value, value.json);
    if (this.shared) {
      this.shared
        .set(this.sharedPrefix + key, value.json, this.sharedTtlMs)
        .catch(() => this.sharedErrors.inc({ op: 'set' }));
    }
    return value;
  }

  private fill(op: Op, key: string, value: unknown, json: string): void {
    // UTF-16 strings: two bytes a character, plus the key and the entry's own overhead.
    this.cache.set(key, { value }, { size: 2 * (json.length + key.length) + 64 });
    if (op === 'list' || op === 'dependents') this.globalKeys.add(key);
  }

  /**
   * Keeps the cached name list current instead of dropping it: the catalog-size gauge and the
   * validation name index's rebuilds read every name, and re-reading thousands of names after
   * each write would cost more than the write. An update never changes the names; a create adds
   * at most one. (The conflicts rule reads `validation/catalog-index.ts`, not this list.)
   */
  private updateNames(name: string, change: Change): void {
    if (change === 'updated') return;
    const cached = this.cache.get(NAMES_KEY);
    if (cached === undefined) return;
    if (change === 'unknown') {
      this.cache.delete(NAMES_KEY);
      return;
    }
    // The list read from the store becomes a NameList on the first create: adding to it costs a
    // search and a short insert, where copying the whole list cost O(catalog) per create.
    const names = cached.value instanceof NameList ? cached.value : new NameList(cached.value as readonly string[]);
    if (!names.add(name) && names === cached.value) return;
    const size = (this.cache.info(NAMES_KEY)?.size ?? 64) + 2 * (name.length + 3);
    this.cache.set(NAMES_KEY, { value: names }, { size });
  }

  /**
   * The shared cache is another process's memory: what comes out of it is parsed and checked
   * before use, and anything that is not the component the key names counts as a miss (the fill
   * after the store read then overwrites it).
   */
  private decodeShared(key: string, json: string, fits: (value: unknown) => boolean): unknown {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      value = undefined;
    }
    if (value !== undefined && fits(value)) return value;
    this.sharedErrors.inc({ op: 'decode' });
    this.logger.warn(
      { key: this.sharedPrefix + key, bytes: json.length },
      'ignored a shared cache entry that is not what its key names; reading the store',
    );
    return undefined;
  }

  private async readShared(key: string): Promise<string | null> {
    try {
      return await (this.shared as SharedCache).get(this.sharedPrefix + key);
    } catch {
      this.sharedErrors.inc({ op: 'get' });
      return null;
    }
  }
}

/** A component (or, for latest, any version of it) named `name`. */
function isVersionOf(name: string, version: string | null): (value: unknown) => boolean {
  return (value) => isComponentOf(value, name) && (version === null || value.version === version);
}

function areVersionsOf(name: string): (value: unknown) => boolean {
  return (value) => Array.isArray(value) && value.every((item: unknown) => isComponentOf(item, name));
}

function isComponentOf(value: unknown, name: string): value is { name: string; version: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as { name?: unknown }).name === name &&
    typeof (value as { version?: unknown }).version === 'string'
  );
}

function latestKey(name: string, includePrerelease: boolean): string {
  return `latest|${name}|${includePrerelease ? 1 : 0}`;
}

function versionsKey(name: string): string {
  return `versions|${name}`;
}

/** A stable key for a page of the list. */
function queryKey(q: ListQuery): string {
  return JSON.stringify([q.includePrerelease === true, q.limit, q.cursor ?? null]);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
