import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestorError } from '@nestor/sdk';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { auditId } from '../audit-records.js';
import { describeStoreContract } from '../contract.test-suite.js';
import { makeComponent, makeEngine } from '../testing.js';
import { migrations } from './migrations/index.js';
import { SqliteStore } from './sqlite-store.js';

/** The id of the newest migration: what a fully migrated database reports. */
const SCHEMA_VERSION = (migrations.at(-1) as { id: number }).id;
/** What a fresh database reports as applied: every migration, as `migrate()` names them. */
const ALL_APPLIED = migrations.map((m) => `${String(m.id).padStart(3, '0')}-${m.name}`);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nestor-sqlite-'));
}

describeStoreContract('sqlite', async () => {
  const dir = tempDir();
  return {
    store: new SqliteStore({ path: join(dir, 'nestor.db') }),
    cleanup: async () => rmSync(dir, { recursive: true }),
  };
});

describeStoreContract('sqlite :memory:', async () => ({ store: new SqliteStore({ path: ':memory:' }) }));

describe('SqliteStore group commit', () => {
  it('rolls back only the create that failed inside a shared transaction, audit entry and latest flags too', async () => {
    const dir = tempDir();
    const path = join(dir, 'nestor.db');
    const store = new SqliteStore({ path });
    try {
      const target = makeComponent();
      await store.createComponent(target);
      // A failure injected after the version row, its flags and its index entries were written.
      const db = new Database(path);
      db.exec(
        `CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.subject_name = '${target.name}' ` +
          "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
      );
      db.close();
      const audit = (subject: string) => ({
        id: auditId(new Date()),
        time: new Date().toISOString(),
        actor: 'token:ci',
        action: 'component.create',
        subject,
        request_id: null,
        ip: null,
        outcome: 'ok' as const,
        details: {},
      });
      const head = await store.headSequence();
      const before = makeComponent();
      const failing = makeComponent({ name: target.name, version: '2.0.0' });
      const after = makeComponent();
      const results = await Promise.allSettled(
        [before, failing, after].map((c) => store.createComponent(c, { audit: audit(`${c.name}@${c.version}`) })),
      );
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(((results[1] as PromiseRejectedResult).reason as NestorError).code).toBe('storage_failure');
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.event?.id : null))).toEqual([
        head + 1,
        null,
        head + 2,
      ]);
      expect((await store.readEvents(head, 10)).map((e) => e.subject.name)).toEqual([before.name, after.name]);
      expect(await store.getComponent(target.name, '2.0.0')).toBeNull();
      expect((await store.getLatestComponent(target.name))?.version).toBe('1.0.0');
      const subjects = (await store.listAudit({ limit: 10 })).items.map((e) => e.subject);
      expect(subjects.sort()).toEqual([`${after.name}@1.0.0`, `${before.name}@1.0.0`].sort());
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore on disk', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const newPath = () => {
    const dir = tempDir();
    dirs.push(dir);
    return join(dir, 'nested', 'folder', 'nestor.db');
  };

  it('keeps data and sequences across close and reopen, even after compaction', async () => {
    const path = newPath();
    const first = new SqliteStore({ path });
    const a = makeComponent({ labels: { team: 'reopen' } });
    await first.createComponent(a);
    await first.createComponent(makeComponent({ name: a.name, version: '1.1.0' }));
    await first.updateComponent(a.name, '1.1.0', { deprecated: { reason: 'gone' } });
    await first.putEngine(makeEngine({ name: 'terraform' }));
    await first.putState('source:platform', { commit: 'abc' });
    const head = await first.headSequence();
    expect(await first.compactEvents(head)).toBe(3);
    await first.close();
    await first.close();

    const second = new SqliteStore({ path });
    expect(await second.headSequence()).toBe(head);
    expect(await second.oldestSequence()).toBe(head + 1);
    expect((await second.getLatestComponent(a.name))?.deprecated?.reason).toBe('gone');
    expect((await second.getComponentVersions(a.name)).map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    expect((await second.listComponents({ limit: 5 })).items.map((c) => c.version)).toEqual(['1.1.0']);
    expect((await second.getEngine('terraform'))?.name).toBe('terraform');
    expect(await second.getState('source:platform')).toEqual({ commit: 'abc' });
    const next = await second.createComponent(makeComponent());
    expect(next.event?.id).toBe(head + 1);
    await second.close();
  });

  it('shares one sequence and one catalog between connections to the same file', async () => {
    const path = newPath();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    const name = makeComponent().name;
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const writer = i % 2 === 0 ? a : b;
      const out = await writer.createComponent(makeComponent({ name, version: `1.${i}.0` }));
      ids.push(out.event?.id ?? 0);
    }
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await a.getLatestComponent(name))?.version).toBe('1.5.0');
    expect((await b.listComponents({ limit: 5 })).items.map((c) => c.version)).toEqual(['1.5.0']);
    await expect(b.createComponent(makeComponent({ name, version: '1.0.0', description: 'x' }))).rejects.toSatisfy(
      (e) => NestorError.hasCode(e, 'version_conflict'),
    );
    await a.close();
    await b.close();
  });

  it('uses WAL and applies migrations once (migrate is idempotent)', async () => {
    const path = newPath();
    const store = new SqliteStore({ path });
    expect(await store.migrate()).toEqual({
      applied: ALL_APPLIED,
      version: SCHEMA_VERSION,
    });
    expect(await store.migrate()).toEqual({ applied: [], version: SCHEMA_VERSION });
    await store.close();
    const reopened = new SqliteStore({ path });
    expect(await reopened.migrate()).toEqual({ applied: [], version: SCHEMA_VERSION });
    await reopened.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(migrations.length);
    raw.close();
  });

  it('migrates on demand when opened without migrating', async () => {
    const store = new SqliteStore({ path: newPath(), migrate: false });
    await expect(store.getComponent('a', '1.0.0')).rejects.toSatisfy((e) => NestorError.hasCode(e, 'storage_failure'));
    expect((await store.migrate()).applied).toEqual(ALL_APPLIED);
    expect(await store.getComponent('a', '1.0.0')).toBeNull();
    await store.close();
  });

  it('upgrades rows written before 003: reads show revoked and orphaned as null, deletion works', async () => {
    const path = newPath();
    const old = new SqliteStore({ path });
    const c = makeComponent({ name: 'pre-lifecycle' });
    await old.createComponent(c);
    await old.close();
    // Back to the state 002 left: no deleted_at column, definitions without the lifecycle fields.
    const raw = new Database(path);
    raw.exec(
      'DROP INDEX components_deleted_at; ALTER TABLE components DROP COLUMN deleted_at; DELETE FROM schema_migrations WHERE id = 3; ' +
        "UPDATE components SET definition = json_remove(definition, '$.revoked', '$.orphaned');",
    );
    raw.close();
    const upgraded = new SqliteStore({ path });
    expect(await upgraded.getComponent(c.name, '1.0.0')).toMatchObject({ revoked: null, orphaned: null });
    // The JSON read passes the row 003 rewrote (json_set) through; it says what the parsed read does.
    const asJson = await upgraded.getComponentJson(c.name, '1.0.0');
    expect(JSON.stringify(JSON.parse(asJson?.json ?? 'null'))).toBe(
      JSON.stringify(await upgraded.getComponent(c.name, '1.0.0')),
    );
    await upgraded.changeLifecycle(c.name, '1.0.0', { kind: 'delete', reason: null });
    expect((await upgraded.listDeletedVersions('9999', 10)).map((d) => d.name)).toEqual([c.name]);
    expect(await upgraded.getLatestComponent(c.name)).toBeNull();
    await upgraded.close();
  });

  it('drops the store search of 001-004 when upgrading, keeping every read (005)', async () => {
    // Versions written by the current store, copied into a database at schema 004 as 004 kept them.
    const source = newPath();
    const writer = new SqliteStore({ path: source });
    await writer.createComponent(makeComponent({ name: 'upgraded-stable', labels: { team: 'x' } }));
    await writer.createComponent(makeComponent({ name: 'upgraded-pre', version: '1.0.0' }));
    await writer.createComponent(makeComponent({ name: 'upgraded-pre', version: '2.0.0-rc.1' }));
    const before = {
      list: await writer.listComponents({ limit: 10 }),
      any: await writer.listComponents({ limit: 10, includePrerelease: true }),
      got: await writer.getComponent('upgraded-stable', '1.0.0'),
    };
    await writer.close();
    const path = newPath();
    await new SqliteStore({ path, migrations: migrations.filter((m) => m.id < 5) }).close();
    const raw = new Database(path);
    raw.prepare('ATTACH DATABASE ? AS src').run(source);
    raw.exec(`
      INSERT INTO components (id, name, version, version_key, is_prerelease, digest, provider, category, resource_type,
        maturity, latest_default, latest_any, deleted_at, definition)
      SELECT id, name, version, version_key, is_prerelease, digest, definition ->> '$.provider',
        definition ->> '$.category', definition ->> '$.resource_type', definition ->> '$.maturity', latest_default,
        latest_any, deleted_at, definition FROM src.components;
      INSERT INTO component_labels (component_id, key, value)
        SELECT c.id, l.key, l.value FROM src.components c, json_each(c.definition, '$.labels') l;
      INSERT INTO search (rowid, name, description, labels)
        SELECT id, name, definition ->> '$.description', '' FROM src.components WHERE latest_default OR latest_any;
      INSERT INTO events SELECT * FROM src.events;
    `);
    raw.exec('DETACH DATABASE src');
    raw.close();

    const store = new SqliteStore({ path });
    expect(await store.listComponents({ limit: 10 })).toEqual(before.list);
    expect(await store.listComponents({ limit: 10, includePrerelease: true })).toEqual(before.any);
    expect(await store.getComponent('upgraded-stable', '1.0.0')).toEqual(before.got);
    await store.createComponent(makeComponent({ name: 'upgraded-pre', version: '2.0.0' }));
    await store.updateComponent('upgraded-stable', '1.0.0', { labels: { team: 'y' }, maturity: 'beta' });
    expect((await store.getLatestComponent('upgraded-pre'))?.version).toBe('2.0.0');
    expect((await store.getLatestComponent('upgraded-stable'))?.maturity).toBe('beta');
    await store.close();
    const check = new Database(path, { readonly: true });
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").pluck().all();
    for (const gone of ['search', 'component_engines', 'component_labels', 'latest_default_provider']) {
      expect(tables).not.toContain(gone);
    }
    const columns = check.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('components');
    expect(columns).not.toContain('provider');
    expect(columns).not.toContain('maturity');
    check.close();
  });

  it('reads the listed rows ahead on a file past its threshold only, and never in memory', async () => {
    const path = newPath();
    const store = new SqliteStore({ path, readAheadRows: 3 });
    const few = new SqliteStore({ path, readAheadRows: 4 });
    const memory = new SqliteStore({ path: ':memory:', readAheadRows: 0 });
    for (const name of ['zeta', 'alpha', 'mid']) await store.createComponent(makeComponent({ name }));
    const before = await store.listComponentsJson({ limit: 10, includePrerelease: true });
    const read = store.readAheadListed();
    expect(await store.listComponentsJson({ limit: 10, includePrerelease: true })).toEqual(before);
    expect(await read.done).toBe(true);
    read.stop();
    expect(await few.readAheadListed().done).toBe(false);
    expect(await memory.readAheadListed().done).toBe(false);
    await Promise.all([store.close(), few.close(), memory.close()]);
    // Closed: nothing to read ahead, and no failure.
    expect(await store.readAheadListed().done).toBe(false);
  });

  it('refuses a schema newer than it knows', async () => {
    const path = newPath();
    const store = new SqliteStore({
      path,
      migrations: [
        { id: 1, name: 'one', sql: 'CREATE TABLE t1 (x)' },
        { id: 2, name: 'two', sql: 'CREATE TABLE t2 (x)' },
      ],
    });
    await store.close();
    expect(() => new SqliteStore({ path, migrations: [{ id: 1, name: 'one', sql: 'CREATE TABLE t1 (x)' }] })).toThrow(
      /newer/,
    );
  });

  it('wraps driver failures as storage_failure', async () => {
    const store = new SqliteStore({ path: newPath() });
    await store.close();
    for (const call of [store.ping(), store.getComponent('a', '1.0.0'), store.createComponent(makeComponent())]) {
      await expect(call).rejects.toSatisfy((e) => NestorError.hasCode(e, 'storage_failure'));
    }
  });

  it('refuses a version it cannot order, without writing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    for (const version of ['v1.0.0', '1.0', '1.0.0+build']) {
      await expect(store.createComponent(makeComponent({ version }))).rejects.toSatisfy((e) =>
        NestorError.hasCode(e, 'invalid_request'),
      );
    }
    expect(await store.headSequence()).toBe(0);
    await store.close();
  });

  it('rolls back the component when its event cannot be written', async () => {
    const path = newPath();
    const store = new SqliteStore({ path });
    const raw = new Database(path);
    raw.exec("CREATE TRIGGER fail_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'boom'); END");
    raw.close();
    const c = makeComponent();
    await expect(store.createComponent(c)).rejects.toSatisfy((e) => NestorError.hasCode(e, 'storage_failure'));
    expect(await store.getComponent(c.name, c.version)).toBeNull();
    expect(await store.listComponentNames()).toEqual([]);
    expect(await store.headSequence()).toBe(0);
    await store.close();
  });
});
