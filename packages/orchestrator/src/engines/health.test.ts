import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import type { DeploymentEngine } from '@nestor/sdk';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalChangeFeed } from '../events/change-feed.js';
import { EndpointPolicy } from '../infra/endpoint-policy.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { eventually, type FakeEngine, startFakeEngine } from './engine-server.test-suite.js';
import {
  DEFAULT_HEALTH_PATHS,
  HttpHealthChecker,
  initialDelay,
  jitteredDelay,
  nextVerdict,
  probeEngine,
  probeUrl,
} from './health.js';
import type { HealthVerdict } from './interfaces.js';
import { EngineRegistry } from './registry.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(...args: Parameters<typeof startFakeEngine>): Promise<FakeEngine> {
  const engine = await startFakeEngine(...args);
  cleanups.push(() => engine.close());
  return engine;
}

function target(endpoint: string | null, overrides: Partial<DeploymentEngine> = {}): DeploymentEngine {
  return {
    name: 'tf',
    type: 'terraform',
    endpoint,
    health_path: null,
    health: 'unknown',
    last_checked: null,
    last_latency_ms: null,
    consecutive_failures: 0,
    message: null,
    labels: {},
    origin: 'config',
    missing: false,
    interval_ms: 50,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    ...overrides,
  };
}

describe('probeEngine against real HTTP servers', () => {
  it('succeeds on 2xx and uses the default path of the engine type', async () => {
    const engine = await fake({ mode: 'up' });
    const tf = await probeEngine(target(engine.url));
    expect(tf).toMatchObject({ ok: true, status: 200, failure: null });
    expect(tf.latency_ms).toBeGreaterThanOrEqual(0);
    await probeEngine(target(engine.url, { type: 'crossplane' }));
    await probeEngine(target(`${engine.url}/base/`, { health_path: 'custom/ping' }));
    expect(engine.paths).toEqual([DEFAULT_HEALTH_PATHS.terraform, '/readyz', '/base/custom/ping']);
  });

  it('reports a failing status with a snippet of the body', async () => {
    const engine = await fake({ mode: 'down' });
    const r = await probeEngine(target(engine.url));
    expect(r).toMatchObject({ ok: false, status: 503, failure: 'status' });
    expect(r.message).toBe('HTTP 503: engine is draining');
  });

  it('times out a hanging engine within its timeout', async () => {
    const engine = await fake({ mode: 'slow', slowMs: 5_000 });
    const started = Date.now();
    const r = await probeEngine(target(engine.url, { timeout_ms: 150 }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r).toMatchObject({ ok: false, status: null, failure: 'timeout', message: 'no answer within 150 ms' });
  });

  it('times out an engine that sends headers and then stalls the body', async () => {
    const engine = await fake({ mode: 'stall-body' });
    const started = Date.now();
    const r = await probeEngine(target(engine.url, { timeout_ms: 150 }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r).toMatchObject({ ok: false, failure: 'timeout' });
  });

  it('does not follow a redirect loop: one request, one failure', async () => {
    const engine = await fake({ mode: 'redirect' });
    const r = await probeEngine(target(engine.url));
    expect(r).toMatchObject({ ok: false, status: 302, failure: 'redirect' });
    expect(r.message).toContain('redirect to /healthz');
    expect(engine.paths).toHaveLength(1);
  });

  it('reads an endless body only up to the cap', async () => {
    const engine = await fake({ mode: 'endless' });
    const started = Date.now();
    const r = await probeEngine(target(engine.url, { timeout_ms: 2_000 }), { bodyLimitBytes: 32 * 1024 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(r).toMatchObject({ ok: true, status: 200 });
  });

  it('fails cleanly on an answer that is not HTTP', async () => {
    const engine = await fake({ mode: 'garbage' });
    const r = await probeEngine(target(engine.url));
    expect(r.ok).toBe(false);
    expect(r.status).toBeNull();
    expect(['protocol', 'connection']).toContain(r.failure);
    expect(r.message.length).toBeGreaterThan(0);
  });

  it('fails cleanly when nothing listens', async () => {
    const port = await freePort();
    const r = await probeEngine(target(`http://127.0.0.1:${port}`));
    expect(r).toMatchObject({ ok: false, failure: 'connection' });
    expect(r.message).toContain('ECONNREFUSED');
  });

  it('fails cleanly when the host does not resolve', async () => {
    const r = await probeEngine(target('http://nestor-engine-does-not-exist.invalid:9000', { timeout_ms: 2_000 }));
    expect(r.ok).toBe(false);
    expect(['connection', 'timeout']).toContain(r.failure);
  });

  it('builds the URL from endpoint and path without double slashes', () => {
    expect(probeUrl(target('http://h:1/', { health_path: '/x' }))).toBe('http://h:1/x');
    expect(probeUrl(target('http://h:1', { type: 'pulumi' }))).toBe('http://h:1/readyz');
    expect(probeUrl(target(null))).toBeNull();
  });
});

describe('thresholds', () => {
  it('follow the Kubernetes rule for any sequence of results', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (results, failure_threshold, success_threshold) => {
          let v: HealthVerdict = { health: 'unknown', consecutive_failures: 0, consecutive_successes: 0 };
          for (let i = 0; i < results.length; i++) {
            const previous = v.health;
            v = nextVerdict(v, results[i]!, { failure_threshold, success_threshold });
            const window = (n: number, ok: boolean) =>
              i + 1 >= n && results.slice(i + 1 - n, i + 1).every((r) => r === ok);
            if (window(success_threshold, true)) expect(v.health).toBe('healthy');
            else if (window(failure_threshold, false)) expect(v.health).toBe('unhealthy');
            else expect(v.health).toBe(previous);
          }
        },
      ),
    );
  });

  it('counts consecutive failures and resets them on success', () => {
    let v: HealthVerdict = { health: 'healthy', consecutive_failures: 0, consecutive_successes: 3 };
    v = nextVerdict(v, false, { failure_threshold: 3, success_threshold: 1 });
    v = nextVerdict(v, false, { failure_threshold: 3, success_threshold: 1 });
    expect(v).toEqual({ health: 'healthy', consecutive_failures: 2, consecutive_successes: 0 });
    v = nextVerdict(v, true, { failure_threshold: 3, success_threshold: 1 });
    expect(v).toEqual({ health: 'healthy', consecutive_failures: 0, consecutive_successes: 1 });
  });
});

describe('scheduling', () => {
  it('spreads the interval by at most 15 % either way', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (i, r) => {
          const d = jitteredDelay(i, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(i * 0.85));
          expect(d).toBeLessThanOrEqual(Math.ceil(i * 1.15));
        },
      ),
    );
    expect(jitteredDelay(10_000, () => 0)).toBe(8_500);
    expect(jitteredDelay(10_000, () => 0.999_999)).toBe(11_500);
    expect(initialDelay(60_000, () => 0.5)).toBe(500);
  });
});

