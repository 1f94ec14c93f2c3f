import { describe, expect, it } from 'vitest';
import { KeyedLocks } from './name-locks.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('KeyedLocks', () => {
  it('runs the work of one key one at a time, in arrival order, even when some fail', async () => {
    const locks = new KeyedLocks();
    const log: string[] = [];
    let inside = 0;
    const job = (id: number, fail: boolean) =>
      locks.run('a', async () => {
        inside++;
        expect(inside).toBe(1);
        log.push(`start ${id}`);
        await tick();
        log.push(`end ${id}`);
        inside--;
        if (fail) throw new Error(`job ${id}`);
        return id;
      });
    const results = await Promise.allSettled([job(1, false), job(2, true), job(3, false)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(locks.size()).toBe(0);
  });

  it('lets different keys run side by side', async () => {
    const locks = new KeyedLocks();
    let release!: () => void;
    const blocked = locks.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    const other = await locks.run('b', async () => 'b done');
    expect(other).toBe('b done');
    release();
    await blocked;
  });

  it('holds several keys at once without deadlock, whatever order callers name them in', async () => {
    const locks = new KeyedLocks();
    const inside = new Set<string>();
    const job = (keys: string[]) =>
      locks.runAll(keys, async () => {
        for (const k of new Set(keys)) {
          expect(inside.has(k)).toBe(false);
          inside.add(k);
        }
        await tick();
        for (const k of keys) inside.delete(k);
        return keys.join();
      });
    const results = await Promise.all([job(['a', 'b']), job(['b', 'a']), job(['c', 'a', 'a']), job(['d'])]);
    expect(results).toEqual(['a,b', 'b,a', 'c,a,a', 'd']);
    expect(locks.size()).toBe(0);
  });
});
