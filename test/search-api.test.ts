import { NestorClient } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, component, postComponent, testApp } from './helpers.js';

type App = Awaited<ReturnType<typeof testApp>>['app'];

describe('search and list over HTTP (DESIGN.md 10.1)', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  const get = (url: string) => app.server.inject({ method: 'GET', url, headers: AUTH.read });

  beforeAll(async () => {
    ({ app, cleanup } = await testApp((c) => {
      c.cache.enabled = false;
    }));
    for (const [name, category, provider, labels] of [
      ['aws-rds-postgres', 'database', 'aws', { team: 'data' }],
      ['gcp-cloudsql-postgres', 'database', 'gcp', { team: 'data' }],
      ['k8s-redis', 'cache', 'kubernetes', { team: 'platform' }],
    ] as const) {
      const res = await postComponent(app, component({ name, category, provider, labels }));
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(() => cleanup());

  it('finds a component created a moment before on the same server (read-your-writes)', async () => {
    const res = await postComponent(app, component({ name: 'aws-dynamodb-table', category: 'database' }));
    expect(res.statusCode).toBe(201);
    const found = await get('/v1/components/search?q=dynamod');
    expect(found.json().items.map((c: { name: string }) => c.name)).toEqual(['aws-dynamodb-table']);
  });

  it('answers total and facets over the whole filtered result, on list and search', async () => {
    const list = (await get('/v1/components?category=database&limit=1&facets=provider,label')).json();
    expect(list.items).toHaveLength(1);
    expect(list.total).toBeGreaterThanOrEqual(2);
    expect(list.facets.provider).toContainEqual({ value: 'gcp', count: 1 });
    expect(list.facets.label).toContainEqual({ value: 'team=data', count: 2 });
    const search = (await get('/v1/components/search?q=postgres%20provider:gcp&facets=category')).json();
    expect(search.total).toBe(1);
    expect(search.facets).toEqual({ category: [{ value: 'database', count: 1 }] });
    expect(search.items[0].score).toBeGreaterThan(0);
  });

  it('sorts by name, by update, and by relevance', async () => {
    const names = (url: string) => get(url).then((r) => r.json().items.map((c: { name: string }) => c.name));
    const byName = await names('/v1/components?sort=name');
    expect(byName).toEqual([...byName].sort());
    const byUpdate = await names('/v1/components?sort=updated');
    expect(byUpdate[0]).toBe('aws-dynamodb-table');
    expect(await names('/v1/components/search?q=label:team=data')).toEqual([
      'aws-rds-postgres',
      'gcp-cloudsql-postgres',
    ]);
  });

  it('refuses an unknown qualifier or facet with a 400 naming it', async () => {
    const q = await get('/v1/components/search?q=colour:red');
    expect(q.statusCode).toBe(400);
    expect(q.json()).toMatchObject({ code: 'invalid_request', details: { qualifier: 'colour' } });
    const f = await get('/v1/components?facets=provider,colour');
    expect(f.statusCode).toBe(400);
    expect(f.json()).toMatchObject({ code: 'invalid_request', details: { facet: 'colour' } });
    expect((await get('/v1/components?sort=random')).statusCode).toBe(400);
  });

  it('answers 200 or 400, never 5xx, for hostile search strings', async () => {
    const hostile = [
      '"',
      '""redis',
      '*',
      'redis*',
      ':',
      'a:b:c',
      '((',
      ')redis(',
      'redis AND cache',
      'NEAR(redis cache, 2)',
      'redis OR -cache',
      'x'.repeat(500),
      'a '.repeat(250),
      '🚀🔥 redis 🐘',
      'שלום عالم redis',
      '\u202e\u200f redis',
      '\u0000\u0001',
      '%',
      "'; DROP TABLE components; --",
      'label:=',
      'provider:"unterminated',
    ];
    for (const q of hostile) {
      const res = await get(`/v1/components/search?q=${encodeURIComponent(q)}`);
      expect([200, 400], q).toContain(res.statusCode);
      if (res.statusCode === 400) expect(res.json().code).toBe('invalid_request');
    }
    expect((await get(`/v1/components/search?q=${'y'.repeat(501)}`)).statusCode).toBe(400);
  });

  it('the SDK passes facets and sort and reads total and facets', async () => {
    const address = await app.server.listen({ port: 0, host: '127.0.0.1' });
    const client = new NestorClient({ baseUrl: address, token: AUTH.read.authorization.slice('Bearer '.length) });
    const page = await client.searchComponents('category:database', { facets: ['provider'], sort: 'name', limit: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((c) => c.name)).toEqual(['aws-dynamodb-table']);
    expect(page.next_cursor).not.toBeNull();
    expect(page.facets?.provider).toEqual([
      { value: 'aws', count: 2 },
      { value: 'gcp', count: 1 },
    ]);
    const list = await client.listComponents({ labels: { team: 'data' } });
    expect(list.total).toBe(2);
  });
});
