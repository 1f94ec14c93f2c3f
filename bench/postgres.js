// PostgreSQL vs SQLite: warm exact-version GET throughput, cache-off GET and sequential create
// latency, and cross-replica event delivery p99 through LISTEN/NOTIFY (no Redis). Run after
// `npm run build`, with PostgreSQL on 127.0.0.1:5432 (or NESTOR_BENCH_POSTGRES_URL):
//   node bench/postgres.js
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossReplicaDelivery, fmt, load } from './lib.js';

const dist = new URL('../packages/orchestrator/dist/', import.meta.url);
const { buildApp, defaultConfig } = await import(new URL('main.js', dist).href);
const pg = (await import('pg')).default;

const TOKEN = 'bench-admin-token-0123456789abcdef';
const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-postgres-'));
const url = process.env.NESTOR_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `nestor_bench_${run.replaceAll('-', '')}`;

function config(kind, cache = true) {
  const c = defaultConfig();
  c.data_dir = join(dir, kind);
  c.examples.enabled = false;
  c.log.level = 'silent';
  c.auth.tokens = [{ name: 'bench', token: TOKEN, sha256: null, scopes: ['admin'] }];
  if (kind === 'sqlite') {
    c.store.type = 'sqlite';
    c.store.path = join(dir, 'bench.db');
  } else {
    c.store = { ...c.store, type: 'postgres', url, schema };
  }
  c.cache.enabled = cache;
  return c;
}

async function start(kind, cache = true) {
  const app = await buildApp(config(kind, cache), { env: {} });
  await app.start();
  const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: address };
}

const body = (name) =>
  JSON.stringify({
    name,
    version: '1.0.0',
    description: 'bench component',
    provider: 'aws',
    category: 'database',
    resource_type: 'postgresql',
  });
const post = (base, name) =>
  fetch(`${base}/v1/components`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body(name),
  });

const sqlite = await start('sqlite');
const dyn = await start('postgres');
for (const s of [sqlite, dyn]) {
  const res = await post(s.base, 'bench-get');
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
}
const path = '/v1/components/bench-get/versions/1.0.0';
await load({ url: sqlite.base + path, duration: 2 });
await load({ url: dyn.base + path, duration: 2 });
const s = await load({ url: sqlite.base + path, duration: 5 });
const d = await load({ url: dyn.base + path, duration: 5 });
console.log(
  `exact GET, warm caches: sqlite ${fmt(s.rps, 0)} req/s (p99 ${s.p99} ms), postgres ${fmt(d.rps, 0)} req/s (p99 ${d.p99} ms)`,
);
console.log(`  postgres / sqlite = ${fmt((100 * d.rps) / s.rps)} % (target >= 90 %)`);
const uncached = await start('postgres', false);
await load({ url: uncached.base + path, duration: 1 });
const u = await load({ url: uncached.base + path, duration: 5 });
console.log(`exact GET, cache off: postgres ${fmt(u.rps, 0)} req/s (p99 ${u.p99} ms)`);
await uncached.app.close();
for (const [label, target] of [
  ['sqlite', sqlite],
  ['postgres', dyn],
]) {
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await (await post(target.base, `bench-create-${run}-${i}`)).arrayBuffer();
  console.log(`sequential creates over HTTP: ${label} ${fmt((200 * 1000) / (performance.now() - t0), 0)} /s`);
}
await sqlite.app.close();

// Cross-replica delivery: write on one replica, receive on another's SSE stream.
const other = await start('postgres');
const delivery = await crossReplicaDelivery({
  reader: other.base,
  head: await dyn.app.store.headSequence(),
  write: (i) => post(dyn.base, `bench-ev-${run}-${i}`),
});
console.log(
  `cross-replica event delivery over ${delivery.count} writes: p50 ${delivery.p50} ms, p99 ${delivery.p99} ms (target <= 1000 ms)`,
);
await other.app.close();
await dyn.app.close();
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await admin.end();
rmSync(dir, { recursive: true, force: true });
