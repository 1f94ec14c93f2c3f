import type { ComponentDefinition, Problem } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
});
afterAll(async () => cleanup());

async function post(body: unknown, headers: Record<string, string> = AUTH.write) {
  return app.server.inject({ method: 'POST', url: '/v1/components', payload: body as object, headers });
}

async function publish(body: unknown): Promise<ComponentDefinition> {
  const res = await post(body);
  expect([200, 201], res.body).toContain(res.statusCode);
  return res.json();
}

function problem(res: { headers: Record<string, unknown>; json: () => unknown }): Problem {
  expect(res.headers['content-type']).toContain('application/problem+json');
  return res.json() as Problem;
}

describe('publishing', () => {
  it('creates a version (201, Location, digest, revision) and treats an identical re-submission as a no-op', async () => {
    const name = uniqueName('aws-rds');
    const res = await post(component({ name }));
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`/v1/components/${name}/versions/1.0.0`);
    const created = res.json<ComponentDefinition>();
    expect(created.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(created.revision).toBeGreaterThan(0);
    expect(created.deprecated).toBeNull();

    const again = await post(component({ name }));
    expect(again.statusCode).toBe(200);
    expect(again.json<ComponentDefinition>().revision).toBe(created.revision);
  });

  it('rejects other content under a published version with 409 version_conflict', async () => {
    const name = uniqueName();
    await publish(component({ name }));
    const res = await post(component({ name, description: 'changed' }));
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('version_conflict');
  });

  it('ignores server-managed fields in the body', async () => {
    const name = uniqueName();
    const res = await post({ ...component({ name }), digest: 'sha256:bogus', revision: 999, created_at: 'x' });
    expect(res.statusCode).toBe(201);
    expect(res.json<ComponentDefinition>().digest).not.toBe('sha256:bogus');
  });

  it('answers 422 validation_failed with rule errors for an invalid name, version or input type', async () => {
    const res = await post(
      component({
        name: 'Bad_Name',
        version: 'v1.0',
        required_inputs: [{ name: 'x', type: 'wobbly' }],
      }),
    );
    expect(res.statusCode).toBe(422);
    const body = problem(res);
    expect(body.code).toBe('validation_failed');
    const codes = body.errors.map((e) => e.field);
    expect(codes).toEqual(expect.arrayContaining(['name', 'version']));
    expect(body.errors.some((e) => e.field.startsWith('required_inputs[0]'))).toBe(true);
    expect(body).toHaveProperty('warnings');
    expect(body).toHaveProperty('required_bump');
  });

  it('rejects a missing dependency, and accepts the same component once the dependency exists', async () => {
    const dep = uniqueName('vpc');
    const name = uniqueName('db');
    const body = component({ name, dependencies: [{ name: dep, version_range: '^1.0.0' }] });
    const rejected = await post(body);
    expect(rejected.statusCode).toBe(422);
    expect(problem(rejected).errors.some((e) => e.rule === 'dependencies')).toBe(true);
    await publish(component({ name: dep, provider: 'aws', category: 'network', resource_type: 'vpc' }));
    expect((await post(body)).statusCode).toBe(201);
  });

  it('needs a write token: none → 401, read token → 403, unknown token → 401 even on reads', async () => {
    const body = component({ name: uniqueName() });
    expect(problem(await post(body, {})).code).toBe('unauthorized');
    expect(problem(await post(body, AUTH.read)).code).toBe('forbidden');
    const res = await app.server.inject({
      method: 'GET',
      url: '/v1/components',
      headers: { authorization: 'Bearer nope' },
    });
    expect(res.statusCode).toBe(401);
    expect((await post(body, AUTH.admin)).statusCode).toBe(201);
  });
});

