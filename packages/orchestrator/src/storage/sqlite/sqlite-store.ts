import { dirname } from 'node:path';
import {
  type CatalogEvent,
  type ComponentDefinition,
  type ComponentPatch,
  create,
  type DeploymentEngine,
  type EventType,
  invalidRequest,
  isPrerelease,
  isStrictVersion,
  NestorError,
  type NewCatalogEvent,
  storageFailure,
  versionSortKey,
} from '@nestor/sdk';
import Database from 'better-sqlite3';
import { ensureDir } from '../../fs-utils.js';
import { type Clock, systemClock } from '../../observability/clock.js';
import { type AuditRow, auditPage, auditRow, auditWhere, fromAuditRow } from '../audit-records.js';
import { type ChangesetRow, changesetRow, fromChangesetRow } from '../changeset-rows.js';
import { decodeListCursor, listCursor } from '../cursor.js';
import { componentNotFound, engineNotFound, tokenConflict, versionConflict } from '../errors.js';
import { GroupCommitter, type Settled } from '../group-commit.js';
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
  ReadAhead,
  SchemaMigrations,
  StateChange,
  StoredJson,
  StoredSubscription,
  StoredToken,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import { pickLatest, takesLatest } from '../latest-rule.js';
import { NO_READ_AHEAD, READ_AHEAD_ROWS } from '../read-ahead.js';
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
import { parsedPage, storedJson } from '../stored-json.js';
import {
  type DeliveryRow,
  fromDeliveryRow,
  fromSubscriptionRow,
  type SubscriptionRow,
  subscriptionRow,
} from '../subscription-rows.js';
import { fromTokenRow, type TokenRow, tokenRow } from '../token-rows.js';
import { migrations as allMigrations } from './migrations/index.js';
import type { Migration } from './migrations/migration.js';
import { startReadAhead } from './read-ahead.js';

export interface SqliteStoreOptions {
  /** Database file; its folder is created when missing. `:memory:` keeps everything in memory. */
  path: string;
  clock?: Clock;
  /** Apply pending migrations when opening (default true). `migrate()` applies them otherwise. */
  migrate?: boolean;
  /** How long a write waits for another process's lock before failing (default 5 000 ms). */
  busyTimeoutMs?: number;
  /**
   * How often the WAL is checkpointed into the database file (default 1 000 ms). A checkpoint
   * syncs to disk; doing it on a timer rather than every 1 000 pages keeps fsync off the write
   * path when writes come in bursts (a sync of thousands of components).
   */
  checkpointIntervalMs?: number;
  /** Migrations to apply instead of the built-in ones (tests of the migration runner). */
  migrations?: readonly Migration[];
  /**
   * From how many stored rows (versions) `readAheadListed` reads ahead (default 10 000): below it a
   * cold walk of them is quick, and starting a thread costs more than it saves.
   */
  readAheadRows?: number;
}

/** What `migrate()` reports: the migrations this instance applied, and the schema version now. */
export interface MigrationOutcome {
  applied: string[];
  version: number;
}

type Statement = Database.Statement<unknown[], unknown>;

interface EventRow {
  seq: number;
  type: string;
  time: string;
  subject_name: string;
  subject_version: string | null;
  subject_digest: string | null;
  data: string;
}

interface LatestRow {
  id: number;
  version_key: string;
  is_prerelease: number;
  latest_default: number;
  latest_any: number;
}

interface ComponentRow {
  id: number;
  definition: string;
  latest_default: number;
  latest_any: number;
}

/** A create waiting for the group commit. */
interface PendingCreate {
  component: NewComponent;
  conditions: CreateConditions;
}

const COMPONENT = 'storage.sqlite';

/**
 * CatalogStore on SQLite (better-sqlite3): WAL, prepared statements, every write and its event in
 * one IMMEDIATE transaction. better-sqlite3 is synchronous; the methods are async only to honour
 * the interface, and each completes its work before returning.
 */
export class SqliteStore implements CatalogStore, CatalogImporter, SchemaMigrations {
  private readonly db: Database.Database;
  /** The database file, null in memory. */
  private readonly path: string | null;
  private readonly readAheadRows: number;
  private readonly clock: Clock;
  private readonly migrationList: readonly Migration[];
  private readonly appliedAtOpen: string[] = [];
  private statements: ReturnType<SqliteStore['prepareStatements']> | null = null;
  private readonly dynamic = new Map<string, Statement>();
  private checkpointTimer: NodeJS.Timeout | null = null;

