import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { CatalogRevision } from '../storage/cache/interfaces.js';
import { registerResponseCache } from './response-cache.js';

/** A revision that stands still, so every read after the first is a hit. */
const still: CatalogRevision = { current: () => 7, generation: () => 0 };

/**
 * The response cache on a bare Fastify instance: one earlier hook stamps each exchange with a
 * header of its own (as the request id, trace id and security headers are), the route sets the
 * representation's headers.
 */
async function app() {
  const server = Fastify();
  server.decorateRequest('catalogRevision', null);
  server.decorateRequest('routeConfig', null);
  let exchange = 0;
  server.addHook('onRequest', (req, reply, done) => {
    reply.header('x-exchange', String(++exchange));
    req.catalogRevision = 7;
    done();
  });
  registerResponseCache(server, { maxBytes: 1_000_000, ttlMs: 60_000, revision: still });
  let handled = 0;
  server.get('/v1/components/x', { config: { scope: 'read' } }, async (_req, reply) => {
    handled++;
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
});