describe('bad input never reaches the store', () => {
  const cases: [
    string,
    () => Promise<{ statusCode: number; headers: Record<string, unknown>; json: () => unknown }>,
    number,
    string,
  ][] = [
    [
      'malformed JSON',
      () =>
        app.server.inject({
          method: 'POST',
          url: '/v1/components',
          payload: '{"name": ',
          headers: { ...AUTH.write, 'content-type': 'application/json' },
        }),
      400,
      'invalid_request',
    ],
    [
      'non-UTF-8 bytes',
      () =>
        app.server.inject({
          method: 'POST',
          url: '/v1/components',
          payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
          headers: { ...AUTH.write, 'content-type': 'application/json' },
        }),
      400,
      'invalid_request',
    ],
    ['an array body', () => post([1, 2, 3]), 400, 'invalid_request'],
    [
      'a wrong JSON type',
      () => post({ ...component({ name: uniqueName() }), outputs: 'endpoint' }),
      400,
      'invalid_request',
    ],
    [
      'an enum outside maturity',
      () => post({ ...component({ name: uniqueName() }), maturity: 'ancient' }),
      400,
      'invalid_request',
    ],
    [
      'a prototype-pollution key',
      () =>
        app.server.inject({
          method: 'POST',
          url: '/v1/components',
          payload: '{"__proto__": {"admin": true}}',
          headers: { ...AUTH.write, 'content-type': 'application/json' },
        }),
      400,
      'invalid_request',
    ],
    [
      'an oversized body',
      () => post({ ...component({ name: uniqueName() }), description: 'x'.repeat(2 * 1024 * 1024) }),
      413,
      'payload_too_large',
    ],
    [
      'a non-JSON content type',
      () =>
        app.server.inject({
          method: 'POST',
          url: '/v1/components',
          payload: '<xml/>',
          headers: { ...AUTH.write, 'content-type': 'application/xml' },
        }),
      415,
      'unsupported_media_type',
    ],
  ];

  for (const [what, send, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const before = await app.store.headSequence();
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect(problem(res).code).toBe(code);
      expect(await app.store.headSequence()).toBe(before);
    });
  }

  it('names an unknown field such as a typo of required_inputs', async () => {
    const body: Record<string, unknown> = { ...component({ name: uniqueName() }), requred_inputs: [] };
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    const p = problem(res);
    expect(p.detail).toContain('requred_inputs');
    expect(p.details.field).toBe('requred_inputs');
  });

  it('rejects limits outside 1–500, garbage cursors and bad label filters with 400', async () => {
    for (const url of [
      '/v1/components?limit=501',
      '/v1/components?limit=0',
      '/v1/components?limit=abc',
      '/v1/components?label=noequals',
      '/v1/components?maturity=ancient',
    ]) {
      const res = await app.server.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
    const res = await app.server.inject({ method: 'GET', url: '/v1/components?cursor=%00garbage' });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_cursor');
  });

  it('answers path traversal and malformed names or versions with 400, never a file', async () => {
    for (const url of ['/v1/components/..%2F..%2Fetc%2Fpasswd', '/v1/components/ok/versions/not-semver']) {
      const res = await app.server.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
    }
  });
});

