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
import pg from 'pg';
import { type Clock, systemClock } from '../../observability/clock.js';
import { type AuditRow, auditPage, auditRow, auditWhere, fromAuditRow } from '../audit-records.js';
import { decodeListCursor, listCursor } from '../cursor.js';
import { componentNotFound, engineNotFound, tokenConflict, versionConflict } from '../errors.js';
import type {
  AuditEntry,
  AuditQuery,
  CatalogImporter,
  CatalogStore,
  CreateConditions,
  DeletedRef,
  DependentRef,
  LifecycleChange,
  ListQuery,
  NewComponent,
  Page,
  SchemaMigrations,
  StateChange,
  StoredJson,
  StoredToken,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import { pickLatest, takesLatest } from '../latest-rule.js';
import {
  applyLifecycle,
  applyPatch,
  componentEvent,
  failsRevision,
  isResubmission,
  newDefinition,
  revisionMismatch,
  versionSetChanged,
  versionSetTag,
  withLifecycle,
} from '../records.js';
import { storedJson } from '../stored-json.js';
import { fromTokenRow, type TokenRow, tokenRow } from '../token-rows.js';
import { migrations as allMigrations } from './migrations/index.js';
import type { Migration } from './migrations/migration.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  /** Schema holding every table; created by `migrate()`. Lower-case letters, digits and `_`. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Server-side limit of one statement (default 30 000 ms). */
  statementTimeoutMs?: number;
  /** How long `open` keeps retrying an unreachable database before giving up (default 30 000 ms); `connecting` never gives up. */
  connectTimeoutMs?: number;
  clock?: Clock;
  /** Apply pending migrations in `open` (default true); otherwise the schema must be current. */
  migrate?: boolean;
  /** Migrations to apply instead of the built-in ones (tests of the migration runner). */
  migrations?: readonly Migration[];
  /** Told about each failed attempt while `open` (or `connecting`) waits for the database. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Told once when a store made by `connecting` has reached the database and checked its schema. */
  onReady?: (attempts: number) => void;
}

/** The longest pause between two attempts of `connecting` to reach the database. */
const MAX_CONNECT_RETRY_MS = 30_000;

export interface MigrationOutcome {
  applied: string[];
  version: number;
}

interface ComponentRow {
  id: number;
  definition: string;
  latest_default: boolean;
  latest_any: boolean;
}

interface LatestRow {
  id: number;
  version_key: string;
  is_prerelease: boolean;
  latest_default: boolean;
  latest_any: boolean;
}

interface EventRow {
  seq: number;
  type: string;
  time: string;
  subject_name: string;
  subject_version: string | null;
  subject_digest: string | null;
  data: string;
}

type Querier = Pick<pg.ClientBase, 'query'>;

const COMPONENT = 'storage.postgres';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,50}$/;
const INT8_OID = 20;

/**
 * CatalogStore on PostgreSQL (node-postgres pool). Every write runs in one transaction that first
 * locks the single `event_head` row: writes serialise as they do on SQLite, so "latest" flags and
 * conflicts need no further locking, and events become visible strictly in sequence order. The
 * transaction also NOTIFYs the new head, which PostgreSQL delivers only on commit, so a listener is
 * woken exactly when the event can be read (PostgresChangeFeed).
 */
export class PostgresStore implements CatalogStore, CatalogImporter, SchemaMigrations {
  readonly schema: string;
  /** Channel on which every committed append is announced with its sequence. */
  readonly channel: string;
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly migrationList: readonly Migration[];
  private closed = false;
  /** Migrations `open` applied, reported by the next `migrate()` (as `nestor migrate` prints). */
  private appliedAtOpen: string[] = [];
  /**
   * Set while a store made by `connecting` has not yet reached the database and checked its
   * schema: every operation then fails at once with `storage_failure` saying why.
   */
  private pending: { attempt: number; error: unknown } | null = null;
  private wakeRetry: (() => void) | null = null;
  private settleReady: ((ready: boolean) => void) | null = null;
  private readonly readyPromise = new Promise<boolean>((resolve) => {
    this.settleReady = resolve;
  });

