// X-Catalog-Revision is held in memory (the sequence up to which this process's cache reflects the
// log). These tests pin what that must keep true: a write through the API moves it at once, a write
// by another process on the same SQLite file reaches the cache and the revision without Redis, and
// a read never carries a revision ahead of the data it shows.
import { computeDigest, normalizeSpec, storageFailure } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { SqliteStore } from '../packages/orchestrator/src/storage/sqlite/sqlite-store.js';
import { component, postComponent, testApp } from './helpers.js';
import { waitFor } from './replicas-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sqliteApp(): Promise<{ app: App; path: string }> {
  let path = '';
  const { app, cleanup } = await testApp((c) => {
    c.store.type = 'sqlite';
    path = c.store.path;
  });
  cleanups.push(cleanup);
  return { app, path };
}

async function list(app: App): Promise<{ revision: number; names: string[] }> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/components?limit=100' });
  expect(res.statusCode).toBe(200);
  return {
    revision: Number(res.headers['x-catalog-revision']),
    names: (JSON.parse(res.body) as { items: { name: string }[] }).items.map((c) => c.name),
  };
}

describe('X-Catalog-Revision', () => {
  it('moves with every write through the API, to the event of that write', async () => {
    const { app } = await sqliteApp();
    for (const name of ['orders-db', 'payments-db', 'ledger-db']) {
      const created = await postComponent(app, component({ name }));
      expect(created.statusCode).toBe(201);
      const { revision } = JSON.parse(created.body) as { revision: number };
      const after = await list(app);
      expect(after.revision).toBe(revision);
      expect(after.revision).toBe(await app.store.headSequence());
      expect(after.names).toContain(name);
    }
  });

  it('follows another process writing to the same SQLite file, without Redis, and never runs ahead of the data', async () => {
    const { app, path } = await sqliteApp();
    const created = await postComponent(app, component({ name: 'orders-db' }));
    expect(created.statusCode).toBe(201);
    const before = await list(app);
    expect(before.names).toEqual(['orders-db']);

    // `nestor sync` or a second server on the same file: its own connection, not this process's cache.
    const other = new SqliteStore({ path });
    cleanups.push(() => other.close());
    const spec = normalizeSpec(component({ name: 'payments-db' }));
    const outcome = await other.createComponent({ ...spec, digest: computeDigest(spec) });
    const head = outcome.event?.id ?? 0;
    expect(head).toBe(before.revision + 1);

    // Until this process has applied the event, a read may show old data, but then with the old
    // revision: a client that lists and then watches from it receives the event.
    const seen: { revision: number; names: string[] }[] = [];
    await waitFor(
      async () => {
        const now = await list(app);
        seen.push(now);
        return now.revision === head;
      },
      5000,
      'the revision to reach the other process write',
    );
    for (const read of seen) {
      if (read.revision >= head) expect(read.names).toContain('payments-db');
      else expect(read.revision).toBe(before.revision);
    }
    expect((await list(app)).names).toEqual(['orders-db', 'payments-db']);
    const exact = await app.server.inject({ method: 'GET', url: '/v1/components/payments-db/versions/1.0.0' });
    expect(exact.statusCode).toBe(200);
    expect(exact.headers['x-catalog-revision']).toBe(String(head));
  });

  it('answers with the store problem, not a 500, when the revision cannot be read', async () => {
    class FailingHead extends MemoryStore {
      fail = false;
      override headSequence(): Promise<number> {
        return this.fail
          ? Promise.reject(storageFailure('sqlite', 'HeadSequence', new Error('disk I/O error')))
          : super.headSequence();
      }
    }
    const store = new FailingHead();
    // With the cache off, every request reads the revision from the store.
    const { app, cleanup } = await testApp((c) => {
      c.cache.enabled = false;
    }, store);
    cleanups.push(cleanup);
    store.fail = true;
    const res = await app.server.inject({ method: 'GET', url: '/v1/components?limit=5' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body).code).toBe('storage_failure');
    expect(res.headers['x-catalog-revision']).toBeUndefined();
    store.fail = false;
    const ok = await app.server.inject({ method: 'GET', url: '/v1/components?limit=5' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-catalog-revision']).toBe('0');
  });
});