describe('reads', () => {
  let name: string;
  beforeAll(async () => {
    name = uniqueName('semver');
    for (const version of ['1.2.0', '1.9.0', '1.10.0', '2.0.0-rc.1']) {
      await publish(component({ name, version }));
    }
  });

  it('lists versions semver-descending (1.10.0 above 1.9.0)', async () => {
    const res = await app.server.inject({ method: 'GET', url: `/v1/components/${name}/versions` });
    expect(res.json().versions.map((v: { version: string }) => v.version)).toEqual([
      '2.0.0-rc.1',
      '1.10.0',
      '1.9.0',
      '1.2.0',
    ]);
  });

  it('latest is the highest stable version unless prereleases are included', async () => {
    const stable = await app.server.inject({ method: 'GET', url: `/v1/components/${name}` });
    expect(stable.json().version).toBe('1.10.0');
    const pre = await app.server.inject({ method: 'GET', url: `/v1/components/${name}?include_prerelease=true` });
    expect(pre.json().version).toBe('2.0.0-rc.1');
  });

  it('serves exact versions with a strong ETag, 304 on If-None-Match, and a new ETag after deprecation', async () => {
    const url = `/v1/components/${name}/versions/1.9.0`;
    const first = await app.server.inject({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[^"]+"$/);
    const cached = await app.server.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(cached.statusCode).toBe(304);

    const patched = await app.server.inject({
      method: 'PATCH',
      url,
      headers: AUTH.write,
      payload: { deprecated: { reason: 'use 1.10.0' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().deprecated.reason).toBe('use 1.10.0');
    const after = await app.server.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().deprecated.reason).toBe('use 1.10.0');
  });

  it('PATCH rejects content fields and unknown versions', async () => {
    const url = `/v1/components/${name}/versions/1.2.0`;
    const content = await app.server.inject({
      method: 'PATCH',
      url,
      headers: AUTH.write,
      payload: { description: 'x' },
    });
    expect(content.statusCode).toBe(400);
    const missing = await app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${name}/versions/9.9.9`,
      headers: AUTH.write,
      payload: { labels: { a: 'b' } },
    });
    expect(missing.statusCode).toBe(404);
    expect(problem(missing).code).toBe('component_not_found');
  });

  it('resolves ranges: highest match, 404 no_matching_version, 400 on a bad range', async () => {
    const ok = await app.server.inject({ method: 'GET', url: `/v1/components/${name}/resolve?range=%5E1.2.0` });
    expect(ok.json().version).toBe('1.10.0');
    const none = await app.server.inject({ method: 'GET', url: `/v1/components/${name}/resolve?range=%5E5.0.0` });
    expect(problem(none).code).toBe('no_matching_version');
    const bad = await app.server.inject({ method: 'GET', url: `/v1/components/${name}/resolve?range=%3E%3E%3Ewat` });
    expect(bad.statusCode).toBe(400);
  });

  it('answers component_not_found for unknown names and versions', async () => {
    for (const url of ['/v1/components/no-such-thing', '/v1/components/no-such-thing/versions/1.0.0']) {
      const res = await app.server.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(problem(res).code).toBe('component_not_found');
    }
  });

  it('puts X-Catalog-Revision on every /v1 response, errors included', async () => {
    const head = await app.store.headSequence();
    for (const url of ['/v1/components', `/v1/components/${name}`, '/v1/components/no-such-thing']) {
      const res = await app.server.inject({ method: 'GET', url });
      expect(Number(res.headers['x-catalog-revision']), url).toBe(head);
    }
  });

  it('filters the list and pages through it with cursors', async () => {
    const team = uniqueName('team');
    for (let i = 0; i < 5; i++) {
      await publish(component({ name: uniqueName('listed'), labels: { team }, provider: i % 2 ? 'gcp' : 'aws' }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/components?label=team%3D${team}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await app.server.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const body: { items: ComponentDefinition[]; next_cursor: string | null } = res.json();
      seen.push(...body.items.map((c) => c.name));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const gcp = await app.server.inject({ method: 'GET', url: `/v1/components?label=team%3D${team}&provider=gcp` });
    expect(gcp.json().items).toHaveLength(2);
  });

  it('searches by name and description with a numeric score', async () => {
    const special = uniqueName('zebra');
    await publish(component({ name: special, description: 'A striped thing' }));
    const res = await app.server.inject({ method: 'GET', url: '/v1/components/search?q=zebra' });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { name: string; score: number }[];
    expect(items[0]?.name).toBe(special);
    expect(typeof items[0]?.score).toBe('number');
    const missingQ = await app.server.inject({ method: 'GET', url: '/v1/components/search' });
    expect(missingQ.statusCode).toBe(400);
  });

  it('answers dependencies resolved and dependents per depending version', async () => {
    const base = uniqueName('base');
    const user = uniqueName('user');
    await publish(component({ name: base }));
    await publish(component({ name: user, dependencies: [{ name: base, version_range: '^1.0.0' }] }));
    await publish(component({ name: user, version: '1.1.0', dependencies: [{ name: base, version_range: '^1.0.0' }] }));
    const deps = await app.server.inject({ method: 'GET', url: `/v1/components/${user}/versions/1.0.0/dependencies` });
    expect(deps.json().items).toEqual([
      expect.objectContaining({
        name: base,
        version_range: '^1.0.0',
        resolved: expect.objectContaining({ version: '1.0.0' }),
      }),
    ]);
    const dependents = await app.server.inject({ method: 'GET', url: `/v1/components/${base}/dependents` });
    expect(dependents.json().items).toEqual([
      { name: user, version: '1.0.0', version_range: '^1.0.0' },
      { name: user, version: '1.1.0', version_range: '^1.0.0' },
    ]);
  });
});

describe('POST /v1/validate', () => {
  it('answers 200 with the result, valid or not, and writes nothing', async () => {
    const before = await app.store.headSequence();
    const ok = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: AUTH.read,
      payload: component({ name: uniqueName() }),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().valid).toBe(true);
    const bad = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      payload: component({ name: 'NOPE', version: '1' }),
    });
    expect(bad.statusCode).toBe(200);
    expect(bad.json().valid).toBe(false);
    expect(bad.json().errors.length).toBeGreaterThan(0);
    expect(await app.store.headSequence()).toBe(before);
  });

  it('validates a batch', async () => {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      payload: { components: [component({ name: uniqueName() }), component({ name: 'X' })] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results.map((r: { valid: boolean }) => r.valid)).toEqual([true, false]);
  });
});

describe('operations', () => {
  it('serves healthz, readyz, version, metrics and openapi', async () => {
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.server.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const version = (await app.server.inject({ method: 'GET', url: '/version' })).json();
    expect(Object.keys(version).sort()).toEqual(['build_date', 'commit', 'node', 'version']);
    const metrics = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('nestor_http_request_duration_seconds');
    expect(metrics.body).toMatch(/^nestor_components \d+/m);
    expect(metrics.body).toContain('nestor_cache_hits_total');
    const openapi = (await app.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/components', '/v1/components/{name}/versions/{version}']),
    );
  });

  it('answers unknown routes with a route_not_found problem and a request id', async () => {
    const res = await app.server.inject({ method: 'GET', url: '/v2/nothing', headers: { 'x-request-id': 'abc-123' } });
    expect(res.statusCode).toBe(404);
    const p = problem(res);
    expect(p.code).toBe('route_not_found');
    expect(p.request_id).toBe('abc-123');
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
});
