import type { ComponentSpecInput } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { makeComponent } from '../packages/orchestrator/src/storage/testing.js';
import { AUTH, component, postComponent, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;
const vpc = uniqueName('vpc');
const appA = uniqueName('app');
const svc = uniqueName('svc');
const legacy = uniqueName('legacy');

const dep = (name: string, version_range: string) => ({ name, version_range });

async function publish(body: ComponentSpecInput): Promise<void> {
  const res = await postComponent(app, body);
  expect(res.statusCode, res.body).toBe(201);
}

const get = (url: string) => app.server.inject({ method: 'GET', url, headers: AUTH.read });
const resolve = (payload: unknown) =>
  app.server.inject({ method: 'POST', url: '/v1/resolve', headers: AUTH.read, payload: payload as object });

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  await publish(component({ name: vpc, version: '1.0.0' }));
  await publish(component({ name: vpc, version: '1.5.0' }));
  // 2.0.0 drops the endpoint output and adds a required input: a major change.
  await publish(
    component({
      name: vpc,
      version: '2.0.0',
      outputs: [{ name: 'host', type: 'string', description: 'Host name' }],
      required_inputs: [
        { name: 'instance_class', type: 'string', description: 'Instance size' },
        { name: 'cidr', type: 'string', description: 'Range' },
      ],
    }),
  );
  await publish(component({ name: appA, dependencies: [dep(vpc, '^1.0.0')] }));
  await publish(component({ name: svc, dependencies: [dep(vpc, '>=1.0.0')] }));
  await publish(component({ name: legacy, dependencies: [dep(vpc, '~1.0.0')] }));
});
afterAll(() => cleanup());

describe('GET /v1/components/{name}/versions/{version}/impact', () => {
  it('lists every dependent whose range admits the version, selected when it is the highest match', async () => {
    const res = await get(`/v1/components/${vpc}/versions/1.5.0/impact`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      name: vpc,
      version: '1.5.0',
      items: [
        { name: appA, version: '1.0.0', version_range: '^1.0.0', selected: true },
        { name: svc, version: '1.0.0', version_range: '>=1.0.0', selected: false },
      ],
    });
    const old = (await get(`/v1/components/${vpc}/versions/1.0.0/impact`)).json();
    expect(old.items).toContainEqual({ name: legacy, version: '1.0.0', version_range: '~1.0.0', selected: true });
    expect(old.items).toHaveLength(3);
  });

  it('follows new dependents, through this server and written by another process', async () => {
    await get(`/v1/components/${vpc}/versions/2.0.0/impact`);
    const late = uniqueName('late');
    await publish(component({ name: late, dependencies: [dep(vpc, '^2.0.0')] }));
    // Another process writes straight into the store; the feed announces the new head.
    const other = makeComponent({ name: uniqueName('other'), dependencies: [dep(vpc, '*')] });
    const outcome = await app.store.createComponent(other);
    app.feed.publish(outcome.event?.id ?? 0);
    const items = (await get(`/v1/components/${vpc}/versions/2.0.0/impact`)).json().items;
    expect(items).toContainEqual({ name: late, version: '1.0.0', version_range: '^2.0.0', selected: true });
    expect(items).toContainEqual({ name: other.name, version: '1.0.0', version_range: '*', selected: true });
  });

  it('moves `selected` when a higher version of the target is published', async () => {
    const target = uniqueName('target');
    const user = uniqueName('user');
    await publish(component({ name: target, version: '1.0.0' }));
    await publish(component({ name: user, dependencies: [dep(target, '^1.0.0')] }));
    const before = (await get(`/v1/components/${target}/versions/1.0.0/impact`)).json().items;
    expect(before).toEqual([{ name: user, version: '1.0.0', version_range: '^1.0.0', selected: true }]);
    await publish(component({ name: target, version: '1.0.1' }));
    const after = (await get(`/v1/components/${target}/versions/1.0.0/impact`)).json().items;
    expect(after).toEqual([{ name: user, version: '1.0.0', version_range: '^1.0.0', selected: false }]);
  });

  it('answers 404 for an unknown version or name, 400 for a malformed one', async () => {
    expect((await get(`/v1/components/${vpc}/versions/9.9.9/impact`)).json().code).toBe('component_not_found');
    expect((await get('/v1/components/nope-nope/versions/1.0.0/impact')).statusCode).toBe(404);
    const bad = await get(`/v1/components/${vpc}/versions/v1.0/impact`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_request');
  });
});

