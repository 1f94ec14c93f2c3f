import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentDefinition, NestorError } from '@nestor/sdk';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from '../../../../test/dynamodb-local.js';
import { DynamoStore } from './dynamodb/dynamo-store.js';
import type { CatalogImporter, CatalogStore } from './interfaces.js';
import { MemoryStore } from './memory/memory-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from './postgres/testing.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { makeComponent, makeEngine } from './testing.js';
import { exportCatalog, importCatalog } from './transfer.js';

const cleanups: (() => Promise<void> | void)[] = [];
let dynamoLocal: Awaited<ReturnType<typeof sharedDynamoDBLocal>>;
beforeAll(async () => {
  dynamoLocal = await sharedDynamoDBLocal();
}, DYNAMODB_LOCAL_WAIT_MS + 10_000);

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

async function dynamodb(): Promise<DynamoStore> {
  const store = new DynamoStore({
    table: `nestor-transfer-${randomUUID()}`,
    endpoint: dynamoLocal.endpoint,
    region: dynamoLocal.region,
    credentials: dynamoLocal.credentials,
  });
  await store.migrate();
  cleanups.push(() => store.close());
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
    dependents: await store.getDependents('net'),
    engines: await store.listEngines(),
    head: await store.headSequence(),
  };
}

describe('export and import', () => {
  /** A SQLite catalog with every kind of field set, and its state before export. */
  async function richSource() {
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
    return { source, before };
  }

  async function roundTrip(middle: CatalogStore & CatalogImporter) {
    const { source, before } = await richSource();
    await importCatalog(middle, iterate(await exported(source)));
    expect(await everything(middle)).toEqual(before);

    const back = sqlite();
    await importCatalog(back, iterate(await exported(middle)));
    expect(await everything(back)).toEqual(before);

    // The sequence continues above the exported head on both.
    for (const store of [middle, back]) {
      const next = await store.createComponent(makeComponent());
      expect(next.event?.id).toBe(12);
      expect(next.component.revision).toBe(12);
      expect(await store.oldestSequence()).toBe(12);
    }
  }

  it('round-trips SQLite -> PostgreSQL -> SQLite keeping every field and the event position', async () => {
    await roundTrip(await postgres());
  });

  it('round-trips SQLite -> DynamoDB -> SQLite keeping every field and the event position', async () => {
    await roundTrip(await dynamodb());
  });

  it('round-trips SQLite -> memory -> SQLite keeping every field and the event position', async () => {
    await roundTrip(new MemoryStore());
  });

  it('refuses to import a version twice into DynamoDB and memory, and never lowers the head', async () => {
    for (const store of [await dynamodb(), new MemoryStore()]) {
      const { component } = await new MemoryStore().createComponent(makeComponent());
      await store.importComponent(component);
      const err = await store.importComponent(component).catch((e: unknown) => e);
      expect(NestorError.is(err) && err.code).toBe('version_conflict');
      await store.advanceHead(7);
      await store.advanceHead(5);
      expect(await store.headSequence()).toBe(7);
    }
  });

  it('exports a catalog of 200 000 versions with the highest revision as its head', async () => {
    // More versions than a spread into one call may pass (the head was `Math.max(...revisions)`).
    const perName = 100_000;
    const source = {
      listComponentNames: async () => ['a', 'b'],
      getComponentVersions: async (name: string) =>
        Array.from({ length: perName }, (_, i) => {
          const revision = (name === 'a' ? 0 : perName) + perName - i;
          return { name, version: `0.0.${perName - i}`, revision } as ComponentDefinition;
        }),
      listEngines: async () => [],
      headSequence: async () => 7,
    };
    let lines = 0;
    let header = '';
    let first = '';
    const counts = await exportCatalog(
      source,
      (line) => {
        if (lines === 0) header = line;
        if (lines === 1) first = line;
        lines++;
      },
      { now: new Date(0) },
    );
    expect(counts).toEqual({ components: 2 * perName, engines: 0, head: 2 * perName });
    expect(lines).toBe(1 + 2 * perName);
    expect(JSON.parse(header).head).toBe(2 * perName);
    // Oldest first within a name.
    expect(JSON.parse(first).component.version).toBe('0.0.1');
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
