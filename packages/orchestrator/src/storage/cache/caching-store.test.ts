import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Counter, Labels, Metrics } from '../../observability/metrics/interfaces.js';
import { noopMetrics } from '../../observability/metrics/metrics.js';
import { describeStoreContract } from '../contract.test-suite.js';
import { MemoryStore } from '../memory/memory-store.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { makeComponent } from '../testing.js';
import { CachingStore } from './caching-store.js';
import { MemorySharedCache } from './testing.js';

describeStoreContract('cached memory', async () => ({ store: new CachingStore({ inner: new MemoryStore() }) }));

describeStoreContract('cached sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-cache-'));
  return {
    store: new CachingStore({ inner: new SqliteStore({ path: join(dir, 'nestor.db') }) }),
    cleanup: async () => rmSync(dir, { recursive: true }),
  };
});

describeStoreContract('cached memory with a shared cache', async () => ({
  store: new CachingStore({ inner: new MemoryStore(), shared: new MemorySharedCache() }),
}));

/** Counts per metric name and `op` label. */
function countingMetrics(): Metrics & { count(name: string, op: string): number } {
  const counts = new Map<string, number>();
  return {
    ...noopMetrics,
    counter(name: string): Counter {
      return {
        inc(labels: Labels = {}, value = 1) {
          const key = `${name}/${labels.op ?? ''}`;
          counts.set(key, (counts.get(key) ?? 0) + value);
        },
      };
    },
    count: (name: string, op: string) => counts.get(`${name}/${op}`) ?? 0,
  };
}