describe('GET /v1/components/{name}/impact?proposed=', () => {
  it('splits the dependents into those whose ranges accept the proposed version and the rest', async () => {
    const res = await get(`/v1/components/${vpc}/impact?proposed=1.0.1`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.name).toBe(vpc);
    expect(body.proposed).toBe('1.0.1');
    expect(body.accepted).toEqual(
      expect.arrayContaining([
        { name: appA, version: '1.0.0', version_range: '^1.0.0' },
        { name: legacy, version: '1.0.0', version_range: '~1.0.0' },
        { name: svc, version: '1.0.0', version_range: '>=1.0.0' },
      ]),
    );
    expect(body.rejected.map((r: { name: string }) => r.name)).not.toContain(appA);
    const major = (await get(`/v1/components/${vpc}/impact?proposed=3.0.0`)).json();
    expect(major.rejected).toEqual(
      expect.arrayContaining([
        { name: appA, version: '1.0.0', version_range: '^1.0.0' },
        { name: legacy, version: '1.0.0', version_range: '~1.0.0' },
      ]),
    );
  });

  it('rejects a missing or malformed proposal and an unknown name', async () => {
    expect((await get(`/v1/components/${vpc}/impact`)).statusCode).toBe(400);
    expect((await get(`/v1/components/${vpc}/impact?proposed=1.0`)).json().code).toBe('invalid_request');
    expect((await get(`/v1/components/${vpc}/impact?proposed=${'9'.repeat(5000)}`)).statusCode).toBe(400);
    expect((await get('/v1/components/ghost-x/impact?proposed=1.0.0')).json().code).toBe('component_not_found');
  });
});

describe('GET /v1/components/{name}/diff', () => {
  it('reports the changes, required bump and bump made, as validation does', async () => {
    const res = await get(`/v1/components/${vpc}/diff?from=1.5.0&to=2.0.0`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ name: vpc, from: '1.5.0', to: '2.0.0', required_bump: 'major', bump_made: 'major' });
    expect(body.changes.map((c: { kind: string }) => c.kind).sort()).toEqual([
      'output_added',
      'output_removed',
      'required_input_added',
    ]);
    expect(body.changes).toContainEqual({
      kind: 'output_removed',
      path: 'outputs[0]',
      bump: 'major',
      message: 'output endpoint was removed',
    });
    const none = (await get(`/v1/components/${vpc}/diff?from=1.0.0&to=1.5.0`)).json();
    expect(none).toMatchObject({ required_bump: 'none', bump_made: 'minor', changes: [] });
  });

  it('answers 404 for an unpublished version and 400 for a malformed or missing one', async () => {
    expect((await get(`/v1/components/${vpc}/diff?from=1.0.0&to=7.0.0`)).json().code).toBe('component_not_found');
    expect((await get(`/v1/components/${vpc}/diff?from=1.0.0`)).statusCode).toBe(400);
    expect((await get(`/v1/components/${vpc}/diff?from=x&to=1.0.0`)).json().code).toBe('invalid_request');
  });
});

