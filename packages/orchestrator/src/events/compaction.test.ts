import { describe, expect, it } from 'vitest';
import type { Clock } from '../observability/clock.js';
import { silentLogger } from '../observability/logging/logger.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { type CompactionPolicy, EventCompactor } from './compaction.js';

function setup(policy: Partial<CompactionPolicy & { intervalMs: number }>, position: () => number | null = () => null) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock: Clock = { now: () => new Date(now) };
  const store = new MemoryStore({ clock });
  const compactor = new EventCompactor({
    log: store,
    retain: 10,
    retainAgeMs: null,
    hardCap: 1000,
    intervalMs: 60_000,
    oldestSubscriberPosition: position,
    logger: silentLogger,
    metrics: noopMetrics,
    clock,
    ...policy,
  });
  return {
    store,
    compactor,
    advance: (ms: number) => {
      now += ms;
    },
    append: async (n: number) => {
      for (let i = 0; i < n; i++) {
        await store.appendEvent({
          type: 'source.synced',
          subject: { name: 's', version: null, digest: null },
          data: {},
        });
      }
    },
  };
}

describe('EventCompactor', () => {
  it('keeps the newest `retain` events', async () => {
    const t = setup({ retain: 10 });
    await t.append(25);
    expect(await t.compactor.runOnce()).toBe(15);
    expect(await t.store.oldestSequence()).toBe(16);
    expect(await t.store.headSequence()).toBe(25);
    expect(await t.compactor.runOnce()).toBe(0);
  });

  it('drops events older than the age limit even within the count', async () => {
    const t = setup({ retain: 100, retainAgeMs: 60_000 });
    await t.append(5);
    t.advance(120_000);
    await t.append(3);
    expect(await t.compactor.runOnce()).toBe(5);
    expect(await t.store.oldestSequence()).toBe(6);
  });

  it('keeps expired events a connected subscriber has not been sent, within `retain`', async () => {
    let position: number | null = 4;
    const t = setup({ retain: 100, retainAgeMs: 60_000 }, () => position);
    await t.append(30);
    t.advance(120_000);
    expect(await t.compactor.runOnce()).toBe(4);
    expect(await t.store.oldestSequence()).toBe(5);
    position = null;
    expect(await t.compactor.runOnce()).toBe(26);
  });

  it('never lets a stalled subscriber hold the log beyond `retain`', async () => {
    const t = setup({ retain: 10, hardCap: 1000 }, () => 0);
    await t.append(50);
    expect(await t.compactor.runOnce()).toBe(40);
    expect(await t.store.oldestSequence()).toBe(41);
  });

  it('does nothing on an empty log and after everything was compacted', async () => {
    const t = setup({ retain: 1, retainAgeMs: 1 });
    expect(await t.compactor.runOnce()).toBe(0);
    await t.append(3);
    t.advance(10);
    expect(await t.compactor.runOnce()).toBe(3);
    expect(await t.store.oldestSequence()).toBe(4);
    expect(await t.compactor.runOnce()).toBe(0);
  });

  it('runs on its interval until stopped', async () => {
    const t = setup({ retain: 2, intervalMs: 10 });
    await t.append(12);
    t.compactor.start();
    const until = Date.now() + 2000;
    while ((await t.store.oldestSequence()) !== 11 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await t.compactor.stop();
    expect(await t.store.oldestSequence()).toBe(11);
    await t.append(5);
    await new Promise((r) => setTimeout(r, 40));
    expect(await t.store.oldestSequence()).toBe(11);
  });
});