  constructor(opts: PostgresStoreOptions) {
    this.schema = opts.schema ?? 'nestor';
    if (!SCHEMA_PATTERN.test(this.schema)) {
      throw invalidRequest(
        COMPONENT,
        'Open',
        `schema "${this.schema}" must be lower-case letters, digits and _ (at most 51)`,
        { field: 'store.schema' },
      );
    }
    this.channel = `nestor_events_${this.schema}`;
    this.clock = opts.clock ?? systemClock;
    this.migrationList = opts.migrations ?? allMigrations;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: `nestor:${this.schema}`,
      options: `-c search_path=${this.schema}`,
      // Sequences and ids are bigint; they stay far below 2^53, so numbers are exact.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection the server drops (restart, pg_terminate_backend) must not crash the
    // process: the pool discards it and the next query opens a new one.
    this.pool.on('error', () => {});
  }

  /**
   * Opens the store: waits for the database (retrying with backoff up to `connectTimeoutMs`), then
   * applies pending migrations or, with `migrate: false`, checks that the schema is current.
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    try {
      await store.waitForDatabase(opts.connectTimeoutMs ?? 30_000, opts.onRetry);
      if (opts.migrate === false) await store.checkSchema();
      else store.appliedAtOpen = (await store.migrate()).applied;
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /**
   * Returns at once a store that reaches the database in the background: it retries with
   * exponential backoff (250 ms doubling up to `MAX_CONNECT_RETRY_MS`, never giving up) until the
   * database answers and migrations are applied (or, with `migrate: false`, the schema is current).
   * Meanwhile every operation, `ping` included, fails with `storage_failure` naming the last error,
   * so a server can listen and report itself unready instead of exiting. Resolves once the first
   * attempt has ended either way, so a reachable database is ready when this returns.
   */
  static async connecting(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    store.pending = { attempt: 0, error: new Error('the first connection attempt is under way') };
    await new Promise<void>((firstAttemptEnded) => void store.reachInBackground(opts, firstAttemptEnded));
    return store;
  }

  /** True once the store can serve operations (always, for a store made by `open`). */
  isReady(): boolean {
    return this.pending === null;
  }

  /** Resolves true once the store can serve operations, false if it is closed before that. */
  whenReady(): Promise<boolean> {
    return this.pending === null ? Promise.resolve(!this.closed) : this.readyPromise;
  }

  private async reachInBackground(opts: PostgresStoreOptions, attemptEnded: () => void): Promise<void> {
    for (let attempt = 1, delay = 250; !this.closed; attempt++, delay = Math.min(delay * 2, MAX_CONNECT_RETRY_MS)) {
      try {
        await this.pool.query('SELECT 1');
        if (opts.migrate === false) await this.checkSchema();
        else this.appliedAtOpen = (await this.migrate()).applied;
        if (this.closed) return attemptEnded();
        this.pending = null;
        opts.onReady?.(attempt);
        this.settleReady?.(true);
        attemptEnded();
        return;
      } catch (err) {
        if (this.closed) return attemptEnded();
        this.pending = { attempt, error: err };
        opts.onRetry?.(err, attempt, delay);
        attemptEnded();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = null;
      }
    }
  }

  /** Throws while the background connection of `connecting` has not succeeded yet. */
  private refuseWhilePending(operation: string): void {
    if (this.pending === null) return;
    const { attempt, error } = this.pending;
    const reason = NestorError.is(error) || error instanceof Error ? error.message : String(error);
    throw create('storage_failure')
      .component(COMPONENT)
      .operation(operation)
      .message(
        attempt === 0
          ? 'PostgreSQL is not reachable yet: connecting'
          : `PostgreSQL is not reachable yet (${attempt} attempts; still retrying): ${reason}`,
      )
      .cause(error)
      .build();
  }

