import { NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import type { EngineConfig } from '../config/config.js';
import { LocalChangeFeed } from '../events/change-feed.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import type { ProbeResult } from './interfaces.js';
import { EngineRegistry } from './registry.js';

function config(name: string, overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    name,
    type: 'terraform',
    endpoint: `http://${name}.example:9000`,
    health_path: null,
    interval_ms: 10_000,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    labels: {},
    ...overrides,
  };
}

function registryOn(store: MemoryStore, persistEveryMs = 60_000) {
  return new EngineRegistry({ store, events: store, feed: new LocalChangeFeed(), persistEveryMs });
}

const probe = (ok: boolean, at = new Date().toISOString()): ProbeResult => ({
  at,
  ok,
  status: ok ? 200 : 503,
  latency_ms: 3,
  failure: ok ? null : 'status',
  message: ok ? 'HTTP 200' : 'HTTP 503',
});

describe('EngineRegistry', () => {
  it('loads config engines into the store, where a restarted registry finds them', async () => {
    const store = new MemoryStore();
    const first = registryOn(store);
    await first.load([config('tf'), config('manual', { endpoint: null })]);
    expect((await first.listEngines()).map((e) => [e.name, e.origin, e.health])).toEqual([
      ['manual', 'config', 'unknown'],
      ['tf', 'config', 'unknown'],
    ]);
    expect((await first.getEngine('manual'))!.message).toContain('never probed');
    await first.register(config('posted'));

    const restarted = registryOn(store);
    await restarted.load([config('tf')]);
    // `manual` left the config file and is gone; the API registration survives.
    expect((await restarted.listEngines()).map((e) => `${e.name}:${e.origin}`)).toEqual(['posted:api', 'tf:config']);
    expect(await store.getEngine('manual')).toBeNull();
  });

  it('rejects a duplicate name and an unknown deregistration with stable codes', async () => {
    const store = new MemoryStore();
    const registry = registryOn(store);
    await registry.load([config('tf')]);
    const dup = await registry.register(config('tf')).catch((e: unknown) => e);
    expect(NestorError.hasCode(dup, 'engine_conflict')).toBe(true);
    expect((dup as NestorError).status).toBe(409);

    // Registered by another replica since this one last refreshed: still a conflict.
    await registryOn(store).register(config('elsewhere'));
    expect(NestorError.hasCode(await registry.register(config('elsewhere')).catch((e) => e), 'engine_conflict')).toBe(
      true,
    );

    const missing = await registry.deregister('nope').catch((e: unknown) => e);
    expect(NestorError.hasCode(missing, 'engine_not_found')).toBe(true);
  });

  it('moves the health epoch on registration, deregistration and health changes only', async () => {
    const store = new MemoryStore();
    const registry = registryOn(store);
    await registry.load([]);
    let epoch = registry.healthEpoch();
    const moved = () => {
      const now = registry.healthEpoch();
      const didMove = now !== epoch;
      epoch = now;
      return didMove;
    };
    await registry.register(config('tf'));
    expect(moved()).toBe(true);
    await registry.recordProbe('tf', probe(true), {
      health: 'healthy',
      consecutive_failures: 0,
      consecutive_successes: 1,
    });
    expect(moved()).toBe(true);
    await registry.recordProbe('tf', probe(true), {
      health: 'healthy',
      consecutive_failures: 0,
      consecutive_successes: 2,
    });
    expect(moved()).toBe(false);
    await registry.recordProbe('tf', probe(false), {
      health: 'healthy',
      consecutive_failures: 1,
      consecutive_successes: 0,
    });
    expect(moved()).toBe(false);
    await registry.deregister('tf');
    expect(moved()).toBe(true);
    // A probe that lands after deregistration is ignored.
    await registry.recordProbe('tf', probe(true), {
      health: 'healthy',
      consecutive_failures: 0,
      consecutive_successes: 1,
    });
    expect(await registry.getEngine('tf')).toBeNull();
    expect(moved()).toBe(false);
  });

  it('lets config take over an API registration of the same name', async () => {
    const store = new MemoryStore();
    await registryOn(store).register(config('tf', { endpoint: 'http://old:1' }));
    const registry = registryOn(store);
    await registry.load([config('tf', { endpoint: 'http://new:2' })]);
    expect(await registry.getEngine('tf')).toMatchObject({ origin: 'config', endpoint: 'http://new:2' });
  });

  it('marks vanished discovered engines missing and unhealthy, and brings them back', async () => {
    const store = new MemoryStore();
    const registry = registryOn(store);
    await registry.load([config('tf')]);
    expect(await registry.reconcile('dns', [config('a'), config('b'), config('tf')])).toEqual({
      added: ['a', 'b'],
      updated: [],
      missing: [],
      skipped: ['tf'],
    });
    const epoch = registry.healthEpoch();
    expect((await registry.reconcile('dns', [config('a')])).missing).toEqual(['b']);
    expect(registry.healthEpoch()).toBeGreaterThan(epoch);
    expect(await registry.getEngine('b')).toMatchObject({ missing: true, health: 'unhealthy', origin: 'dns' });
    expect((await store.getEngine('b'))!.missing).toBe(true);
    const events = await store.readEvents(0, 10);
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ engine: 'b', previous: 'unknown', health: 'unhealthy' }),
    ]);
    // Probes of a missing engine are not recorded.
    await registry.recordProbe('b', probe(true), {
      health: 'healthy',
      consecutive_failures: 0,
      consecutive_successes: 1,
    });
    expect((await registry.getEngine('b'))!.health).toBe('unhealthy');
    // A second round without it changes nothing more.
    expect((await registry.reconcile('dns', [config('a')])).missing).toEqual([]);

    expect((await registry.reconcile('dns', [config('a'), config('b')])).updated).toEqual(['b']);
    expect(await registry.getEngine('b')).toMatchObject({ missing: false, health: 'unknown' });
    // Config engines are not touched by DNS rounds.
    expect(await registry.getEngine('tf')).toMatchObject({ origin: 'config', missing: false });
  });

  it('updates a discovered engine whose endpoint moved', async () => {
    const registry = registryOn(new MemoryStore());
    await registry.load([]);
    await registry.reconcile('kubernetes', [config('k', { endpoint: 'http://k:1' })]);
    const outcome = await registry.reconcile('kubernetes', [config('k', { endpoint: 'http://k:2' })]);
    expect(outcome.updated).toEqual(['k']);
    expect((await registry.getEngine('k'))!.endpoint).toBe('http://k:2');
    expect((await registry.reconcile('kubernetes', [config('k', { endpoint: 'http://k:2' })])).updated).toEqual([]);
  });

  it('shares registrations and health between replicas through the store', async () => {
    const store = new MemoryStore();
    const a = registryOn(store);
    const b = registryOn(store);
    await a.load([config('tf')]);
    await b.load([config('tf')]);
    await a.register(config('posted'));
    expect(await b.getEngine('posted')).toBeNull();
    await b.refresh();
    expect(await b.getEngine('posted')).not.toBeNull();

    const epoch = b.healthEpoch();
    await a.recordProbe('tf', probe(true), { health: 'healthy', consecutive_failures: 0, consecutive_successes: 1 });
    await b.refresh();
    expect((await b.getEngine('tf'))!.health).toBe('healthy');
    expect(b.healthEpoch()).toBeGreaterThan(epoch);

    // A's own newer, not yet persisted probe is not overwritten by the older stored one.
    await a.recordProbe('tf', probe(false, new Date(Date.now() + 1_000).toISOString()), {
      health: 'healthy',
      consecutive_failures: 1,
      consecutive_successes: 0,
    });
    await a.refresh();
    expect((await a.getEngine('tf'))!.consecutive_failures).toBe(1);

    await b.deregister('posted');
    await a.refresh();
    expect(await a.getEngine('posted')).toBeNull();
  });

  it('does not resurrect an engine another replica deregistered', async () => {
    const store = new MemoryStore();
    const a = registryOn(store, 0);
    const b = registryOn(store);
    await a.load([]);
    await a.register(config('gone'));
    await b.refresh();
    await b.deregister('gone');
    await a.recordProbe('gone', probe(true), { health: 'healthy', consecutive_failures: 0, consecutive_successes: 1 });
    expect(await store.getEngine('gone')).toBeNull();
    expect(await a.getEngine('gone')).toBeNull();
  });

  it('returns copies, so callers cannot change its state', async () => {
    const registry = registryOn(new MemoryStore());
    await registry.load([config('tf', { labels: { team: 'a' } })]);
    const got = (await registry.getEngine('tf'))!;
    got.labels.team = 'b';
    got.health = 'healthy';
    expect(await registry.getEngine('tf')).toMatchObject({ health: 'unknown', labels: { team: 'a' } });
  });
});

