import { describe, expect, it } from 'vitest';
import type { LeaseStore } from '../storage/interfaces.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { LeaderLease, LeaseLeadership } from './lease.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LeaderLease', () => {
  it('runs the work on one replica at a time', async () => {
    const store = new MemoryStore();
    const a = new LeaderLease({ store, holder: 'a', ttlMs: 200 });
    const b = new LeaderLease({ store, holder: 'b', ttlMs: 200 });
    let running = 0;
    let maxRunning = 0;
    const work = async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(30);
      running--;
      return 'done';
    };
    const [ra, rb] = await Promise.all([a.runIfLeader('platform', work), b.runIfLeader('platform', work)]);
    expect([ra.ran, rb.ran].filter(Boolean)).toHaveLength(1);
    expect(maxRunning).toBe(1);
    // Released after the work: the other replica may take it now.
    expect(await b.runIfLeader('platform', work)).toEqual({ ran: true, value: 'done' });
  });

  it('renews the lease while long work runs', async () => {
    const store = new MemoryStore();
    const a = new LeaderLease({ store, holder: 'a', ttlMs: 60 });
    const b = new LeaderLease({ store, holder: 'b', ttlMs: 60 });
    let bRan = false;
    const outcome = await a.runIfLeader('src', async (signal) => {
      await sleep(200);
      bRan = (await b.runIfLeader('src', async () => true)).ran;
      return signal.aborted;
    });
    expect(outcome).toEqual({ ran: true, value: false });
    expect(bRan).toBe(false);
  });

  it('lets another replica take over once a dead holder stops renewing', async () => {
    const store = new MemoryStore();
    expect(await store.acquireLease('sync:src', 'dead', 50)).toBe(true);
    const b = new LeaderLease({ store, holder: 'b', ttlMs: 50 });
    expect((await b.runIfLeader('src', async () => 1)).ran).toBe(false);
    await sleep(70);
    expect(await b.runIfLeader('src', async () => 1)).toEqual({ ran: true, value: 1 });
  });

  it('aborts the work when the lease is lost', async () => {
    const store = new MemoryStore();
    const a = new LeaderLease({ store, holder: 'a', ttlMs: 1000, renewEveryMs: 20 });
    const outcome = await a.runIfLeader('src', async (signal) => {
      await store.releaseLease('sync:src', 'a');
      await store.acquireLease('sync:src', 'thief', 1000);
      await sleep(80);
      return signal.aborted;
    });
    expect(outcome).toEqual({ ran: true, value: true });
  });
});

describe('LeaseLeadership', () => {
  it('makes one process leader, answers from memory within a third of the TTL, and hands over on release', async () => {
    const store = new MemoryStore();
    let now = 0;
    const a = new LeaseLeadership({ store, name: 'engines', holder: 'a', ttlMs: 900, now: () => now });
    const b = new LeaseLeadership({ store, name: 'engines', holder: 'b', ttlMs: 900, now: () => now });
    expect(await a.isLeader()).toBe(true);
    expect(await b.isLeader()).toBe(false);
    await a.release();
    // b asked less than a third of the TTL ago: it keeps its answer until then.
    expect(await b.isLeader()).toBe(false);
    now += 300;
    expect(await b.isLeader()).toBe(true);
    expect(await a.isLeader()).toBe(false);
  });

  it('acts as follower when the store fails, and shares one store call between concurrent askers', async () => {
    let calls = 0;
    const failing: LeaseStore = {
      acquireLease: async () => {
        calls++;
        throw new Error('store down');
      },
      releaseLease: async () => undefined,
    };
    const leadership = new LeaseLeadership({ store: failing, name: 'engines', holder: 'a', ttlMs: 900 });
    expect(await Promise.all([leadership.isLeader(), leadership.isLeader()])).toEqual([false, false]);
    expect(calls).toBe(1);
  });
});