  /**
   * Creates or upgrades the schema. A session advisory lock per schema makes concurrent runs
   * (two replicas starting, `nestor migrate` twice) queue: one applies, the others then find
   * nothing to do. A schema newer than this program refuses to run.
   */
  async migrate(): Promise<MigrationOutcome> {
    const client = await this.connect('Migrate');
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`nestor-migrate:${this.schema}`]);
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.schema}.schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`,
        );
        const done = new Set(
          (await client.query<{ id: number }>(`SELECT id FROM ${this.schema}.schema_migrations`)).rows.map((r) => r.id),
        );
        this.refuseNewer(Math.max(0, ...done));
        const applied: string[] = [];
        for (const m of [...this.migrationList].sort((a, b) => a.id - b.id)) {
          if (done.has(m.id)) continue;
          await client.query('BEGIN');
          try {
            await client.query(`SET LOCAL search_path TO ${this.schema}`);
            await client.query(m.sql);
            await client.query(
              `INSERT INTO ${this.schema}.schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)`,
              [m.id, m.name, this.clock.now().toISOString()],
            );
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {});
            throw err;
          }
          applied.push(`${String(m.id).padStart(3, '0')}-${m.name}`);
        }
        const before = this.appliedAtOpen;
        this.appliedAtOpen = [];
        return {
          applied: [...before, ...applied],
          version: Math.max(0, ...done, ...this.migrationList.map((m) => m.id)),
        };
      } finally {
        await client
          .query('SELECT pg_advisory_unlock(hashtext($1))', [`nestor-migrate:${this.schema}`])
          .catch(() => {});
      }
    } catch (err) {
      broken = err as Error;
      throw NestorError.is(err) ? err : storageFailure(COMPONENT, 'Migrate', err);
    } finally {
      client.release(broken !== undefined && isConnectionError(broken) ? broken : undefined);
    }
  }

  getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    return this.read('GetComponent', async (q) => {
      const { rows } = await q.query<{ definition: string }>(
        'SELECT definition FROM components WHERE name = $1 AND version = $2',
        [name, version],
      );
      return rows[0] ? (JSON.parse(rows[0].definition) as ComponentDefinition) : null;
    });
  }

  getLatestComponent(name: string, opts: { includePrerelease?: boolean } = {}): Promise<ComponentDefinition | null> {
    return this.read('GetLatestComponent', async (q) => {
      const { rows } = await q.query<{ definition: string }>(
        `SELECT definition FROM components WHERE name = $1 AND ${latestFlag(opts)}`,
        [name],
      );
      return rows[0] ? (JSON.parse(rows[0].definition) as ComponentDefinition) : null;
    });
  }

  getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    return this.read('GetComponentJson', async (q) => {
      const { rows } = await q.query<{ definition: string }>(
        'SELECT definition FROM components WHERE name = $1 AND version = $2',
        [name, version],
      );
      return rows[0] ? storedJson(rows[0].definition) : null;
    });
  }

  getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    return this.read('GetLatestComponentJson', async (q) => {
      const { rows } = await q.query<{ definition: string }>(
        `SELECT definition FROM components WHERE name = $1 AND ${latestFlag(opts)}`,
        [name],
      );
      return rows[0] ? storedJson(rows[0].definition) : null;
    });
  }

  listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    return this.read('ListComponents', async (q) => {
      const after = decodeListCursor(query.cursor);
      const { rows } = await q.query<{ definition: string }>(
        `SELECT definition FROM components WHERE ${latestFlag(query)} AND name > $1 ORDER BY name LIMIT $2`,
        [after, query.limit + 1],
      );
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit).map((r) => JSON.parse(r.definition) as ComponentDefinition);
      const last = items.at(-1);
      return { items, nextCursor: more && last ? listCursor(last.name) : null };
    });
  }

  getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    return this.read('GetComponentVersions', async (q) => {
      const { rows } = await q.query<{ definition: string }>(
        'SELECT definition FROM components WHERE name = $1 ORDER BY version_key DESC',
        [name],
      );
      return rows.map((r) => JSON.parse(r.definition) as ComponentDefinition);
    });
  }

  listComponentNames(): Promise<string[]> {
    return this.read('ListComponentNames', async (q) => {
      const { rows } = await q.query<{ name: string }>('SELECT name FROM components WHERE latest_any ORDER BY name');
      return rows.map((r) => r.name);
    });
  }

  getDependents(name: string): Promise<DependentRef[]> {
    return this.read('GetDependents', async (q) => {
      const { rows } = await q.query<DependentRef & { id: number }>(
        'SELECT c.id, c.name, c.version, d.version_range FROM dependencies d JOIN components c ON c.id = d.component_id ' +
          'WHERE d.dep_name = $1 ORDER BY c.name, c.version_key, d.position',
        [name],
      );
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

  createComponent(component: NewComponent, conditions: CreateConditions = {}): Promise<WriteOutcome> {
    return this.write<WriteOutcome>('CreateComponent', async (q, id) => {
      const existing = await q.query<{ definition: string }>(
        'SELECT definition FROM components WHERE name = $1 AND version = $2',
        [component.name, component.version],
      );
      if (existing.rows[0]) {
        const stored = JSON.parse(existing.rows[0].definition) as ComponentDefinition;
        if (isResubmission(COMPONENT, stored, component))
          return { result: { component: stored, event: null }, event: null };
      }
      if (conditions.expectedVersionSet !== undefined) {
        // Read under the head-row lock that every write takes first: no other write can commit
        // between this read and ours.
        const current = await q.query<{ version: string; digest: string }>(
          'SELECT version, digest FROM components WHERE name = $1',
          [component.name],
        );
        if (versionSetTag(current.rows) !== conditions.expectedVersionSet) {
          throw versionSetChanged(COMPONENT, component.name, component.version);
        }
      }
      const now = this.clock.now().toISOString();
      const stored = newDefinition(component, now, id);
      if (!isStrictVersion(stored.version)) {
        throw invalidRequest(COMPONENT, 'CreateComponent', `"${stored.version}" is not a strict semver version`, {
          field: 'version',
        });
      }
      const definition = await insertVersion(q, stored);
      const event = componentEvent(id, 'component.created', now, stored);
      if (conditions.audit) await insertAudit(q, conditions.audit);
      return { result: { component: JSON.parse(definition) as ComponentDefinition, event }, event };
    });
  }

  updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.write<WriteOutcome>('UpdateComponent', async (q, id) => {
      const { rows } = await q.query<ComponentRow>(
        'SELECT id, definition, latest_default, latest_any FROM components WHERE name = $1 AND version = $2',
        [name, version],
      );
      const row = rows[0];
      if (!row) {
        throw componentNotFound(COMPONENT, 'UpdateComponent', name, version);
      }
      const current = JSON.parse(row.definition) as ComponentDefinition;
      if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
      const now = this.clock.now().toISOString();
      const { next, changed, type } = applyPatch(current, patch, now);
      if (changed.length === 0) return { result: { component: current, event: null }, event: null };
      next.revision = id;
      const definition = JSON.stringify(next);
      await q.query('UPDATE components SET definition = $1 WHERE id = $2', [definition, row.id]);
      const event = componentEvent(id, type as EventType, now, next, changed);
      if (conditions.audit) await insertAudit(q, conditions.audit);
      return { result: { component: JSON.parse(definition) as ComponentDefinition, event }, event };
    });
  }

  changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.write<WriteOutcome>('ChangeLifecycle', async (q, id) => {
      const { rows } = await q.query<ComponentRow>(
        'SELECT id, definition, latest_default, latest_any FROM components WHERE name = $1 AND version = $2',
        [name, version],
      );
      const row = rows[0];
      if (!row) throw componentNotFound(COMPONENT, 'ChangeLifecycle', name, version);
      const current = withLifecycle(JSON.parse(row.definition) as ComponentDefinition);
      if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
      const now = this.clock.now().toISOString();
      const applied = applyLifecycle(COMPONENT, current, change, now);
      if (!applied) return { result: { component: current, event: null }, event: null };
      const next: ComponentDefinition = { ...applied.next, revision: id };
      const definition = JSON.stringify(next);
      await q.query('UPDATE components SET deleted_at = $1, definition = $2 WHERE id = $3', [
        deletedAt(next),
        definition,
        row.id,
      ]);
      // The tombstone of a purge keeps no dependencies: nothing finds it as a dependent any more.
      if (change.kind === 'purge') await q.query('DELETE FROM dependencies WHERE component_id = $1', [row.id]);
      await refreshLatest(q, name);
      const event = componentEvent(id, applied.type, now, next, applied.changed);
      return { result: { component: JSON.parse(definition) as ComponentDefinition, event }, event };
    });
  }

  listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    return this.read('ListDeletedVersions', async (q) => {
      const { rows } = await q.query<DeletedRef>(
        'SELECT name, version, deleted_at AS at FROM components WHERE deleted_at IS NOT NULL AND deleted_at <= $1 ' +
          'ORDER BY deleted_at, name, version_key LIMIT $2',
        [before, Math.max(0, limit)],
      );
      return rows.map((r) => ({ name: r.name, version: r.version, at: r.at }));
    });
  }

  appendEvent(event: NewCatalogEvent, change?: StateChange): Promise<CatalogEvent> {
    return this.write('AppendEvent', async (q, id) => {
      // In the event's transaction, so the state and its event commit together or not at all.
      if (change?.kind === 'state') {
        await q.query(
          'INSERT INTO state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [change.key, JSON.stringify(change.value ?? null)],
        );
      } else if (change?.kind === 'engine_put') {
        await q.query(
          'INSERT INTO engines (name, definition) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition',
          [change.engine.name, JSON.stringify(change.engine)],
        );
      } else if (change?.kind === 'engine_delete') {
        const deleted = await q.query('DELETE FROM engines WHERE name = $1', [change.name]);
        if ((deleted.rowCount ?? 0) === 0) {
          throw engineNotFound(COMPONENT, 'AppendEvent', change.name);
        }
      }
      const stored: CatalogEvent = {
        id,
        type: event.type,
        time: this.clock.now().toISOString(),
        subject: { name: event.subject.name, version: event.subject.version, digest: event.subject.digest },
        data: event.data,
      };
      return { result: stored, event: stored };
    });
  }

  async importComponent(component: ComponentDefinition): Promise<void> {
    const client = await this.connect('ImportComponent');
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await head(client, true);
      const { rows } = await client.query('SELECT 1 FROM components WHERE name = $1 AND version = $2', [
        component.name,
        component.version,
      ]);
      if (rows.length > 0) {
        throw versionConflict(COMPONENT, 'ImportComponent', component.name, component.version);
      }
      await insertVersion(client, withLifecycle(component));
      await client.query('COMMIT');
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw this.failure('ImportComponent', err);
    } finally {
      client.release(broken);
    }
  }

  advanceHead(sequence: number): Promise<void> {
    return this.run('AdvanceHead', async (q) => {
      await q.query('UPDATE event_head SET seq = greatest(seq, $1)', [sequence]);
    });
  }

  readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    return this.read('ReadEvents', async (q) => {
      const { rows } = await q.query<EventRow>('SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [
        after,
        Math.max(0, Math.floor(limit)),
      ]);
      return rows.map(toEvent);
    });
  }

  headSequence(): Promise<number> {
    return this.read('HeadSequence', (q) => head(q));
  }

  oldestSequence(): Promise<number> {
    return this.read('OldestSequence', async (q) => {
      const { rows } = await q.query<{ oldest: number | null; head: number }>(
        'SELECT (SELECT min(seq) FROM events) AS oldest, (SELECT seq FROM event_head) AS head',
      );
      const row = rows[0] as { oldest: number | null; head: number };
      if (row.oldest !== null) return row.oldest;
      return row.head === 0 ? 0 : row.head + 1;
    });
  }

  compactEvents(upTo: number): Promise<number> {
    return this.run(
      'CompactEvents',
      async (q) => (await q.query('DELETE FROM events WHERE seq <= $1', [upTo])).rowCount ?? 0,
    );
  }

  listEngines(): Promise<DeploymentEngine[]> {
    return this.read('ListEngines', async (q) => {
      const { rows } = await q.query<{ definition: string }>('SELECT definition FROM engines ORDER BY name');
      return rows.map((r) => JSON.parse(r.definition) as DeploymentEngine);
    });
  }

  getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.read('GetEngine', async (q) => {
      const { rows } = await q.query<{ definition: string }>('SELECT definition FROM engines WHERE name = $1', [name]);
      return rows[0] ? (JSON.parse(rows[0].definition) as DeploymentEngine) : null;
    });
  }

  putEngine(engine: DeploymentEngine): Promise<void> {
    return this.run('PutEngine', async (q) => {
      await q.query(
        'INSERT INTO engines (name, definition) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition',
        [engine.name, JSON.stringify(engine)],
      );
    });
  }

  deleteEngine(name: string): Promise<boolean> {
    return this.run(
      'DeleteEngine',
      async (q) => ((await q.query('DELETE FROM engines WHERE name = $1', [name])).rowCount ?? 0) > 0,
    );
  }

  getState(key: string): Promise<unknown | null> {
    return this.read('GetState', async (q) => {
      const { rows } = await q.query<{ value: string }>('SELECT value FROM state WHERE key = $1', [key]);
      return rows[0] ? (JSON.parse(rows[0].value) as unknown) : null;
    });
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.run('PutState', async (q) => {
      await q.query(
        'INSERT INTO state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, JSON.stringify(value ?? null)],
      );
    });
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.run('AcquireLease', async (q) => {
      const now = this.clock.now().getTime();
      // One statement: the row is taken when free, expired or already ours; otherwise untouched.
      const result = await q.query(
        'INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ' +
          'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at ' +
          'WHERE leases.holder = $2 OR leases.expires_at <= $4',
        [name, holder, now + ttlMs, now],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.run('ReleaseLease', async (q) => {
      await q.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
    });
  }

  createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    return this.transaction('CreateToken', async (q) => {
      const r = tokenRow(token);
      try {
        await q.query(
          'INSERT INTO tokens (id, name, sha256, scopes, names, created_at, expires_at, last_used_at) ' +
            'VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [r.id, r.name, r.sha256, r.scopes, r.names, r.created_at, r.expires_at, r.last_used_at],
        );
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw tokenConflict(COMPONENT, 'CreateToken', token.name);
        throw err;
      }
      if (audit) await insertAudit(q, audit);
    });
  }

  getToken(id: string): Promise<StoredToken | null> {
    return this.read('GetToken', async (q) => {
      const { rows } = await q.query<TokenRow>('SELECT * FROM tokens WHERE id = $1', [id]);
      return rows[0] ? fromTokenRow(rows[0]) : null;
    });
  }

  listTokens(): Promise<StoredToken[]> {
    return this.read('ListTokens', async (q) => {
      const { rows } = await q.query<TokenRow>('SELECT * FROM tokens ORDER BY created_at, id');
      return rows.map(fromTokenRow);
    });
  }

  deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.transaction('DeleteToken', async (q) => {
      const deleted = ((await q.query('DELETE FROM tokens WHERE id = $1', [id])).rowCount ?? 0) > 0;
      if (deleted && audit) await insertAudit(q, audit);
      return deleted;
    });
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.run('AppendAudit', async (q) => {
      await insertAudit(q, entry);
    });
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.read('ListAudit', async (q) => {
      const { where, params } = auditWhere(query, (n) => `$${n}`);
      const { rows } = await q.query<AuditRow>(
        `SELECT * FROM audit${where} ORDER BY id DESC LIMIT $${params.length + 1}`,
        [...params, query.limit + 1],
      );
      return auditPage(rows.map(fromAuditRow), query.limit);
    });
  }

  pruneAudit(before: string): Promise<number> {
    return this.run(
      'PruneAudit',
      async (q) => (await q.query('DELETE FROM audit WHERE time < $1', [before])).rowCount ?? 0,
    );
  }

  /** A write without an event (tokens and their audit entries): committed together or not at all. */
  private async transaction<T>(operation: string, work: (q: Querier) => Promise<T>): Promise<T> {
    const client = await this.connect(operation);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw this.failure(operation, err);
    } finally {
      client.release(broken);
    }
  }

  touchToken(id: string, at: string, notBefore: string): Promise<void> {
    return this.run('TouchToken', async (q) => {
      await q.query(
        'UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)',
        [at, id, notBefore],
      );
    });
  }

  ping(): Promise<void> {
    return this.run('Ping', async (q) => {
      await q.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeRetry?.();
    this.settleReady?.(false);
    await this.pool.end().catch(() => {});
  }

  /**
   * One write transaction: locks the log's head row, hands `work` the sequence its event will
   * get, appends that event (and its NOTIFY) and commits. `event: null` means nothing changed: the
   * transaction rolls back and the head stays. Never retried: a failure at COMMIT leaves the outcome
   * unknown, and the caller must see the error rather than a second attempt.
   */
  private async write<T>(
    operation: string,
    work: (q: Querier, id: number) => Promise<{ result: T; event: CatalogEvent | null }>,
  ): Promise<T> {
    const client = await this.connect(operation);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const id = (await head(client, true)) + 1;
      const { result, event } = await work(client, id);
      if (event === null) {
        await client.query('ROLLBACK');
        return result;
      }
      await client.query(
        'WITH e AS (INSERT INTO events (seq, type, time, subject_name, subject_version, subject_digest, data) ' +
          'VALUES ($1, $2, $3, $4, $5, $6, $7)), h AS (UPDATE event_head SET seq = $1) ' +
          'SELECT pg_notify($8, $1::text)',
        [
          event.id,
          event.type,
          event.time,
          event.subject.name,
          event.subject.version,
          event.subject.digest,
          JSON.stringify(event.data),
          this.channel,
        ],
      );
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw this.failure(operation, err);
    } finally {
      client.release(broken);
    }
  }

  /** A read, retried on a dropped connection: repeating it cannot change anything. */
  private async read<T>(operation: string, work: (q: Querier) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.run(operation, work);
      } catch (err) {
        const cause = NestorError.is(err) ? err.cause : err;
        if (attempt >= 3 || this.closed || !isConnectionError(cause)) throw err;
        await sleep(50 * 4 ** (attempt - 1));
      }
    }
  }

  /** One statement on a pooled connection (autocommit). */
  private async run<T>(operation: string, work: (q: Querier) => Promise<T>): Promise<T> {
    if (this.closed) throw storageFailure(COMPONENT, operation, new Error('the store is closed'));
    if (operation !== 'Open') this.refuseWhilePending(operation);
    try {
      return await work(this.pool);
    } catch (err) {
      throw this.failure(operation, err);
    }
  }

  private async connect(operation: string): Promise<pg.PoolClient> {
    if (this.closed) throw storageFailure(COMPONENT, operation, new Error('the store is closed'));
    // Migrating is part of reaching the database, so it runs while the store is still pending.
    if (operation !== 'Migrate') this.refuseWhilePending(operation);
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.failure(operation, err);
    }
  }

  private failure(operation: string, err: unknown): NestorError {
    if (NestorError.is(err)) return err;
    if ((err as { code?: string }).code === '42P01') {
      return create('storage_failure')
        .component(COMPONENT)
        .operation(operation)
        .message(`the PostgreSQL schema "${this.schema}" has no nestor tables; run \`nestor migrate\``)
        .cause(err)
        .build();
    }
    return storageFailure(COMPONENT, operation, err);
  }

  private async waitForDatabase(timeoutMs: number, onRetry?: PostgresStoreOptions['onRetry']): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.pool.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() + delay > deadline) {
          throw create('storage_failure')
            .component(COMPONENT)
            .operation('Open')
            .message(`PostgreSQL is unreachable after ${attempt} attempts: ${(err as Error).message}`)
            .cause(err)
            .build();
        }
        onRetry?.(err, attempt, delay);
        await sleep(delay);
      }
    }
  }

  /** Without migrating: refuses a schema that is missing, older or newer than this program. */
  private async checkSchema(): Promise<void> {
    const newest = await this.run('Open', async (q) => {
      const { rows } = await q.query<{ v: number | null }>(
        `SELECT CASE WHEN to_regclass('${this.schema}.schema_migrations') IS NULL THEN NULL ELSE 0 END AS v`,
      );
      if (rows[0]?.v === null) return 0;
      const r = await q.query<{ v: number | null }>(`SELECT max(id) AS v FROM ${this.schema}.schema_migrations`);
      return r.rows[0]?.v ?? 0;
    });
    this.refuseNewer(newest);
    const known = Math.max(0, ...this.migrationList.map((m) => m.id));
    if (newest < known) {
      throw create('storage_failure')
        .component(COMPONENT)
        .operation('Open')
        .message(
          `the PostgreSQL schema "${this.schema}" is at version ${newest}, ${known} is needed; run \`nestor migrate\``,
        )
        .build();
    }
  }

  private refuseNewer(newest: number): void {
    const known = Math.max(0, ...this.migrationList.map((m) => m.id));
    if (newest > known) {
      throw create('storage_failure')
        .component(COMPONENT)
        .operation('Migrate')
        .message(
          `the database schema "${this.schema}" (version ${newest}) is newer than this program knows (${known}); upgrade nestor`,
        )
        .build();
    }
  }
}

