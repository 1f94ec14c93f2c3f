import type {
  CatalogEvent,
  ComponentDefinition,
  ComponentPatch,
  ComponentSpec,
  DeploymentEngine,
  NewCatalogEvent,
  TokenScope,
} from '@nestor/sdk';

/** A page of results; `nextCursor` is opaque and null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A page of latest versions. Filtering, ranking and counting are the search projection's
 * (`search/`), which builds itself from these pages: the stores keep no search of their own.
 */
export interface ListQuery {
  /** When true, prereleases count when choosing each component's latest version. */
  includePrerelease?: boolean | undefined;
  /** 1..500. */
  limit: number;
  /** Cursor from a previous page; a malformed cursor throws `invalid_cursor`. */
  cursor?: string | null | undefined;
}

/** A component version ready to store: a normalised spec plus its digest. */
export interface NewComponent extends ComponentSpec {
  digest: string;
  /** `token:<name>` or `source:<name>`; stored as the version's `published_by` (null when omitted). */
  published_by?: string | null | undefined;
}

/** The outcome of a write: the stored version and the event it appended (null for a no-op). */
export interface WriteOutcome {
  component: ComponentDefinition;
  event: CatalogEvent | null;
}

/** A direct dependent: one (component, version) whose dependencies name the target. */
export interface DependentRef {
  name: string;
  version: string;
  version_range: string;
}

/**
 * Reads of single components and the list.
 * Missing things are `null`, never an error; backend failures throw `storage_failure`.
 */
export interface ComponentReader {
  /** The exact version, or null. Deleted versions are returned too (with `deleted` set). */
  getComponent(name: string, version: string): Promise<ComponentDefinition | null>;
  /**
   * The highest stable version; when the name has only prereleases (or `includePrerelease`), the
   * highest version of all. Null when the name has no versions. Deprecation does not matter;
   * revoked and deleted versions are never picked (null when every version is).
   */
  getLatestComponent(name: string, opts?: { includePrerelease?: boolean }): Promise<ComponentDefinition | null>;
  /**
   * Each component at its latest version (as `getLatestComponent` picks it), ordered by name;
   * pages never repeat or skip a name that exists for the whole walk. Throws `invalid_cursor`.
   */
  listComponents(query: ListQuery): Promise<Page<ComponentDefinition>>;
}

/**
 * A stored version as JSON text, exactly what a read of it shows (`JSON.stringify` of what
 * `getComponent` returns, in content), with what an answer needs besides the body.
 */
export interface StoredJson {
  json: string;
  digest: string;
  revision: number;
  /** Set while the version is deleted (its reads answer 410 `component_deleted`); `purged` once purged. */
  deleted: { purged: boolean } | null;
}

/**
 * Reads that hand over the stored definition without parsing it, so a single-version answer costs
 * no `JSON.parse` and no serialisation. Same choice of version as `getComponent` and
 * `getLatestComponent`; null when those are null.
 */
export interface ComponentJsonReader {
  getComponentJson(name: string, version: string): Promise<StoredJson | null>;
  getLatestComponentJson(name: string, opts?: { includePrerelease?: boolean }): Promise<StoredJson | null>;
  /**
   * `listComponents` as each definition's JSON text (`JSON.parse` of an item is the object
   * `listComponents` gives), for a reader that wants the text as well as the object: the search
   * projection's build keeps each as its answer bytes, rather than serialising 100 000 again.
   */
  listComponentsJson(query: ListQuery): Promise<Page<string>>;
  /**
   * Optional: starts reading every listed version's stored row in the order rows are stored, in the
   * background, for a walk of all of them in name order that follows at once (the search
   * projection's build); the walk ends it when it is done. Where name order is not storage order
   * and the rows are not in memory (a restart on a cold page cache), the walk would otherwise make
   * one random read a row: on SQLite at 100 000 components 4–8 s, against under 3 s with the rows
   * read ahead meanwhile (docs/decisions.md 33).
   */
  readAheadListed?(): ReadAhead;
}

