import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentSpec, NestorError } from '@nestor/sdk';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from '../../../../test/dynamodb-local.js';
import { LocalChangeFeed } from '../events/change-feed.js';
import { silentLogger } from '../observability/logging/logger.js';
import { CachingStore } from '../storage/cache/caching-store.js';
import { DynamoStore } from '../storage/dynamodb/dynamo-store.js';
import type { CatalogStore } from '../storage/interfaces.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { randomName } from '../storage/testing.js';
import { makeSpec, TestEngines } from '../validation/testing.js';
import { createValidator } from '../validation/validator.js';
import { CatalogManager } from './manager.js';

function managerOn(store: CatalogStore): CatalogManager {
  const engines = new TestEngines();
  engines.put('terraform', 'healthy');
  const validator = createValidator({ reader: store, engines, unhealthyEngine: 'error', cacheSize: 100 });
  return new CatalogManager({ store, validator, feed: new LocalChangeFeed(), logger: silentLogger });
}

/**
 * Minor releases above 1.0.0 that each add an output of their own. Each is valid against 1.0.0
 * alone; any two together are not: the higher one drops the lower one's output in a minor bump
 * (from the lower one as predecessor, or to it as successor, whichever arrives second).
 */
function rivals(name: string, count: number): ComponentSpec[] {
  const base = makeSpec({ name, version: '1.0.0' });
  return Array.from({ length: count }, (_, i) =>
    makeSpec({
      name,
      version: `1.${i + 1}.0`,
      outputs: [...base.outputs, { name: `only_in_${i + 1}`, type: 'string', description: `added by 1.${i + 1}.0` }],
    }),
  );
}

/**
 * Every stored version of the name, re-validated against all the others as a fresh create would
 * be: the catalog must never hold a version the validator rejects.
 */
async function expectCatalogValid(store: CatalogStore, name: string): Promise<void> {
  const stored = await store.getComponentVersions(name);
  for (const version of stored) {
    const others = new MemoryStore();
    for (const o of stored) if (o.version !== version.version) await others.createComponent(o);
    const judge = managerOn(others);
    const { digest: _d, created_at: _c, updated_at: _u, revision: _r, ...spec } = version;
    const result = await judge.validateComponent(spec as ComponentSpec);
    expect(result.errors, `${name}@${version.version} among ${stored.map((v) => v.version).join(', ')}`).toEqual([]);
  }
}

async function race(managers: CatalogManager[], store: CatalogStore, rounds: number, width: number) {
  for (let round = 0; round < rounds; round++) {
    const name = randomName();
    await (managers[0] as CatalogManager).createComponent(makeSpec({ name, version: '1.0.0' }));
    const specs = rivals(name, width);
    const results = await Promise.allSettled(
      specs.map((spec, i) => (managers[i % managers.length] as CatalogManager).createComponent(spec)),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    expect(created).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(NestorError.is(r.reason), String(r.reason)).toBe(true);
        expect((r.reason as NestorError).code).toBe('validation_failed');
      }
    }
    expect(await store.getComponentVersions(name)).toHaveLength(2);
    await expectCatalogValid(store, name);
  }
}

let dynamo: Awaited<ReturnType<typeof sharedDynamoDBLocal>>;
beforeAll(async () => {
  dynamo = await sharedDynamoDBLocal();
}, DYNAMODB_LOCAL_WAIT_MS + 10_000);

describe('CatalogManager: concurrent creates of one name', () => {
  const dirs: string[] = [];
  const stores: CatalogStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const sqlitePath = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-races-'));
    dirs.push(dir);
    return join(dir, 'nestor.db');
  };

  it('memory: never lets two rivals validated against the same versions both in', async () => {
    const store = new MemoryStore();
    await race([managerOn(store)], store, 10, 4);
  });

  it('cached memory: the same, through the store cache', async () => {
    const store = new CachingStore({ inner: new MemoryStore() });
    await race([managerOn(store)], store, 10, 4);
  });

  it('sqlite: the same on a database file', async () => {
    const store = new SqliteStore({ path: sqlitePath() });
    stores.push(store);
    await race([managerOn(store)], store, 10, 4);
  });

  it('two replicas on one sqlite file: the store condition stops what no in-process lock sees', async () => {
    const path = sqlitePath();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    stores.push(a, b);
    await race([managerOn(a), managerOn(b)], a, 10, 4);
  });

  it('two replicas on one DynamoDB table: the same, through the counter-guarded transaction', async () => {
    const table = `nestor-races-${randomUUID()}`;
    const open = () =>
      new DynamoStore({
        table,
        endpoint: dynamo.endpoint,
        region: dynamo.region,
        credentials: dynamo.credentials,
      });
    const a = open();
    await a.migrate();
    const b = open();
    stores.push(a, b);
    await race([managerOn(a), managerOn(b)], a, 3, 4);
  });

  it('never reuses a verdict remembered under a lagging log head for a version set it did not see', async () => {
    // A replica whose view of the log head lags (DynamoDB's head is cached for 100 ms): another
    // replica publishes a rival between two validations of the same spec at the same stamp.
    const inner = new MemoryStore();
    const lagging: CatalogStore = Object.create(inner, { headSequence: { value: async () => 1 } });
    const manager = managerOn(lagging);
    const name = randomName();
    await inner.createComponent({ ...makeSpec({ name, version: '1.0.0' }), digest: 'sha256:base' });
    const [first, second] = rivals(name, 2) as [ComponentSpec, ComponentSpec];
    expect((await manager.validateComponent(second)).valid).toBe(true);
    await managerOn(inner).createComponent(first);
    const err = await manager.createComponent(second).catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('validation_failed');
    expect((await inner.getComponentVersions(name)).map((v) => v.version).sort()).toEqual(['1.0.0', '1.1.0']);
  });

  it('gives up with service_unavailable when the versions keep changing under it', async () => {
    const inner = new MemoryStore();
    const name = randomName();
    await inner.createComponent({ ...makeSpec({ name, version: '1.0.0' }), digest: 'sha256:seed' });
    let bumps = 0;
    // Another replica publishing a patch between every validation and write of this one.
    const busy: CatalogStore = Object.create(inner, {
      createComponent: {
        value: async (...args: Parameters<CatalogStore['createComponent']>) => {
          bumps++;
          await inner.createComponent({ ...makeSpec({ name, version: `1.0.${bumps}` }), digest: `sha256:${bumps}` });
          return inner.createComponent(...args);
        },
      },
    });
    const manager = new CatalogManager({
      store: busy,
      validator: managerOnValidator(inner),
      feed: new LocalChangeFeed(),
      logger: silentLogger,
      maxCreateAttempts: 3,
    });
    const err = await manager.createComponent(makeSpec({ name, version: '2.0.0' })).catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('service_unavailable');
    expect(bumps).toBe(3);
    expect(await inner.getComponent(name, '2.0.0')).toBeNull();
  });
});

function managerOnValidator(store: CatalogStore) {
  const engines = new TestEngines();
  engines.put('terraform', 'healthy');
  return createValidator({ reader: store, engines, unhealthyEngine: 'error', cacheSize: 0 });
}