/** Inserts a stored version with its dependencies and moves the latest flags; returns its JSON. */
async function insertVersion(q: Querier, stored: ComponentDefinition): Promise<string> {
  const definition = JSON.stringify(stored);
  const versionKey = versionSortKey(stored.version);
  const prerelease = isPrerelease(stored.version);
  const latest = await latestAfterInsert(q, stored, versionKey);
  const inserted = await q.query<{ id: number }>(
    'INSERT INTO components (name, version, version_key, is_prerelease, digest, latest_default, latest_any, ' +
      'definition, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id',
    [
      stored.name,
      stored.version,
      versionKey,
      prerelease,
      stored.digest,
      latest.isDefault,
      latest.isAny,
      definition,
      deletedAt(stored),
    ],
  );
  const rowId = (inserted.rows[0] as { id: number }).id;
  if (stored.dependencies.length > 0) {
    await q.query(
      'INSERT INTO dependencies (component_id, position, dep_name, version_range) ' +
        'SELECT $1, ord - 1, n, r FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS d(n, r, ord)',
      [rowId, stored.dependencies.map((d) => d.name), stored.dependencies.map((d) => d.version_range)],
    );
  }
  return definition;
}

/** The log's head; `lock` takes the head row for the rest of the transaction (writes only). */
async function head(q: Querier, lock = false): Promise<number> {
  const { rows } = await q.query<{ seq: number }>(`SELECT seq FROM event_head${lock ? ' FOR UPDATE' : ''}`);
  return rows[0]?.seq ?? 0;
}

