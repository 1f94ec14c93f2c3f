import type { CatalogEvent, ComponentDefinition, ComponentPatch, DeploymentEngine, NewCatalogEvent } from '@nestor/sdk';
import type { Attributes, Tracer } from '@opentelemetry/api';
import { withSpan } from '../observability/tracing/tracing.js';
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
} from './interfaces.js';

/**
 * A span around every call of the store it wraps (`store.<method>`), child of whatever span is
 * active (usually the HTTP request's). Installed by the composition root only when tracing is on.
 */
export class TracingStore implements CatalogStore {
  private readonly inner: CatalogStore;
  private readonly tracer: Tracer;
  private readonly system: string;

  constructor(opts: { inner: CatalogStore; tracer: Tracer; system: string }) {
    this.inner = opts.inner;
    this.tracer = opts.tracer;
    this.system = opts.system;
  }

  private span<T>(method: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    return withSpan(this.tracer, `store.${method}`, { 'db.system': this.system, ...attributes }, fn);
  }

  getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    return this.span('getComponent', { 'nestor.component': name, 'nestor.version': version }, () =>
      this.inner.getComponent(name, version),
    );
  }
  getLatestComponent(name: string, opts?: { includePrerelease?: boolean }): Promise<ComponentDefinition | null> {
    return this.span('getLatestComponent', { 'nestor.component': name }, () =>
      this.inner.getLatestComponent(name, opts),
    );
  }
  getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    return this.span('getComponentJson', { 'nestor.component': name, 'nestor.version': version }, () =>
      this.inner.getComponentJson(name, version),
    );
  }
  getLatestComponentJson(name: string, opts?: { includePrerelease?: boolean }): Promise<StoredJson | null> {
    return this.span('getLatestComponentJson', { 'nestor.component': name }, () =>
      this.inner.getLatestComponentJson(name, opts),
    );
  }
  listComponentsJson(query: ListQuery): Promise<Page<string>> {
    return this.span('listComponentsJson', { 'nestor.limit': query.limit }, () => this.inner.listComponentsJson(query));
  }

  listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    return this.span('listComponents', { 'nestor.limit': query.limit }, () => this.inner.listComponents(query));
  }
  createComponent(component: NewComponent, conditions?: CreateConditions): Promise<WriteOutcome> {
    return this.span(
      'createComponent',
      { 'nestor.component': component.name, 'nestor.version': component.version },
      async () => this.inner.createComponent(component, conditions),
    );
  }
  createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    return this.span('createChangeset', { 'nestor.changeset.members': write.members.length }, async () =>
      this.inner.createChangeset(write),
    );
  }
  getChangeset(id: string): Promise<ChangesetRecord | null> {
    return this.span('getChangeset', {}, async () => this.inner.getChangeset(id));
  }
  updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome> {
    return this.span('updateComponent', { 'nestor.component': name, 'nestor.version': version }, () =>
      this.inner.updateComponent(name, version, patch, conditions),
    );
  }
  changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome> {
    return this.span(
      'changeLifecycle',
      { 'nestor.component': name, 'nestor.version': version, 'nestor.lifecycle': change.kind },
      () => this.inner.changeLifecycle(name, version, change, conditions),
    );
  }
  listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    return this.span('listDeletedVersions', { 'nestor.limit': limit }, () =>
      this.inner.listDeletedVersions(before, limit),
    );
  }
  getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    return this.span('getComponentVersions', { 'nestor.component': name }, () => this.inner.getComponentVersions(name));
  }
  listComponentNames(): Promise<string[]> {
    return this.span('listComponentNames', {}, () => this.inner.listComponentNames());
  }
  getDependents(name: string): Promise<DependentRef[]> {
    return this.span('getDependents', { 'nestor.component': name }, () => this.inner.getDependents(name));
  }
  appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    return this.span('appendEvent', { 'nestor.event.type': event.type }, () =>
      this.inner.appendEvent(event, change, audit),
    );
  }
  readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    return this.span('readEvents', { 'nestor.after': after }, () => this.inner.readEvents(after, limit));
  }
  headSequence(): Promise<number> {
    return this.span('headSequence', {}, () => this.inner.headSequence());
  }
  oldestSequence(): Promise<number> {
    return this.span('oldestSequence', {}, () => this.inner.oldestSequence());
  }
  compactEvents(upTo: number): Promise<number> {
    return this.span('compactEvents', { 'nestor.up_to': upTo }, () => this.inner.compactEvents(upTo));
  }
  listEngines(): Promise<DeploymentEngine[]> {
    return this.span('listEngines', {}, () => this.inner.listEngines());
  }
  getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.span('getEngine', { 'nestor.engine': name }, () => this.inner.getEngine(name));
  }
  putEngine(engine: DeploymentEngine): Promise<void> {
    return this.span('putEngine', { 'nestor.engine': engine.name }, () => this.inner.putEngine(engine));
  }
  deleteEngine(name: string): Promise<boolean> {
    return this.span('deleteEngine', { 'nestor.engine': name }, () => this.inner.deleteEngine(name));
  }
  getState(key: string): Promise<unknown | null> {
    return this.span('getState', { 'nestor.key': key }, () => this.inner.getState(key));
  }
  putState(key: string, value: unknown): Promise<void> {
    return this.span('putState', { 'nestor.key': key }, () => this.inner.putState(key, value));
  }
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.span('acquireLease', { 'nestor.lease': name }, () => this.inner.acquireLease(name, holder, ttlMs));
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.span('releaseLease', { 'nestor.lease': name }, () => this.inner.releaseLease(name, holder));
  }
  createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    return this.span('createToken', { 'nestor.token': token.id }, () => this.inner.createToken(token, audit));
  }
  getToken(id: string): Promise<StoredToken | null> {
    return this.span('getToken', { 'nestor.token': id }, () => this.inner.getToken(id));
  }
  listTokens(): Promise<StoredToken[]> {
    return this.span('listTokens', {}, () => this.inner.listTokens());
  }
  deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.span('deleteToken', { 'nestor.token': id }, () => this.inner.deleteToken(id, audit));
  }
  appendAudit(entry: AuditEntry): Promise<void> {
    return this.span('appendAudit', {}, () => this.inner.appendAudit(entry));
  }
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.span('listAudit', { 'nestor.limit': query.limit }, () => this.inner.listAudit(query));
  }
  pruneAudit(before: string): Promise<number> {
    return this.span('pruneAudit', {}, () => this.inner.pruneAudit(before));
  }
  touchToken(id: string, at: string, notBefore: string): Promise<void> {
    return this.span('touchToken', { 'nestor.token': id }, () => this.inner.touchToken(id, at, notBefore));
  }
  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    return this.span('createSubscription', { 'nestor.subscription': subscription.id }, () =>
      this.inner.createSubscription(subscription, audit),
    );
  }
  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.span('getSubscription', { 'nestor.subscription': id }, () => this.inner.getSubscription(id));
  }
  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.span('listSubscriptions', {}, () => this.inner.listSubscriptions());
  }
  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.span('deleteSubscription', { 'nestor.subscription': id }, () =>
      this.inner.deleteSubscription(id, audit),
    );
  }
  advanceSubscription(id: string, position: number): Promise<void> {
    return this.span('advanceSubscription', { 'nestor.subscription': id }, () =>
      this.inner.advanceSubscription(id, position),
    );
  }
  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    return this.span('disableSubscription', { 'nestor.subscription': id }, () =>
      this.inner.disableSubscription(id, reason, audit),
    );
  }
  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    return this.span('recordDelivery', { 'nestor.subscription': id }, () =>
      this.inner.recordDelivery(id, record, keep),
    );
  }
  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return this.span('listDeliveries', { 'nestor.subscription': id }, () => this.inner.listDeliveries(id, limit));
  }
  ping(): Promise<void> {
    return this.span('ping', {}, () => this.inner.ping());
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
