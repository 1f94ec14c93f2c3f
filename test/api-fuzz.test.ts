import { CONTENT_FIELDS } from '@nestor/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, testApp } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
});
afterAll(async () => cleanup());

/** Every field a client may send, plus one it may not. */
const FIELDS = [
  ...CONTENT_FIELDS,
  'maturity',
  'support_level',
  'labels',
  'annotations',
  'git_repository',
  'unknown_field',
];

/** A valid component with one field replaced by an arbitrary JSON value. */
const mutatedComponent = fc
  .record({ field: fc.constantFrom(...FIELDS), value: fc.jsonValue({ maxDepth: 3 }), suffix: fc.nat(1_000_000) })
  .map(({ field, value, suffix }) => ({ ...component({ name: `fuzz-${suffix}` }), [field]: value }));

describe('POST /v1/components under random bodies', () => {
  it('never answers 5xx and changes the store only when it answers 201', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutatedComponent), async (body) => {
        const before = await app.store.headSequence();
        const res = await app.server.inject({
          method: 'POST',
          url: '/v1/components',
          headers: { ...AUTH.write, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        expect(res.statusCode).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/json/);
        const after = await app.store.headSequence();
        if (res.statusCode === 201) expect(after).toBe(before + 1);
        else expect(after).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('never answers 5xx to random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const res = await app.server.inject({
          method: 'POST',
          url: '/v1/components',
          headers: { ...AUTH.write, 'content-type': 'application/json' },
          payload: Buffer.from(bytes),
        });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });

  it('never answers 5xx to random query strings on the list and search', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('limit', 'cursor', 'label', 'provider', 'maturity', 'include_prerelease', 'q'),
          fc.string({ maxLength: 40 }),
        ),
        fc.boolean(),
        async (query, search) => {
          const qs = new URLSearchParams(query).toString();
          const res = await app.server.inject({ method: 'GET', url: `/v1/components${search ? '/search' : ''}?${qs}` });
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never answers 5xx to random query strings, repeated and prototype-named keys included, on any GET route', async () => {
    const created = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: component({ name: 'fz' }),
    });
    expect(created.statusCode).toBe(201);
    const routes = [
      '/v1/components',
      '/v1/components/search',
      '/v1/components/fz',
      '/v1/components/fz/latest',
      '/v1/components/fz/versions',
      '/v1/components/fz/versions/1.0.0',
      '/v1/components/fz/versions/1.0.0/dependencies',
      '/v1/components/fz/versions/1.0.0/impact',
      '/v1/components/fz/dependents',
      '/v1/components/fz/diff',
      '/v1/components/fz/impact',
      '/v1/components/fz/resolve',
      '/v1/audit',
      '/v1/changesets/x',
      '/v1/engines',
      '/v1/sources',
      '/v1/subscriptions',
      '/v1/tokens',
    ];
    const key = fc.oneof(
      fc.constantFrom(
        ...['limit', 'cursor', 'label', 'provider', 'maturity', 'include_prerelease', 'q', 'facets', 'sort'],
        ...['facet_limit', 'orphaned', 'range', 'from', 'to', 'proposed', 'actor', 'action', 'since'],
      ),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
    );
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', '1', 'true', '__proto__=x', 'constructor=1', '1.0.0', '>=1', '-1', '1e3', 'a'.repeat(600)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(fc.tuple(key, value), { maxLength: 6 }),
        async (route, pairs) => {
          const qs = new URLSearchParams(pairs).toString();
          const res = await app.server.inject({ method: 'GET', url: `${route}?${qs}`, headers: AUTH.admin });
          expect(res.statusCode, `${route}?${qs}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 600 },
    );
  });
});
