import { rmSync } from 'node:fs';
import type { CatalogEvent, DeploymentEngine, Problem } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../packages/orchestrator/src/config/config.js';
import {
  eventually,
  type FakeEngine,
  startFakeEngine,
} from '../packages/orchestrator/src/engines/engine-server.test-suite.js';
import type { EngineDetail } from '../packages/orchestrator/src/engines/interfaces.js';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { AUTH, component, testApp, testConfig, uniqueName } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function engineConfig(name: string, endpoint: string | null): EngineConfig {
  return {
    name,
    type: 'terraform',
    endpoint,
    health_path: null,
    interval_ms: 50,
    timeout_ms: 2_000,
    failure_threshold: 2,
    success_threshold: 1,
    labels: { team: 'platform' },
  };
}

async function start(engines: EngineConfig[], mutate?: Parameters<typeof testApp>[0]): Promise<App> {
  const { app, cleanup } = await testApp((c) => {
    c.engines = engines;
    // The fake engines listen on loopback, which the endpoint policy refuses unless allowed.
    c.engine_allow_hosts = ['127.0.0.1'];
    mutate?.(c);
  });
  cleanups.push(cleanup);
  await app.start();
  return app;
}

async function fake(): Promise<FakeEngine> {
  const engine = await startFakeEngine({ mode: 'up' });
  cleanups.push(() => engine.close());
  return engine;
}

async function engine(app: App, name: string): Promise<EngineDetail> {
  const res = await app.server.inject({ method: 'GET', url: `/v1/engines/${name}`, headers: AUTH.read });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<EngineDetail>();
}

async function healthIs(app: App, name: string, health: DeploymentEngine['health']): Promise<boolean> {
  return eventually(async () => (await engine(app, name)).health === health, 5_000);
}

function publish(app: App, body: object) {
  return app.server.inject({ method: 'POST', url: '/v1/components', payload: body, headers: AUTH.write });
}