/** A read ahead under way (`ComponentJsonReader.readAheadListed`). */
export interface ReadAhead {
  /** Ends the read (at its next step); safe to call again, and once it is over. */
  stop(): void;
  /** True once every row was read; false when it was stopped first, failed, or had nothing to do. */
  done: Promise<boolean>;
}

/** Conditions of a create, checked inside the write's own atomic step (never read-then-write). */
export interface CreateConditions {
  /**
   * `versionSetTag` of the name's versions that the caller's validation judged against. When the
   * name's (version, digest) set differs at the moment of the write, nothing is written and
   * `precondition_failed` is thrown, so the caller validates again. Omitted: no check.
   */
  expectedVersionSet?: string | undefined;
  /** Written in the same atomic write as the new version, and only when it is written. */
  audit?: AuditEntry | undefined;
}

/** Conditions of an update, checked inside the write's own atomic step. */
export interface UpdateConditions {
  /**
   * The `revision`s the caller accepts as current (from `If-Match`). When the stored version's
   * revision is none of them, nothing is written and `precondition_failed` is thrown. Omitted: no
   * check.
   */
  expectedRevisions?: readonly number[] | undefined;
  /** Written in the same atomic write as the change, and only when something changed. */
  audit?: AuditEntry | undefined;
}

/** The only writes. Each appends its event in the same atomic write as the change. */
export interface ComponentWriter {
  /**
   * Stores a new version and appends `component.created`. Same name+version with the same digest:
   * no-op, returns the stored version and `event: null` (before any condition is looked at). With
   * another digest: throws `version_conflict`. A failed condition throws `precondition_failed`.
   */
  createComponent(component: NewComponent, conditions?: CreateConditions): Promise<WriteOutcome>;
  /**
   * Changes mutable fields and appends `component.deprecated` when `deprecated` is set to an object,
   * otherwise `component.updated`. A patch that changes nothing is a no-op (`event: null`).
   * Throws `component_not_found`; a failed condition throws `precondition_failed` (checked before
   * the no-op test, so a stale tag is refused even for an empty change).
   */
  updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome>;
  /**
   * Applies a lifecycle change and appends its event in one atomic write; latest and list follow
   * at once (`latest-rule.ts`). A change that changes nothing (revoking a revoked version,
   * restoring an active one) is a no-op (`event: null`). Throws `component_not_found`;
   * `component_deleted` for anything but restore (or purge) of a deleted version, and for every
   * change of a purged one; `precondition_failed` for a failed condition.
   */
  changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions?: UpdateConditions,
  ): Promise<WriteOutcome>;
}

/** What became of one member of a changeset. */
export interface ChangesetItem {
  name: string;
  version: string;
  /** `unchanged`: the same content was published already (nothing written for it). */
  status: 'created' | 'unchanged';
}

/** A written changeset (`GET /v1/changesets/{id}`). */
export interface ChangesetRecord {
  id: string;
  time: string;
  /** `token:<name>`, `source:<name>` or `anonymous`. */
  actor: string;
  message: string | null;
  /** Sequence of the set's last event. */
  revision: number;
  /** Every member, in the order submitted. */
  items: ChangesetItem[];
}

/** Several new versions to store in one atomic write (DESIGN.md 10.4). */
export interface ChangesetWrite {
  /** Chosen by the caller; the stored record's id. */
  id: string;
  actor: string;
  message: string | null;
  /** In the order submitted; no name+version twice (`invalid_request` otherwise). */
  members: NewComponent[];
  /**
   * Per name of a created member, the `versionSetTag` its validation judged against (as
   * `CreateConditions.expectedVersionSet`); a name whose set moved fails the whole write with
   * `precondition_failed`. Names left out are not checked.
   */
  expectedVersionSets?: Readonly<Record<string, string>> | undefined;
  /** Written in the same atomic write, and only when something is written. */
  audit?: AuditEntry | undefined;
}

