import type { CatalogEvent } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logging/logger.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { LocalChangeFeed } from './change-feed.js';
import { type FollowedLog, type LogConsumer, LogFollower } from './log-follower.js';

/** A consumer that records what it was told. */
class Recorder implements LogConsumer {
  readonly applied: number[] = [];
  readonly resets: number[] = [];
  failEvents = 0;
  failResets = 0;
  onEvents(events: readonly CatalogEvent[]): void {
    if (this.failEvents > 0) {
      this.failEvents--;
      throw new Error('consumer broke');
    }
    for (const e of events) this.applied.push(e.id);
  }
  onReset(head: number): void {
    if (this.failResets > 0) {
      this.failResets--;
      throw new Error('rebuild broke');
    }
    this.resets.push(head);
  }
}

/** The memory store's log, counting reads and optionally failing them. */
class CountingLog implements FollowedLog {
  reads = 0;
  failReads = 0;
  readDelayMs = 0;
  constructor(readonly store: MemoryStore) {}
  async readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    this.reads++;
    if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs));
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('log unreadable');
    }
    return this.store.readEvents(after, limit);
  }
  headSequence(): Promise<number> {
    return this.store.headSequence();
  }
}

async function append(store: MemoryStore, n: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i++) {
    last = (
      await store.appendEvent({ type: 'source.synced', subject: { name: 's', version: null, digest: null }, data: {} })
    ).id;
  }
  return last;
}

function setUp(opts: { position?: number; pageSize?: number; replayLimit?: number } = {}) {
  const store = new MemoryStore();
  const log = new CountingLog(store);
  const consumer = new Recorder();
  const follower = new LogFollower({
    log,
    consumer,
    logger: silentLogger,
    position: opts.position ?? 0,
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
    ...(opts.replayLimit ? { replayLimit: opts.replayLimit } : {}),
    retryMs: 10,
  });
  return { store, log, consumer, follower };
}

describe('LogFollower', () => {
  it('reads the log in pages from its position and hands every event over once, in order', async () => {
    const { store, log, consumer, follower } = setUp({ pageSize: 2 });
    const head = await append(store, 5);
    await follower.catchUp(head);
    expect(consumer.applied).toEqual([1, 2, 3, 4, 5]);
    expect(log.reads).toBe(3);
    expect(follower.position()).toBe(5);
    await follower.catchUp(head);
    expect(log.reads).toBe(3);
    const next = await append(store, 1);
    await follower.catchUp(next);
    expect(consumer.applied).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('shares one catch-up between concurrent callers (single flight)', async () => {
    const { store, log, consumer, follower } = setUp({ pageSize: 100 });
    const head = await append(store, 10);
    log.readDelayMs = 20;
    await Promise.all(Array.from({ length: 20 }, () => follower.catchUp(head)));
    expect(log.reads).toBe(1);
    expect(consumer.applied).toHaveLength(10);
  });

  it('starts with a reset when it has no position yet', async () => {
    const { store, consumer, follower } = setUp({ position: -1 });
    const head = await append(store, 3);
    await follower.catchUp(head);
    expect(consumer.resets).toEqual([3]);
    expect(consumer.applied).toEqual([]);
    expect(follower.position()).toBe(3);
  });

  it('resets its consumer when the log was compacted past its position (a gap)', async () => {
    const { store, consumer, follower } = setUp();
    await append(store, 5);
    await store.compactEvents(3);
    await follower.catchUp(5);
    expect(consumer.resets).toEqual([5]);
    expect(consumer.applied).toEqual([]);
    // Afterwards it follows from the head as usual.
    const next = await append(store, 2);
    await follower.catchUp(next);
    expect(consumer.applied).toEqual([6, 7]);
  });

  it('resets when compaction emptied the log up to the head', async () => {
    const { store, consumer, follower } = setUp();
    await append(store, 4);
    await store.compactEvents(4);
    await follower.catchUp(4);
    expect(consumer.resets).toEqual([4]);
  });

  it('resets rather than replays when further behind than the replay limit', async () => {
    const { store, log, consumer, follower } = setUp({ replayLimit: 3 });
    const head = await append(store, 10);
    await follower.catchUp(head);
    expect(consumer.resets).toEqual([10]);
    expect(log.reads).toBe(0);
  });

  it('resets when the log cannot be read, and when the consumer fails to apply events', async () => {
    const { store, log, consumer, follower } = setUp();
    const first = await append(store, 2);
    log.failReads = 1;
    await follower.catchUp(first);
    expect(consumer.resets).toEqual([2]);
    const second = await append(store, 2);
    consumer.failEvents = 1;
    await follower.catchUp(second);
    expect(consumer.resets).toEqual([2, 4]);
    expect(follower.position()).toBe(4);
  });

  it('rejects when the reset fails too, keeps its position, and succeeds on a later call', async () => {
    const { store, log, consumer, follower } = setUp();
    const head = await append(store, 2);
    log.failReads = 1;
    consumer.failResets = 1;
    await expect(follower.catchUp(head)).rejects.toThrow('rebuild broke');
    expect(follower.position()).toBe(0);
    await follower.catchUp(head);
    expect(consumer.applied).toEqual([1, 2]);
  });

  it('drops an announced head above the log instead of claiming events it never read', async () => {
    const { store, consumer, follower } = setUp();
    await append(store, 2);
    await follower.catchUp(50);
    expect(follower.position()).toBe(2);
    expect(consumer.applied).toEqual([1, 2]);
  });

  it('skips events its owner already applied', async () => {
    const { store, consumer, follower } = setUp();
    await append(store, 3);
    follower.skipTo(2);
    await follower.catchUp(3);
    expect(consumer.applied).toEqual([3]);
  });

  it('keeps its position and rejects on an unreadable log when told to retry rather than reset', async () => {
    const store = new MemoryStore();
    const log = new CountingLog(store);
    const consumer = new Recorder();
    const follower = new LogFollower({ log, consumer, logger: silentLogger, position: 0, onReadFailure: 'retry' });
    const head = await append(store, 2);
    log.failReads = 1;
    await expect(follower.catchUp(head)).rejects.toThrow('log unreadable');
    expect(consumer.resets).toEqual([]);
    expect(follower.position()).toBe(0);
    await follower.catchUp(head);
    expect(consumer.applied).toEqual([1, 2]);
  });

  it('does not read again what its owner reports as already applied', async () => {
    const store = new MemoryStore();
    const log = new CountingLog(store);
    const consumer = new Recorder();
    let owned = 0;
    const follower = new LogFollower({ log, consumer, logger: silentLogger, position: 0, alreadyApplied: () => owned });
    owned = await append(store, 3);
    await follower.catchUp(owned);
    expect(log.reads).toBe(0);
    const next = await append(store, 1);
    await follower.catchUp(next);
    expect(consumer.applied).toEqual([4]);
  });

  it('follows a change feed and retries a failed catch-up by itself', async () => {
    const { store, log, consumer, follower } = setUp();
    const feed = new LocalChangeFeed();
    follower.follow(feed);
    try {
      const head = await append(store, 2);
      log.failReads = 1;
      consumer.failResets = 1;
      feed.publish(head);
      await expect.poll(() => consumer.applied, { timeout: 2_000 }).toEqual([1, 2]);
    } finally {
      follower.stop();
    }
  });
});
