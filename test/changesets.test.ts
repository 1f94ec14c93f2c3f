import type { AddressInfo } from 'node:net';
import { type CatalogEvent, CatalogMirror, CatalogStream, NestorClient, NestorError } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, TOKENS, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;
let url: string;

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await cleanup();
});

const post = (payload: unknown, query = '', headers: Record<string, string> = AUTH.write) =>
  app.server.inject({
    method: 'POST',
    url: `/v1/changesets${query}`,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
const get = (path: string) => app.server.inject({ method: 'GET', url: path, headers: AUTH.read });
const dependsOn = (name: string) => ({ dependencies: [{ name, version_range: '^1.0.0' }] });

describe('POST /v1/changesets (DESIGN.md 10.4)', () => {
  it('writes a dependency and its dependent in one step; GET answers the record; the audit names it', async () => {
    const base = uniqueName('base');
    const app1 = uniqueName('app');
    const head = await app.store.headSequence();
    const res = await post({
      components: [component({ name: app1, ...dependsOn(base) }), component({ name: base })],
      message: 'bump base and app',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: string; revision: number; items: unknown[] };
    expect(body.revision).toBe(head + 2);
    expect(body.items).toEqual([
      { name: app1, version: '1.0.0', status: 'created' },
      { name: base, version: '1.0.0', status: 'created' },
    ]);
    expect(res.headers['location']).toBe(`/v1/changesets/${body.id}`);
    const record = await get(`/v1/changesets/${body.id}`);
    expect(record.statusCode).toBe(200);
    expect(record.json()).toMatchObject({
      id: body.id,
      actor: 'token:writer',
      message: 'bump base and app',
      revision: head + 2,
      items: body.items,
    });
    const events = await app.store.readEvents(head, 10);
    expect(events.map((e) => [e.id, e.data.changeset])).toEqual([
      [head + 1, body.id],
      [head + 2, body.id],
    ]);
    const audit = await app.server.inject({
      method: 'GET',
      url: `/v1/audit?action=changeset.create&subject=${body.id}`,
      headers: AUTH.admin,
    });
    expect(audit.json().items).toMatchObject([{ actor: 'token:writer', outcome: 'ok', subject: body.id }]);
    const missing = await get('/v1/changesets/no-such-id');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('changeset_not_found');
  });

  it('answers the dry run with results and impact and writes nothing', async () => {
    const base = uniqueName('dry');
    expect((await post({ components: [component({ name: base })] })).statusCode).toBe(201);
    const dependent = uniqueName('dep');
    expect((await post({ components: [component({ name: dependent, ...dependsOn(base) })] })).statusCode).toBe(201);
    const head = await app.store.headSequence();
    const res = await post(
      { components: [component({ name: base, version: '1.1.0' }), component({ name: base, version: '2.0.0' })] },
      '?dry_run=true',
    );
    expect(res.statusCode, res.body).toBe(200);
    const verdict = res.json();
    expect(verdict.valid).toBe(true);
    expect(verdict.results).toHaveLength(2);
    expect(verdict.impact).toEqual([
      { name: base, version: '1.1.0', accepted: 1, rejected: 0 },
      { name: base, version: '2.0.0', accepted: 0, rejected: 1 },
    ]);
    expect(await app.store.headSequence()).toBe(head);
    expect((await get(`/v1/components/${base}/versions/1.1.0`)).statusCode).toBe(404);
  });

  it('answers 422 with every result in input order, 409 naming the clash, 200 when all is published', async () => {
    const name = uniqueName('v');
    const ok = component({ name });
    expect((await post({ components: [ok] })).statusCode).toBe(201);
    const head = await app.store.headSequence();
    const fresh = uniqueName('fresh');
    const invalid = await post({
      components: [component({ name: fresh }), component({ name: uniqueName('x'), ...dependsOn('nowhere-at-all') })],
    });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().code).toBe('validation_failed');
    expect(invalid.json().results.map((r: { valid: boolean }) => r.valid)).toEqual([true, false]);
    const clash = await post({ components: [component({ name: fresh }), { ...ok, description: 'other' }] });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'version_conflict', details: { name, version: '1.0.0' } });
    const same = await post({ components: [ok] });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toEqual({ id: null, revision: head, items: [{ name, version: '1.0.0', status: 'unchanged' }] });
    expect(await app.store.headSequence()).toBe(head);
    expect((await get(`/v1/components/${fresh}/versions/1.0.0`)).statusCode).toBe(404);
  });

  it('refuses bad input with a clear 4xx and a stable code, writing nothing', async () => {
    const head = await app.store.headSequence();
    const a = component({ name: uniqueName('bad') });
    const cases: [string, unknown, number, string][] = [
      ['an empty set', { components: [] }, 400, 'invalid_request'],
      ['no components', { message: 'x' }, 400, 'invalid_request'],
      ['components not an array', { components: 'x' }, 400, 'invalid_request'],
      ['an unknown field', { components: [a], extra: 1 }, 400, 'invalid_request'],
      ['a body that is an array', [a], 400, 'invalid_request'],
      ['a body that is null', null, 400, 'invalid_request'],
      ['a member twice', { components: [a, a] }, 400, 'invalid_request'],
      ['a member that is not an object', { components: [a, 42] }, 400, 'invalid_request'],
      ['a message that is not a string', { components: [a], message: 7 }, 400, 'invalid_request'],
      ['a message too long', { components: [a], message: 'm'.repeat(2001) }, 400, 'invalid_request'],
      [
        'a cycle through the set',
        {
          components: ['p', 'q', 'r'].map((n, i, all) =>
            component({ name: `${n}-cyc-${process.pid}`, ...dependsOn(`${all[(i + 1) % 3]}-cyc-${process.pid}`) }),
          ),
        },
        422,
        'validation_failed',
      ],
    ];
    for (const [why, body, status, code] of cases) {
      const res = await post(body);
      expect(res.statusCode, `${why}: ${res.body}`).toBe(status);
      expect(res.json().code, why).toBe(code);
    }
    // 10 000 members: refused by count before any member is decoded or validated.
    const started = Date.now();
    const many = await post({ components: Array.from({ length: 10_000 }, () => ({ name: 'x' })) });
    expect(many.statusCode).toBe(422);
    expect(many.json()).toMatchObject({ code: 'changeset_too_large', details: { members: 10_000, limit: 1000 } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await app.store.headSequence()).toBe(head);
  });

  it('refuses with 403 a member outside the token’s names, writing nothing', async () => {
    const created = await app.server.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: AUTH.admin,
      payload: { name: 'aws-only', scopes: ['write'], names: ['aws-*'] },
    });
    const token = created.json().token as string;
    const head = await app.store.headSequence();
    const res = await post(
      { components: [component({ name: uniqueName('aws') }), component({ name: uniqueName('gcp') })] },
      '',
      { authorization: `Bearer ${token}` },
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
    expect(await app.store.headSequence()).toBe(head);
    const ok = await post({ components: [component({ name: uniqueName('aws') })] }, '', {
      authorization: `Bearer ${token}`,
    });
    expect(ok.statusCode).toBe(201);
  });
});

