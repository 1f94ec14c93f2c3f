import { connect, createServer, type Server, type Socket } from 'node:net';
import { NestorError } from '@nestor/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../packages/orchestrator/src/storage/postgres/postgres-store.js';
import { dropSchema, randomSchema } from '../packages/orchestrator/src/storage/postgres/testing.js';
import { makeComponent } from '../packages/orchestrator/src/storage/testing.js';
import { AUTH, component, testApp } from './helpers.js';

/** A TCP relay to the test PostgreSQL that can be cut and restored: the database "goes down". */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/** A port where nothing listens yet (a relay is started on it later). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const relay = new Relay();
const lateRelay = new Relay();
const schema = randomSchema();
const lateSchema = randomSchema();
afterAll(async () => {
  await relay.down();
  await lateRelay.down();
  await dropSchema(schema);
  await dropSchema(lateSchema);
});

describe('PostgreSQL going down under a running server', () => {
  it('answers 503 storage_failure and readyz 503 while it is down, and recovers by itself', async () => {
    await relay.up();
    const { app, cleanup } = await testApp((c) => {
      c.store = { ...c.store, type: 'postgres', url: `postgres://postgres@127.0.0.1:${relay.port}/test`, schema };
      c.cache.enabled = false;
    });
    try {
      const post = (name: string) =>
        app.server.inject({ method: 'POST', url: '/v1/components', headers: AUTH.admin, payload: component({ name }) });
      expect((await post('outage-before')).statusCode).toBe(201);
      expect((await app.server.inject({ url: '/readyz' })).statusCode).toBe(200);

      await relay.down();
      const ready = await app.server.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      const write = await post('outage-during');
      expect(write.statusCode).toBe(503);
      expect(write.json<{ code: string }>().code).toBe('storage_failure');
      expect((await app.server.inject({ url: '/v1/components/outage-before' })).statusCode).toBe(503);

      await relay.up();
      expect((await app.server.inject({ url: '/readyz' })).statusCode).toBe(200);
      expect((await app.server.inject({ url: '/v1/components/outage-during' })).statusCode).toBe(404);
      expect((await post('outage-after')).statusCode).toBe(201);
      const events = await app.store.readEvents(0, 10);
      expect(events.map((e) => [e.id, e.subject.name])).toEqual([
        [1, 'outage-before'],
        [2, 'outage-after'],
      ]);
    } finally {
      await cleanup();
    }
  }, 60_000);
});

describe('PostgreSQL down when the server starts', () => {
  it('the store retries in the background, failing fast with storage_failure until it is reached', async () => {
    const relayLater = new Relay();
    relayLater.port = await freePort();
    const storeSchema = randomSchema();
    const attempts: number[] = [];
    const store = await PostgresStore.connecting({
      url: `postgres://postgres@127.0.0.1:${relayLater.port}/test`,
      schema: storeSchema,
      poolSize: 2,
      onRetry: (_err, attempt) => attempts.push(attempt),
    });
    try {
      expect(store.isReady()).toBe(false);
      const err = await store.ping().catch((e: unknown) => e);
      expect(NestorError.is(err) && err.code).toBe('storage_failure');
      expect((err as Error).message).toMatch(/PostgreSQL is not reachable yet \(1 attempts; still retrying\)/);
      const write = await store.createComponent(makeComponent()).catch((e: unknown) => e);
      expect(NestorError.is(write) && write.code).toBe('storage_failure');

      await eventually(async () => attempts.length >= 2, 5_000);
      await relayLater.up();
      expect(await store.whenReady()).toBe(true);
      await store.ping();
      expect((await store.createComponent(makeComponent())).event?.id).toBe(1);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    } finally {
      await store.close();
      await relayLater.down();
      await dropSchema(storeSchema);
    }
  }, 60_000);

  it('the server listens: healthz 200, readyz 503 and writes 503 until the database is reached, then all works', async () => {
    lateRelay.port = await freePort();
    const { app, cleanup } = await testApp((c) => {
      c.store = {
        ...c.store,
        type: 'postgres',
        url: `postgres://postgres@127.0.0.1:${lateRelay.port}/test`,
        schema: lateSchema,
      };
      c.cache.enabled = false;
      c.engines = [
        {
          name: 'late-engine',
          type: 'terraform',
          endpoint: null,
          health_path: null,
          interval_ms: 30_000,
          timeout_ms: 5_000,
          failure_threshold: 3,
          success_threshold: 1,
          labels: {},
        },
      ];
    });
    try {
      await app.start();
      const post = (name: string) =>
        app.server.inject({ method: 'POST', url: '/v1/components', headers: AUTH.admin, payload: component({ name }) });
      expect((await app.server.inject({ url: '/healthz' })).statusCode).toBe(200);
      const ready = await app.server.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json<{ checks: Record<string, { status: string }> }>().checks['store']?.status).toBe('failed');
      const write = await post('late-during');
      expect(write.statusCode).toBe(503);
      expect(write.json<{ code: string }>().code).toBe('storage_failure');

      await lateRelay.up();
      await eventually(async () => (await app.server.inject({ url: '/readyz' })).statusCode === 200, 10_000);
      expect((await post('late-after')).statusCode).toBe(201);
      expect((await app.server.inject({ url: '/v1/components/late-after' })).statusCode).toBe(200);
      // Work that needs the store at start ran once it was reached: the configured engine is stored.
      await eventually(async () => (await app.store.getEngine('late-engine')) !== null, 10_000);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
