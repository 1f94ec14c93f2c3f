import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, randomSchema } from '../packages/orchestrator/src/storage/postgres/testing.js';
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

const relay = new Relay();
const schema = randomSchema();
afterAll(async () => {
  await relay.down();
  await dropSchema(schema);
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
