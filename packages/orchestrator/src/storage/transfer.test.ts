import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentDefinition, NestorError } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogStore } from './interfaces.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from './postgres/testing.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { makeComponent, makeEngine } from './testing.js';
import { exportCatalog, importCatalog } from './transfer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sqlite(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-transfer-'));
  const store = new SqliteStore({ path: join(dir, 'nestor.db') });
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => store.close(),
  );
  return store;
}

async function postgres(): Promise<PostgresStore> {
  const schema = randomSchema();
  const store = await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, poolSize: 2 });
  cleanups.push(
    () => dropSchema(schema),
    () => store.close(),
  );
  return store;
}

async function exported(store: CatalogStore): Promise<string[]> {
  const lines: string[] = [];
  await exportCatalog(store, (l) => void lines.push(l), { now: new Date('2026-01-01T00:00:00Z') });
  return lines;
}

async function* iterate(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

async function everything(store: CatalogStore) {
  const names = await store.listComponentNames();
  const versions: ComponentDefinition[] = [];
  for (const n of names) versions.push(...(await store.getComponentVersions(n)));
  return {
    versions,
    latest: await Promise.all(names.map((n) => store.getLatestComponent(n))),
    latestAny: await Promise.all(names.map((n) => store.getLatestComponent(n, { includePrerelease: true }))),
    list: (await store.listComponents({ limit: 500 })).items,
    // Scores are the backend's own (bm25 on SQLite); which versions match is what must survive.
    search: (await store.searchComponents({ text: 'database', limit: 500 })).items
      .map((c) => `${c.name}@${c.version}`)
      .sort(),
    dependents: await store.getDependents('net'),
    engines: await store.listEngines(),
    head: await store.headSequence(),
  };
}

describe('export and import', () => {
  it('round-trips SQLite -> PostgreSQL -> SQLite keeping every field and the event position', async () => {
    const source = sqlite();
    const a = makeComponent({ labels: { team: 'data' }, dependencies: [{ name: 'net', version_range: '^1.0.0' }] });
    await source.createComponent(a);
    await source.createComponent(makeComponent({ name: a.name, version: '1.1.0', description: 'newer database' }));
    await source.createComponent(makeComponent({ name: a.name, version: '2.0.0-rc.1' }));
    await source.updateComponent(a.name, '1.0.0', { deprecated: { reason: 'use 1.1' }, annotations: { note: 'x' } });
    await source.updateComponent(a.name, '1.1.0', { labels: { team: 'db' }, maturity: 'beta' });
    for (let i = 0; i < 5; i++) await source.createComponent(makeComponent({ provider: i % 2 ? 'gcp' : 'aws' }));
    await source.putEngine(makeEngine({ name: 'terraform' }));
    await source.appendEvent({
      type: 'source.synced',
      subject: { name: 'platform', version: null, digest: null },
      data: {},
    });
    const before = await everything(source);
    expect(before.head).toBe(11);

    const pg = await postgres();
    await importCatalog(pg, iterate(await exported(source)));
    expect(await everything(pg)).toEqual(before);

    const back = sqlite();
    await importCatalog(back, iterate(await exported(pg)));
    expect(await everything(back)).toEqual(before);

    // The sequence continues above the exported head on both.
    for (const store of [pg, back]) {
      const next = await store.createComponent(makeComponent());
      expect(next.event?.id).toBe(12);
      expect(next.component.revision).toBe(12);
      expect(await store.oldestSequence()).toBe(12);
    }
  });

  it('refuses a non-empty store and malformed files with clear errors', async () => {
    const source = sqlite();
    await source.createComponent(makeComponent());
    const lines = await exported(source);
    const err = await importCatalog(source, iterate(lines)).catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('precondition_failed');

    const cases: [string[], RegExp][] = [
      [[], /empty/],
      [['{"type":"component"}'], /header/],
      [['not json'], /line 1 is not JSON/],
      [[lines[0] as string, '{"type":"component","component":{"name":"x"}}'], /line 2: not a stored component/],
      [[lines[0] as string, '{"type":"other"}'], /unknown line type/],
    ];
    for (const [input, message] of cases) {
      const target = await postgres();
      const e = await importCatalog(target, iterate(input)).catch((x: unknown) => x);
      expect(NestorError.is(e) && e.code).toBe('invalid_request');
      expect((e as Error).message).toMatch(message);
    }
  });
});
