import { describe, expect, it } from 'vitest';
import { LocalChangeFeed } from '../events/change-feed.js';
import { LogHeadRevision } from './log-head-revision.js';

/** A log whose head reads are counted and answered when the test says. */
function asyncLog(head: number) {
  const log = {
    head,
    reads: 0,
    fail: null as Error | null,
    headSequence(): Promise<number> {
      log.reads++;
      const failure = log.fail;
      return failure ? Promise.reject(failure) : Promise.resolve(log.head);
    },
  };
  return log;
}

describe('LogHeadRevision', () => {
  it('asks a store with a synchronous head on every request', () => {
    let head = 3;
    const feed = new LocalChangeFeed();
    const revision = new LogHeadRevision({
      log: { headSequence: async () => head, headSequenceNow: () => head },
      feed,
    });
    expect(revision.current()).toBe(3);
    head = 5;
    expect(revision.current()).toBe(5);
    feed.publish(9);
    expect(revision.current()).toBe(5);
    expect(revision.generation()).toBe(0);
  });

  it('reads another store’s head once, shared by the requests that arrive meanwhile, then follows the feed', async () => {
    const log = asyncLog(10);
    const feed = new LocalChangeFeed();
    const revision = new LogHeadRevision({ log, feed });
    const first = revision.current();
    const second = revision.current();
    expect(log.reads).toBe(1);
    expect(await first).toBe(10);
    expect(await second).toBe(10);
    expect(revision.current()).toBe(10);
    log.head = 12;
    // Another process's write is not seen until the feed announces it: lagging, never leading.
    expect(revision.current()).toBe(10);
    feed.publish(12);
    expect(revision.current()).toBe(12);
    feed.publish(11);
    expect(revision.current()).toBe(12);
    expect(log.reads).toBe(1);
  });

  it('keeps a head the feed announced while the first read was on its way', async () => {
    const log = asyncLog(4);
    const feed = new LocalChangeFeed();
    const revision = new LogHeadRevision({ log, feed });
    const first = revision.current();
    feed.publish(6);
    expect(await first).toBe(6);
    expect(revision.current()).toBe(6);
  });

  it('a failed first read fails its requests and the next request reads again', async () => {
    const log = asyncLog(7);
    log.fail = new Error('database unreachable');
    const revision = new LogHeadRevision({ log, feed: new LocalChangeFeed() });
    await expect(revision.current()).rejects.toThrow('database unreachable');
    log.fail = null;
    expect(await revision.current()).toBe(7);
    expect(log.reads).toBe(2);
  });

  it('without a feed reads the head on every request, since nothing would move a held one', async () => {
    const log = asyncLog(3);
    const revision = new LogHeadRevision({ log });
    expect(await revision.current()).toBe(3);
    log.head = 4;
    expect(await revision.current()).toBe(4);
    expect(log.reads).toBe(2);
  });

  it('stops following the feed when closed', async () => {
    const log = asyncLog(1);
    const feed = new LocalChangeFeed();
    const revision = new LogHeadRevision({ log, feed });
    await revision.current();
    revision.close();
    feed.publish(2);
    expect(revision.current()).toBe(1);
  });
});