describe('CachingStore', () => {
  it('serves repeated reads from the cache and counts hits and misses by op', async () => {
    const metrics = countingMetrics();
    const store = new CachingStore({ inner: new MemoryStore(), metrics });
    const c = makeComponent();
    await store.createComponent(c);
    const first = await store.getComponent(c.name, c.version);
    const second = await store.getComponent(c.name, c.version);
    expect(second).toBe(first);
    expect(metrics.count('nestor_cache_misses_total', 'get')).toBe(1);
    expect(metrics.count('nestor_cache_hits_total', 'get')).toBe(1);
    await store.listComponents({ limit: 10 });
    await store.listComponents({ limit: 10 });
    expect(metrics.count('nestor_cache_hits_total', 'list')).toBe(1);
    expect(await store.getComponent(c.name, '9.9.9')).toBeNull();
    expect(await store.getComponent(c.name, '9.9.9')).toBeNull();
    expect(metrics.count('nestor_cache_misses_total', 'get')).toBe(3);
  });

  it('never serves stale data after updates and deprecation through it', async () => {
    const store = new CachingStore({ inner: new MemoryStore() });
    const c = makeComponent({ labels: { team: 'a' } });
    await store.createComponent(c);
    // Warm every cached read.
    const warm = async () => {
      await store.getComponent(c.name, c.version);
      await store.getLatestComponent(c.name);
      await store.getLatestComponent(c.name, { includePrerelease: true });
      await store.getComponentVersions(c.name);
      await store.listComponents({ limit: 10 });
    };
    await warm();
    await store.updateComponent(c.name, c.version, { labels: { team: 'b' }, maturity: 'beta' });
    expect((await store.getComponent(c.name, c.version))?.labels).toEqual({ team: 'b' });
    expect((await store.getLatestComponent(c.name))?.maturity).toBe('beta');
    expect((await store.getComponentVersions(c.name))[0]?.labels).toEqual({ team: 'b' });
    expect((await store.listComponents({ limit: 10 })).items[0]?.labels).toEqual({ team: 'b' });
    expect((await store.listComponents({ limit: 10 })).items[0]?.maturity).toBe('beta');

    await warm();
    await store.updateComponent(c.name, c.version, { deprecated: { reason: 'use 2.x' } });
    expect((await store.getComponent(c.name, c.version))?.deprecated?.reason).toBe('use 2.x');
    expect((await store.getLatestComponent(c.name, { includePrerelease: true }))?.deprecated?.reason).toBe('use 2.x');
    expect((await store.listComponents({ limit: 10 })).items[0]?.deprecated?.reason).toBe('use 2.x');

    await warm();
    await store.createComponent(makeComponent({ name: c.name, version: '2.0.0' }));
    expect((await store.getLatestComponent(c.name))?.version).toBe('2.0.0');
    expect((await store.getComponentVersions(c.name)).map((v) => v.version)).toEqual(['2.0.0', '1.0.0']);
    expect((await store.listComponents({ limit: 10 })).items[0]?.version).toBe('2.0.0');
  });

  it('drops entries when invalidate(event) reports a write made elsewhere', async () => {
    const inner = new MemoryStore();
    const store = new CachingStore({ inner });
    const c = makeComponent();
    await inner.createComponent(c);
    expect((await store.getLatestComponent(c.name))?.labels).toEqual({});
    expect(await store.listComponentNames()).toEqual([c.name]);
    const dependent = makeComponent({ dependencies: [{ name: c.name, version_range: '^1.0.0' }] });
    expect(await store.getDependents(c.name)).toEqual([]);

    // Writes that bypass the cache: it keeps serving what it has until told.
    const updated = await inner.updateComponent(c.name, c.version, { labels: { x: 'y' } });
    const created = await inner.createComponent(dependent);
    expect((await store.getLatestComponent(c.name))?.labels).toEqual({});

    if (!updated.event || !created.event) throw new Error('expected events');
    store.invalidate(updated.event);
    store.invalidate(created.event);
    expect((await store.getLatestComponent(c.name))?.labels).toEqual({ x: 'y' });
    expect((await store.getComponent(c.name, c.version))?.labels).toEqual({ x: 'y' });
    expect(await store.listComponentNames()).toEqual([c.name, dependent.name].sort());
    expect(await store.getDependents(c.name)).toHaveLength(1);
  });

  it('keeps the cached name list current through creates without re-reading it', async () => {
    const metrics = countingMetrics();
    const inner = new MemoryStore();
    const store = new CachingStore({ inner, metrics });
    await store.createComponent(makeComponent({ name: 'b-one' }));
    expect(await store.listComponentNames()).toEqual(['b-one']);
    await store.createComponent(makeComponent({ name: 'a-two' }));
    await store.createComponent(makeComponent({ name: 'c-three' }));
    await store.createComponent(makeComponent({ name: 'a-two', version: '2.0.0' }));
    await store.updateComponent('a-two', '2.0.0', { labels: { x: 'y' } });
    const created = await inner.createComponent(makeComponent({ name: 'bb-four' }));
    if (!created.event) throw new Error('expected an event');
    store.invalidate(created.event);
    const names = await store.listComponentNames();
    expect(names).toEqual(['a-two', 'b-one', 'bb-four', 'c-three']);
    expect(names).toEqual(await inner.listComponentNames());
    expect(metrics.count('nestor_cache_misses_total', 'names')).toBe(1);
  });

  it('does not cache a read that raced with a write', async () => {
    const inner = new MemoryStore();
    const store = new CachingStore({ inner });
    const c = makeComponent();
    await store.createComponent(c);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowGet = inner.getComponent.bind(inner);
    inner.getComponent = async (name, version) => {
      const before = await slowGet(name, version);
      await gate;
      return before;
    };
    const racing = store.getComponent(c.name, c.version);
    await store.updateComponent(c.name, c.version, { maturity: 'alpha' });
    release();
    expect((await racing)?.maturity).toBe('stable');
    inner.getComponent = slowGet;
    expect((await store.getComponent(c.name, c.version))?.maturity).toBe('alpha');
  });

  it('returns frozen values but fresh arrays', async () => {
    const store = new CachingStore({ inner: new MemoryStore() });
    const name = makeComponent().name;
    for (const version of ['1.0.0', '1.1.0']) await store.createComponent(makeComponent({ name, version }));
    const versions = await store.getComponentVersions(name);
    versions.sort((a, b) => (a.version < b.version ? -1 : 1));
    expect((await store.getComponentVersions(name)).map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    expect(Object.isFrozen(versions[0])).toBe(true);
    expect(() => {
      (versions[0] as { labels: Record<string, string> }).labels.x = 'y';
    }).toThrow(TypeError);
  });

  it('stays within its byte budget', async () => {
    const store = new CachingStore({ inner: new MemoryStore(), maxBytes: 8 * 1024 });
    const metrics = countingMetrics();
    const measured = new CachingStore({ inner: new MemoryStore(), maxBytes: 8 * 1024, metrics });
    for (const s of [store, measured]) {
      for (let i = 0; i < 30; i++)
        await s.createComponent(makeComponent({ name: `c-${i}`, description: 'x'.repeat(500) }));
    }
    for (let i = 0; i < 30; i++) await measured.getComponent(`c-${i}`, '1.0.0');
    await measured.getComponent('c-0', '1.0.0');
    // The first entries were evicted to make room for the later ones.
    expect(metrics.count('nestor_cache_misses_total', 'get')).toBe(31);
  });

  it('shares reads between replicas through the shared cache, and invalidates it on writes', async () => {
    const inner = new MemoryStore();
    const shared = new MemorySharedCache();
    const metricsB = countingMetrics();
    const a = new CachingStore({ inner, shared });
    const b = new CachingStore({ inner, shared, metrics: metricsB });
    const c = makeComponent();
    await a.createComponent(c);
    await a.getComponent(c.name, c.version);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(shared.size).toBeGreaterThan(0);
    expect((await b.getComponent(c.name, c.version))?.digest).toBe(c.digest);
    expect(metricsB.count('nestor_cache_hits_total', 'get')).toBe(1);
    expect(metricsB.count('nestor_cache_misses_total', 'get')).toBe(0);

    const out = await a.updateComponent(c.name, c.version, { labels: { v: '2' } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (!out.event) throw new Error('expected an event');
    b.invalidate(out.event);
    expect((await b.getComponent(c.name, c.version))?.labels).toEqual({ v: '2' });
  });

  it('falls back to the store when the shared cache fails', async () => {
    const metrics = countingMetrics();
    const broken = {
      get: async () => {
        throw new Error('redis down');
      },
      set: async () => {
        throw new Error('redis down');
      },
      delete: async () => {
        throw new Error('redis down');
      },
    };
    const store = new CachingStore({ inner: new MemoryStore(), shared: broken, metrics });
    const c = makeComponent();
    await store.createComponent(c);
    expect((await store.getComponent(c.name, c.version))?.digest).toBe(c.digest);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(metrics.count('nestor_shared_cache_errors_total', 'get')).toBe(1);
    expect(metrics.count('nestor_shared_cache_errors_total', 'set')).toBe(1);
  });

  it('treats a shared entry that is not JSON or not the component its key names as a miss', async () => {
    const inner = new MemoryStore();
    const shared = new MemorySharedCache();
    const metrics = countingMetrics();
    const store = new CachingStore({ inner, shared, metrics });
    const c = makeComponent();
    const other = makeComponent();
    await inner.createComponent(c);
    await inner.createComponent(other);
    const otherJson = JSON.stringify(await inner.getComponent(other.name, other.version));
    const poisons = [
      '{"name":', // truncated
      'null',
      '[]',
      JSON.stringify({ name: c.name }), // no version
      otherJson, // another component under this key
    ];
    // A well-formed entry holding another version of the same name is caught by the shared
    // cache's signature (redis.test.ts), not by its shape.
    for (const poison of poisons) {
      store.clear();
      await shared.set(`v1:get|${c.name}|${c.version}`, poison, 60_000);
      await shared.set(`v1:latest|${c.name}|0`, poison, 60_000);
      await shared.set(
        `v1:versions|${c.name}`,
        poison === '[]' ? JSON.stringify([JSON.parse(otherJson)]) : poison,
        60_000,
      );
      expect((await store.getComponent(c.name, c.version))?.digest, poison).toBe(c.digest);
      expect((await store.getLatestComponent(c.name))?.digest, poison).toBe(c.digest);
      expect(
        (await store.getComponentVersions(c.name)).map((v) => v.digest),
        poison,
      ).toEqual([c.digest]);
    }
    expect(metrics.count('nestor_shared_cache_errors_total', 'decode')).toBe(3 * poisons.length);
    expect(metrics.count('nestor_cache_hits_total', 'get')).toBe(0);
  });
});