/** The outcome of a changeset write. */
export interface ChangesetOutcome {
  /** Null when every member was unchanged: then nothing at all was written. */
  changeset: ChangesetRecord | null;
  /** The stored version of each member, in the order submitted. */
  components: ComponentDefinition[];
  /** One `component.created` per created member, consecutive sequences, in member order. */
  events: CatalogEvent[];
}

/** Changesets: several creates in one atomic write, and their records. */
export interface ChangesetStore {
  /**
   * Stores every new member and appends one `component.created` per created member (consecutive
   * sequences, each event's `data.changeset` the set's id), the record and `audit` in one atomic
   * write: all of it or nothing. A member stored already with the same digest is `unchanged`;
   * with another digest (or deleted) the whole write fails with `version_conflict` (`details.name`,
   * `details.version`). Throws `precondition_failed` (a moved version set), `changeset_too_large`
   * (a store's own transaction limit) and writes nothing then either.
   */
  createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome>;
  /** The record, or null. */
  getChangeset(id: string): Promise<ChangesetRecord | null>;
}

/**
 * A change of a version's lifecycle state (DESIGN.md 10.3). Each appends its own event:
 * `component.revoked`, `component.deleted`, `component.restored`, `component.purged`,
 * `component.orphaned` (orphan) or `component.updated` (unorphan, `changed: ["orphaned"]`).
 */
export type LifecycleChange =
  | { kind: 'revoke'; reason: string }
  | { kind: 'delete'; reason: string | null }
  /** Lifts a revocation and a not-yet-purged deletion. */
  | { kind: 'restore' }
  /** Strips a deleted version's content down to a tombstone; its number stays taken. */
  | { kind: 'purge' }
  | { kind: 'orphan'; source: string }
  | { kind: 'unorphan' };

/** A deleted, not yet purged version, as the purge finds it. */
export interface DeletedRef {
  name: string;
  version: string;
  /** When it was deleted (ISO 8601). */
  at: string;
}

/**
 * A state write that an event describes, applied in the same atomic write as the event: either
 * both are stored or neither is.
 */
export type StateChange =
  /** `StateStore.putState`. */
  | { kind: 'state'; key: string; value: unknown }
  /** `EngineStore.putEngine` (inserts or replaces). */
  | { kind: 'engine_put'; engine: DeploymentEngine }
  /** `EngineStore.deleteEngine`; when there is no such engine, throws `engine_not_found` and appends nothing. */
  | { kind: 'engine_delete'; name: string };

/** Version history. */
export interface ComponentVersioning {
  /** Every version of the name, revoked and deleted ones included, semver-descending; [] when the name is unknown. */
  getComponentVersions(name: string): Promise<ComponentDefinition[]>;
  /**
   * Every distinct name that has a version latest may pick (neither revoked nor deleted), sorted;
   * used by the conflict rule's name normalisation.
   */
  listComponentNames(): Promise<string[]>;
  /** Deleted, not yet purged versions deleted at or before `before` (ISO 8601), oldest first, at most `limit`. */
  listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]>;
}

/** Direct dependency lookups (never transitive). */
export interface DependencyReader {
  /** Every (component, version) whose dependencies name `name`, sorted by name then version. */
  getDependents(name: string): Promise<DependentRef[]>;
}

/** The durable, ordered change log. Sequences are strictly increasing and never reused. */
export interface EventLog {
  /**
   * Appends an event that is not a component write (engine health and registration, source sync),
   * together with the state change it describes, if any, and `audit` (an engine registered or
   * deleted over the API) in one atomic write: all of it or nothing.
   */
  appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent>;
  /** Events with `id > after`, oldest first, at most `limit`. */
  readEvents(after: number, limit: number): Promise<CatalogEvent[]>;
  /**
   * Sequence of the newest event ever appended (0 when none was): the catalog revision. It never
   * goes backwards, not even when compaction empties the log.
   */
  headSequence(): Promise<number>;
  /**
   * The head read at once, for stores that read it synchronously (SQLite): the revision of a server
   * without a store cache is read on every request, and a promise there costs more than the read's
   * own bookkeeping. Throws what `headSequence` rejects with.
   */
  headSequenceNow?(): number;
  /**
   * Sequence of the oldest retained event; 0 when no event was ever appended; `head + 1` when
   * compaction removed every event. So a reader at position `after` missed events exactly when
   * `after + 1 < oldestSequence()`.
   */
  oldestSequence(): Promise<number>;
  /** Deletes events with `id <= upTo`; returns how many were deleted. */
  compactEvents(upTo: number): Promise<number>;
}

