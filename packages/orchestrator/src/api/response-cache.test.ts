import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { CatalogRevision } from '../storage/cache/interfaces.js';
import { ownBytes, registerResponseCache } from './response-cache.js';

/** A revision that stands still, so every read after the first is a hit. */
const still: CatalogRevision = { current: () => 7, generation: () => 0 };

/**
 * The response cache on a bare Fastify instance: one earlier hook stamps each exchange with a
 * header of its own (as the request id, trace id and security headers are), the route sets the
 * representation's headers.
 */
async function app(revision: CatalogRevision = still, onHandle: () => void = () => {}) {
  const server = Fastify();
  server.decorateRequest('catalogRevision', null);
  server.decorateRequest('routeConfig', null);
  let exchange = 0;
  server.addHook('onRequest', (req, reply, done) => {
    reply.header('x-exchange', String(++exchange));
    req.catalogRevision = revision.current() as number;
    done();
  });
  registerResponseCache(server, { maxBytes: 1_000_000, ttlMs: 60_000, revision });
  let handled = 0;
  server.get('/v1/components/x', { config: { scope: 'read' } }, async (_req, reply) => {
    handled++;
    onHandle();
    reply.header('etag', '"x-1"');
    return { name: 'x' };
  });
  await server.ready();
  return { server, handled: () => handled };
}

describe('registerResponseCache', () => {
  it('keeps only what the handler set: headers of the exchange come from the hit’s own hooks', async () => {
    const { server, handled } = await app();
    const first = await server.inject({ method: 'GET', url: '/v1/components/x' });
    const second = await server.inject({ method: 'GET', url: '/v1/components/x' });
    expect(handled()).toBe(1);
    expect(first.headers['x-exchange']).toBe('1');
    expect(second.headers['x-exchange']).toBe('2');
    expect(second.headers['etag']).toBe('"x-1"');
    expect(second.headers['x-catalog-revision']).toBe('7');
    expect(second.body).toBe(first.body);
    const notModified = await server.inject({
      method: 'GET',
      url: '/v1/components/x',
      headers: { 'if-none-match': 'W/"other", "x-1"' },
    });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers['x-exchange']).toBe('3');
    await server.close();
  });

  it('keeps a query page from its second asking, so queries asked once hold no memory', async () => {
    const { server, handled } = await app();
    const url = '/v1/components/x?q=one';
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await server.inject({ method: 'GET', url }));
    expect(handled()).toBe(2);
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('{"name":"x"}');
      expect(res.headers['content-length']).toBe('12');
    }
    await server.inject({ method: 'GET', url: '/v1/components/x?q=two' });
    expect(handled()).toBe(3);
    await server.close();
  });

  it('serves an entry only at the revision and generation it was read at', async () => {
    const at = { revision: 7, generation: 0 };
    const moving: CatalogRevision = { current: () => at.revision, generation: () => at.generation };
    let bumpWhileHandling = false;
    const { server, handled } = await app(moving, () => {
      if (bumpWhileHandling) at.generation++;
    });
    const get = () => server.inject({ method: 'GET', url: '/v1/components/x' });
    await get();
    await get();
    expect(handled()).toBe(1);
    at.revision = 8;
    await get();
    expect(handled()).toBe(2);
    expect((await get()).headers['x-catalog-revision']).toBe('8');
    expect(handled()).toBe(2);
    at.generation = 1;
    await get();
    expect(handled()).toBe(3);
    // An invalidation while the handler ran: that answer is not kept, the next read runs again.
    bumpWhileHandling = true;
    at.revision = 9;
    await get();
    bumpWhileHandling = false;
    await get();
    await get();
    expect(handled()).toBe(5);
    // Back at an older revision (another replica behind): never the newer entry.
    at.revision = 8;
    await get();
    expect(handled()).toBe(6);
    await server.close();
  });

  it('keeps its own copy of a page written into larger reused memory, sized to the page', async () => {
    const server = Fastify();
    server.decorateRequest('catalogRevision', null);
    server.addHook('onRequest', (req, _reply, done) => {
      req.catalogRevision = 7;
      done();
    });
    registerResponseCache(server, { maxBytes: 1_000_000, ttlMs: 60_000, revision: still });
    // As list and search pages are: a view into memory the next page is written over.
    const memory = Buffer.alloc(64 * 1024);
    let handled = 0;
    server.get('/v1/components', { config: { scope: 'read' } }, (_req, reply) => {
      handled++;
      const page = memory.subarray(0, 12);
      page.write(`{"page":${handled}}`.padEnd(12, ' '));
      reply.type('application/json').send(page);
    });
    await server.ready();
    const url = '/v1/components?q=same';
    await server.inject({ method: 'GET', url });
    const kept = await server.inject({ method: 'GET', url });
    expect(kept.body).toBe('{"page":2}  ');
    memory.write('{"page":99}', 0);
    const hit = await server.inject({ method: 'GET', url });
    expect(handled).toBe(2);
    expect(hit.body).toBe('{"page":2}  ');
    await server.close();
  });
});

describe('ownBytes', () => {
  it('copies a view into larger memory to exactly its bytes, and leaves a buffer of its own as it is', () => {
    const memory = Buffer.alloc(1024, 'x');
    const view = memory.subarray(100, 110);
    const own = ownBytes(view);
    expect(own).not.toBe(view);
    expect(own.buffer.byteLength).toBe(10);
    expect(own.equals(view)).toBe(true);
    const whole = Buffer.allocUnsafeSlow(10).fill('y');
    expect(ownBytes(whole)).toBe(whole);
  });
});
