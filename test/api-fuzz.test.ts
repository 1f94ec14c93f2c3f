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
});
