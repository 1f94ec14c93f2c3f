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
import { READ_AHEAD_ROWS, READ_AHEAD_STEP } from '../read-ahead.js';
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
import { ReadBatcher } from './read-batch.js';

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
  /**
   * From how many stored rows (versions) `readAheadListed` reads ahead (default 10 000): below it a
   * cold walk of them is quick.
   */
  readAheadRows?: number;
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

/** A create waiting for the group commit. */
interface PendingCreate {
  component: NewComponent;
  conditions: CreateConditions;
}

/** A version of the name being created, as the create reads it (the definition only of its own version). */
interface NameRow extends LatestRow {
  version: string;
  digest: string;
  definition: string | null;
}

const COMPONENT = 'storage.postgres';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,50}$/;
const INT8_OID = 20;
/**
 * Connections of the point-read pool: each batcher sends at most two statements at once, and a
 * server mostly reads one kind (exact, or latest) at a time; a third kind's statements wait a turn.
 */
const POINT_READ_CONNECTIONS = 4;

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
  private readonly readAheadRows: number;
  /**
   * Connections for the batched point reads (exact and latest) alone, which keep one plan per
   * statement: PostgreSQL otherwise plans a prepared statement anew on every execution while it
   * judges custom plans cheaper (an array parameter of unknown length makes the generic plan look
   * dear), and planning was half the database's work of a batched read (pgbench, the 4-key exact
   * read: 21 000 executions/s planned each time, 40 000 with the plan kept). The plan is the same
   * nested loop of index scans for any batch. Every other statement keeps the default, which plans
   * with the parameters' values where that pays.
   */
  private readonly pointPool: pg.Pool;
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
  /**
   * Point reads (exact, latest) of concurrent requests share a statement (read-batch.ts): under
   * load one round trip answers many of them.
   */
  private readonly exactReads = new ReadBatcher<{ name: string; version: string }, string | null>({
    run: (keys) => this.readExact(keys),
  });
  private readonly latestReads: Record<LatestFlag, ReadBatcher<string, string | null>> = {
    latest_default: new ReadBatcher({ run: (names) => this.readLatest('latest_default', names) }),
    latest_any: new ReadBatcher({ run: (names) => this.readLatest('latest_any', names) }),
  };
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
    const pool = (max: number, options: string) => {
      const made = new pg.Pool({
        connectionString: opts.url,
        max,
        statement_timeout: opts.statementTimeoutMs ?? 30_000,
        connectionTimeoutMillis: 10_000,
        idleTimeoutMillis: 30_000,
        application_name: `nestor:${this.schema}`,
        options: `-c search_path=${this.schema}${options}`,
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
      made.on('error', () => {});
      return made;
    };
    this.pool = pool(opts.poolSize ?? 10, '');
    this.readAheadRows = opts.readAheadRows ?? READ_AHEAD_ROWS;
    this.pointPool = pool(POINT_READ_CONNECTIONS, ' -c plan_cache_mode=force_generic_plan');
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

  async getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    const text = await this.exactReads.load({ name, version });
    return text === null ? null : (JSON.parse(text) as ComponentDefinition);
  }

  async getLatestComponent(
    name: string,
    opts: { includePrerelease?: boolean } = {},
  ): Promise<ComponentDefinition | null> {
    const text = await this.latestReads[latestFlag(opts)].load(name);
    return text === null ? null : (JSON.parse(text) as ComponentDefinition);
  }

  async getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    const text = await this.exactReads.load({ name, version });
    return text === null ? null : storedJson(text);
  }

  async getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    const text = await this.latestReads[latestFlag(opts)].load(name);
    return text === null ? null : storedJson(text);
  }

  /** Definitions of (name, version) pairs in one prepared statement (on `pointPool`), in the pairs' order. */
  private readExact(keys: readonly { name: string; version: string }[]): Promise<(string | null)[]> {
    return this.read(
      'GetComponent',
      async (q) => {
        const { rows } = await q.query<{ i: number; definition: string }>({
          name: 'nestor_get_exact',
          text:
            'SELECT k.i, c.definition FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(name, version, i) ' +
            'JOIN components c ON c.name = k.name AND c.version = k.version',
          values: [keys.map((k) => k.name), keys.map((k) => k.version)],
        });
        return byOrdinal(keys.length, rows);
      },
      this.pointPool,
    );
  }

  /** Latest definitions of names in one prepared statement (on `pointPool`), in the names' order. */
  private readLatest(flag: LatestFlag, names: readonly string[]): Promise<(string | null)[]> {
    return this.read(
      'GetLatestComponent',
      async (q) => {
        const { rows } = await q.query<{ i: number; definition: string }>({
          name: `nestor_get_${flag}`,
          text:
            'SELECT k.i, c.definition FROM unnest($1::text[]) WITH ORDINALITY AS k(name, i) ' +
            `JOIN components c ON c.name = k.name AND c.${flag}`,
          values: [names],
        });
        return byOrdinal(names.length, rows);
      },
      this.pointPool,
    );
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    return parsedPage(await this.listComponentsJson(query));
  }

  /**
   * A step of rowids at a time on the pool, past `readAheadRows` stored rows, while the walk reads
   * on other connections; it stops at the next step once told to. A failure only leaves the walk to
   * read as it would have.
   */
  readAheadListed(): ReadAhead {
    let stopped = false;
    const read = async (): Promise<boolean> => {
      const { rows } = await this.pool.query<{ last: string | null }>('SELECT max(id) AS last FROM components');
      const last = Number(rows[0]?.last ?? 0);
      if (last < this.readAheadRows) return false;
      for (let from = 0; from < last; from += READ_AHEAD_STEP) {
        if (stopped) return false;
        // `pg_column_size` reads each row's page without decompressing its definition: `length`
        // cost the server 0.55 s of CPU for the 110 000 rows against 0.33 s, and on a machine the
        // server shares with the orchestrator, that CPU was taken from the walk (warm start-up
        // +0.5 s against +0.2 s).
        await this.pool.query(
          'SELECT sum(pg_column_size(definition)) FROM components WHERE latest_any AND id > $1 AND id <= $2',
          [from, from + READ_AHEAD_STEP],
        );
      }
      return true;
    };
    return {
      stop: () => {
        stopped = true;
      },
      done: read().catch(() => false),
    };
  }

  listComponentsJson(query: ListQuery): Promise<Page<string>> {
    return this.read('ListComponents', async (q) => {
      const after = decodeListCursor(query.cursor);
      const { rows } = await q.query<{ name: string; definition: string }>(
        `SELECT name, definition FROM components WHERE ${latestFlag(query)} AND name > $1 ORDER BY name LIMIT $2`,
        [after, query.limit + 1],
      );
      const more = rows.length > query.limit;
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { items: page.map((r) => r.definition), nextCursor: more && last ? listCursor(last.name) : null };
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

  /**
   * Joins the group commit: creates that reach the store in one turn of the event loop, or while a
   * batch is being written, share one transaction (docs/decisions.md 27).
   */
  createComponent(component: NewComponent, conditions: CreateConditions = {}): Promise<WriteOutcome> {
    return this.creates.submit({ component, conditions });
  }

  private readonly creates = new GroupCommitter<PendingCreate, WriteOutcome>({
    run: (items) => this.createBatch(items),
    // Keeps a batch's hold on the head row, and the wait of the first item in it, short.
    maxBatch: 32,
  });

  /**
   * Writes a batch of creates in one transaction under the head-row lock, in order, each taking
   * the next sequence. An item refused by the store's checks (conflict, stale version set) is found
   * from its read, before it writes anything. An item whose statement fails aborts the transaction
   * (PostgreSQL's rule): the batch is rolled back and written again without it — the equivalent of
   * a savepoint per item, without the two round trips each savepoint would cost every item.
   */
  private async createBatch(items: readonly PendingCreate[]): Promise<Settled<WriteOutcome>[]> {
    const failed = new Map<number, NestorError>();
    for (;;) {
      const client = await this.connect('CreateComponent');
      let broken: Error | undefined;
      let retry = false;
      try {
        // One round trip: simple-protocol statements run in order, the lock's SELECT after BEGIN.
        const opened = (await client.query('BEGIN; SELECT seq FROM event_head FOR UPDATE')) as unknown as [
          pg.QueryResult,
          pg.QueryResult<{ seq: number }>,
        ];
        let head = opened[1].rows[0]?.seq ?? 0;
        const out: Settled<WriteOutcome>[] = [];
        let wrote = false;
        for (const [i, item] of items.entries()) {
          const earlier = failed.get(i);
          if (earlier) {
            out.push({ ok: false, error: earlier });
            continue;
          }
          try {
            const outcome = await this.createOne(client, item, head + 1);
            if (outcome.event) {
              head = outcome.event.id;
              wrote = true;
            }
            out.push({ ok: true, value: outcome });
          } catch (err) {
            if (NestorError.is(err)) {
              out.push({ ok: false, error: err });
              continue;
            }
            if (isConnectionError(err)) throw err;
            failed.set(i, this.failure('CreateComponent', err));
            retry = true;
            break;
          }
        }
        if (retry) {
          await client.query('ROLLBACK');
          continue;
        }
        await client.query(wrote ? 'COMMIT' : 'ROLLBACK');
        return out;
      } catch (err) {
        if (isConnectionError(err)) broken = err as Error;
        else await client.query('ROLLBACK').catch(() => {});
        throw this.failure('CreateComponent', err);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * One create inside a batch: one read of the name's versions (the existing version, the version
   * set, the latest holders), then one statement writing the version, its dependencies, the moved
   * latest flags, the audit entry, the event, the head and its NOTIFY.
   */
  private async createOne(q: Querier, { component, conditions }: PendingCreate, id: number): Promise<WriteOutcome> {
    const { rows } = await q.query<NameRow>(
      'SELECT id, version, digest, version_key, is_prerelease, latest_default, latest_any, ' +
        'CASE WHEN version = $2 THEN definition END AS definition FROM components WHERE name = $1',
      [component.name, component.version],
    );
    const existing = rows.find((r) => r.version === component.version);
    if (existing?.definition) {
      const stored = JSON.parse(existing.definition) as ComponentDefinition;
      if (isResubmission(COMPONENT, stored, component)) return { component: stored, event: null };
    }
    // Read under the head-row lock this transaction holds: no other write can commit meanwhile.
    if (conditions.expectedVersionSet !== undefined && versionSetTag(rows) !== conditions.expectedVersionSet) {
      throw versionSetChanged(COMPONENT, component.name, component.version);
    }
    const now = this.clock.now().toISOString();
    const stored = newDefinition(component, now, id);
    if (!isStrictVersion(stored.version)) {
      throw invalidRequest(COMPONENT, 'CreateComponent', `"${stored.version}" is not a strict semver version`, {
        field: 'version',
      });
    }
    const event = componentEvent(id, 'component.created', now, stored);
    const definition = await writeVersion(q, stored, rows, { event, audit: conditions.audit, channel: this.channel });
    return { component: JSON.parse(definition) as ComponentDefinition, event };
  }

  createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    return this.writeMany<ChangesetOutcome>('CreateChangeset', async (q, first) => {
      const names = [...new Set(write.members.map((m) => m.name))];
      // Read under the head-row lock that every write takes first: nothing commits in between.
      const found = await q.query<{ definition: string }>(
        'SELECT c.definition FROM components c JOIN unnest($1::text[], $2::text[]) AS m(n, v) ' +
          'ON c.name = m.n AND c.version = m.v',
        [write.members.map((m) => m.name), write.members.map((m) => m.version)],
      );
      const stored = new Map<string, ComponentDefinition>();
      for (const row of found.rows) {
        const c = JSON.parse(row.definition) as ComponentDefinition;
        stored.set(`${c.name}@${c.version}`, c);
      }
      const statuses = changesetStatuses(COMPONENT, write.members, (n, v) => stored.get(`${n}@${v}`));
      if (!statuses.includes('created')) {
        const components = write.members.map((m) => stored.get(`${m.name}@${m.version}`) as ComponentDefinition);
        return { result: { changeset: null, components, events: [] }, events: [] };
      }
      const sets = await q.query<{ name: string; version: string; digest: string }>(
        'SELECT name, version, digest FROM components WHERE name = ANY($1::text[])',
        [names],
      );
      changesetSetMoved(COMPONENT, write, (name) => sets.rows.filter((r) => r.name === name));
      const now = this.clock.now().toISOString();
      const components: ComponentDefinition[] = [];
      const events: CatalogEvent[] = [];
      for (const [i, member] of write.members.entries()) {
        if (statuses[i] === 'unchanged') {
          components.push(stored.get(`${member.name}@${member.version}`) as ComponentDefinition);
          continue;
        }
        const next = newDefinition(member, now, first + events.length);
        const definition = await insertVersion(q, next);
        events.push(changesetEvent(next.revision, now, next, write.id));
        components.push(JSON.parse(definition) as ComponentDefinition);
      }
      const record = changesetRecord(write, now, first + events.length - 1, statuses);
      const row = changesetRow(record);
      await q.query(
        'INSERT INTO changesets (id, time, actor, message, revision, items) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.id, row.time, row.actor, row.message, row.revision, row.items],
      );
      if (write.audit) await insertAudit(q, write.audit);
      return { result: { changeset: record, components, events }, events };
    });
  }

  getChangeset(id: string): Promise<ChangesetRecord | null> {
    return this.read('GetChangeset', async (q) => {
      const { rows } = await q.query<ChangesetRow>('SELECT * FROM changesets WHERE id = $1', [id]);
      return rows[0] ? fromChangesetRow(rows[0]) : null;
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
      if (conditions.audit) await insertAudit(q, conditions.audit);
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

  appendEvent(event: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    return this.write('AppendEvent', async (q, id) => {
      // In the event's transaction, so the state, its event and the audit entry commit together or
      // not at all; the entry first, so a change refused below (no such engine) rolls it back too.
      if (audit) await insertAudit(q, audit);
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

  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    return this.transaction('CreateSubscription', async (q) => {
      const r = subscriptionRow(subscription);
      await q.query(
        'INSERT INTO subscriptions (id, url, types, filter, secret, created_at, state, disabled_reason, position) ' +
          'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [r.id, r.url, r.types, r.filter, r.secret, r.created_at, r.state, r.disabled_reason, r.position],
      );
      if (audit) await insertAudit(q, audit);
    });
  }

  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.read('GetSubscription', async (q) => {
      const { rows } = await q.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = $1', [id]);
      return rows[0] ? fromSubscriptionRow(rows[0]) : null;
    });
  }

  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.read('ListSubscriptions', async (q) => {
      const { rows } = await q.query<SubscriptionRow>('SELECT * FROM subscriptions ORDER BY created_at, id');
      return rows.map(fromSubscriptionRow);
    });
  }

  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    // The delivery log goes with it (ON DELETE CASCADE).
    return this.transaction('DeleteSubscription', async (q) => {
      const deleted = ((await q.query('DELETE FROM subscriptions WHERE id = $1', [id])).rowCount ?? 0) > 0;
      if (deleted && audit) await insertAudit(q, audit);
      return deleted;
    });
  }

  advanceSubscription(id: string, position: number): Promise<void> {
    return this.run('AdvanceSubscription', async (q) => {
      await q.query('UPDATE subscriptions SET position = $1 WHERE id = $2 AND position < $1', [position, id]);
    });
  }

  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    return this.transaction('DisableSubscription', async (q) => {
      const changed =
        ((
          await q.query(
            "UPDATE subscriptions SET state = 'disabled', disabled_reason = $1 WHERE id = $2 AND state = 'active'",
            [reason, id],
          )
        ).rowCount ?? 0) > 0;
      if (changed && audit) await insertAudit(q, audit);
      return changed;
    });
  }

  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    return this.transaction('RecordDelivery', async (q) => {
      const inserted =
        (
          await q.query(
            'INSERT INTO deliveries (subscription_id, event_id, attempt, status, response_status, time) ' +
              'SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = $1) ' +
              'ON CONFLICT (subscription_id, event_id) DO UPDATE SET attempt = EXCLUDED.attempt, ' +
              'status = EXCLUDED.status, response_status = EXCLUDED.response_status, time = EXCLUDED.time',
            [id, record.event_id, record.attempt, record.status, record.response_status, record.time],
          )
        ).rowCount ?? 0;
      if (inserted === 0) return;
      // The keep-th highest event id is the oldest record kept; with fewer rows the bound is NULL and nothing goes.
      await q.query(
        'DELETE FROM deliveries WHERE subscription_id = $1 AND event_id < (SELECT event_id FROM deliveries ' +
          'WHERE subscription_id = $1 ORDER BY event_id DESC LIMIT 1 OFFSET $2)',
        [id, keep - 1],
      );
    });
  }

  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return this.read('ListDeliveries', async (q) => {
      const { rows } = await q.query<DeliveryRow>(
        'SELECT event_id, attempt, status, response_status, time FROM deliveries WHERE subscription_id = $1 ' +
          'ORDER BY event_id DESC LIMIT $2',
        [id, limit],
      );
      return rows.map(fromDeliveryRow);
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
    await Promise.all([this.pool.end().catch(() => {}), this.pointPool.end().catch(() => {})]);
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

  /**
   * `write` for several events: `work` gets the first sequence and returns its events, which must
   * be consecutive from it. They are appended, the head moves to the last and one NOTIFY names it,
   * all in the one transaction. No events: rolled back. Never retried, as `write`.
   */
  private async writeMany<T>(
    operation: string,
    work: (q: Querier, first: number) => Promise<{ result: T; events: CatalogEvent[] }>,
  ): Promise<T> {
    const client = await this.connect(operation);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const first = (await head(client, true)) + 1;
      const { result, events } = await work(client, first);
      const last = events.at(-1);
      if (!last) {
        await client.query('ROLLBACK');
        return result;
      }
      await client.query(
        'INSERT INTO events (seq, type, time, subject_name, subject_version, subject_digest, data) ' +
          'SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])',
        [
          events.map((e) => e.id),
          events.map((e) => e.type),
          events.map((e) => e.time),
          events.map((e) => e.subject.name),
          events.map((e) => e.subject.version),
          events.map((e) => e.subject.digest),
          events.map((e) => JSON.stringify(e.data)),
        ],
      );
      await client.query('WITH h AS (UPDATE event_head SET seq = $1) SELECT pg_notify($2, $1::text)', [
        last.id,
        this.channel,
      ]);
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
  private async read<T>(operation: string, work: (q: Querier) => Promise<T>, pool = this.pool): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.run(operation, work, pool);
      } catch (err) {
        const cause = NestorError.is(err) ? err.cause : err;
        if (attempt >= 3 || this.closed || !isConnectionError(cause)) throw err;
        await sleep(50 * 4 ** (attempt - 1));
      }
    }
  }

  /** One statement on a pooled connection (autocommit). */
  private async run<T>(operation: string, work: (q: Querier) => Promise<T>, pool = this.pool): Promise<T> {
    if (this.closed) throw storageFailure(COMPONENT, operation, new Error('the store is closed'));
    if (operation !== 'Open') this.refuseWhilePending(operation);
    try {
      return await work(pool);
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

/** Inserts a stored version without an event (import): reads the latest holders, then writes. */
async function insertVersion(q: Querier, stored: ComponentDefinition): Promise<string> {
  const { rows } = await q.query<LatestRow>(
    'SELECT id, version_key, is_prerelease, latest_default, latest_any FROM components ' +
      'WHERE name = $1 AND (latest_default OR latest_any)',
    [stored.name],
  );
  return writeVersion(q, stored, rows, null);
}

/**
 * One statement writing a new version: takes the latest flags from the versions of `held` that
 * lose them, inserts the row and its dependencies and, for a create, its audit entry, its event,
 * the head and the NOTIFY (delivered on commit). Runs under the head lock, so `held` is current.
 * Returns the version's JSON.
 */
async function writeVersion(
  q: Querier,
  stored: ComponentDefinition,
  held: readonly LatestRow[],
  write: { event: CatalogEvent; audit: AuditEntry | undefined; channel: string } | null,
): Promise<string> {
  const definition = JSON.stringify(stored);
  const versionKey = versionSortKey(stored.version);
  const byDefault = held.find((r) => r.latest_default);
  const any = held.find((r) => r.latest_any);
  const takes = (holder: LatestRow | undefined, includePrerelease: boolean) =>
    takesLatest(
      stored,
      holder && { prerelease: holder.is_prerelease },
      holder !== undefined && versionKey > holder.version_key,
      includePrerelease,
    );
  const isAny = takes(any, true);
  const isDefault = takes(byDefault, false);
  const params: unknown[] = [
    (isDefault && byDefault?.id) || null,
    (isAny && any?.id) || null,
    stored.name,
    stored.version,
    versionKey,
    isPrerelease(stored.version),
    stored.digest,
    isDefault,
    isAny,
    definition,
    deletedAt(stored),
    stored.dependencies.map((d) => d.name),
    stored.dependencies.map((d) => d.version_range),
  ];
  const at = (value: unknown) => `$${params.push(value)}`;
  // The flags are cleared before the row that takes them is inserted (the partial unique indexes
  // allow one per name): the row's flag is read through `cleared`, a subquery evaluated whatever
  // the flag's value, so the update has finished before the row reaches the indexes.
  let sql =
    'WITH cleared AS (UPDATE components SET latest_default = latest_default AND id IS DISTINCT FROM $1::bigint, ' +
    'latest_any = latest_any AND id IS DISTINCT FROM $2::bigint WHERE id = ANY (ARRAY[$1::bigint, $2::bigint]) RETURNING id), ' +
    'ins AS (INSERT INTO components (name, version, version_key, is_prerelease, digest, latest_default, latest_any, ' +
    'definition, deleted_at) ' +
    'VALUES ($3, $4, $5, $6, $7, (SELECT $8::boolean FROM (SELECT count(*) FROM cleared) AS done), $9, $10, $11) RETURNING id), ' +
    'deps AS (INSERT INTO dependencies (component_id, position, dep_name, version_range) ' +
    'SELECT ins.id, d.ord - 1, d.n, d.r FROM ins, unnest($12::text[], $13::text[]) WITH ORDINALITY AS d(n, r, ord))';
  let select = 'SELECT id FROM ins';
  if (write?.audit) {
    const r = auditRow(write.audit);
    sql +=
      ', audited AS (INSERT INTO audit (id, time, actor, action, subject, request_id, ip, outcome, details) ' +
      `VALUES (${[r.id, r.time, r.actor, r.action, r.subject, r.request_id, r.ip, r.outcome, r.details].map(at).join(', ')}))`;
  }
  if (write) {
    const e = write.event;
    const seq = at(e.id);
    sql +=
      ', e AS (INSERT INTO events (seq, type, time, subject_name, subject_version, subject_digest, data) ' +
      `VALUES (${seq}, ${[e.type, e.time, e.subject.name, e.subject.version, e.subject.digest, JSON.stringify(e.data)].map(at).join(', ')})), ` +
      `h AS (UPDATE event_head SET seq = ${seq})`;
    select = `SELECT pg_notify(${at(write.channel)}, ${seq}::text) FROM ins`;
  }
  await q.query(`${sql} ${select}`, params);
  return definition;
}

/** The log's head; `lock` takes the head row for the rest of the transaction (writes only). */
async function head(q: Querier, lock = false): Promise<number> {
  const { rows } = await q.query<{ seq: number }>(
    lock
      ? { name: 'nestor_head_locked', text: 'SELECT seq FROM event_head FOR UPDATE' }
      : { name: 'nestor_head', text: 'SELECT seq FROM event_head' },
  );
  return rows[0]?.seq ?? 0;
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

/** One value per key from rows carrying the key's 1-based ordinal; null where no row came back. */
function byOrdinal(count: number, rows: readonly { i: number; definition: string }[]): (string | null)[] {
  const out = new Array<string | null>(count).fill(null);
  for (const row of rows) out[row.i - 1] = row.definition;
  return out;
}

type LatestFlag = 'latest_default' | 'latest_any';

function latestFlag(query: { includePrerelease?: boolean | undefined }): LatestFlag {
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
