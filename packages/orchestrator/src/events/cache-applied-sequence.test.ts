// Property test of what X-Catalog-Revision relies on: whatever this process reads through the cache
// reflects every event up to the cache's applied sequence, whatever mix of its own writes, other
// processes' writes, reads (which fill the cache) and invalidator catch-ups came before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logging/logger.js';
import { CachingStore } from '../storage/cache/caching-store.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { CacheInvalidator } from './cache-invalidator.js';

const NAMES = ['orders-db', 'payments-db', 'ledger-db'];
const VERSIONS = ['1.0.0', '1.1.0', '2.0.0'];

type Op =
  | { kind: 'create'; local: boolean; name: number; version: number }
  | { kind: 'deprecate'; local: boolean; name: number; version: number }
  | { kind: 'read'; name: number; version: number }
  | { kind: 'catch-up' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    local: fc.boolean(),
    name: fc.nat(2),
    version: fc.nat(2),
  }),
  fc.record({
    kind: fc.constant('deprecate' as const),
    local: fc.boolean(),
    name: fc.nat(2),
    version: fc.nat(2),
  }),
  fc.record({ kind: fc.constant('read' as const), name: fc.nat(2), version: fc.nat(2) }),
  fc.constant({ kind: 'catch-up' as const }),
);

describe('CachingStore applied sequence', () => {
  it('never runs ahead of what reads through the cache show', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const inner = new MemoryStore();
        const cache = new CachingStore({ inner, maxBytes: 1_000_000, ttlMs: 60_000 });
        const invalidator = new CacheInvalidator({ cache, log: inner, logger: silentLogger, position: 0 });
        for (const o of ops) {
          if (o.kind === 'catch-up') {
            await invalidator.catchUp(await inner.headSequence());
            continue;
          }
          const name = NAMES[o.name] as string;
          const version = VERSIONS[o.version] as string;
          if (o.kind === 'read') {
            // Reads fill the cache (get, latest, versions, list), so later staleness would show.
            await cache.getComponent(name, version);
            await cache.getLatestComponent(name);
            await cache.getComponentVersions(name);
            await cache.listComponents({ limit: 10 });
            continue;
          }
          const target = o.local ? cache : inner;
          const existing = await inner.getComponent(name, version);
          if (o.kind === 'create' && existing === null) await target.createComponent(makeComponent({ name, version }));
          if (o.kind === 'deprecate' && existing !== null && existing.deprecated === null)
            await target.updateComponent(name, version, { deprecated: { reason: 'replaced' } });
        }

        // Every event up to the applied sequence must show in reads through the cache.
        const applied = cache.appliedSequence();
        expect(applied).toBeLessThanOrEqual(await inner.headSequence());
        const events = (await inner.readEvents(0, 1_000)).filter((e) => e.id <= applied);
        for (const event of events) {
          const { name, version } = event.subject;
          const seen = await cache.getComponent(name, version as string);
          expect(seen).not.toBeNull();
          if (event.type === 'component.updated') expect(seen?.deprecated).not.toBeNull();
          const versions = (await cache.getComponentVersions(name)).map((v) => v.version);
          expect(versions).toContain(version);
          const listed = (await cache.listComponents({ limit: 10 })).items.map((c) => c.name);
          expect(listed).toContain(name);
        }
      }),
      { numRuns: 200 },
    );
  });
});