describe('HttpHealthChecker with the registry', () => {
  async function setUp(engines: Parameters<EngineRegistry['load']>[0]) {
    const store = new MemoryStore();
    const feed = new LocalChangeFeed();
    const published: number[] = [];
    feed.subscribe((h) => published.push(h));
    const registry = new EngineRegistry({ store, events: store, feed });
    await registry.load(engines);
    const checker = new HttpHealthChecker({ targets: registry });
    cleanups.push(() => checker.stop());
    return { store, registry, checker, published };
  }

  function config(
    name: string,
    endpoint: string | null,
    overrides: Partial<Parameters<EngineRegistry['load']>[0][0]> = {},
  ) {
    return {
      name,
      type: 'terraform' as const,
      endpoint,
      health_path: null,
      interval_ms: 50,
      timeout_ms: 1_000,
      failure_threshold: 3,
      success_threshold: 2,
      labels: {},
      ...overrides,
    };
  }

  it('marks an engine healthy after success_threshold successes and unhealthy after failure_threshold failures', async () => {
    const engine = await fake({ mode: 'up' });
    const { store, registry, checker, published } = await setUp([config('tf', engine.url)]);
    const epoch0 = registry.healthEpoch();
    checker.start();
    expect(await eventually(async () => (await registry.getEngine('tf'))?.health === 'healthy')).toBe(true);
    const detail = await registry.describe('tf');
    expect(detail!.history.length).toBeGreaterThanOrEqual(2);
    expect(detail!.last_latency_ms).not.toBeNull();
    expect(registry.healthEpoch()).toBeGreaterThan(epoch0);

    engine.set('down');
    const before = (await registry.describe('tf'))!.history.length;
    expect(await eventually(async () => (await registry.getEngine('tf'))?.health === 'unhealthy')).toBe(true);
    const after = (await registry.describe('tf'))!;
    const failuresSinceDown = after.history.slice(before).filter((p) => !p.ok).length;
    // The flip happens on the third consecutive failure, not before.
    expect(failuresSinceDown).toBeGreaterThanOrEqual(3);
    expect(after.consecutive_failures).toBeGreaterThanOrEqual(3);
    expect(after.message).toContain('HTTP 503');

    const events = await store.readEvents(0, 100);
    const changes = events.filter((e) => e.type === 'engine.health_changed').map((e) => e.data);
    expect(changes.slice(0, 2)).toEqual([
      expect.objectContaining({ engine: 'tf', previous: 'unknown', health: 'healthy' }),
      expect.objectContaining({ engine: 'tf', previous: 'healthy', health: 'unhealthy' }),
    ]);
    expect(events[0]!.subject).toEqual({ name: 'tf', version: null, digest: null });
    expect(published).toContain(events[1]!.id);
    expect((await store.getEngine('tf'))!.health).toBe('unhealthy');

    engine.set('up');
    expect(await eventually(async () => (await registry.getEngine('tf'))?.health === 'healthy')).toBe(true);
  });

  it('keeps a flapping engine healthy when failures never reach the threshold', async () => {
    const engine = await fake({ plan: (n) => (n % 2 === 0 ? 'up' : 'down') });
    const { registry, checker } = await setUp([
      config('flap', engine.url, { success_threshold: 1, failure_threshold: 2 }),
    ]);
    checker.start();
    expect(await eventually(() => engine.paths.length >= 8)).toBe(true);
    const detail = (await registry.describe('flap'))!;
    expect(detail.health).toBe('healthy');
    expect(detail.history.some((p) => !p.ok)).toBe(true);
  });

  it('never probes an engine without endpoint and keeps at most 20 results', async () => {
    const engine = await fake({ mode: 'up' });
    const { registry, checker } = await setUp([config('none', null), config('busy', engine.url, { interval_ms: 10 })]);
    checker.start();
    expect(await eventually(() => engine.paths.length >= 25)).toBe(true);
    expect(await checker.probeNow('none')).toBeNull();
    const none = (await registry.describe('none'))!;
    expect(none).toMatchObject({ health: 'unknown', last_checked: null, history: [] });
    expect((await registry.describe('busy'))!.history).toHaveLength(20);
  });

  it('never runs two probes of one engine at once', async () => {
    const engine = await fake({ mode: 'slow', slowMs: 120 });
    const { checker } = await setUp([config('slow', engine.url, { interval_ms: 10, timeout_ms: 500 })]);
    checker.start();
    const [a, b, c] = await Promise.all([checker.probeNow('slow'), checker.probeNow('slow'), checker.probeNow('slow')]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await eventually(() => engine.paths.length >= 4)).toBe(true);
    expect(engine.maxConcurrent).toBe(1);
  });

  it('stops at once, abandoning a hanging probe without recording it', async () => {
    const engine = await fake({ mode: 'slow', slowMs: 5_000 });
    const { registry, checker } = await setUp([config('hang', engine.url, { timeout_ms: 4_000 })]);
    checker.start();
    expect(await eventually(() => engine.paths.length === 1)).toBe(true);
    const started = Date.now();
    await checker.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect((await registry.describe('hang'))!).toMatchObject({ history: [], last_checked: null, health: 'unknown' });
  });

  it('follows registrations: new engines get probed, removed ones stop', async () => {
    const engine = await fake({ mode: 'up' });
    const { registry, checker } = await setUp([]);
    checker.start();
    await registry.register(config('late', engine.url, { success_threshold: 1 }));
    expect(await eventually(async () => (await registry.getEngine('late'))?.health === 'healthy')).toBe(true);
    await registry.deregister('late');
    await new Promise((r) => setTimeout(r, 100));
    const count = engine.paths.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.paths.length).toBe(count);
  });

  it('does not probe while another replica leads', async () => {
    const engine = await fake({ mode: 'up' });
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    await registry.load([config('tf', engine.url)]);
    let leader = false;
    const checker = new HttpHealthChecker({
      targets: registry,
      leadership: { isLeader: async () => leader, release: async () => {} },
    });
    cleanups.push(() => checker.stop());
    checker.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.paths).toHaveLength(0);
    leader = true;
    expect(await eventually(() => engine.paths.length > 0)).toBe(true);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('HttpHealthChecker with an endpoint policy', () => {
  it('resolves the endpoint before every probe and refuses it once DNS points inside', async () => {
    const engine = await fake({ mode: 'up' });
    const port = new URL(engine.url).port;
    let answer = '93.184.216.34';
    const policy = new EndpointPolicy({
      allowHosts: ['127.0.0.1'],
      lookup: async () => [{ address: answer, family: 4 }],
    });
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    const base = { type: 'custom' as const, health_path: null, interval_ms: 60_000, timeout_ms: 1_000 };
    await registry.load([
      // A name the test's lookup answers; the probe itself cannot reach it, which is fine here.
      {
        ...base,
        name: 'named',
        endpoint: 'http://engine.invalid:9',
        failure_threshold: 1,
        success_threshold: 1,
        labels: {},
      },
      { ...base, name: 'allowed', endpoint: engine.url, failure_threshold: 1, success_threshold: 1, labels: {} },
      {
        ...base,
        name: 'spelled',
        endpoint: `http://2130706433:${port}`,
        failure_threshold: 1,
        success_threshold: 1,
        labels: {},
      },
    ]);
    const checker = new HttpHealthChecker({ targets: registry, policy });
    cleanups.push(() => checker.stop());

    expect((await checker.probeNow('named'))?.failure).toBe('connection');
    answer = '10.0.0.8';
    const refused = await checker.probeNow('named');
    expect(refused).toMatchObject({ ok: false, failure: 'refused', status: null });
    expect(refused?.message).toContain('resolves to 10.0.0.8, a private address');
    expect((await registry.getEngine('named'))?.health).toBe('unhealthy');

    // The allow list names 127.0.0.1 as written; another spelling of it reaches nothing.
    expect((await checker.probeNow('allowed'))?.ok).toBe(true);
    const hits = engine.paths.length;
    expect((await checker.probeNow('spelled'))?.failure).toBe('refused');
    expect(engine.paths.length).toBe(hits);
  });
});