/** Persisted deployment engines, so registrations survive restarts and are shared by replicas. */
export interface EngineStore {
  listEngines(): Promise<DeploymentEngine[]>;
  getEngine(name: string): Promise<DeploymentEngine | null>;
  /** Inserts or replaces. */
  putEngine(engine: DeploymentEngine): Promise<void>;
  /** Returns false when there was nothing to delete. */
  deleteEngine(name: string): Promise<boolean>;
}

/** Small key/value records for sync progress (last synced commit per source). */
export interface StateStore {
  getState(key: string): Promise<unknown | null>;
  putState(key: string, value: unknown): Promise<void>;
}

/** Expiring leases, so that only one replica does a given piece of work. */
export interface LeaseStore {
  /** Takes or renews the lease when it is free, expired or already ours. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}

/**
 * An API token as stored: the sha256 of the whole token, never the token. The token reads
 * `nst_<id>_<secret>`, so a presented token is found by its id and then compared in constant time.
 */
export interface StoredToken {
  /** 16 lowercase hex characters. */
  id: string;
  /** Unique among stored tokens; the audit actor is `token:<name>`. */
  name: string;
  /** Hex sha256 of the whole token. */
  sha256: string;
  scopes: TokenScope[];
  /** Glob patterns of the component names the token may publish or patch; [] means any. */
  names: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** Persisted API tokens (`POST/GET/DELETE /v1/tokens`), shared by every replica. */
export interface TokenStore {
  /**
   * Stores a new token. Throws `token_conflict` when a token of the same name exists, storing
   * nothing.
   */
  createToken(token: StoredToken, audit?: AuditEntry): Promise<void>;
  /** The token with this id, or null. */
  getToken(id: string): Promise<StoredToken | null>;
  /** Every stored token, oldest first (ties by id). */
  listTokens(): Promise<StoredToken[]>;
  /** Deletes the token (with `audit` in the same atomic write); false, writing nothing, when there was none. */
  deleteToken(id: string, audit?: AuditEntry): Promise<boolean>;
  /**
   * Sets `last_used_at` to `at` when the stored value is null or older than `notBefore` (so several
   * replicas write at most once per interval); no-op for an unknown id.
   */
  touchToken(id: string, at: string, notBefore: string): Promise<void>;
}

/** How a recorded request ended: `denied` 401/403, `invalid` 400/422, `conflict` 409/412, `error` 5xx. */
export type AuditOutcome = 'ok' | 'denied' | 'invalid' | 'conflict' | 'error';

/** One audit record (`GET /v1/audit`). */
export interface AuditEntry {
  /** Sortable by time: `auditId()` (15 digits of epoch ms, `-`, 8 hex). */
  id: string;
  time: string;
  /** `token:<name>`, `source:<name>` or `anonymous`. */
  actor: string;
  action: string;
  /** `name@version`, or the object's id. */
  subject: string;
  request_id: string | null;
  ip: string | null;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string | undefined;
  action?: string | undefined;
  /** Exact subject, or every `name@...` when given a bare name (no `@`). */
  subject?: string | undefined;
  /** Inclusive bounds on `time` (ISO 8601). */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  /** The id of the last entry of the previous page. */
  cursor?: string | null | undefined;
}

/** The audit log, kept in the catalog store. Entries of changes are written with the change. */
export interface AuditLog {
  /** Records a request that changed nothing (refused, or a no-op). */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first; `nextCursor` is the last item's id when more match. */
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;
  /** Deletes entries older than `before` (ISO time); returns how many. */
  pruneAudit(before: string): Promise<number>;
}

/** What a subscription's events must match; null matches anything. */
export interface SubscriptionFilter {
  name: string | null;
  provider: string | null;
  category: string | null;
}

/**
 * An outgoing webhook subscription (`/v1/subscriptions`, DESIGN.md 10.6). The secret is kept as
 * given: it signs every delivery, so a hash would not do (docs/security.md).
 */
export interface StoredSubscription {
  /** 16 lowercase hex characters. */
  id: string;
  url: string;
  /** Event types delivered; [] means every type. */
  types: string[];
  filter: SubscriptionFilter;
  /** `whsec_<base64>`: the Standard Webhooks signing secret. */
  secret: string;
  created_at: string;
  state: 'active' | 'disabled';
  disabled_reason: string | null;
  /**
   * Every event up to this sequence was delivered to the subscription or did not match it; delivery
   * resumes after it (a restart included). A new subscription starts at the log's head.
   */
  position: number;
}

/** How the delivery of one event to one subscription stands. */
type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * One line of a subscription's delivery log: the latest attempt at one event. `pending` is retried
 * later; `failed` was given up (the subscription is then disabled).
 */
export interface DeliveryRecord {
  event_id: number;
  /** Attempts made so far, 1 for the first. */
  attempt: number;
  status: DeliveryStatus;
  /** The receiver's HTTP status of the latest attempt; null when no answer came (timeout, refused). */
  response_status: number | null;
  time: string;
}

/** Outgoing webhook subscriptions, their delivery positions and delivery logs, shared by every replica. */
export interface SubscriptionStore {
  /** Stores a new subscription, with `audit` in the same atomic write. */
  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void>;
  getSubscription(id: string): Promise<StoredSubscription | null>;
  /** Every subscription, oldest first (ties by id). */
  listSubscriptions(): Promise<StoredSubscription[]>;
  /**
   * Deletes the subscription and its delivery log (with `audit` in the same atomic write as the
   * subscription's removal); false, writing nothing, when there was none.
   */
  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean>;
  /** Raises the subscription's `position` to `position` (never lowers it); no-op for an unknown id. */
  advanceSubscription(id: string, position: number): Promise<void>;
  /**
   * Marks an active subscription `disabled` with the reason (and `audit` in the same atomic write);
   * false, writing nothing, when there is no such subscription or it is disabled already.
   */
  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean>;
  /**
   * Inserts or replaces the record of `record.event_id` in the subscription's delivery log, then
   * keeps only the `keep` records of the highest event ids. No-op for an unknown id.
   */
  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void>;
  /** The delivery log, highest event id first, at most `limit` records. */
  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]>;
}

/**
 * A store's schema, created or upgraded on demand (`nestor migrate`, and `nestor import` before it
 * writes). Idempotent. Resolves to what was done, printed for the operator, or null when the
 * backend has no schema (memory). Every store the composition root opens provides it.
 */
export interface SchemaMigrations {
  migrate(): Promise<object | null>;
}

/**
 * Loading an exported catalog (`nestor import`) into an empty store: versions exactly as exported
 * (timestamps, revision, deprecation), and the log's position, so that later events continue above
 * the exported head and no sequence is ever handed out twice.
 */
export interface CatalogImporter {
  /** Stores a version with every field as given, appending no event. Throws `version_conflict` if present. */
  importComponent(component: ComponentDefinition): Promise<void>;
  /** Raises the log's head to `sequence` (never lowers it) without appending an event. */
  advanceHead(sequence: number): Promise<void>;
}

/** Everything a storage backend provides. Callers take the narrowest interface they need. */
export interface CatalogStore
  extends ComponentReader,
    ComponentJsonReader,
    ComponentWriter,
    ComponentVersioning,
    DependencyReader,
    EventLog,
    EngineStore,
    StateStore,
    LeaseStore,
    TokenStore,
    AuditLog,
    ChangesetStore,
    SubscriptionStore {
  /** Cheap liveness check used by `/readyz`; throws `storage_failure` when the backend is down. */
  ping(): Promise<void>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}
