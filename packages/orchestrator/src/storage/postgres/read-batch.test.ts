import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadBatcher } from './read-batch.js';

/** A batcher over a map whose statements are held until the test lets them answer. */
function held(inFlight: number, maxBatch = 256) {
  const statements: { keys: string[]; answer: () => void; fail: (err: Error) => void }[] = [];
  const batcher = new ReadBatcher<string, string | null>({
    inFlight,
    maxBatch,
    run: (keys) =>
      new Promise((resolve, reject) => {
        statements.push({
          keys: [...keys],
          answer: () => resolve(keys.map((k) => (k.startsWith('missing') ? null : `value of ${k}`))),
          fail: reject,
        });
      }),
  });
  return { batcher, statements };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('ReadBatcher', () => {
  it('sends the reads of one event-loop turn together at its end', async () => {
    const { batcher, statements } = held(2);
    const a = batcher.load('a');
    const b = batcher.load('b');
    expect(statements).toHaveLength(0);
    await turn();
    expect(statements.map((s) => s.keys)).toEqual([['a', 'b']]);
    const c = batcher.load('c');
    await turn();
    // One statement runs, so a second may go out at once.
    expect(statements.map((s) => s.keys)).toEqual([['a', 'b'], ['c']]);
    for (const s of statements) s.answer();
    expect(await Promise.all([a, b, c])).toEqual(['value of a', 'value of b', 'value of c']);
  });

  it('gathers the reads that arrive while the statements run into the next one', async () => {
    const { batcher, statements } = held(1);
    const first = batcher.load('a');
    await turn();
    const waiting = ['b', 'missing-c', 'd'].map((k) => batcher.load(k));
    await turn();
    expect(statements).toHaveLength(1);
    statements[0]?.answer();
    await first;
    await turn();
    expect(statements.map((s) => s.keys)).toEqual([['a'], ['b', 'missing-c', 'd']]);
    statements[1]?.answer();
    expect(await Promise.all(waiting)).toEqual(['value of b', null, 'value of d']);
  });

  it('splits a long queue into statements of at most maxBatch keys', async () => {
    const { batcher, statements } = held(1, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => batcher.load(k));
    for (let i = 0; i < 3; i++) {
      await turn();
      statements[i]?.answer();
    }
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'd', 'e'].map((k) => `value of ${k}`));
    expect(statements.map((s) => s.keys)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('fails every read of a failed statement with its error, and goes on with the next', async () => {
    const { batcher, statements } = held(1);
    const first = batcher.load('a');
    await turn();
    const second = [batcher.load('b'), batcher.load('c')];
    statements[0]?.fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await turn();
    statements[1]?.fail(new Error('statement timeout'));
    for (const p of second) await expect(p).rejects.toThrow('statement timeout');
    const third = batcher.load('d');
    await turn();
    statements[2]?.answer();
    expect(await third).toBe('value of d');
  });

  it('a run that throws instead of rejecting fails its reads, not the caller', async () => {
    const batcher = new ReadBatcher<string, string>({
      run: () => {
        throw new Error('bad keys');
      },
    });
    await expect(batcher.load('a')).rejects.toThrow('bad keys');
  });

  it('answers every read with its own key, whatever the arrival order and statement timing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.nat(3)), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (reads, inFlight, maxBatch) => {
          let running = 0;
          let most = 0;
          const batcher = new ReadBatcher<string, string>({
            inFlight,
            maxBatch,
            run: async (keys) => {
              expect(keys.length).toBeLessThanOrEqual(maxBatch);
              running++;
              most = Math.max(most, running);
              await turn();
              running--;
              return keys.map((k) => `=${k}`);
            },
          });
          const answers: Promise<string>[] = [];
          for (const [key, pause] of reads) {
            answers.push(batcher.load(key));
            for (let i = 0; i < pause; i++) await turn();
          }
          expect(await Promise.all(answers)).toEqual(reads.map(([k]) => `=${k}`));
          expect(most).toBeLessThanOrEqual(inFlight);
        },
      ),
      { numRuns: 100 },
    );
  });
});
