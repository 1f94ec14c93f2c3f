// Child process for the catalog-scale benchmark (bench/catalog-scale.js), on SQLite or PostgreSQL.
//   scale-server.js load  <json options>   writes the generated catalog through the store's own
//                                           write path (rows, indexes, search index, one event per
//                                           version; no HTTP, no validation), reports the rate, exits
//   scale-server.js serve <json options>   the real orchestrator on that catalog, on a free port, as
//                                           a restarted server would; reports its address and, when
//                                           asked, its memory; `cache: false` turns the caches off
// Options: { store: 'sqlite' | 'postgres', dir, url, schema, components, seed, cache, log }: `log`, a
// pino level for the server's own lines (default silent), to see what a run makes it do. IPC reports.
import { join } from 'node:path';
import { buildApp, defaultConfig } from '../../packages/orchestrator/dist/main.js';
import { computeDigest, normalizeSpec } from '../../packages/sdk/dist/index.js';
import { generateCatalog } from '../catalog-gen.js';

const [mode, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}');

async function load() {
  const { specs } = generateCatalog(opts.components, { seed: opts.seed });
  const started = performance.now();
  if (opts.store === 'sqlite') {
    const { SqliteStore } = await import('../../packages/orchestrator/dist/storage/sqlite/sqlite-store.js');
    const store = new SqliteStore({ path: join(opts.dir, 'nestor.db') });
    // Batches of creates in one outer transaction (each create is a savepoint inside it): the
    // store's write path without a commit per component. Reaches into the store's connection,
    // which only a benchmark may do.
    const db = store.db;
    db.exec('BEGIN');
    let n = 0;
    for (const raw of specs) {
      const spec = normalizeSpec(raw);
      await store.createComponent({ ...spec, digest: computeDigest(spec) });
      if (++n % 5_000 === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    }
    db.exec('COMMIT');
    await store.close();
  } else {
    const { PostgresStore } = await import('../../packages/orchestrator/dist/storage/postgres/postgres-store.js');
    const store = await PostgresStore.open({ url: opts.url, schema: opts.schema, poolSize: 2 });
    // As on SQLite, batches of creates run in one outer transaction: the store's own write path
    // (the same statements, the head lock, the event), without a commit and a pool checkout per
    // component. A client handed to the store in place of a pool checkout drops its per-create
    // BEGIN/COMMIT (each a round trip; a failed create fails the whole load, which is what a
    // benchmark wants). Reaches into the store's private `pool` and `connect`, which only a
    // benchmark may do. PostgreSQL is still the slower load: about eight round trips per create.
    const client = await store.pool.connect();
    const none = Promise.resolve({ rows: [], rowCount: 0 });
    const outer = {
      query: (text, params) => {
        if (text === 'BEGIN' || text === 'COMMIT') return none;
        if (text === 'ROLLBACK') return Promise.reject(new Error('a create failed during the bench load'));
        return client.query(text, params);
      },
      release: () => {},
    };
    const connect = store.connect;
    store.connect = async () => outer;
    await client.query('BEGIN');
    let n = 0;
    for (const raw of specs) {
      const spec = normalizeSpec(raw);
      await store.createComponent({ ...spec, digest: computeDigest(spec) });
      if (++n % 2_000 === 0) {
        await client.query('COMMIT');
        await client.query('BEGIN');
      }
    }
    await client.query('COMMIT');
    client.release();
    store.connect = connect;
    // The new tables as autovacuum would leave them soon after a load (it is off on the bench
    // machine): planner statistics, and every row's visibility settled (hint bits, the visibility
    // map), then written out. Otherwise the served catalog is one no live server meets: its first
    // start's walk set hint bits on every page and its backend wrote 20 000 pages (160 MB) as it
    // evicted them (`pg_stat_bgwriter.buffers_backend`, 2026-12-03); after this, none.
    const { rows } = await store.pool.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [opts.schema]);
    for (const { tablename } of rows) await store.pool.query(`VACUUM (ANALYZE) "${opts.schema}"."${tablename}"`);
    await store.pool.query('CHECKPOINT');
    await store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  process.send?.({ type: 'loaded', versions: specs.length, seconds });
  process.disconnect?.();
}

async function serve() {
  const config = defaultConfig();
  config.data_dir = opts.dir;
  if (opts.store === 'sqlite') {
    config.store.type = 'sqlite';
    config.store.path = join(opts.dir, 'nestor.db');
  } else {
    config.store = { ...config.store, type: 'postgres', url: opts.url, schema: opts.schema };
  }
  config.examples.enabled = false;
  config.log.level = opts.log ?? 'silent';
  // One load generator is one caller: the rate limit (600 a minute by default) would refuse nearly all.
  config.limits.rate.max = 0;
  config.cache.enabled = opts.cache !== false;
  config.auth.tokens = [{ name: 'bench', token: 'bench-token', sha256: null, scopes: ['admin'] }];
  const app = await buildApp(config);
  const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  await app.start();
  process.send?.({ type: 'ready', address });
  process.on('message', async (msg) => {
    if (msg === 'stop') {
      await app.close();
      process.exit(0);
    }
    if (msg?.type === 'memory') process.send?.({ type: 'memory', ...process.memoryUsage() });
  });
}

if (mode === 'load') await load();
else if (mode === 'serve') await serve();
else throw new Error('usage: scale-server.js load|serve <json options>');
