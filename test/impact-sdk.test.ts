import type { AddressInfo } from 'node:net';
import { CatalogMirror, NestorClient, NestorError } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { component, postComponent, TOKENS, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;
let client: NestorClient;
let baseUrl: string;
const db = uniqueName('db');
const api = uniqueName('api');

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
  client = new NestorClient({ baseUrl, token: TOKENS.read });
  for (const body of [
    component({ name: db, version: '1.0.0' }),
    component({
      name: db,
      version: '1.1.0',
      outputs: [
        { name: 'endpoint', type: 'string', description: 'Host name' },
        { name: 'port', type: 'number', description: 'Port' },
      ],
    }),
    component({ name: api, dependencies: [{ name: db, version_range: '^1.0.0' }] }),
  ]) {
    const res = await postComponent(app, body);
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(() => cleanup());

describe('NestorClient impact, diff and resolve', () => {
  it('impact() of a published and of a proposed version', async () => {
    const published = await client.impact(db, '1.1.0');
    expect(published.items).toEqual([{ name: api, version: '1.0.0', version_range: '^1.0.0', selected: true }]);
    const proposed = await client.impact(db, '2.0.0', { proposed: true });
    expect(proposed).toEqual({
      name: db,
      proposed: '2.0.0',
      accepted: [],
      rejected: [{ name: api, version: '1.0.0', version_range: '^1.0.0' }],
    });
  });

  it('diff() reports the changes between two versions', async () => {
    const diff = await client.diff(db, '1.0.0', '1.1.0');
    expect(diff.changes.map((c) => c.kind)).toEqual(['output_added']);
    expect(diff.required_bump).toBe('minor');
    expect(diff.bump_made).toBe('minor');
  });

  it('resolve() with constraints answers the closure; a conflict rebuilds the same error', async () => {
    const resolved = await client.resolve({ constraints: [{ name: api, range: '*' }] });
    expect(resolved.map((r) => `${r.name}@${r.version}`)).toEqual([`${db}@1.1.0`, `${api}@1.0.0`]);
    // The single-component form still works.
    expect((await client.resolve(db, '~1.0.0')).version).toBe('1.0.0');
    const err = await client
      .resolve({
        constraints: [
          { name: api, range: '*' },
          { name: db, range: '^2.0.0', from: 'me' },
        ],
      })
      .catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'resolution_failed')).toBe(true);
    // No 2.x exists at all, so `me` alone is the minimal conflicting set: api's range is not named.
    expect((err as NestorError).extensions['conflicts']).toEqual([
      { name: db, constraints: [{ from: 'me', range: '^2.0.0' }], available: ['1.1.0', '1.0.0'] },
    ]);
  });

  it('CatalogMirror.resolve() answers locally as the server does over the latest versions', async () => {
    const mirror = new CatalogMirror({ baseUrl, token: TOKENS.read });
    try {
      await mirror.ready();
      const request = { constraints: [{ name: api, range: '*' }] };
      expect(mirror.resolve(request)).toEqual(await client.resolve(request));
      const bad = { constraints: [{ name: db, range: '^2.0.0' }] };
      expect(() => mirror.resolve(bad)).toThrowError(expect.objectContaining({ code: 'resolution_failed' }));
    } finally {
      await mirror.close();
    }
  });
});
