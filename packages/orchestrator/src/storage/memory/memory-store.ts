import {
  type CatalogEvent,
  type ComponentDefinition,
  type ComponentPatch,
  compareVersions,
  type DeploymentEngine,
  type NewCatalogEvent,
} from '@nestor/sdk';
import { type Clock, systemClock } from '../../observability/clock.js';
import { auditMatches } from '../audit-records.js';
import { decodeListCursor, listCursor } from '../cursor.js';
import { componentNotFound, engineNotFound, tokenConflict, versionConflict } from '../errors.js';
import type {
  AuditEntry,
  AuditQuery,
  CatalogImporter,
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
  SchemaMigrations,
  StateChange,
  StoredJson,
  StoredSubscription,
  StoredToken,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import { pickLatest } from '../latest-rule.js';
import {
  applyLifecycle,
  applyPatch,
  changesetEvent,
  changesetRecord,
  changesetSetMoved,
  changesetStatuses,
  componentEvent,
  failsRevision,
  isResubmission,
  newDefinition,
  revisionMismatch,
  versionSetChanged,
  versionSetTag,
  withLifecycle,
} from '../records.js';
import { fromDefinition } from '../stored-json.js';
import { bySubscriptionAge } from '../subscription-rows.js';

export interface MemoryStoreOptions {
  clock?: Clock;
}

interface NameEntry {
  /** Versions, semver-descending. */
  versions: ComponentDefinition[];
  /** Null when every version is revoked or deleted. */
  latest: ComponentDefinition | null;
  latestWithPrerelease: ComponentDefinition | null;
}

interface Lease {
  holder: string;
  expiresAt: number;
}

const COMPONENT = 'storage.memory';

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The reference CatalogStore: everything in process memory, nothing survives a restart. Tests use
 * it as the fake of every backend, which is why it passes the same contract suite. Values are
 * copied in and out, so callers can never change stored state by mutating a result.
 */
export class MemoryStore implements CatalogStore, CatalogImporter, SchemaMigrations {
  private readonly clock: Clock;
  private readonly byName = new Map<string, NameEntry>();
  /** Every name, sorted, for keyset pagination. */
  private readonly names: string[] = [];
  private events: CatalogEvent[] = [];
  private sequence = 0;
  private readonly engines = new Map<string, DeploymentEngine>();
  private readonly state = new Map<string, unknown>();
  private readonly leases = new Map<string, Lease>();
  private readonly tokens = new Map<string, StoredToken>();
  private readonly changesets = new Map<string, ChangesetRecord>();
  /** Audit entries, ids ascending (ids sort by time). */
  private audit: AuditEntry[] = [];
  private readonly subscriptions = new Map<string, StoredSubscription>();
  /** Delivery logs by subscription id, event ids ascending. */
  private readonly deliveries = new Map<string, DeliveryRecord[]>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  async getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    const found = this.byName.get(name)?.versions.find((v) => v.version === version);
    return found ? copy(found) : null;
  }

  async getLatestComponent(
    name: string,
    opts: { includePrerelease?: boolean } = {},
  ): Promise<ComponentDefinition | null> {
    const entry = this.byName.get(name);
    const pick = opts.includePrerelease ? entry?.latestWithPrerelease : entry?.latest;
    return pick ? copy(pick) : null;
  }

  async getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    const found = this.byName.get(name)?.versions.find((v) => v.version === version);
    return found ? fromDefinition(found) : null;
  }

  async getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    const entry = this.byName.get(name);
    const pick = opts.includePrerelease ? entry?.latestWithPrerelease : entry?.latest;
    return pick ? fromDefinition(pick) : null;
  }

  async listComponentsJson(query: ListQuery): Promise<Page<string>> {
    const page = await this.listComponents(query);
    return { items: page.items.map((c) => JSON.stringify(c)), nextCursor: page.nextCursor };
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    const after = decodeListCursor(query.cursor);
    const items: ComponentDefinition[] = [];
    let more = false;
    for (let i = firstAfter(this.names, after); i < this.names.length; i++) {
      const entry = this.byName.get(this.names[i] as string) as NameEntry;
      const latest = query.includePrerelease ? entry.latestWithPrerelease : entry.latest;
      if (!latest) continue;
      if (items.length === query.limit) {
        more = true;
        break;
      }
      items.push(copy(latest));
    }
    const last = items.at(-1);
    return { items, nextCursor: more && last ? listCursor(last.name) : null };
  }

  async getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    return copy(this.byName.get(name)?.versions ?? []);
  }

  async listComponentNames(): Promise<string[]> {
    return this.names.filter((n) => this.byName.get(n)?.latestWithPrerelease);
  }

  async listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    const out: DeletedRef[] = [];
    for (const entry of this.byName.values()) {
      for (const v of entry.versions) {
        const d = v.deleted;
        if (d && !d.purged_at && d.at <= before) out.push({ name: v.name, version: v.version, at: d.at });
      }
    }
    out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return out.slice(0, Math.max(0, limit));
  }

  async getDependents(name: string): Promise<DependentRef[]> {
    const out: DependentRef[] = [];
    for (const n of this.names) {
      const entry = this.byName.get(n) as NameEntry;
      // Ascending, as the contract orders dependents by name then version.
      for (let i = entry.versions.length - 1; i >= 0; i--) {
        const v = entry.versions[i] as ComponentDefinition;
        const dep = v.dependencies.find((d) => d.name === name);
        if (dep) out.push({ name: v.name, version: v.version, version_range: dep.version_range });
      }
    }
    return out;
  }

  async createComponent(component: NewComponent, conditions: CreateConditions = {}): Promise<WriteOutcome> {
    const entry = this.byName.get(component.name);
    const existing = entry?.versions.find((v) => v.version === component.version);
    if (existing && isResubmission(COMPONENT, existing, component)) return { component: copy(existing), event: null };
    if (
      conditions.expectedVersionSet !== undefined &&
      conditions.expectedVersionSet !== versionSetTag(entry?.versions ?? [])
    ) {
      throw versionSetChanged(COMPONENT, component.name, component.version);
    }
    const now = this.clock.now().toISOString();
    const id = this.sequence + 1;
    const stored = newDefinition(component, now, id);
    const event = componentEvent(id, 'component.created', now, copy(stored));
    if (entry) {
      entry.versions.push(stored);
      entry.versions.sort((a, b) => compareVersions(b.version, a.version));
      this.refreshLatest(entry);
    } else {
      this.byName.set(stored.name, { versions: [stored], latest: stored, latestWithPrerelease: stored });
      this.names.splice(firstAfter(this.names, stored.name), 0, stored.name);
    }
    this.append(event);
    if (conditions.audit) this.insertAudit(conditions.audit);
    return { component: copy(stored), event: copy(event) };
  }

  async createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    const find = (name: string, version: string) => this.byName.get(name)?.versions.find((v) => v.version === version);
    const statuses = changesetStatuses(COMPONENT, write.members, find);
    if (!statuses.includes('created')) {
      return {
        changeset: null,
        components: write.members.map((m) => copy(find(m.name, m.version) as ComponentDefinition)),
        events: [],
      };
    }
    changesetSetMoved(COMPONENT, write, (name) => this.byName.get(name)?.versions ?? []);
    // Everything is built before anything is applied: a failure while building (a member that
    // cannot be read) leaves the store untouched, and applying only moves built values in.
    const now = this.clock.now().toISOString();
    let next = this.sequence;
    const built = write.members.map((member, i) => {
      if (statuses[i] === 'unchanged')
        return { stored: find(member.name, member.version) as ComponentDefinition, event: null };
      next += 1;
      const stored = newDefinition(member, now, next);
      return { stored, event: changesetEvent(next, now, copy(stored), write.id) };
    });
    const record = changesetRecord(write, now, next, statuses);
    const audit = write.audit ? copy(write.audit) : null;
    const components: ComponentDefinition[] = [];
    const events: CatalogEvent[] = [];
    for (const { stored, event } of built) {
      components.push(copy(stored));
      if (!event) continue;
      this.insertVersion(stored);
      this.append(event);
      events.push(copy(event));
    }
    this.changesets.set(record.id, copy(record));
    if (audit) this.insertAudit(audit);
    return { changeset: record, components, events };
  }

  async getChangeset(id: string): Promise<ChangesetRecord | null> {
    const found = this.changesets.get(id);
    return found ? copy(found) : null;
  }

  private insertVersion(stored: ComponentDefinition): void {
    const entry = this.byName.get(stored.name);
    if (entry) {
      entry.versions.push(stored);
      entry.versions.sort((a, b) => compareVersions(b.version, a.version));
      this.refreshLatest(entry);
    } else {
      this.byName.set(stored.name, { versions: [stored], latest: null, latestWithPrerelease: null });
      this.refreshLatest(this.byName.get(stored.name) as NameEntry);
      this.names.splice(firstAfter(this.names, stored.name), 0, stored.name);
    }
  }

  async updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    const entry = this.byName.get(name);
    const index = entry?.versions.findIndex((v) => v.version === version) ?? -1;
    if (!entry || index < 0) {
      throw componentNotFound(COMPONENT, 'UpdateComponent', name, version);
    }
    const current = entry.versions[index] as ComponentDefinition;
    if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
    const now = this.clock.now().toISOString();
    const { next, changed, type } = applyPatch(current, patch, now);
    if (changed.length === 0) return { component: copy(current), event: null };
    const id = this.sequence + 1;
    next.revision = id;
    const event = componentEvent(id, type, now, copy(next), changed);
    entry.versions[index] = next;
    this.refreshLatest(entry);
    this.append(event);
    if (conditions.audit) this.insertAudit(conditions.audit);
    return { component: copy(next), event: copy(event) };
  }

  async changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    const entry = this.byName.get(name);
    const index = entry?.versions.findIndex((v) => v.version === version) ?? -1;
    if (!entry || index < 0) throw componentNotFound(COMPONENT, 'ChangeLifecycle', name, version);
    const current = entry.versions[index] as ComponentDefinition;
    if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
    const now = this.clock.now().toISOString();
    const applied = applyLifecycle(COMPONENT, current, change, now);
    if (!applied) return { component: copy(current), event: null };
    const id = this.sequence + 1;
    const next = { ...applied.next, revision: id };
    const event = componentEvent(id, applied.type, now, copy(next), applied.changed);
    entry.versions[index] = next;
    this.refreshLatest(entry);
    this.append(event);
    if (conditions.audit) this.insertAudit(conditions.audit);
    return { component: copy(next), event: copy(event) };
  }

  async appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    if (change?.kind === 'engine_delete' && !this.engines.has(change.name))
      throw engineNotFound(COMPONENT, 'AppendEvent', change.name);
    const stored: CatalogEvent = {
      id: this.sequence + 1,
      type: event.type,
      time: this.clock.now().toISOString(),
      subject: { ...event.subject },
      data: copy(event.data),
    };
    if (change?.kind === 'state') this.state.set(change.key, copy(change.value ?? null));
    if (change?.kind === 'engine_put') this.engines.set(change.engine.name, copy(change.engine));
    if (change?.kind === 'engine_delete') this.engines.delete(change.name);
    this.append(stored);
    if (audit) this.insertAudit(audit);
    return copy(stored);
  }

  async readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    const start = firstEventAfter(this.events, after);
    return copy(this.events.slice(start, start + Math.max(0, limit)));
  }

  async headSequence(): Promise<number> {
    return this.sequence;
  }

  async oldestSequence(): Promise<number> {
    if (this.sequence === 0) return 0;
    return this.events[0]?.id ?? this.sequence + 1;
  }

  async compactEvents(upTo: number): Promise<number> {
    const keepFrom = firstEventAfter(this.events, upTo);
    this.events = this.events.slice(keepFrom);
    return keepFrom;
  }

  async listEngines(): Promise<DeploymentEngine[]> {
    return [...this.engines.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy);
  }

  async getEngine(name: string): Promise<DeploymentEngine | null> {
    const engine = this.engines.get(name);
    return engine ? copy(engine) : null;
  }

  async putEngine(engine: DeploymentEngine): Promise<void> {
    this.engines.set(engine.name, copy(engine));
  }

  async deleteEngine(name: string): Promise<boolean> {
    return this.engines.delete(name);
  }

  async getState(key: string): Promise<unknown | null> {
    return copy(this.state.get(key) ?? null);
  }

  async putState(key: string, value: unknown): Promise<void> {
    this.state.set(key, copy(value ?? null));
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    const lease = this.leases.get(name);
    if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
    this.leases.set(name, { holder, expiresAt: now + ttlMs });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  async createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    for (const t of this.tokens.values()) {
      if (t.name === token.name) throw tokenConflict(COMPONENT, 'CreateToken', token.name);
    }
    if (this.tokens.has(token.id)) throw tokenConflict(COMPONENT, 'CreateToken', token.name);
    this.tokens.set(token.id, copy(token));
    if (audit) this.insertAudit(audit);
  }

  async getToken(id: string): Promise<StoredToken | null> {
    const token = this.tokens.get(id);
    return token ? copy(token) : null;
  }

  async listTokens(): Promise<StoredToken[]> {
    return [...this.tokens.values()]
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1))
      .map(copy);
  }

  async deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    const deleted = this.tokens.delete(id);
    if (deleted && audit) this.insertAudit(audit);
    return deleted;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.insertAudit(entry);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    const items: AuditEntry[] = [];
    for (let i = this.audit.length - 1; i >= 0; i--) {
      const e = this.audit[i] as AuditEntry;
      if (query.cursor && e.id >= query.cursor) continue;
      if (!auditMatches(e, query)) continue;
      if (items.length === query.limit) return { items, nextCursor: items.at(-1)?.id ?? null };
      items.push(copy(e));
    }
    return { items, nextCursor: null };
  }

  async pruneAudit(before: string): Promise<number> {
    const kept = this.audit.filter((e) => e.time >= before);
    const removed = this.audit.length - kept.length;
    this.audit = kept;
    return removed;
  }

  private insertAudit(entry: AuditEntry): void {
    let i = this.audit.length;
    while (i > 0 && (this.audit[i - 1] as AuditEntry).id > entry.id) i--;
    this.audit.splice(i, 0, copy(entry));
  }

  async touchToken(id: string, at: string, notBefore: string): Promise<void> {
    const token = this.tokens.get(id);
    if (token && (token.last_used_at === null || token.last_used_at < notBefore)) token.last_used_at = at;
  }

  async createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    this.subscriptions.set(subscription.id, copy(subscription));
    if (audit) this.insertAudit(audit);
  }

  async getSubscription(id: string): Promise<StoredSubscription | null> {
    const s = this.subscriptions.get(id);
    return s ? copy(s) : null;
  }

  async listSubscriptions(): Promise<StoredSubscription[]> {
    return [...this.subscriptions.values()].sort(bySubscriptionAge).map(copy);
  }

  async deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    if (!this.subscriptions.delete(id)) return false;
    this.deliveries.delete(id);
    if (audit) this.insertAudit(audit);
    return true;
  }

  async advanceSubscription(id: string, position: number): Promise<void> {
    const s = this.subscriptions.get(id);
    if (s && s.position < position) s.position = position;
  }

  async disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    const s = this.subscriptions.get(id);
    if (!s || s.state === 'disabled') return false;
    s.state = 'disabled';
    s.disabled_reason = reason;
    if (audit) this.insertAudit(audit);
    return true;
  }

  async recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    if (!this.subscriptions.has(id)) return;
    const log = (this.deliveries.get(id) ?? []).filter((r) => r.event_id !== record.event_id);
    log.push(copy(record));
    log.sort((a, b) => a.event_id - b.event_id);
    this.deliveries.set(id, log.slice(Math.max(0, log.length - keep)));
  }

  async listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return (this.deliveries.get(id) ?? []).slice(-limit).reverse().map(copy);
  }

  async ping(): Promise<void> {}

  /** Nothing to create or upgrade: the catalog lives in this process. */
  async migrate(): Promise<null> {
    return null;
  }

  async close(): Promise<void> {}

  async importComponent(component: ComponentDefinition): Promise<void> {
    const entry = this.byName.get(component.name);
    if (entry?.versions.some((v) => v.version === component.version)) {
      throw versionConflict(COMPONENT, 'ImportComponent', component.name, component.version);
    }
    const stored = withLifecycle(copy(component));
    if (entry) {
      entry.versions.push(stored);
      entry.versions.sort((a, b) => compareVersions(b.version, a.version));
      this.refreshLatest(entry);
    } else {
      const created: NameEntry = { versions: [stored], latest: null, latestWithPrerelease: null };
      this.refreshLatest(created);
      this.byName.set(stored.name, created);
      this.names.splice(firstAfter(this.names, stored.name), 0, stored.name);
    }
  }

  async advanceHead(sequence: number): Promise<void> {
    if (sequence > this.sequence) this.sequence = sequence;
  }

  private refreshLatest(entry: NameEntry): void {
    entry.latest = pickLatest(entry.versions, false);
    entry.latestWithPrerelease = pickLatest(entry.versions, true);
  }

  private append(event: CatalogEvent): void {
    this.sequence = event.id;
    this.events.push(event);
  }
}

/** Index of the first name greater than `after` in a sorted array. */
function firstAfter(sorted: string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first event whose id is greater than `after` (ids are increasing). */
function firstEventAfter(events: CatalogEvent[], after: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as CatalogEvent).id <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
