import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameOrder } from './name-order.js';

describe('NameOrder', () => {
  it('labels slots in name order, as a rank rebuilt from scratch would order them', () => {
    // Few letters and many names: long runs land in the same gap and force relabelling.
    const name = fc.stringMatching(/^[ab]{1,24}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 300 }), fc.boolean(), (names, sortedFirst) => {
        const input = sortedFirst ? [...names].sort() : names;
        const order = new NameOrder((slot) => input[slot] as string);
        input.forEach((_, slot) => {
          order.insert(slot);
        });
        const rebuilt = input
          .map((_, slot) => slot)
          .sort((a, b) => ((input[a] as string) < (input[b] as string) ? -1 : 1));
        expect(Array.from({ length: order.length }, (_, i) => order.at(i))).toEqual(rebuilt);
        for (let i = 1; i < rebuilt.length; i++) {
          expect(order.label(rebuilt[i - 1] as number)).toBeLessThan(order.label(rebuilt[i] as number));
        }
        for (const probe of ['', 'a', 'ab', 'b', 'bbb', 'c']) {
          expect(order.after(probe)).toBe(input.filter((n) => n <= probe).length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('relabels when one gap is used up by names inserted at the same spot', () => {
    const names = ['a', 'z'];
    const order = new NameOrder((slot) => names[slot] as string);
    order.insert(0);
    order.insert(1);
    // Each new name sorts just below the previous one: the gap between 'a' and it halves every time.
    for (let i = 0; i < 60; i++) {
      names.push(`a${'z'.repeat(60 - i)}`);
      order.insert(names.length - 1);
    }
    const sorted = names.map((_, slot) => slot).sort((a, b) => ((names[a] as string) < (names[b] as string) ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      expect(order.label(sorted[i - 1] as number)).toBeLessThan(order.label(sorted[i] as number));
    }
  });
});
