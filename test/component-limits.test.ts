import { randomUUID } from 'node:crypto';
import { computeDigest, MAX_COMPONENT_BYTES, MAX_DEPENDENCIES, normalizeSpec } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { DynamoStore } from '../packages/orchestrator/src/storage/dynamodb/dynamo-store.js';
import type { CatalogStore } from '../packages/orchestrator/src/storage/interfaces.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from './dynamodb-local.js';
import { AUTH, component, testApp } from './helpers.js';

// The model's limits answer the same clear 422 on every store; on DynamoDB they used to reach the
// client as a 503 storage_failure (more than 100 items in a transaction, or an item over 400 KB).
const stores: [string, () => Promise<CatalogStore>][] = [
  ['memory', async () => new MemoryStore()],
  [
    'dynamodb (DynamoDB Local)',
    async () => {
      const local = await sharedDynamoDBLocal();
      const store = new DynamoStore({
        table: `limits-${randomUUID()}`,
        endpoint: local.endpoint,
        region: local.region,
        credentials: local.credentials,
      });
      await store.migrate();
      return store;
    },
  ],
];

/** 64 annotations of 4096 characters: the most the request schema accepts, ~262 KB. */
function hugeAnnotations(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < 64; i++) out[`note-${i}`] = 'x'.repeat(4096);
  return out;
}

describe.each(stores)('component limits over HTTP: %s', (_label, makeStore) => {
  let app: App;
  let base: string;
  let store: CatalogStore;
  let cleanup: () => Promise<void>;
  const run = randomUUID().slice(0, 8);
  const depName = (i: number) => `lim-${run}-dep-${i}`;

  beforeAll(async () => {
    store = await makeStore();
    ({ app, cleanup } = await testApp(undefined, store));
    base = await app.server.listen({ port: 0, host: '127.0.0.1' });
    // Dependencies that exist, written straight to the store (no need to validate 97 writes).
    for (let i = 0; i < 97; i++) {
      const spec = normalizeSpec(component({ name: depName(i), deployment_engines: ['terraform'] }));
      await store.createComponent({ ...spec, digest: computeDigest(spec) });
    }
  }, DYNAMODB_LOCAL_WAIT_MS + 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  const send = (method: string, path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...AUTH.admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const deps = (n: number) => Array.from({ length: n }, (_, i) => ({ name: depName(i), version_range: '^1.0.0' }));

  it(`accepts ${MAX_DEPENDENCIES} dependencies and refuses more with 422 too_many_dependencies`, async () => {
    const ok = await send(
      'POST',
      '/v1/components',
      component({ name: `lim-${run}-ok`, dependencies: deps(MAX_DEPENDENCIES) }),
    );
    expect(ok.status).toBe(201);
    const res = await send('POST', '/v1/components', component({ name: `lim-${run}-wide`, dependencies: deps(97) }));
    const body = (await res.json()) as { code: string; errors: { code: string; details?: unknown }[] };
    expect(res.status).toBe(422);
    expect(body.code).toBe('validation_failed');
    expect(body.errors).toMatchObject([
      { code: 'too_many_dependencies', details: { count: 97, limit: MAX_DEPENDENCIES } },
    ]);
    expect((await fetch(`${base}/v1/components/lim-${run}-wide`)).status).toBe(404);
  });

  it('refuses a component over MAX_COMPONENT_BYTES with 422 component_too_large, and says so on /v1/validate', async () => {
    const big = component({ name: `lim-${run}-big`, annotations: hugeAnnotations() });
    const res = await send('POST', '/v1/components', big);
    const body = (await res.json()) as { code: string; errors: { code: string; details?: { limit: number } }[] };
    expect(res.status).toBe(422);
    expect(body.code).toBe('validation_failed');
    expect(body.errors).toMatchObject([{ code: 'component_too_large', details: { limit: MAX_COMPONENT_BYTES } }]);
    expect((await fetch(`${base}/v1/components/lim-${run}-big`)).status).toBe(404);
    const dry = await send('POST', '/v1/validate', big);
    expect(dry.status).toBe(200);
    expect((await dry.json()) as unknown).toMatchObject({ valid: false, errors: [{ code: 'component_too_large' }] });
  });

  it('refuses a PATCH that would make the version too large with 422 component_too_large, changing nothing', async () => {
    const name = `lim-${run}-patched`;
    expect((await send('POST', '/v1/components', component({ name }))).status).toBe(201);
    const before = await (await fetch(`${base}/v1/components/${name}/versions/1.0.0`)).json();
    const res = await send('PATCH', `/v1/components/${name}/versions/1.0.0`, { annotations: hugeAnnotations() });
    const body = (await res.json()) as { code: string; errors: { code: string; field: string }[] };
    expect(res.status).toBe(422);
    expect(body.errors).toMatchObject([{ code: 'component_too_large', field: 'annotations' }]);
    expect(await (await fetch(`${base}/v1/components/${name}/versions/1.0.0`)).json()).toEqual(before);
  });
});
