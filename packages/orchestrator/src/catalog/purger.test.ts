import { describe, expect, it } from 'vitest';
import { LeaderLease } from '../leases/lease.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { VersionPurger } from './purger.js';

const DAY = 24 * 3_600_000;

describe('VersionPurger', () => {
  it('purges deleted versions after purge_after, on the lease holder only, appending component.purged', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const clock = { now: () => new Date(now) };
    const store = new MemoryStore({ clock });
    const c = makeComponent({ version: '1.0.0' });
    await store.createComponent(c);
    await store.createComponent({ ...makeComponent({ name: c.name, version: '1.1.0' }) });
    await store.changeLifecycle(c.name, '1.1.0', { kind: 'delete', reason: null });
    const purged: string[] = [];
    const catalog = {
      purgeComponent: async (name: string, version: string) => {
        purged.push(`${name}@${version}`);
        return store.changeLifecycle(name, version, { kind: 'purge' });
      },
    };
    const lease = (holder: string) => new LeaderLease({ store, holder, ttlMs: 60_000, prefix: 'lifecycle:' });
    const purger = new VersionPurger({
      store,
      catalog,
      lease: lease('a'),
      purgeAfterMs: 30 * DAY,
      intervalMs: 1000,
      clock,
    });

    now += 29 * DAY;
    expect(await purger.runOnce()).toBe(0);
    now += 2 * DAY;
    // Another replica holds the lease: this one does nothing.
    expect(await store.acquireLease('lifecycle:purge', 'b', 60_000)).toBe(true);
    expect(await purger.runOnce()).toBe(0);
    await store.releaseLease('lifecycle:purge', 'b');
    expect(await purger.runOnce()).toBe(1);
    expect(purged).toEqual([`${c.name}@1.1.0`]);
    expect((await store.getComponent(c.name, '1.1.0'))?.deleted?.purged_at).toBe(new Date(now).toISOString());
    const last = (await store.readEvents(0, 100)).at(-1);
    expect(last?.type).toBe('component.purged');
    expect(await purger.runOnce()).toBe(0);
    await purger.stop();
  });
});