  constructor(opts: SqliteStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.migrationList = opts.migrations ?? allMigrations;
    try {
      const inMemory = opts.path === ':memory:' || opts.path === '';
      this.path = inMemory ? null : opts.path;
      this.readAheadRows = opts.readAheadRows ?? READ_AHEAD_ROWS;
      if (!inMemory && !opts.path.startsWith('file:')) ensureDir(dirname(opts.path));
      this.db = new Database(opts.path);
      if (!inMemory) {
        this.db.pragma('journal_mode = WAL');
        // The timer does the regular checkpoints; this bound only caps the WAL if it stalls.
        this.db.pragma('wal_autocheckpoint = 16384');
        this.checkpointTimer = setInterval(() => this.checkpoint(), opts.checkpointIntervalMs ?? 1000);
        this.checkpointTimer.unref();
      }
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      this.db.pragma('temp_store = MEMORY');
      if (opts.migrate !== false) this.appliedAtOpen.push(...this.applyMigrations());
    } catch (err) {
      throw NestorError.is(err) ? err : storageFailure(COMPONENT, 'Open', err);
    }
  }

  /** Applies pending migrations (idempotent); also reports those applied when the store opened. */
  async migrate(): Promise<MigrationOutcome> {
    return this.guard('Migrate', () => {
      const applied = [...this.appliedAtOpen, ...this.applyMigrations()];
      this.appliedAtOpen.length = 0;
      return { applied, version: this.schemaVersion() };
    });
  }

  getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    return this.guard('GetComponent', () => {
      const json = this.stmts.getComponent.get(name, version) as string | undefined;
      return json === undefined ? null : (JSON.parse(json) as ComponentDefinition);
    });
  }

  getLatestComponent(name: string, opts: { includePrerelease?: boolean } = {}): Promise<ComponentDefinition | null> {
    return this.guard('GetLatestComponent', () => {
      const stmt = opts.includePrerelease ? this.stmts.latestAny : this.stmts.latestDefault;
      const json = stmt.get(name) as string | undefined;
      return json === undefined ? null : (JSON.parse(json) as ComponentDefinition);
    });
  }

  getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    return this.guard('GetComponentJson', () => {
      const json = this.stmts.getComponent.get(name, version) as string | undefined;
      return json === undefined ? null : storedJson(json);
    });
  }

  getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    return this.guard('GetLatestComponentJson', () => {
      const stmt = opts.includePrerelease ? this.stmts.latestAny : this.stmts.latestDefault;
      const json = stmt.get(name) as string | undefined;
      return json === undefined ? null : storedJson(json);
    });
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    return parsedPage(await this.listComponentsJson(query));
  }

  listComponentsJson(query: ListQuery): Promise<Page<string>> {
    return this.guard('ListComponents', () => {
      const after = decodeListCursor(query.cursor);
      const stmt = query.includePrerelease ? this.stmts.listAny : this.stmts.listDefault;
      const rows = stmt.all(after, query.limit + 1) as string[];
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return { items, nextCursor: more && last ? listCursor((JSON.parse(last) as ComponentDefinition).name) : null };
    });
  }

  /**
   * On a worker thread of its own, past `readAheadRows` rows (below that a cold walk is quick and a
   * thread costs more than it saves): the walk's own reads, on this connection, go on meanwhile.
   */
  readAheadListed(): ReadAhead {
    if (this.path === null || !this.db.open) return NO_READ_AHEAD;
    let last: number;
    try {
      last = (this.stmts.lastRowId.get() as number | null) ?? 0;
    } catch {
      return NO_READ_AHEAD;
    }
    if (last < this.readAheadRows) return NO_READ_AHEAD;
    return startReadAhead(this.path, last);
  }

  getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    return this.guard('GetComponentVersions', () =>
      (this.stmts.versions.all(name) as string[]).map((json) => JSON.parse(json) as ComponentDefinition),
    );
  }

  listComponentNames(): Promise<string[]> {
    return this.guard('ListComponentNames', () => this.stmts.names.all() as string[]);
  }

  listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    return this.guard('ListDeletedVersions', () =>
      (this.stmts.deletedBefore.all(before, Math.max(0, limit)) as { name: string; version: string; at: string }[]).map(
        (r) => ({ name: r.name, version: r.version, at: r.at }),
      ),
    );
  }

  getDependents(name: string): Promise<DependentRef[]> {
    return this.guard('GetDependents', () => {
      const rows = this.stmts.dependents.all(name) as (DependentRef & { id: number })[];
      const out: DependentRef[] = [];
      let lastId = -1;
      for (const row of rows) {
        if (row.id === lastId) continue;
        lastId = row.id;
        out.push({ name: row.name, version: row.version, version_range: row.version_range });
      }
      return out;
    });
  }

  /**
   * Joins the group commit: creates that reach the store in the same turn of the event loop share
   * one transaction, each in its own savepoint (docs/decisions.md 27).
   */
  createComponent(component: NewComponent, conditions: CreateConditions = {}): Promise<WriteOutcome> {
    return this.creates.submit({ component, conditions });
  }

  createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    return this.guard('CreateChangeset', () => this.changesetTx.immediate(write));
  }

  getChangeset(id: string): Promise<ChangesetRecord | null> {
    return this.guard('GetChangeset', () => {
      const row = this.stmts.getChangeset.get(id) as ChangesetRow | undefined;
      return row ? fromChangesetRow(row) : null;
    });
  }

  updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.guard('UpdateComponent', () => this.updateTx.immediate(name, version, patch, conditions));
  }

  changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.guard('ChangeLifecycle', () => this.lifecycleTx.immediate(name, version, change, conditions));
  }

  appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    return this.guard('AppendEvent', () =>
      this.appendTx.immediate((id, time) => {
        // The entry first, so a change the store then refuses (no such engine) rolls it back too.
        if (audit) this.stmts.insertAudit.run(auditRow(audit));
        this.applyStateChange(change);
        return {
          id,
          type: event.type,
          time,
          subject: { name: event.subject.name, version: event.subject.version, digest: event.subject.digest },
          data: event.data,
        };
      }),
    );
  }

  importComponent(component: ComponentDefinition): Promise<void> {
    return this.guard('ImportComponent', () => this.importTx.immediate(component));
  }

  advanceHead(sequence: number): Promise<void> {
    return this.guard('AdvanceHead', () => this.advanceHeadTx.immediate(sequence));
  }

  readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    return this.guard('ReadEvents', () =>
      (this.stmts.readEvents.all(after, Math.max(0, limit)) as EventRow[]).map(toEvent),
    );
  }

  headSequence(): Promise<number> {
    return this.guard('HeadSequence', () => this.head());
  }

  headSequenceNow(): number {
    try {
      return this.head();
    } catch (err) {
      throw NestorError.is(err) ? err : storageFailure(COMPONENT, 'HeadSequence', err);
    }
  }

  oldestSequence(): Promise<number> {
    return this.guard('OldestSequence', () => {
      const oldest = this.stmts.oldest.get() as number | null;
      if (oldest !== null) return oldest;
      const head = this.head();
      return head === 0 ? 0 : head + 1;
    });
  }

  compactEvents(upTo: number): Promise<number> {
    return this.guard('CompactEvents', () => this.stmts.compact.run(upTo).changes);
  }

  listEngines(): Promise<DeploymentEngine[]> {
    return this.guard('ListEngines', () =>
      (this.stmts.listEngines.all() as string[]).map((json) => JSON.parse(json) as DeploymentEngine),
    );
  }

  getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.guard('GetEngine', () => {
      const json = this.stmts.getEngine.get(name) as string | undefined;
      return json === undefined ? null : (JSON.parse(json) as DeploymentEngine);
    });
  }

  putEngine(engine: DeploymentEngine): Promise<void> {
    return this.guard('PutEngine', () => {
      this.stmts.putEngine.run(engine.name, JSON.stringify(engine));
    });
  }

  deleteEngine(name: string): Promise<boolean> {
    return this.guard('DeleteEngine', () => this.stmts.deleteEngine.run(name).changes > 0);
  }

  getState(key: string): Promise<unknown | null> {
    return this.guard('GetState', () => {
      const json = this.stmts.getState.get(key) as string | undefined;
      return json === undefined ? null : (JSON.parse(json) as unknown);
    });
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.guard('PutState', () => {
      this.stmts.putState.run(key, JSON.stringify(value ?? null));
    });
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.guard('AcquireLease', () => {
      const now = this.clock.now().getTime();
      // One statement: the row is taken when free, expired or already ours; otherwise untouched.
      return this.stmts.acquireLease.run(name, holder, now + ttlMs, holder, now).changes > 0;
    });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.guard('ReleaseLease', () => {
      this.stmts.releaseLease.run(name, holder);
    });
  }

  createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    return this.guard('CreateToken', () => {
      try {
        this.tokenWriteTx.immediate(() => {
          this.stmts.insertToken.run(tokenRow(token));
          if (audit) this.stmts.insertAudit.run(auditRow(audit));
          return true;
        });
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT'))
          throw tokenConflict(COMPONENT, 'CreateToken', token.name);
        throw err;
      }
    });
  }

  getToken(id: string): Promise<StoredToken | null> {
    return this.guard('GetToken', () => {
      const row = this.stmts.getToken.get(id) as TokenRow | undefined;
      return row ? fromTokenRow(row) : null;
    });
  }

  listTokens(): Promise<StoredToken[]> {
    return this.guard('ListTokens', () => (this.stmts.listTokens.all() as TokenRow[]).map(fromTokenRow));
  }

  deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DeleteToken', () =>
      this.tokenWriteTx.immediate(() => {
        const deleted = this.stmts.deleteToken.run(id).changes > 0;
        if (deleted && audit) this.stmts.insertAudit.run(auditRow(audit));
        return deleted;
      }),
    );
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.guard('AppendAudit', () => {
      this.stmts.insertAudit.run(auditRow(entry));
    });
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.guard('ListAudit', () => {
      const { where, params } = auditWhere(query, () => '?');
      const rows = this.prepareCached(`SELECT * FROM audit${where} ORDER BY id DESC LIMIT ?`).all(
        ...params,
        query.limit + 1,
      ) as AuditRow[];
      return auditPage(rows.map(fromAuditRow), query.limit);
    });
  }

  pruneAudit(before: string): Promise<number> {
    return this.guard('PruneAudit', () => this.stmts.pruneAudit.run(before).changes);
  }

  /** A token write and its audit entry, committed together. */
  private readonly tokenWriteTx = this.lazyTransaction((work: () => boolean): boolean => work());

  touchToken(id: string, at: string, notBefore: string): Promise<void> {
    return this.guard('TouchToken', () => {
      this.stmts.touchToken.run(at, id, notBefore);
    });
  }

  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    return this.guard('CreateSubscription', () =>
      this.tokenWriteTx.immediate(() => {
        this.prepareCached(
          'INSERT INTO subscriptions (id, url, types, filter, secret, created_at, state, disabled_reason, position) ' +
            'VALUES (@id, @url, @types, @filter, @secret, @created_at, @state, @disabled_reason, @position)',
        ).run(subscriptionRow(subscription));
        if (audit) this.stmts.insertAudit.run(auditRow(audit));
        return true;
      }),
    ).then(() => undefined);
  }

  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.guard('GetSubscription', () => {
      const row = this.prepareCached('SELECT * FROM subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
      return row ? fromSubscriptionRow(row) : null;
    });
  }

  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.guard('ListSubscriptions', () =>
      (this.prepareCached('SELECT * FROM subscriptions ORDER BY created_at, id').all() as SubscriptionRow[]).map(
        fromSubscriptionRow,
      ),
    );
  }

  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DeleteSubscription', () =>
      this.tokenWriteTx.immediate(() => {
        const deleted = this.prepareCached('DELETE FROM subscriptions WHERE id = ?').run(id).changes > 0;
        if (!deleted) return false;
        this.prepareCached('DELETE FROM deliveries WHERE subscription_id = ?').run(id);
        if (audit) this.stmts.insertAudit.run(auditRow(audit));
        return true;
      }),
    );
  }

  advanceSubscription(id: string, position: number): Promise<void> {
    return this.guard('AdvanceSubscription', () => {
      this.prepareCached('UPDATE subscriptions SET position = ? WHERE id = ? AND position < ?').run(
        position,
        id,
        position,
      );
    });
  }

  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DisableSubscription', () =>
      this.tokenWriteTx.immediate(() => {
        const changed =
          this.prepareCached(
            "UPDATE subscriptions SET state = 'disabled', disabled_reason = ? WHERE id = ? AND state = 'active'",
          ).run(reason, id).changes > 0;
        if (changed && audit) this.stmts.insertAudit.run(auditRow(audit));
        return changed;
      }),
    );
  }

  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    return this.guard('RecordDelivery', () => {
      this.tokenWriteTx.immediate(() => {
        const inserted = this.prepareCached(
          'INSERT OR REPLACE INTO deliveries (subscription_id, event_id, attempt, status, response_status, time) ' +
            'SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = ?)',
        ).run(id, record.event_id, record.attempt, record.status, record.response_status, record.time, id).changes;
        if (inserted === 0) return false;
        // The keep-th highest event id is the oldest record kept; with fewer rows the bound is NULL and nothing goes.
        this.prepareCached(
          'DELETE FROM deliveries WHERE subscription_id = ? AND event_id < (SELECT event_id FROM deliveries ' +
            'WHERE subscription_id = ? ORDER BY event_id DESC LIMIT 1 OFFSET ?)',
        ).run(id, id, keep - 1);
        return true;
      });
    });
  }

  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return this.guard('ListDeliveries', () =>
      (
        this.prepareCached(
          'SELECT event_id, attempt, status, response_status, time FROM deliveries WHERE subscription_id = ? ' +
            'ORDER BY event_id DESC LIMIT ?',
        ).all(id, limit) as DeliveryRow[]
      ).map(fromDeliveryRow),
    );
  }

  ping(): Promise<void> {
    return this.guard('Ping', () => {
      this.stmts.ping.get();
    });
  }

  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = null;
    if (!this.db.open) return;
    try {
      this.db.close();
    } catch (err) {
      throw storageFailure(COMPONENT, 'Close', err);
    }
  }

  private checkpoint(): void {
    try {
      if (this.db.open && !this.db.inTransaction) this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A busy or failed checkpoint is retried on the next tick; SQLite keeps the WAL consistent.
    }
  }

  private get stmts() {
    if (!this.statements) this.statements = this.prepareStatements();
    return this.statements;
  }

  private guard<T>(operation: string, work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(NestorError.is(err) ? err : storageFailure(COMPONENT, operation, err));
    }
  }

  private prepareCached(sql: string): Statement {
    let stmt = this.dynamic.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.dynamic.set(sql, stmt);
    }
    return stmt;
  }

  private head(): number {
    return (this.stmts.head.get() as number | undefined) ?? 0;
  }

  private applyMigrations(): string[] {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const run = this.db.transaction(() => {
      const done = new Set(this.db.prepare('SELECT id FROM schema_migrations').pluck().all() as number[]);
      const known = Math.max(0, ...this.migrationList.map((m) => m.id));
      const newest = Math.max(0, ...done);
      if (newest > known) {
        throw create('storage_failure')
          .component(COMPONENT)
          .operation('Migrate')
          .message(
            `the database schema (version ${newest}) is newer than this program knows (${known}); upgrade nestor`,
          )
          .build();
      }
      const applied: string[] = [];
      const insert = this.db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)');
      for (const m of [...this.migrationList].sort((a, b) => a.id - b.id)) {
        if (done.has(m.id)) continue;
        this.db.exec(m.sql);
        insert.run(m.id, m.name, this.clock.now().toISOString());
        applied.push(`${String(m.id).padStart(3, '0')}-${m.name}`);
      }
      return applied;
    });
    const applied = run.immediate();
    if (applied.length > 0) this.statements = null;
    return applied;
  }

  private schemaVersion(): number {
    return (this.db.prepare('SELECT max(id) FROM schema_migrations').pluck().get() as number | null) ?? 0;
  }

  private prepareStatements() {
    const db = this.db;
    return {
      getComponent: db.prepare('SELECT definition FROM components WHERE name = ? AND version = ?').pluck(),
      getRow: db.prepare(
        'SELECT id, definition, latest_default, latest_any FROM components WHERE name = ? AND version = ?',
      ),
      latestDefault: db.prepare('SELECT definition FROM components WHERE name = ? AND latest_default = 1').pluck(),
      latestAny: db.prepare('SELECT definition FROM components WHERE name = ? AND latest_any = 1').pluck(),
      listDefault: db
        .prepare('SELECT definition FROM components WHERE latest_default = 1 AND name > ? ORDER BY name LIMIT ?')
        .pluck(),
      listAny: db
        .prepare('SELECT definition FROM components WHERE latest_any = 1 AND name > ? ORDER BY name LIMIT ?')
        .pluck(),
      lastRowId: db.prepare('SELECT max(id) FROM components').pluck(),
      versions: db.prepare('SELECT definition FROM components WHERE name = ? ORDER BY version_key DESC').pluck(),
      versionSet: db.prepare('SELECT version, digest FROM components WHERE name = ?'),
      names: db.prepare('SELECT name FROM components WHERE latest_any = 1 ORDER BY name').pluck(),
      dependents: db.prepare(
        'SELECT c.id AS id, c.name AS name, c.version AS version, d.version_range AS version_range ' +
          'FROM dependencies d JOIN components c ON c.id = d.component_id WHERE d.dep_name = ? ' +
          'ORDER BY c.name, c.version_key, d.position',
      ),
      insertComponent: db.prepare(
        'INSERT INTO components (name, version, version_key, is_prerelease, digest, latest_default, latest_any, deleted_at, definition) ' +
          'VALUES (@name, @version, @version_key, @is_prerelease, @digest, @latest_default, @latest_any, @deleted_at, @definition)',
      ),
      lifecycleRows: db.prepare(
        'SELECT id, definition, latest_default, latest_any FROM components WHERE name = ? ORDER BY version_key DESC',
      ),
      updateLifecycle: db.prepare('UPDATE components SET deleted_at = ?, definition = ? WHERE id = ?'),
      setLatestDefault: db.prepare('UPDATE components SET latest_default = 1 WHERE id = ?'),
      setLatestAny: db.prepare('UPDATE components SET latest_any = 1 WHERE id = ?'),
      deleteDependencies: db.prepare('DELETE FROM dependencies WHERE component_id = ?'),
      deletedBefore: db.prepare(
        'SELECT name, version, deleted_at AS at FROM components WHERE deleted_at IS NOT NULL AND deleted_at <= ? ORDER BY deleted_at, name, version_key LIMIT ?',
      ),
      updateComponent: db.prepare('UPDATE components SET definition = ? WHERE id = ?'),
      insertDependency: db.prepare(
        'INSERT INTO dependencies (component_id, position, dep_name, version_range) VALUES (?, ?, ?, ?)',
      ),
      currentLatest: db.prepare(
        'SELECT id, version_key, is_prerelease, latest_default, latest_any FROM components ' +
          'WHERE name = ? AND (latest_default = 1 OR latest_any = 1)',
      ),
      clearLatestDefault: db.prepare('UPDATE components SET latest_default = 0 WHERE id = ?'),
      clearLatestAny: db.prepare('UPDATE components SET latest_any = 0 WHERE id = ?'),
      head: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      oldest: db.prepare('SELECT min(seq) FROM events').pluck(),
      insertEvent: db.prepare(
        'INSERT INTO events (seq, type, time, subject_name, subject_version, subject_digest, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      readEvents: db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      compact: db.prepare('DELETE FROM events WHERE seq <= ?'),
      listEngines: db.prepare('SELECT definition FROM engines ORDER BY name').pluck(),
      getEngine: db.prepare('SELECT definition FROM engines WHERE name = ?').pluck(),
      putEngine: db.prepare(
        'INSERT INTO engines (name, definition) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition',
      ),
      deleteEngine: db.prepare('DELETE FROM engines WHERE name = ?'),
      getState: db.prepare('SELECT value FROM state WHERE key = ?').pluck(),
      putState: db.prepare(
        'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      acquireLease: db.prepare(
        'INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ' +
          'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at ' +
          'WHERE leases.holder = ? OR leases.expires_at <= ?',
      ),
      releaseLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
      insertToken: db.prepare(
        'INSERT INTO tokens (id, name, sha256, scopes, names, created_at, expires_at, last_used_at) ' +
          'VALUES (@id, @name, @sha256, @scopes, @names, @created_at, @expires_at, @last_used_at)',
      ),
      getToken: db.prepare('SELECT * FROM tokens WHERE id = ?'),
      listTokens: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
      deleteToken: db.prepare('DELETE FROM tokens WHERE id = ?'),
      touchToken: db.prepare(
        'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
      ),
      insertAudit: db.prepare(
        'INSERT INTO audit (id, time, actor, action, subject, request_id, ip, outcome, details) ' +
          'VALUES (@id, @time, @actor, @action, @subject, @request_id, @ip, @outcome, @details)',
      ),
      pruneAudit: db.prepare('DELETE FROM audit WHERE time < ?'),
      insertChangeset: db.prepare(
        'INSERT INTO changesets (id, time, actor, message, revision, items) VALUES (@id, @time, @actor, @message, @revision, @items)',
      ),
      getChangeset: db.prepare('SELECT * FROM changesets WHERE id = ?'),
      ping: db.prepare('SELECT 1'),
    };
  }

  /** Appends the event `build` makes from the next sequence and the current time. */
  private readonly appendTx = this.lazyTransaction((build: (id: number, time: string) => CatalogEvent) => {
    const event = build(this.head() + 1, this.clock.now().toISOString());
    this.insertEvent(event);
    return event;
  });

  /** Runs inside the event's transaction, so the state and its event commit together. */
  private applyStateChange(change: StateChange | undefined): void {
    if (!change) return;
    const s = this.stmts;
    if (change.kind === 'state') s.putState.run(change.key, JSON.stringify(change.value ?? null));
    else if (change.kind === 'engine_put') s.putEngine.run(change.engine.name, JSON.stringify(change.engine));
    else if (s.deleteEngine.run(change.name).changes === 0) {
      throw engineNotFound(COMPONENT, 'AppendEvent', change.name);
    }
  }

  private readonly creates = new GroupCommitter<PendingCreate, WriteOutcome>({
    run: (items) => {
      try {
        return this.createBatchTx.immediate(items);
      } catch (err) {
        throw NestorError.is(err) ? err : storageFailure(COMPONENT, 'CreateComponent', err);
      }
    },
  });

  /**
   * One transaction for a batch of creates. Each runs as a nested transaction, which better-sqlite3
   * makes a savepoint: a create that throws is rolled back alone, and the next one takes the
   * sequence it would have had.
   */
  private readonly createBatchTx = this.lazyTransaction((items: readonly PendingCreate[]): Settled<WriteOutcome>[] => {
    // The head is read once: inside the IMMEDIATE transaction only this batch appends, and an item
    // rolled back to its savepoint leaves it where it was.
    let head = this.head();
    return items.map(({ component, conditions }): Settled<WriteOutcome> => {
      try {
        const outcome = this.createTx.immediate(component, conditions, head);
        if (outcome.event) head = outcome.event.id;
        return { ok: true, value: outcome };
      } catch (err) {
        return { ok: false, error: NestorError.is(err) ? err : storageFailure(COMPONENT, 'CreateComponent', err) };
      }
    });
  });

  private readonly createTx = this.lazyTransaction(
    (component: NewComponent, conditions: CreateConditions, head: number): WriteOutcome => {
      const s = this.stmts;
      // Read inside the IMMEDIATE transaction: no other connection can write until it commits.
      const current =
        conditions.expectedVersionSet === undefined
          ? undefined
          : (s.versionSet.all(component.name) as { version: string; digest: string }[]);
      // With the name's versions at hand, a new version (the usual create) needs no lookup of its own.
      const existing =
        current && !current.some((v) => v.version === component.version)
          ? undefined
          : (s.getComponent.get(component.name, component.version) as string | undefined);
      if (existing !== undefined) {
        const stored = JSON.parse(existing) as ComponentDefinition;
        if (isResubmission(COMPONENT, stored, component)) return { component: stored, event: null };
      }
      if (current && versionSetTag(current) !== conditions.expectedVersionSet) {
        throw versionSetChanged(COMPONENT, component.name, component.version);
      }
      const id = head + 1;
      const now = this.clock.now().toISOString();
      const stored = newDefinition(component, now, id);
      const definition = JSON.stringify(stored);
      if (!isStrictVersion(stored.version)) {
        // Callers validate first (the manager does); a store cannot order what is not semver.
        throw invalidRequest(COMPONENT, 'CreateComponent', `"${stored.version}" is not a strict semver version`, {
          field: 'version',
        });
      }
      this.insertVersion(stored, definition);
      const event = componentEvent(id, 'component.created', now, stored);
      // The event's data is `{ component }`: its JSON is the definition's, already serialised.
      this.insertEvent(event, `{"component":${definition}}`);
      if (conditions.audit) s.insertAudit.run(auditRow(conditions.audit));
      return { component: JSON.parse(definition) as ComponentDefinition, event };
    },
  );

  /** Every member, its event, the record and the audit entry: one IMMEDIATE transaction. */
  private readonly changesetTx = this.lazyTransaction((write: ChangesetWrite): ChangesetOutcome => {
    const s = this.stmts;
    const find = (name: string, version: string) => {
      const json = s.getComponent.get(name, version) as string | undefined;
      return json === undefined ? undefined : (JSON.parse(json) as ComponentDefinition);
    };
    const statuses = changesetStatuses(COMPONENT, write.members, find);
    if (!statuses.includes('created')) {
      return {
        changeset: null,
        components: write.members.map((m) => find(m.name, m.version) as ComponentDefinition),
        events: [],
      };
    }
    // Read inside the IMMEDIATE transaction: no other connection can write until it commits.
    changesetSetMoved(COMPONENT, write, (name) => s.versionSet.all(name) as { version: string; digest: string }[]);
    const now = this.clock.now().toISOString();
    const components: ComponentDefinition[] = [];
    const events: CatalogEvent[] = [];
    write.members.forEach((member, i) => {
      if (statuses[i] === 'unchanged') {
        components.push(find(member.name, member.version) as ComponentDefinition);
        return;
      }
      const stored = newDefinition(member, now, this.head() + 1);
      const definition = JSON.stringify(stored);
      this.insertVersion(stored, definition);
      const event = changesetEvent(stored.revision, now, stored, write.id);
      this.insertEvent(event);
      components.push(JSON.parse(definition) as ComponentDefinition);
      events.push(event);
    });
    const record = changesetRecord(write, now, this.head(), statuses);
    s.insertChangeset.run(changesetRow(record));
    if (write.audit) s.insertAudit.run(auditRow(write.audit));
    return { changeset: record, components, events };
  });

  private readonly updateTx = this.lazyTransaction(
    (name: string, version: string, patch: ComponentPatch, conditions: UpdateConditions): WriteOutcome => {
      const s = this.stmts;
      const row = s.getRow.get(name, version) as ComponentRow | undefined;
      if (!row) {
        throw componentNotFound(COMPONENT, 'UpdateComponent', name, version);
      }
      const current = JSON.parse(row.definition) as ComponentDefinition;
      if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
      const now = this.clock.now().toISOString();
      const { next, changed, type } = applyPatch(current, patch, now);
      if (changed.length === 0) return { component: current, event: null };
      next.revision = this.head() + 1;
      const definition = JSON.stringify(next);
      s.updateComponent.run(definition, row.id);
      const event = componentEvent(next.revision, type as EventType, now, next, changed);
      this.insertEvent(event);
      if (conditions.audit) s.insertAudit.run(auditRow(conditions.audit));
      return { component: JSON.parse(definition) as ComponentDefinition, event };
    },
  );

  private readonly lifecycleTx = this.lazyTransaction(
    (name: string, version: string, change: LifecycleChange, conditions: UpdateConditions): WriteOutcome => {
      const s = this.stmts;
      const row = s.getRow.get(name, version) as ComponentRow | undefined;
      if (!row) throw componentNotFound(COMPONENT, 'ChangeLifecycle', name, version);
      const current = withLifecycle(JSON.parse(row.definition) as ComponentDefinition);
      if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
      const now = this.clock.now().toISOString();
      const applied = applyLifecycle(COMPONENT, current, change, now);
      if (!applied) return { component: current, event: null };
      const next: ComponentDefinition = { ...applied.next, revision: this.head() + 1 };
      const definition = JSON.stringify(next);
      s.updateLifecycle.run(deletedAt(next), definition, row.id);
      if (change.kind === 'purge') {
        // The tombstone keeps no content: nothing may find it through an index any more.
        s.deleteDependencies.run(row.id);
      }
      this.refreshLatest(name);
      const event = componentEvent(next.revision, applied.type, now, next, applied.changed);
      this.insertEvent(event);
      if (conditions.audit) s.insertAudit.run(auditRow(conditions.audit));
      return { component: JSON.parse(definition) as ComponentDefinition, event };
    },
  );

  /**
   * Sets the latest flags of a name from scratch with the one latest rule (after a lifecycle change
   * made a version eligible or not). Flags are cleared before they are set (one per name).
   */
  private refreshLatest(name: string): void {
    const s = this.stmts;
    const rows = (s.lifecycleRows.all(name) as ComponentRow[]).map((r) => ({
      ...r,
      def: JSON.parse(r.definition) as ComponentDefinition,
    }));
    const records = rows.map((r) => ({
      id: r.id,
      version: r.def.version,
      revoked: r.def.revoked,
      deleted: r.def.deleted,
    }));
    const byDefault = pickLatest(records, false)?.id;
    const any = pickLatest(records, true)?.id;
    for (const r of rows) {
      if (r.latest_default && r.id !== byDefault) s.clearLatestDefault.run(r.id);
      if (r.latest_any && r.id !== any) s.clearLatestAny.run(r.id);
    }
    for (const r of rows) {
      if (!r.latest_default && r.id === byDefault) s.setLatestDefault.run(r.id);
      if (!r.latest_any && r.id === any) s.setLatestAny.run(r.id);
    }
  }

  /** Inserts a stored version with its dependencies. */
  private insertVersion(stored: ComponentDefinition, definition: string): void {
    const s = this.stmts;
    const versionKey = versionSortKey(stored.version);
    const prerelease = isPrerelease(stored.version);
    const latest = this.latestAfterInsert(stored, versionKey);
    const rowId = Number(
      s.insertComponent.run({
        name: stored.name,
        version: stored.version,
        version_key: versionKey,
        is_prerelease: prerelease ? 1 : 0,
        digest: stored.digest,
        latest_default: latest.isDefault ? 1 : 0,
        latest_any: latest.isAny ? 1 : 0,
        deleted_at: deletedAt(stored),
        definition,
      }).lastInsertRowid,
    );
    stored.dependencies.forEach((d, i) => {
      s.insertDependency.run(rowId, i, d.name, d.version_range);
    });
  }

  private readonly importTx = this.lazyTransaction((component: ComponentDefinition): void => {
    if (this.stmts.getComponent.get(component.name, component.version) !== undefined) {
      throw versionConflict(COMPONENT, 'ImportComponent', component.name, component.version);
    }
    const stored = withLifecycle(component);
    this.insertVersion(stored, JSON.stringify(stored));
  });

  private readonly advanceHeadTx = this.lazyTransaction((sequence: number): void => {
    if (sequence <= this.head()) return;
    // AUTOINCREMENT hands out max(seq in sqlite_sequence, max rowid) + 1: raising the recorded
    // value is what keeps imported positions from being reused.
    const updated = this.db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(sequence);
    if (updated.changes === 0)
      this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(sequence);
  });

  /**
   * Decides whether a version about to be inserted becomes the latest (without and with
   * prereleases) and, when it does, takes the flag away from the version that held it. The flag is
   * cleared first because the partial unique indexes allow one per name.
   */
  private latestAfterInsert(stored: ComponentDefinition, versionKey: string): { isDefault: boolean; isAny: boolean } {
    const s = this.stmts;
    const rows = s.currentLatest.all(stored.name) as LatestRow[];
    const byDefault = rows.find((r) => r.latest_default === 1);
    const any = rows.find((r) => r.latest_any === 1);
    const takes = (holder: LatestRow | undefined, includePrerelease: boolean) =>
      takesLatest(
        stored,
        holder && { prerelease: holder.is_prerelease === 1 },
        holder !== undefined && versionKey > holder.version_key,
        includePrerelease,
      );
    const isAny = takes(any, true);
    const isDefault = takes(byDefault, false);
    if (isDefault && byDefault) s.clearLatestDefault.run(byDefault.id);
    if (isAny && any) s.clearLatestAny.run(any.id);
    return { isDefault, isAny };
  }

  /** `data` is `JSON.stringify(event.data)` when the caller holds it already. */
  private insertEvent(event: CatalogEvent, data = JSON.stringify(event.data)): void {
    this.stmts.insertEvent.run(
      event.id,
      event.type,
      event.time,
      event.subject.name,
      event.subject.version,
      event.subject.digest,
      data,
    );
  }

  /**
   * A transaction whose function is wrapped on first use: class fields initialise before the
   * constructor body opens the database.
   */
  private lazyTransaction<A extends unknown[], R>(fn: (...args: A) => R): { immediate: (...args: A) => R } {
    let tx: Database.Transaction<(...args: A) => R> | null = null;
    return {
      immediate: (...args: A) => {
        tx ??= this.db.transaction(fn);
        return tx.immediate(...args);
      },
    };
  }
}

/** The `deleted_at` column: set while the version is deleted and not yet purged. */
function deletedAt(c: ComponentDefinition): string | null {
  return c.deleted && !c.deleted.purged_at ? c.deleted.at : null;
}

function toEvent(row: EventRow): CatalogEvent {
  return {
    id: row.seq,
    type: row.type as EventType,
    time: row.time,
    subject: { name: row.subject_name, version: row.subject_version, digest: row.subject_digest },
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}