describe('engines through the real app', () => {
  it('accepts a component while its engine is healthy, rejects it once unhealthy, accepts it after recovery', async () => {
    const tf = await fake();
    const app = await start([engineConfig('tf-e2e', tf.url)]);
    expect(await healthIs(app, 'tf-e2e', 'healthy')).toBe(true);

    const name = uniqueName('db');
    const first = await publish(app, component({ name, deployment_engines: ['tf-e2e'] }));
    expect(first.statusCode, first.body).toBe(201);

    tf.set('down');
    expect(await healthIs(app, 'tf-e2e', 'unhealthy')).toBe(true);
    const rejected = await publish(app, component({ name, version: '1.0.1', deployment_engines: ['tf-e2e'] }));
    expect(rejected.statusCode, rejected.body).toBe(422);
    const problem = rejected.json<Problem>();
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ rule: 'engines', field: 'deployment_engines[0]', code: 'engine_unhealthy' }),
    );
    // Engine health never makes the server itself unready.
    expect((await app.server.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    tf.set('up');
    expect(await healthIs(app, 'tf-e2e', 'healthy')).toBe(true);
    const accepted = await publish(app, component({ name, version: '1.0.1', deployment_engines: ['tf-e2e'] }));
    expect(accepted.statusCode, accepted.body).toBe(201);

    const events: CatalogEvent[] = await app.store.readEvents(0, 1_000);
    const changes = events.filter((e) => e.type === 'engine.health_changed').map((e) => e.data);
    // In order (a loaded machine may add a transient flip before the first success):
    // healthy, then unhealthy on the 503s, then healthy again.
    const up = changes.findIndex((c) => c['health'] === 'healthy');
    const down = changes.findIndex((c, k) => k > up && c['health'] === 'unhealthy');
    const back = changes.findIndex((c, k) => k > down && c['health'] === 'healthy');
    expect(up, JSON.stringify(changes)).toBeGreaterThanOrEqual(0);
    expect(changes[down]).toMatchObject({
      engine: 'tf-e2e',
      previous: 'healthy',
      message: expect.stringContaining('503'),
    });
    expect(changes[back]).toMatchObject({ engine: 'tf-e2e', previous: 'unhealthy' });

    const detail = await engine(app, 'tf-e2e');
    expect(detail.history.length).toBeGreaterThan(3);
    expect(detail.history.some((p) => p.ok === false && p.status === 503)).toBe(true);
    expect(detail).toMatchObject({ origin: 'config', labels: { team: 'platform' }, missing: false });

    const metrics = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/nestor_engine_health\{engine="tf-e2e"\} 1/);
    expect(metrics.body).toMatch(/nestor_engine_probe_failures_total\{engine="tf-e2e",reason="status"\} \d+/);
    expect(metrics.body).toContain('nestor_engine_probe_duration_seconds_bucket');
  });

  it('rejects a component naming an unknown engine and warns about one never probed', async () => {
    const app = await start([engineConfig('manual', null)]);
    const unknown = await publish(app, component({ name: uniqueName(), deployment_engines: ['ghost'] }));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<Problem>().errors).toContainEqual(
      expect.objectContaining({ rule: 'engines', code: 'engine_not_found' }),
    );
    const manual = await publish(app, component({ name: uniqueName(), deployment_engines: ['manual'] }));
    expect(manual.statusCode, manual.body).toBe(201);
    expect((await engine(app, 'manual')).health).toBe('unknown');
  });

  it('registers and deregisters engines over the API, admin only', async () => {
    const tf = await fake();
    const app = await start([engineConfig('from-config', null)]);
    const body = { name: 'posted', type: 'pulumi', endpoint: tf.url, interval: '1s', timeout: '200ms' };

    const forbidden = await app.server.inject({
      method: 'POST',
      url: '/v1/engines',
      payload: body,
      headers: AUTH.write,
    });
    expect(forbidden.statusCode).toBe(403);

    const created = await app.server.inject({ method: 'POST', url: '/v1/engines', payload: body, headers: AUTH.admin });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/v1/engines/posted');
    expect(created.json<DeploymentEngine>()).toMatchObject({
      name: 'posted',
      type: 'pulumi',
      origin: 'api',
      health: 'unknown',
      interval_ms: 1000,
      timeout_ms: 200,
      failure_threshold: 3,
      success_threshold: 1,
    });
    // Probed at the pulumi default path once registered.
    expect(await healthIs(app, 'posted', 'healthy')).toBe(true);
    expect(tf.paths[0]).toBe('/readyz');

    for (const dup of [body, { name: 'from-config' }]) {
      const res = await app.server.inject({ method: 'POST', url: '/v1/engines', payload: dup, headers: AUTH.admin });
      expect(res.statusCode).toBe(409);
      expect(res.json<Problem>().code).toBe('engine_conflict');
    }

    const bad = await app.server.inject({
      method: 'POST',
      url: '/v1/engines',
      payload: { name: 'typo', endpont: 'http://x' },
      headers: AUTH.admin,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Problem>()).toMatchObject({ code: 'invalid_request', details: { field: 'endpont' } });
    expect(bad.json<Problem>().detail).toContain('unknown field "endpont"');
    const notUrl = await app.server.inject({
      method: 'POST',
      url: '/v1/engines',
      payload: { name: 'x', endpoint: 'ftp://x' },
      headers: AUTH.admin,
    });
    expect(notUrl.statusCode).toBe(400);

    const list = await app.server.inject({ method: 'GET', url: '/v1/engines', headers: AUTH.read });
    expect(list.json<{ items: DeploymentEngine[] }>().items.map((e) => e.name)).toEqual(['from-config', 'posted']);

    const delForbidden = await app.server.inject({ method: 'DELETE', url: '/v1/engines/posted', headers: AUTH.write });
    expect(delForbidden.statusCode).toBe(403);
    const del = await app.server.inject({ method: 'DELETE', url: '/v1/engines/posted', headers: AUTH.admin });
    expect(del.statusCode).toBe(204);
    const again = await app.server.inject({ method: 'DELETE', url: '/v1/engines/posted', headers: AUTH.admin });
    expect(again.statusCode).toBe(404);
    expect(again.json<Problem>().code).toBe('engine_not_found');
    const gone = await app.server.inject({ method: 'GET', url: '/v1/engines/posted', headers: AUTH.read });
    expect(gone.statusCode).toBe(404);
    expect(gone.json<Problem>().code).toBe('engine_not_found');
  });

  it('keeps API registrations across a restart on the same SQLite file', async () => {
    const { config, dir } = testConfig((c) => {
      c.store.type = 'sqlite';
    });
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await buildApp(config);
    const payload = { name: 'durable', type: 'custom', endpoint: null };
    const res = await first.server.inject({ method: 'POST', url: '/v1/engines', payload, headers: AUTH.admin });
    expect(res.statusCode, res.body).toBe(201);
    await first.close();

    const restarted = await buildApp(config);
    cleanups.push(() => restarted.close());
    expect(await engine(restarted, 'durable')).toMatchObject({ origin: 'api', type: 'custom', health: 'unknown' });
  });
});
