import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { CachingStore } from '../packages/orchestrator/src/storage/cache/caching-store.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { AUTH, component, postComponent, testApp } from './helpers.js';

const URL_V1 = '/v1/components/orders-db/versions/1.0.0';
let cleanup: (() => Promise<void>) | null = null;

afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function start(store?: MemoryStore): Promise<App> {
  const built = await testApp(undefined, store);
  cleanup = built.cleanup;
  const created = await postComponent(built.app, component({ name: 'orders-db', labels: { team: 'platform' } }));
  expect(created.statusCode).toBe(201);
  return built.app;
}

/** Status, body and every header but the per-request id and date. */
async function get(app: App, url: string, headers: Record<string, string> = {}) {
  const res = await app.server.inject({ method: 'GET', url, headers });
  const { 'x-request-id': _id, date: _date, ...rest } = res.headers;
  return { status: res.statusCode, body: res.body, headers: rest };
}

describe('response cache of component reads', () => {
  it('answers a repeated read with the same status, bytes and headers, and 304 on a matching ETag', async () => {
    const app = await start();
    for (const url of [
      URL_V1,
      '/v1/components?limit=5',
      '/v1/components/search?q=orders',
      '/v1/components/orders-db',
    ]) {
      const first = await get(app, url);
      expect(first.status).toBe(200);
      expect(await get(app, url)).toEqual(first);
    }
    const first = await get(app, URL_V1);
    const etag = String(first.headers['etag']);
    const notModified = await get(app, URL_V1, { 'if-none-match': `"other", ${etag}` });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers['etag']).toBe(etag);
    expect(notModified.headers['cache-control']).toBe('public, max-age=60');
    expect(notModified.headers['x-catalog-revision']).toBe(first.headers['x-catalog-revision']);
    expect(notModified.headers['content-type']).toBeUndefined();
  });

  it('gives a hit its own request id and counts it in the request metrics', async () => {
    const app = await start();
    const count = async () => {
      const metrics = await app.server.inject({ method: 'GET', url: '/metrics' });
      const line = metrics.body
        .split('\n')
        .find(
          (l) =>
            l.startsWith('nestor_http_request_duration_seconds_count{') &&
            l.includes('route="/v1/components/:name/versions/:version"') &&
            l.includes('status="200"'),
        );
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await app.server.inject({ method: 'GET', url: URL_V1, headers: { 'x-request-id': `req-${i}` } });
      expect(res.statusCode).toBe(200);
      ids.add(String(res.headers['x-request-id']));
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    }
    expect([...ids]).toEqual(['req-0', 'req-1', 'req-2']);
    expect(await count()).toBe(3);
  });

  it('never serves an answer from before a write through the API', async () => {
    const app = await start();
    const before = await get(app, URL_V1);
    const list = await get(app, '/v1/components?limit=5');
    const patched = await app.server.inject({
      method: 'PATCH',
      url: URL_V1,
      headers: AUTH.write,
      payload: { labels: { team: 'data' } },
    });
    expect(patched.statusCode).toBe(200);
    const after = await get(app, URL_V1);
    expect(after.headers['etag']).not.toBe(before.headers['etag']);
    expect(JSON.parse(after.body).labels).toEqual({ team: 'data' });
    expect(await get(app, URL_V1, { 'if-none-match': String(before.headers['etag']) })).toMatchObject({ status: 200 });
    const listAfter = await get(app, '/v1/components?limit=5');
    expect(JSON.parse(listAfter.body).items[0].labels).toEqual({ team: 'data' });
    expect(listAfter.headers['x-catalog-revision']).not.toBe(list.headers['x-catalog-revision']);
  });

  it('follows the store cache when another process writes: stale only until the log reaches it', async () => {
    const raw = new MemoryStore({});
    const app = await start(raw);
    expect(JSON.parse((await get(app, URL_V1)).body).labels).toEqual({ team: 'platform' });
    // Another process changes the shared store: this one's store cache and its cached answer hold
    // the old labels until the change reaches the cache through the log.
    const outcome = await raw.updateComponent('orders-db', '1.0.0', { labels: { team: 'payments' } });
    expect(JSON.parse((await get(app, URL_V1)).body).labels).toEqual({ team: 'platform' });
    expect(app.store).toBeInstanceOf(CachingStore);
    (app.store as CachingStore).invalidate(outcome.event as NonNullable<typeof outcome.event>);
    expect(JSON.parse((await get(app, URL_V1)).body).labels).toEqual({ team: 'payments' });
  });

  it('does not cache errors or answers that depend on more than the catalog', async () => {
    const app = await start();
    const missing = await get(app, '/v1/components/nope/versions/1.0.0');
    expect(missing.status).toBe(404);
    const created = await postComponent(app, component({ name: 'nope' }));
    expect(created.statusCode).toBe(201);
    expect((await get(app, '/v1/components/nope/versions/1.0.0')).status).toBe(200);
    const denied = await app.server.inject({
      method: 'GET',
      url: URL_V1,
      headers: { authorization: 'Bearer wrong-token' },
    });
    expect(denied.statusCode).toBe(401);
  });

  it('keeps a page it caches whole while later pages reuse the memory pages are written into', async () => {
    const app = await start();
    for (const name of ['cache-a', 'cache-b', 'queue-c', 'queue-d']) {
      expect(
        (await postComponent(app, component({ name, description: `The ${name} store for orders` }))).statusCode,
      ).toBe(201);
    }
    const pages = [
      '/v1/components/search?q=orders&limit=2',
      '/v1/components/search?q=cache&limit=5',
      '/v1/components?limit=3&facets=provider',
      '/v1/components/search?q=queue',
      '/v1/components?limit=1',
    ];
    // Real sockets: the memory is reused only once a socket took a page (an injected request has none).
    const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
    const fetchBody = async (url: string) => (await fetch(`${address}${url}`)).text();
    const first = new Map<string, string>();
    for (const url of pages) first.set(url, await fetchBody(url));
    // The first page's second asking is the one the cache keeps; the pages after it would be written
    // over it were it not its own memory.
    expect(await fetchBody(pages[0] as string)).toBe(first.get(pages[0] as string));
    for (const url of pages.slice(1)) expect(await fetchBody(url)).toBe(first.get(url));
    for (const url of pages) expect(await fetchBody(url)).toBe(first.get(url));

    // Concurrently: every body is the page asked for.
    const urls = Array.from(
      { length: 40 },
      (_, i) => `/v1/components/search?q=${['orders', 'cache', 'queue'][i % 3]}&limit=${1 + (i % 7)}`,
    );
    const expected = await Promise.all(urls.map(async (url) => (await get(app, url)).body));
    const bodies = await Promise.all(urls.map(fetchBody));
    expect(bodies).toEqual(expected);
  });
});
