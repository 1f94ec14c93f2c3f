import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logging/logger.js';
import { CachingStore } from '../storage/cache/caching-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../storage/testing.js';
import { CacheInvalidator } from './cache-invalidator.js';
import { LocalChangeFeed } from './change-feed.js';

async function setUp() {
  const inner = new MemoryStore();
  const cache = new CachingStore({ inner, maxBytes: 1_000_000, ttlMs: 60_000 });
  const invalidator = new CacheInvalidator({ cache, log: inner, logger: silentLogger, position: 0 });
  return { inner, cache, invalidator };
}

describe('CacheInvalidator', () => {
  it('drops entries changed by another process once the feed announces the new head', async () => {
    const { inner, cache, invalidator } = await setUp();
    const feed = new LocalChangeFeed();
    invalidator.follow(feed);
    const name = randomName();
    await cache.createComponent(makeComponent({ name }));
    expect((await cache.getComponent(name, '1.0.0'))?.deprecated).toBeNull();

    // Another process deprecates it: straight into the store, bypassing this cache.
    const outcome = await inner.updateComponent(name, '1.0.0', { deprecated: { reason: 'old' } });
    expect((await cache.getComponent(name, '1.0.0'))?.deprecated).toBeNull();
    feed.publish(outcome.event!.id);
    await invalidator.catchUp(outcome.event!.id);
    expect((await cache.getComponent(name, '1.0.0'))?.deprecated?.reason).toBe('old');
    invalidator.stop();
  });

  it('settles the calls of one turn with one read of the head, made after the last of them', async () => {
    const { inner, cache } = await setUp();
    let heads = 0;
    const invalidator = new CacheInvalidator({
      cache,
      log: {
        readEvents: (after, limit) => inner.readEvents(after, limit),
        headSequence: () => {
          heads++;
          return inner.headSequence();
        },
      },
      logger: silentLogger,
      position: 0,
    });
    const name = randomName();
    await cache.createComponent(makeComponent({ name }));
    const first = invalidator.settle();
    const second = invalidator.settle();
    // Another process writes after both calls, in the same turn: the shared read still sees it.
    const outcome = await inner.updateComponent(name, '1.0.0', { deprecated: { reason: 'old' } });
    expect(await Promise.all([first, second])).toEqual([outcome.event!.id, outcome.event!.id]);
    expect(heads).toBe(1);
    expect((await cache.getComponent(name, '1.0.0'))?.deprecated?.reason).toBe('old');
    // A later turn reads again.
    await inner.updateComponent(name, '1.0.0', { deprecated: null });
    expect(await invalidator.settle()).toBe(outcome.event!.id + 1);
    expect(heads).toBe(2);
  });

  it('clears everything when the log was compacted past its position', async () => {
    const { inner, cache, invalidator } = await setUp();
    const name = randomName();
    await cache.createComponent(makeComponent({ name }));
    await cache.getLatestComponent(name);
    await inner.createComponent(makeComponent({ name, version: '1.1.0' }));
    await inner.compactEvents(await inner.headSequence());
    expect((await cache.getLatestComponent(name))?.version).toBe('1.0.0');
    await invalidator.catchUp(await inner.headSequence());
    expect((await cache.getLatestComponent(name))?.version).toBe('1.1.0');
  });

  it('moves the cache applied sequence: own writes at once, other writes once read from the log', async () => {
    const { inner, cache, invalidator } = await setUp();
    let reads = 0;
    const counted = new CacheInvalidator({
      cache,
      log: {
        readEvents: (after, limit) => {
          reads++;
          return inner.readEvents(after, limit);
        },
        headSequence: () => inner.headSequence(),
      },
      logger: silentLogger,
      position: 0,
    });
    const own = await cache.createComponent(makeComponent({ name: randomName() }));
    expect(cache.appliedSequence()).toBe(own.event!.id);
    await counted.catchUp(own.event!.id);
    expect(reads).toBe(0); // the cache applied its own write: nothing to read

    // Another process writes twice; this process writes after them. Its event is not the next one,
    // so the applied sequence waits for the log.
    const name = randomName();
    await inner.createComponent(makeComponent({ name }));
    await inner.createComponent(makeComponent({ name, version: '1.1.0' }));
    expect((await cache.getLatestComponent(name))?.version).toBe('1.1.0'); // a miss reads the store
    const mine = await cache.createComponent(makeComponent({ name: randomName() }));
    expect(cache.appliedSequence()).toBe(own.event!.id);
    await counted.catchUp(mine.event!.id);
    expect(reads).toBe(1);
    expect(cache.appliedSequence()).toBe(mine.event!.id);
    await invalidator.catchUp(mine.event!.id);
  });

  it('marks everything up to the announced head applied after clearing on a failed read', async () => {
    const cache = new CachingStore({ inner: new MemoryStore(), maxBytes: 1_000_000, ttlMs: 60_000 });
    const invalidator = new CacheInvalidator({
      cache,
      log: {
        readEvents: () => Promise.reject(new Error('store down')),
        headSequence: () => Promise.reject(new Error('store down')),
      },
      logger: silentLogger,
      position: 4,
    });
    expect(cache.appliedSequence()).toBe(4);
    await invalidator.catchUp(9);
    expect(cache.appliedSequence()).toBe(9);
  });

  it('ignores an announced head above the log: the applied sequence never passes the data', async () => {
    const { inner, cache } = await setUp();
    const warnings: unknown[] = [];
    const logger = { ...silentLogger, warn: (obj: unknown) => warnings.push(obj) } as typeof silentLogger;
    const invalidator = new CacheInvalidator({ cache, log: inner, logger, position: 0 });
    const name = randomName();
    const first = await inner.createComponent(makeComponent({ name }));
    await invalidator.catchUp(1_000_000);
    expect(cache.appliedSequence()).toBe(first.event!.id);
    expect(warnings).toHaveLength(1);

    // A real write after the forged announcement still moves it, and invalidates.
    expect((await cache.getLatestComponent(name))?.version).toBe('1.0.0');
    const second = await inner.createComponent(makeComponent({ name, version: '1.1.0' }));
    await invalidator.catchUp(second.event!.id);
    expect(cache.appliedSequence()).toBe(second.event!.id);
    expect((await cache.getLatestComponent(name))?.version).toBe('1.1.0');
  });
});