describe('the SDK and changesets', () => {
  it('creates, dry-runs and reads changesets; the mirror and the stream see every member with its set', async () => {
    const client = new NestorClient({ baseUrl: url, token: TOKENS.write });
    const mirror = new CatalogMirror({ baseUrl: url, token: TOKENS.read });
    await mirror.ready();
    const from = await app.store.headSequence();
    const controller = new AbortController();
    const seen: CatalogEvent[] = [];
    const stream = new CatalogStream({ baseUrl: url, token: TOKENS.read, since: from, signal: controller.signal }).run({
      onEvent: (e) => {
        seen.push(e);
      },
    });
    const base = uniqueName('sdk-base');
    const top = uniqueName('sdk-top');
    const members = [component({ name: base }), component({ name: top, ...dependsOn(base) })];
    const dry = await client.createChangeset(members, { dryRun: true });
    expect(dry.valid).toBe(true);
    expect(dry.impact.map((i) => i.name)).toEqual([base, top]);
    const written = await client.createChangeset(members, { message: 'from the sdk' });
    expect(written.items.map((i) => i.status)).toEqual(['created', 'created']);
    const record = await client.getChangeset(written.id as string);
    expect(record.message).toBe('from the sdk');
    await expect(client.getChangeset('missing')).rejects.toSatisfy(
      (e: unknown) => NestorError.is(e) && e.code === 'changeset_not_found',
    );
    const deadline = Date.now() + 5000;
    while ((seen.length < 2 || !mirror.get(top)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await stream;
    mirror.close();
    expect(seen.map((e) => e.data.changeset)).toEqual([written.id, written.id]);
    expect(seen.map((e) => e.id)).toEqual([written.revision - 1, written.revision]);
    expect(mirror.get(base)?.version).toBe('1.0.0');
    expect(mirror.get(top)?.version).toBe('1.0.0');
  });
});
