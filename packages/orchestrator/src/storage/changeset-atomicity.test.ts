import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { auditId } from './audit-records.js';
import type { CatalogStore, ChangesetWrite, NewComponent } from './interfaces.js';
import { MemoryStore } from './memory/memory-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from './postgres/testing.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { makeComponent, randomName } from './testing.js';

/**
 * All or nothing, proven (issue 15): a failure injected at a random point of a changeset's write
 * leaves either every member, event, record and audit entry visible or none of them, and the log's
 * sequences are never handed out twice afterwards. SQL stores fail inside the database (a trigger
 * that raises on the k-th row inserted into a chosen table, so mid-transaction and, for multi-row
 * statements, mid-statement); the memory store fails while reading the k-th member field.
 */

/** A failure armed for the next write, and disarmed after it. */
interface Injector {
  arm(table: string, k: number): Promise<void>;
  disarm(): Promise<void>;
  /** Members as the write should see them (the memory store's failure point is in them). */
  members(members: NewComponent[], k: number): NewComponent[];
}

interface Subject {
  store: CatalogStore;
  tables: string[];
  injector: Injector;
  close(): Promise<void>;
}

/** The shape of a random changeset: per member, its labels and whether it depends on the previous one. */
const shapes = fc.array(fc.record({ labels: fc.nat(2), dependsOnPrevious: fc.boolean(), engines: fc.nat(2) }), {
  minLength: 1,
  maxLength: 5,
});

function membersOf(shape: { labels: number; dependsOnPrevious: boolean; engines: number }[]): NewComponent[] {
  const names = shape.map(() => randomName('cs'));
  return shape.map((s, i) =>
    makeComponent({
      name: names[i] as string,
      labels: Object.fromEntries(Array.from({ length: s.labels }, (_, j) => [`k${j}`, `v${j}`])),
      deployment_engines: ['terraform', 'pulumi', 'crossplane'].slice(0, s.engines),
      dependencies: s.dependsOnPrevious && i > 0 ? [{ name: names[i - 1] as string, version_range: '^1.0.0' }] : [],
    }),
  );
}

async function writeWithFailure(subject: Subject, members: NewComponent[], table: string, k: number) {
  const { store, injector } = subject;
  const id = randomUUID();
  const write: ChangesetWrite = {
    id,
    actor: 'token:ci',
    message: null,
    members: injector.members(members, k),
    audit: {
      id: auditId(new Date()),
      time: new Date().toISOString(),
      actor: 'token:ci',
      action: 'changeset.create',
      subject: id,
      request_id: null,
      ip: null,
      outcome: 'ok',
      details: {},
    },
  };
  const before = await store.headSequence();
  await injector.arm(table, k);
  let threw = false;
  try {
    await store.createChangeset(write);
  } catch {
    threw = true;
  } finally {
    await injector.disarm();
  }

  const visible = await Promise.all(members.map((m) => store.getComponent(m.name, m.version)));
  const head = await store.headSequence();
  const events = await store.readEvents(before, 1000);
  const record = await store.getChangeset(id);
  const audited = (await store.listAudit({ limit: 1000, subject: id })).items;
  if (visible.every((v) => v !== null)) {
    expect(threw).toBe(false);
    expect(head).toBe(before + members.length);
    expect(events.map((e) => e.id)).toEqual(members.map((_, i) => before + 1 + i));
    expect(events.every((e) => e.data.changeset === id)).toBe(true);
    expect(record?.revision).toBe(head);
    expect(audited).toHaveLength(1);
  } else {
    expect(visible.filter((v) => v !== null)).toEqual([]);
    expect(threw).toBe(true);
    expect(head).toBe(before);
    expect(events).toEqual([]);
    expect(record).toBeNull();
    expect(audited).toEqual([]);
    for (const m of members) expect(await store.getComponentVersions(m.name)).toEqual([]);
  }
  // The next write continues right above the committed head: nothing committed is ever reused.
  const probe = await store.createComponent(makeComponent());
  expect(probe.event?.id).toBe(head + 1);
  const log = await store.readEvents(0, 100_000);
  for (let i = 1; i < log.length; i++)
    expect((log[i] as { id: number }).id).toBeGreaterThan((log[i - 1] as { id: number }).id);
}

