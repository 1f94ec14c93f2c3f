import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameList } from './name-list.js';

describe('NameList', () => {
  it('holds the same sorted distinct names as a set it is built and grown like', () => {
    const name = fc.stringMatching(/^[a-d]{1,3}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name), fc.array(fc.array(name), { maxLength: 40 }), (initial, batches) => {
        const list = new NameList([...initial].sort());
        const model = new Set(initial);
        for (const batch of batches) {
          for (const n of batch) {
            expect(list.add(n)).toBe(!model.has(n));
            model.add(n);
          }
          expect(list.length).toBe(model.size);
          // Reading in between merges; the next adds must still land in order.
          if (batch.length % 3 === 0) expect(list.toArray()).toEqual([...model].sort());
        }
        expect(list.toArray()).toEqual([...model].sort());
      }),
    );
  });

  it('hands out a copy the caller may change', () => {
    const list = new NameList(['a', 'c']);
    list.add('b');
    const copy = list.toArray();
    copy.push('z');
    expect(list.toArray()).toEqual(['a', 'b', 'c']);
  });
});
