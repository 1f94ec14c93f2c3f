import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../packages/orchestrator/src/storage/dynamodb/dynamo-store.js';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from './dynamodb-local.js';
import { component } from './helpers.js';
import { ADMIN_TOKEN, ensureBuilt, openStream, type Replica, startReplica, waitFor } from './replicas-helpers.js';

const run = randomUUID().slice(0, 8);
const prefix = `nestor-replicas-test:${run}:`;
const table = `replicas-${run}`;
let dynamo: Awaited<ReturnType<typeof sharedDynamoDBLocal>>;
let direct: DynamoStore;
let replicas: Replica[] = [];
const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

beforeAll(async () => {
  ensureBuilt();
  dynamo = await sharedDynamoDBLocal();
  direct = new DynamoStore({
    table,
    endpoint: dynamo.endpoint,
    region: dynamo.region,
    credentials: dynamo.credentials,
    // The test reads the head right after other processes write: no head caching here.
    headCacheMs: 0,
  });
  await direct.migrate();
  const env = {
    NESTOR_STORE_TYPE: 'dynamodb',
    NESTOR_STORE_TABLE: table,
    NESTOR_STORE_ENDPOINT: dynamo.endpoint,
    NESTOR_STORE_REGION: dynamo.region,
    AWS_ACCESS_KEY_ID: dynamo.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: dynamo.credentials.secretAccessKey,
    NESTOR_CACHE_REDIS_URL: 'redis://127.0.0.1:6379',
    NESTOR_REDIS_PREFIX: prefix,
  };
  replicas = await Promise.all(['a', 'b', 'c'].map((n) => startReplica(n, env)));
}, DYNAMODB_LOCAL_WAIT_MS + 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await direct?.close();
  // Only this run's keys: the shared Redis is never flushed.
  const { Redis } = await import('ioredis');
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

async function post(r: Replica, body: unknown): Promise<Response> {
  return fetch(`${r.base}/v1/components`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
}

describe('three replicas sharing DynamoDB Local and Redis', () => {
  it('reports the store and Redis as ready', async () => {
    // Redis is optional, so a replica turns ready without waiting for its connection; on a loaded
    // machine the first answers can still say `degraded` while it connects (or retries a handshake
    // that outran the 1 s connect timeout). What must hold is that it comes up by itself.
    type Checks = Record<string, { status: string; message?: string }>;
    let checks: Checks = {};
    await waitFor(
      async () => {
        const res = await fetch(`${replicas[0]!.base}/readyz`);
        checks = ((await res.json()) as { checks: Checks }).checks;
        return checks['redis']?.status === 'ok';
      },
      15_000,
      'Redis to be reported ok',
    ).catch(() => undefined);
    expect(checks['store']?.status).toBe('ok');
    expect(checks['redis']).toEqual({ status: 'ok' });
  });

  it('a write on one replica is readable on the others and streamed to their SSE subscribers within 1 s', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    // A first write warms the writer up (connections, JIT) so the timing below is the steady state.
    expect((await post(a, component({ name: `repl-${run}-warm` }))).status).toBe(201);
    const head = await direct.headSequence();
    const onB = await openStream(b.base, head);
    const onC = await openStream(c.base, head);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) {
      const name = `repl-${run}-one-${i}`;
      const res = await post(a, component({ name }));
      expect(res.status).toBe(201);
      const committed = Date.now();
      const id = head + 1 + i;
      await waitFor(
        () => onB.events.some((e) => e.id === id) && onC.events.some((e) => e.id === id),
        3000,
        `event ${id} on b and c`,
      );
      for (const stream of [onB, onC]) {
        const got = stream.events.find((e) => e.id === id)!;
        expect(got.type).toBe('component.created');
        expect(got.at - committed).toBeLessThan(1000);
      }
      for (const r of [b, c]) {
        const got = await fetch(`${r.base}/v1/components/${name}/versions/1.0.0`);
        expect(got.status).toBe(200);
      }
    }
    expect(onB.events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5].map((i) => head + i));
    onB.close();
    onC.close();
  });

  it('a change on one replica reaches the caches of the others', async () => {
    const [a, b] = replicas as [Replica, Replica, Replica];
    const name = `repl-${run}-cached`;
    expect((await post(a, component({ name }))).status).toBe(201);
    const url = `${b.base}/v1/components/${name}/versions/1.0.0`;
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    const patched = await fetch(`${a.base}/v1/components/${name}/versions/1.0.0`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ deprecated: { reason: 'replaced' } }),
    });
    expect(patched.status).toBe(200);
    await waitFor(
      async () => ((await (await fetch(url)).json()) as { deprecated: unknown }).deprecated !== null,
      1500,
      'deprecation visible on b',
    );
  });

  it('a replica killed mid-write leaves no partial write and no gap or reuse in the sequence', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const names = Array.from({ length: 12 }, (_, i) => `kill-${run}-${i}`);
    const inflight = names.map((name, i) =>
      post(i % 3 === 0 ? a : c, component({ name })).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    c.child.kill('SIGKILL');
    const statuses = await Promise.all(inflight);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 201 || s === 0)).toBe(true);

    const events = await direct.readEvents(0, 10_000);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const created = new Map<string, number>();
    for (const e of events)
      if (e.type === 'component.created') created.set(e.subject.name, (created.get(e.subject.name) ?? 0) + 1);
    for (const name of names) {
      const stored = await direct.getComponent(name, '1.0.0');
      // Stored exactly when its event was appended: the write is one transaction.
      expect(created.get(name) ?? 0).toBe(stored ? 1 : 0);
    }
    // The surviving replicas answer, and see every stored component.
    for (const r of [a, b]) {
      for (const name of names) {
        const stored = await direct.getComponent(name, '1.0.0');
        const res = await fetch(`${r.base}/v1/components/${name}/versions/1.0.0`);
        expect(res.status).toBe(stored ? 200 : 404);
      }
    }
  });
});