describe('POST /v1/resolve', () => {
  it('resolves the closure in dependency order with where each constraint came from', async () => {
    const res = await resolve({
      constraints: [
        { name: appA, range: '*', from: 'deploy-42' },
        { name: svc, range: '^1' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().resolved).toEqual([
      {
        name: vpc,
        version: '1.5.0',
        required_by: [
          { from: `${appA}@1.0.0`, range: '^1.0.0' },
          { from: `${svc}@1.0.0`, range: '>=1.0.0' },
        ],
        deprecated: null,
      },
      { name: appA, version: '1.0.0', required_by: [{ from: 'deploy-42', range: '*' }], deprecated: null },
      { name: svc, version: '1.0.0', required_by: [{ from: 'request', range: '^1' }], deprecated: null },
    ]);
  });

  it('answers 422 resolution_failed naming the constraints in conflict and the available versions', async () => {
    const res = await resolve({
      constraints: [
        { name: appA, range: '*' },
        { name: vpc, range: '^2.0.0', from: 'ci' },
      ],
    });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.code).toBe('resolution_failed');
    expect(body.conflicts).toEqual([
      {
        name: vpc,
        constraints: [
          { from: `${appA}@1.0.0`, range: '^1.0.0' },
          { from: 'ci', range: '^2.0.0' },
        ],
        available: ['2.0.0', '1.5.0', '1.0.0'],
      },
    ]);
  });

  it('treats an unknown name as a conflict with nothing available', async () => {
    const res = await resolve({ constraints: [{ name: 'never-published', range: '^1.0.0' }] });
    expect(res.statusCode).toBe(422);
    expect(res.json().conflicts).toEqual([
      { name: 'never-published', constraints: [{ from: 'request', range: '^1.0.0' }], available: [] },
    ]);
  });

  it('resolves a catalog with a dependency cycle across versions', async () => {
    const a = uniqueName('cyc-a');
    const b = uniqueName('cyc-b');
    // Validation refuses a version that closes a cycle, but an older catalog (or an import) may
    // hold one: written straight into the store, a@1.1.0 -> b ^1 -> a ^1.
    await publish(component({ name: a, version: '1.0.0' }));
    await publish(component({ name: b, version: '1.0.0', dependencies: [dep(a, '^1.0.0')] }));
    const outcome = await app.store.createComponent(
      makeComponent({ name: a, version: '1.1.0', dependencies: [dep(b, '^1.0.0')] }),
    );
    app.feed.publish(outcome.event?.id ?? 0);
    const res = await resolve({ constraints: [{ name: a, range: '^1.0.0' }] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().resolved.map((r: { name: string; version: string }) => `${r.name}@${r.version}`)).toEqual([
      `${a}@1.1.0`,
      `${b}@1.0.0`,
    ]);
  });

  it('flags a deprecated version it chose', async () => {
    const d = uniqueName('dep');
    await publish(component({ name: d, version: '1.0.0' }));
    await app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${d}/versions/1.0.0`,
      headers: AUTH.write,
      payload: { deprecated: { reason: 'use 2.x' } },
    });
    const [only] = (await resolve({ constraints: [{ name: d, range: '*' }] })).json().resolved;
    expect(only.deprecated.reason).toBe('use 2.x');
  });

  it('refuses bad input with clear 4xx problems', async () => {
    const many = Array.from({ length: 10_000 }, () => ({ name: appA, range: '*' }));
    const cases: [unknown, number, string][] = [
      [{ constraints: many }, 400, 'invalid_request'],
      [{ constraints: [] }, 400, 'invalid_request'],
      [{ constraints: [{ name: appA, range: 'not a range!' }] }, 400, 'invalid_range'],
      [{ constraints: [{ name: 'Bad_Name', range: '*' }] }, 400, 'invalid_request'],
      [{ constraints: [{ name: appA, range: '*', from: 'x'.repeat(100_000) }] }, 400, 'invalid_request'],
      [{ constraints: [{ name: appA, range: '*', form: 'typo' }] }, 400, 'invalid_request'],
      [{ constraint: [] }, 400, 'invalid_request'],
      [[1, 2], 400, 'invalid_request'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await resolve(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(status);
      expect(res.json().code).toBe(code);
    }
  });

  it('needs read scope only, and refuses a bad token', async () => {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/resolve',
      headers: { authorization: 'Bearer wrong' },
      payload: { constraints: [{ name: appA, range: '*' }] },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('impact in validation answers', () => {
  it('POST /v1/validate carries the accepted and rejected dependents of the version', async () => {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: AUTH.read,
      payload: component({ name: vpc, version: '1.6.0' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    const impact = res.json().impact;
    expect(impact.accepted).toBeGreaterThanOrEqual(2);
    expect(impact.rejected).toBeGreaterThanOrEqual(2);
    expect(impact.first_accepted).toContainEqual({ name: appA, version: '1.0.0', version_range: '^1.0.0' });
    expect(impact.first_rejected).toContainEqual({ name: legacy, version: '1.0.0', version_range: '~1.0.0' });
  });

  it('a 422 create answer carries the impact too', async () => {
    // A breaking change with only a minor bump fails validation.
    const res = await postComponent(app, component({ name: vpc, version: '2.1.0', outputs: [] }));
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.code).toBe('validation_failed');
    expect(body.impact).toMatchObject({ accepted: expect.any(Number), rejected: expect.any(Number) });
    expect(body.impact.first_rejected).toContainEqual({ name: appA, version: '1.0.0', version_range: '^1.0.0' });
  });
});
