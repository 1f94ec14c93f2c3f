import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logging/logger.js';
import { PromMetrics } from '../observability/metrics/metrics.js';
import { TokenAuthenticator } from './middleware/auth.js';
import { registerResponseCache } from './response-cache.js';
import { createServer } from './server.js';

const SECURITY = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' };

/** The server as main.ts wires it, with the response cache, and routes that answer, hang or fail. */
async function server(requestTimeoutMs = 60_000) {
  const metrics = new PromMetrics({ defaultMetrics: false });
  const app = await createServer({
    logger: silentLogger,
    metrics,
    auth: new TokenAuthenticator({
      tokens: [{ name: 'reader', sha256: createHash('sha256').update('t-read').digest(), scopes: ['read'] }],
      anonymousRead: false,
    }),
    bodyLimit: 1_000_000,
    trustProxy: false,
    revision: { current: () => 41, generation: () => 0 },
    version: 'test',
    requestTimeoutMs,
    securityHeaders: SECURITY,
    rateLimit: { max: 0, windowMs: 60_000, redis: null, prefix: '' },
  });
  registerResponseCache(app, {
    maxBytes: 1_000_000,
    ttlMs: 60_000,
    revision: { current: () => 41, generation: () => 0 },
  });
  let handled = 0;
  app.get('/v1/components/:name', { config: { scope: 'read' } }, async (_req, reply) => {
    handled++;
    reply.header('etag', '"e-1"');
    return { name: 'x' };
  });
  app.get('/v1/hang', { config: { scope: 'read' } }, () => new Promise(() => {}));
  app.post('/v1/hang', { config: { scope: 'read' } }, () => new Promise(() => {}));
  await app.ready();
  return { app, metrics, handled: () => handled };
}

let open: FastifyInstance | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('createServer request path', () => {
  it('gives a response-cache hit the headers, status and body of the read that filled it, and counts both', async () => {
    const s = await server();
    open = s.app;
    const get = () =>
      s.app.inject({ method: 'GET', url: '/v1/components/x', headers: { authorization: 'Bearer t-read' } });
    const miss = await get();
    const hit = await get();
    expect(s.handled()).toBe(1);
    for (const res of [miss, hit]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({
        ...SECURITY,
        etag: '"e-1"',
        'x-catalog-revision': '41',
        'content-type': 'application/json; charset=utf-8',
      });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body).toBe('{"name":"x"}');
    }
    expect(hit.headers['x-request-id']).not.toBe(miss.headers['x-request-id']);
    const text = (await s.metrics.render()).body;
    expect(text).toContain(
      'nestor_http_request_duration_seconds_count{route="/v1/components/:name",method="GET",status="200"} 2',
    );
  });

  it('still refuses a cached read without a token or with an unknown one', async () => {
    const s = await server();
    open = s.app;
    await s.app.inject({ method: 'GET', url: '/v1/components/x', headers: { authorization: 'Bearer t-read' } });
    const anonymous = await s.app.inject({ method: 'GET', url: '/v1/components/x' });
    const unknown = await s.app.inject({
      method: 'GET',
      url: '/v1/components/x',
      headers: { authorization: 'Bearer nope' },
    });
    expect([anonymous.statusCode, unknown.statusCode]).toEqual([401, 401]);
    expect(anonymous.headers).toMatchObject({ ...SECURITY, 'x-catalog-revision': '41' });
    expect(s.handled()).toBe(1);
    const text = (await s.metrics.render()).body;
    expect(text).toContain(
      'nestor_http_request_duration_seconds_count{route="/v1/components/:name",method="GET",status="401"} 2',
    );
  });

  it('answers 503 to a handler that never finishes, with a request body as without one', async () => {
    const s = await server(150);
    open = s.app;
    const headers = { authorization: 'Bearer t-read', 'content-type': 'application/json' };
    const get = await s.app.inject({ method: 'GET', url: '/v1/hang', headers });
    const post = await s.app.inject({ method: 'POST', url: '/v1/hang', headers, payload: '{"a":1}' });
    for (const res of [get, post]) {
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'service_unavailable' });
      expect(res.json().detail).toContain('server.request_timeout');
      expect(res.headers).toMatchObject(SECURITY);
    }
  });
});
