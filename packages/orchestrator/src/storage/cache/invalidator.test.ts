import { describe, expect, it } from 'vitest';
import { LocalChangeFeed } from '../../events/change-feed.js';
import { silentLogger } from '../../observability/logging/logger.js';
import { MemoryStore } from '../memory/memory-store.js';
import { makeComponent, randomName } from '../testing.js';
import { CachingStore } from './caching-store.js';
import { CacheInvalidator } from './invalidator.js';

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
});
