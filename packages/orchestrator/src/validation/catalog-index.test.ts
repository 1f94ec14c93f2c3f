import type { ComponentDefinition } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../storage/testing.js';
import { CatalogIndex } from './catalog-index.js';

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

describe('CatalogIndex', () => {
  it('serves versions again without reading the store until an event of that name arrives', async () => {
    const store = new CountingStore();
    const index = new CatalogIndex({ source: store });
    const name = randomName();
    const other = randomName();
    await store.createComponent(makeComponent({ name }));
    await store.createComponent(makeComponent({ name: other }));
    let head = await store.headSequence();
    expect((await index.versions(name, head)).map((v) => v.version)).toEqual(['1.0.0']);
    await index.versions(name, head);
    expect(store.versionReads).toBe(1);

    // A write to another name leaves the entry alone.
    await store.createComponent(makeComponent({ name: other, version: '1.1.0' }));
    head = await store.headSequence();
    await index.versions(name, head);
    expect(store.versionReads).toBe(1);

    // A new version and a deprecation of this name (written by anyone) drop it.
    await store.createComponent(makeComponent({ name, version: '1.1.0' }));
    head = await store.headSequence();
    expect((await index.versions(name, head)).map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    await store.updateComponent(name, '1.0.0', { deprecated: { reason: 'old' } });
    head = await store.headSequence();
    const versions = await index.versions(name, head);
    expect(versions.find((v) => v.version === '1.0.0')?.deprecated?.reason).toBe('old');
    expect(store.versionReads).toBe(3);
  });

  it('does not keep a read that a change overtook', async () => {
    const store = new CountingStore();
    const index = new CatalogIndex({ source: store });
    const name = randomName();
    await store.createComponent(makeComponent({ name }));
    const head = await store.headSequence();
    await index.similarNames(name, head); // built
    let release = () => {};
    store.hold = new Promise<void>((r) => {
      release = r;
    });
    const slow = index.versions(name, head); // reads 1.0.0, then waits
    await new Promise((r) => setTimeout(r, 10));
    store.hold = null;
    await store.createComponent(makeComponent({ name, version: '2.0.0' }));
    await index.similarNames(name, await store.headSequence()); // the index reads the new event
    release();
    expect((await slow).map((v) => v.version)).toEqual(['1.0.0']);
    // The stale answer was not kept: the next read asks the store.
    expect((await index.versions(name, await store.headSequence())).map((v) => v.version)).toEqual(['2.0.0', '1.0.0']);
  });

  it('stays within its bound and forgets everything when rebuilt after compaction', async () => {
    const store = new CountingStore();
    const index = new CatalogIndex({ source: store, maxVersions: 4 });
    const names = [randomName(), randomName(), randomName()];
    for (const name of names) await store.createComponent(makeComponent({ name }));
    let head = await store.headSequence();
    for (const name of names) await index.versions(name, head); // 2 each: only two fit
    expect(store.versionReads).toBe(3);
    await index.versions(names[0] as string, head); // evicted, read again
    expect(store.versionReads).toBe(4);

    await index.versions(names[2] as string, head); // still cached
    expect(store.versionReads).toBe(4);
    await store.createComponent(makeComponent({ name: randomName() }));
    await store.compactEvents(await store.headSequence());
    await store.createComponent(makeComponent({ name: randomName() }));
    head = await store.headSequence();
    await index.versions(names[2] as string, head);
    expect(store.versionReads).toBe(5);
  });
});