/**
 * Decides whether a version about to be inserted becomes the latest (without and with
 * prereleases) and takes the flag from the version that held it. Runs under the head lock, so no
 * other write can move the flags meanwhile.
 */
async function latestAfterInsert(
  q: Querier,
  stored: ComponentDefinition,
  versionKey: string,
): Promise<{ isDefault: boolean; isAny: boolean }> {
  const { rows } = await q.query<LatestRow>(
    'SELECT id, version_key, is_prerelease, latest_default, latest_any FROM components ' +
      'WHERE name = $1 AND (latest_default OR latest_any)',
    [stored.name],
  );
  const byDefault = rows.find((r) => r.latest_default);
  const any = rows.find((r) => r.latest_any);
  const takes = (holder: LatestRow | undefined, includePrerelease: boolean) =>
    takesLatest(
      stored,
      holder && { prerelease: holder.is_prerelease },
      holder !== undefined && versionKey > holder.version_key,
      includePrerelease,
    );
  const isAny = takes(any, true);
  const isDefault = takes(byDefault, false);
  if (isDefault && byDefault)
    await q.query('UPDATE components SET latest_default = false WHERE id = $1', [byDefault.id]);
  if (isAny && any) await q.query('UPDATE components SET latest_any = false WHERE id = $1', [any.id]);
  return { isDefault, isAny };
}