/** A store whose plain engine writes fail, as a crash between two separate writes would leave them. */
class EngineWritesFail extends MemoryStore {
  override async putEngine(): Promise<void> {
    throw new Error('lost before the write');
  }
  override async deleteEngine(): Promise<boolean> {
    throw new Error('lost before the write');
  }
}

describe('EngineRegistry: events in the same write as the state they describe', () => {
  it('appends engine.registered and engine.removed with the registration and its removal', async () => {
    const store = new MemoryStore();
    const registry = registryOn(store);
    await registry.register(config('posted'));
    await registry.deregister('posted');
    const events = await store.readEvents(0, 10);
    expect(events.map((e) => [e.type, e.subject.name])).toEqual([
      ['engine.registered', 'posted'],
      ['engine.removed', 'posted'],
    ]);
    expect(events[0]?.data).toMatchObject({ engine: 'posted', type: 'terraform', origin: 'api' });
    // A second removal is engine_not_found and appends nothing.
    const again = await registry.deregister('posted').catch((e: unknown) => e);
    expect(NestorError.is(again) && again.code).toBe('engine_not_found');
    expect(await store.headSequence()).toBe(2);
  });

  it('never writes a registration, removal or health change without its event, nor the reverse', async () => {
    const store = new EngineWritesFail();
    const registry = registryOn(store);
    await registry.register(config('tf'));
    expect((await store.getEngine('tf'))?.name).toBe('tf');
    await registry.recordProbe('tf', probe(true), {
      health: 'healthy',
      consecutive_failures: 0,
      consecutive_successes: 1,
    });
    const events = await store.readEvents(0, 10);
    expect(events.map((e) => e.type)).toEqual(['engine.registered', 'engine.health_changed']);
    expect((await store.getEngine('tf'))?.health).toBe('healthy');
    await registry.deregister('tf');
    expect(await store.getEngine('tf')).toBeNull();
    expect((await store.readEvents(0, 10)).at(-1)?.type).toBe('engine.removed');
  });
});
