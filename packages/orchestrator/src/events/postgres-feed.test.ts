import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../storage/postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from '../storage/postgres/testing.js';
import { makeComponent } from '../storage/testing.js';
import { PostgresChangeFeed } from './postgres-feed.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setUp() {
  const schema = randomSchema();
  const store = await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, poolSize: 2 });
  cleanups.push(
    () => dropSchema(schema),
    () => store.close(),
  );
  // No head polling: only LISTEN/NOTIFY can deliver.
  const feed = new PostgresChangeFeed({ url: TEST_POSTGRES_URL, channel: store.channel, reconnectMs: 50 });
  cleanups.push(() => feed.close());
  await feed.ready();
  const heard: number[] = [];
  feed.subscribe((h) => heard.push(h));
  return { store, feed, heard };
}

describe('PostgresChangeFeed', () => {
  it('hears every committed append of another process at once, never a rolled-back or no-op write', async () => {
    const { store, heard } = await setUp();
    const c = makeComponent();
    await store.createComponent(c);
    await until(() => heard.includes(1), 2000);
    await store.createComponent(c); // no-op: same digest
    await store.createComponent({ ...c, digest: 'sha256:other' }).catch(() => {}); // conflict
    await store.updateComponent(c.name, c.version, { labels: { team: 'a' } });
    await until(() => heard.includes(2), 2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([1, 2]);
  });

  it('reconnects after the LISTEN connection is killed', async () => {
    const { store, feed, heard } = await setUp();
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    cleanups.push(() => admin.end());
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [`feed:${store.channel}`.slice(0, 63)],
    );
    expect(rows[0]?.n).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    await feed.ready();
    await store.createComponent(makeComponent());
    await until(() => heard.includes(1), 3000);
  });
});
