import { describe, expect, it } from 'vitest';
import { GroupCommitter, type Settled } from './group-commit.js';

describe('GroupCommitter', () => {
  it('puts what is submitted in one turn into one batch, and answers each item its own way', async () => {
    const batches: number[][] = [];
    const committer = new GroupCommitter<number, string>({
      run: (items) => {
        batches.push([...items]);
        return items.map(
          (n): Settled<string> =>
            n % 3 === 0 ? { ok: false, error: new Error(`no ${n}`) } : { ok: true, value: `ok ${n}` },
        );
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => committer.submit(n)));
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'ok 1',
      'ok 2',
      'no 3',
      'ok 4',
      'ok 5',
      'no 6',
    ]);
  });

  it('gathers what arrives while a batch is written into the next one, in order, within the size bound', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const committer = new GroupCommitter<number, number>({
      maxBatch: 3,
      run: async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return items.map((value) => ({ ok: true, value }));
      },
    });
    const first = committer.submit(0);
    await new Promise((r) => setImmediate(r));
    const later = [1, 2, 3, 4].map((n) => committer.submit(n));
    release();
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2, 3, 4]);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
  });

  it('fails every item of a batch that failed as a whole, and goes on with the next', async () => {
    let calls = 0;
    const committer = new GroupCommitter<number, number>({
      run: (items) => {
        calls++;
        if (calls === 1) throw new Error('commit failed');
        return items.map((value) => ({ ok: true, value }));
      },
    });
    const failed = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await committer.submit(3)).toBe(3);
  });
});
