import type { DeploymentEngine, Problem } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeConfig, loadConfig } from '../packages/orchestrator/src/config/load.js';
import { eventually, startFakeEngine } from '../packages/orchestrator/src/engines/engine-server.test-suite.js';
import type { EngineDetail } from '../packages/orchestrator/src/engines/interfaces.js';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, testApp } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(allowHosts: string[] = []): Promise<App> {
  const { app, cleanup } = await testApp((c) => {
    c.engine_allow_hosts = allowHosts;
  });
  cleanups.push(cleanup);
  await app.start();
  return app;
}

function register(a: App, payload: object) {
  return a.server.inject({ method: 'POST', url: '/v1/engines', payload, headers: AUTH.admin });
}

describe('engine endpoints that point inside', () => {
  it('refuses them over the API with 400 invalid_request naming the reason, and registers nothing', async () => {
    const a = await app();
    const hostile = [
      ['http://127.0.0.1:9000', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://0177.0.0.1/', 'loopback'],
      ['http://0x7f000001/', 'loopback'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://[::1]/', 'loopback'],
      ['http://localhost:8080', 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'metadata'],
      ['http://[fd00:ec2::254]/', 'metadata'],
      ['http://metadata.google.internal/', 'metadata'],
      ['http://10.0.0.1/', 'private'],
      ['http://[fd12::1]/', 'private'],
      ['http://100.64.1.1/', 'CGNAT'],
      ['http://169.254.10.10/', 'link-local'],
      ['http://0.0.0.0:8080/', 'unspecified'],
      ['http://user:secret@93.184.216.34/', 'credentials'],
    ] as const;
    for (const [endpoint, why] of hostile) {
      const res = await register(a, { name: 'evil', endpoint });
      expect(res.statusCode, endpoint).toBe(400);
      const problem = res.json<Problem>();
      expect(problem.code).toBe('invalid_request');
      expect(problem.detail, endpoint).toContain(why);
      expect(problem.details).toMatchObject({ field: 'endpoint' });
    }
    const list = await a.server.inject({ method: 'GET', url: '/v1/engines', headers: AUTH.read });
    expect(list.json<{ items: DeploymentEngine[] }>().items.map((e) => e.name)).not.toContain('evil');
  });

  it('accepts a loopback endpoint whose host is listed in engines.allow_hosts as written', async () => {
    const a = await app(['127.0.0.1']);
    expect((await register(a, { name: 'ok', endpoint: 'http://127.0.0.1:9/' })).statusCode).toBe(201);
    const other = await register(a, { name: 'other', endpoint: 'http://127.0.0.2:9/' });
    expect(other.statusCode).toBe(400);
  });

  it('refuses probe intervals under 1 s and timeouts under 100 ms', async () => {
    const a = await app();
    for (const [field, value] of [
      ['interval', '999ms'],
      ['interval', 0],
      ['timeout', '99ms'],
      ['timeout', '0s'],
    ] as const) {
      const res = await register(a, { name: 'fast', [field]: value });
      expect(res.statusCode, `${field}=${value}`).toBe(400);
      expect(res.json<Problem>()).toMatchObject({ code: 'invalid_request', details: { field } });
    }
    expect((await register(a, { name: 'fast', interval: '1s', timeout: '100ms' })).statusCode).toBe(201);
  });

  it('refuses them in config with an error naming the key, unless allowed', () => {
    const engine = { name: 'tf', endpoint: 'http://0x7f.0.0.1:9000' };
    expect(() => decodeConfig({ engines: [engine] })).toThrow(/engines\[0\]\.endpoint: host "0x7f\.0\.0\.1"/);
    expect(() => decodeConfig({ engines: { items: [engine] } })).toThrow(/engines\.items\[0\]\.endpoint/);
    const allowed = decodeConfig({ engines: { allow_hosts: ['0x7f.0.0.1'], items: [engine] } });
    expect(allowed.engines[0]?.endpoint).toBe(engine.endpoint);
    expect(() => decodeConfig({ engines: { allow_hosts: 'x' } })).toThrow(/engines\.allow_hosts must be a list/);
    expect(() => decodeConfig({ engines: { allow: [] } })).toThrow(/unknown config key "engines\.allow"/);
    expect(() => decodeConfig({ engines: [{ name: 'tf', interval: '200ms' }] })).toThrow(/engines\[0\]\.interval/);

    const fromEnv = loadConfig(
      {},
      {
        NESTOR_ENGINES: JSON.stringify([{ name: 'tf', endpoint: 'http://localhost:9000' }]),
        NESTOR_ENGINES_ALLOW_HOSTS: 'localhost, 127.0.0.1',
      },
    );
    expect(fromEnv.engine_allow_hosts).toEqual(['localhost', '127.0.0.1']);
    expect(fromEnv.engines.map((e) => e.endpoint)).toEqual(['http://localhost:9000']);
  });
});

describe('engine details for anonymous readers', () => {
  it('show health, latency and last check, but no response body, redirect target or error text', async () => {
    const engine = await startFakeEngine({ mode: 'down' });
    cleanups.push(() => engine.close());
    const a = await app(['127.0.0.1']);
    const registered = await register(a, {
      name: 'leaky',
      endpoint: engine.url,
      interval: '1s',
      failure_threshold: 1,
    });
    expect(registered.statusCode).toBe(201);
    const get = (headers: Record<string, string>) =>
      a.server.inject({ method: 'GET', url: '/v1/engines/leaky', headers }).then((r) => r.json<EngineDetail>());
    expect(await eventually(async () => (await get(AUTH.read)).health === 'unhealthy', 5_000)).toBe(true);
    engine.set('redirect');
    expect(
      await eventually(async () => (await get(AUTH.read)).history.some((p) => p.failure === 'redirect'), 5_000),
    ).toBe(true);

    const detailed = await get(AUTH.read);
    expect(JSON.stringify(detailed)).toContain('engine is draining');
    expect(JSON.stringify(detailed)).toContain('redirect to /healthz');

    const anonymous = await get({});
    expect(anonymous).toMatchObject({ health: 'unhealthy', message: null });
    expect(anonymous.last_checked).not.toBeNull();
    expect(anonymous.last_latency_ms).not.toBeNull();
    const text = JSON.stringify(anonymous);
    expect(text).not.toContain('draining');
    expect(text).not.toContain('/healthz;');
    expect(text).not.toContain('redirect to');
    expect(anonymous.history.map((p) => p.message)).toContain('HTTP 503');
    const list = await a.server.inject({ method: 'GET', url: '/v1/engines' });
    expect(list.body).not.toContain('draining');
    // The event log is readable anonymously too: health changes carry the summary only.
    const changes = (await a.store.readEvents(0, 1_000)).filter((e) => e.type === 'engine.health_changed');
    expect(changes.length).toBeGreaterThan(0);
    expect(JSON.stringify(changes)).not.toContain('draining');
    expect(changes[0]?.data).toMatchObject({ engine: 'leaky', health: 'unhealthy', message: 'HTTP 503' });
  });
});
