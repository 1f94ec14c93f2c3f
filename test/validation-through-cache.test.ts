// Validation reads component data through the store cache (the one cache of component data) and
// is stamped with the revision the cache invalidator settles at: every read of a validation
// reflects every event up to its stamp, other processes' writes included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComponentDefinition } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { CacheInvalidator } from '../packages/orchestrator/src/events/cache-invalidator.js';
import { silentLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { CachingStore } from '../packages/orchestrator/src/storage/cache/caching-store.js';
import type { CatalogStore } from '../packages/orchestrator/src/storage/interfaces.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { SqliteStore } from '../packages/orchestrator/src/storage/sqlite/sqlite-store.js';
import { makeComponent, randomName } from '../packages/orchestrator/src/storage/testing.js';
import { StoreCatalogState } from '../packages/orchestrator/src/validation/catalog-state.js';
import { makeSpec, TestEngines } from '../packages/orchestrator/src/validation/testing.js';
import { createValidator } from '../packages/orchestrator/src/validation/validator.js';

/** A memory store that counts version reads and can hold one back until released. */
class CountingStore extends MemoryStore {
  versionReads = 0;
  hold: Promise<void> | null = null;
  override async getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    this.versionReads++;
    const versions = await super.getComponentVersions(name);
    if (this.hold) await this.hold;
    return versions;
  }
}

/** A server's wiring of validation state: the cache over `inner`, its invalidator as the stamp. */
async function cachedState(inner: CatalogStore) {
  const cache = new CachingStore({ inner, maxBytes: 1_000_000, ttlMs: 60_000 });
  const invalidator = new CacheInvalidator({
    cache,
    log: inner,
    logger: silentLogger,
    position: await inner.headSequence(),
  });
  const state = new StoreCatalogState({ store: cache, engines: new TestEngines(), revision: invalidator });
  const versions = async (name: string) => (await state.snapshot()).view.versions(name);
  return { cache, invalidator, state, versions };
}

describe('validation state through the store cache', () => {
  it('serves versions again without reading the store until an event of that name arrives', async () => {
    const store = new CountingStore();
    const { versions } = await cachedState(store);
    const name = randomName();
    const other = randomName();
    await store.createComponent(makeComponent({ name }));
    await store.createComponent(makeComponent({ name: other }));
    expect((await versions(name)).map((v) => v.version)).toEqual(['1.0.0']);
    await versions(name);
    expect(store.versionReads).toBe(1);

    // A write to another name leaves the entry alone.
    await store.createComponent(makeComponent({ name: other, version: '1.1.0' }));
    await versions(name);
    expect(store.versionReads).toBe(1);

    // A new version and a deprecation of this name (written by anyone) drop it.
    await store.createComponent(makeComponent({ name, version: '1.1.0' }));
    expect((await versions(name)).map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    await store.updateComponent(name, '1.0.0', { deprecated: { reason: 'old' } });
    const found = await versions(name);
    expect(found.find((v) => v.version === '1.0.0')?.deprecated?.reason).toBe('old');
    expect(store.versionReads).toBe(3);
  });

  it('does not keep a read that a change overtook', async () => {
    const store = new CountingStore();
    const { state, versions } = await cachedState(store);
    const name = randomName();
    await store.createComponent(makeComponent({ name }));
    const view = (await state.snapshot()).view;
    let release = () => {};
    store.hold = new Promise<void>((r) => {
      release = r;
    });
    const slow = view.versions(name); // reads 1.0.0, then waits
    await new Promise((r) => setTimeout(r, 10));
    store.hold = null;
    await store.createComponent(makeComponent({ name, version: '2.0.0' }));
    await state.snapshot(); // the invalidator reads the new event
    release();
    expect((await slow).map((v) => v.version)).toEqual(['1.0.0']);
    // The stale answer was not kept: the next read asks the store.
    expect((await versions(name)).map((v) => v.version)).toEqual(['2.0.0', '1.0.0']);
  });

  it('forgets everything when the log was compacted past it', async () => {
    const store = new CountingStore();
    const { versions } = await cachedState(store);
    const names = [randomName(), randomName(), randomName()];
    for (const name of names) await store.createComponent(makeComponent({ name }));
    for (const name of names) await versions(name);
    for (const name of names) await versions(name);
    expect(store.versionReads).toBe(3);
    await store.createComponent(makeComponent({ name: randomName() }));
    await store.compactEvents(await store.headSequence());
    await store.createComponent(makeComponent({ name: randomName() }));
    await versions(names[2] as string);
    expect(store.versionReads).toBe(4);
  });

  it('sees another process’s write (a second SQLite connection) once stamped at a revision that includes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-validation-cache-'));
    const here = new SqliteStore({ path: join(dir, 'nestor.db') });
    const there = new SqliteStore({ path: join(dir, 'nestor.db') });
    try {
      const { cache, invalidator } = await cachedState(here);
      const engines = new TestEngines();
      engines.put('terraform');
      const validator = createValidator({
        reader: cache,
        revision: invalidator,
        engines,
        unhealthyEngine: 'error',
        cacheSize: 100,
      });
      const name = randomName();
      await cache.createComponent(makeComponent({ name }));
      const candidate = makeSpec({ name, version: '1.1.0', description: 'written here' });
      const before = await validator.validate(candidate);
      expect(before.errors).toEqual([]);
      expect(before.predecessor).toBe('1.0.0');
      expect((await cache.getComponentVersions(name)).map((v) => v.version)).toEqual(['1.0.0']); // cached

      // Another process publishes 1.1.0 with other content; this process hears nothing of it.
      const written = await there.createComponent(makeComponent({ name, version: '1.1.0', description: 'there' }));
      const after = await validator.validate(candidate);
      expect(after.valid).toBe(false);
      expect(after.errors.map((e) => e.code)).toContain('version_conflict');
      expect(cache.appliedSequence()).toBeGreaterThanOrEqual(written.event?.id ?? Number.POSITIVE_INFINITY);
      const next = await validator.validate(makeSpec({ name, version: '1.2.0' }));
      expect(next.predecessor).toBe('1.1.0');
    } finally {
      await there.close();
      await here.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