function propertyOn(name: string, open: () => Promise<Subject>, numRuns: number, timeout: number) {
  it(
    `${name}: a failure anywhere in the write leaves all of the set or none of it`,
    async () => {
      const subject = await open();
      try {
        await fc.assert(
          fc.asyncProperty(
            shapes,
            fc.constantFrom(...subject.tables),
            fc.integer({ min: 1, max: 8 }),
            (shape, table, k) => writeWithFailure(subject, membersOf(shape), table, k),
          ),
          { numRuns },
        );
      } finally {
        await subject.close();
      }
    },
    timeout,
  );
}

/** SQLite: a trigger (from a second connection, as another process would) counts rows down to the failure. */
async function sqliteSubject(): Promise<Subject> {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-atomic-'));
  const path = join(dir, 'nestor.db');
  const store = new SqliteStore({ path });
  const raw = new Database(path);
  raw.exec('CREATE TABLE inject_countdown (n INTEGER NOT NULL); INSERT INTO inject_countdown VALUES (0)');
  return {
    store,
    tables: ['components', 'dependencies', 'events', 'changesets', 'audit'],
    injector: {
      async arm(table, k) {
        raw.prepare('UPDATE inject_countdown SET n = ?').run(k);
        raw.exec(
          `CREATE TRIGGER inject_fail BEFORE INSERT ON ${table} BEGIN ` +
            'UPDATE inject_countdown SET n = n - 1; ' +
            "SELECT RAISE(ABORT, 'injected failure') WHERE (SELECT n FROM inject_countdown) = 0; END",
        );
      },
      async disarm() {
        raw.exec('DROP TRIGGER IF EXISTS inject_fail');
      },
      members: (members) => members,
    },
    async close() {
      raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** PostgreSQL: a row trigger raises on the k-th row (a sequence counts, outside the transaction). */
async function postgresSubject(): Promise<Subject> {
  const schema = randomSchema();
  const store = await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, poolSize: 2 });
  const raw = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  await raw.connect();
  await raw.query('CREATE SEQUENCE inject_counter');
  return {
    store,
    tables: ['components', 'dependencies', 'events', 'changesets', 'audit'],
    injector: {
      async arm(table, k) {
        await raw.query("SELECT setval('inject_counter', 1, false)");
        await raw.query(
          'CREATE OR REPLACE FUNCTION inject_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ' +
            `IF nextval('inject_counter') = ${Number(k)} THEN RAISE EXCEPTION 'injected failure'; END IF; ` +
            'RETURN NEW; END $$',
        );
        await raw.query(
          `CREATE TRIGGER inject_fail BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION inject_fail()`,
        );
      },
      async disarm() {
        const { rows } = await raw.query<{ tgrelid: string }>(
          "SELECT tgrelid::regclass::text AS tgrelid FROM pg_trigger WHERE tgname = 'inject_fail'",
        );
        for (const row of rows) await raw.query(`DROP TRIGGER inject_fail ON ${row.tgrelid}`);
      },
      members: (members) => members,
    },
    async close() {
      await raw.end();
      await store.close();
      await dropSchema(schema);
    },
  };
}

/** Memory: the k-th read of any member field throws, wherever in the write it happens. */
async function memorySubject(): Promise<Subject> {
  const store = new MemoryStore();
  return {
    store,
    tables: ['members'],
    injector: {
      async arm() {},
      async disarm() {},
      members(members, k) {
        let reads = 0;
        return members.map(
          (m) =>
            new Proxy(m, {
              get(target, key, receiver) {
                reads += 1;
                if (reads === k * 7) throw new Error('injected failure');
                return Reflect.get(target, key, receiver);
              },
            }),
        );
      },
    },
    async close() {
      await store.close();
    },
  };
}

describe('changesets are all or nothing under injected failures (property)', () => {
  propertyOn('memory', memorySubject, 60, 30_000);
  propertyOn('sqlite', sqliteSubject, 40, 60_000);
  propertyOn('postgres', postgresSubject, 25, 120_000);
});