/**
 * Sets a name's latest flags from scratch with the one latest rule, after a lifecycle change made a
 * version eligible or not. Runs under the head lock; flags are cleared before they are set (the
 * unique partial indexes allow one per name).
 */
async function refreshLatest(q: Querier, name: string): Promise<void> {
  const { rows } = await q.query<{ id: number; definition: string; latest_default: boolean; latest_any: boolean }>(
    'SELECT id, definition, latest_default, latest_any FROM components WHERE name = $1 ORDER BY version_key DESC',
    [name],
  );
  const records = rows.map((r) => {
    const d = JSON.parse(r.definition) as ComponentDefinition;
    return { id: r.id, version: d.version, revoked: d.revoked, deleted: d.deleted };
  });
  const byDefault = pickLatest(records, false)?.id;
  const any = pickLatest(records, true)?.id;
  const clearDefault = rows.filter((r) => r.latest_default && r.id !== byDefault).map((r) => r.id);
  const clearAny = rows.filter((r) => r.latest_any && r.id !== any).map((r) => r.id);
  if (clearDefault.length > 0)
    await q.query('UPDATE components SET latest_default = false WHERE id = ANY($1)', [clearDefault]);
  if (clearAny.length > 0) await q.query('UPDATE components SET latest_any = false WHERE id = ANY($1)', [clearAny]);
  if (byDefault !== undefined && !rows.find((r) => r.id === byDefault)?.latest_default)
    await q.query('UPDATE components SET latest_default = true WHERE id = $1', [byDefault]);
  if (any !== undefined && !rows.find((r) => r.id === any)?.latest_any)
    await q.query('UPDATE components SET latest_any = true WHERE id = $1', [any]);
}

/** The `deleted_at` column: set while the version is deleted and not yet purged. */
function deletedAt(c: ComponentDefinition): string | null {
  return c.deleted && !c.deleted.purged_at ? c.deleted.at : null;
}

function latestFlag(query: { includePrerelease?: boolean | undefined }): string {
  return query.includePrerelease ? 'latest_any' : 'latest_default';
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

/**
 * Errors after which the connection is gone: the server ended it (57P01 admin shutdown, 57P02/3),
 * a connection exception class (08...), or the socket itself failed.
 */
function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) {
    return true;
  }
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) {
    return true;
  }
  const message = (err as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function insertAudit(q: Querier, entry: AuditEntry): Promise<void> {
  const r = auditRow(entry);
  await q.query(
    'INSERT INTO audit (id, time, actor, action, subject, request_id, ip, outcome, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [r.id, r.time, r.actor, r.action, r.subject, r.request_id, r.ip, r.outcome, r.details],
  );
}
