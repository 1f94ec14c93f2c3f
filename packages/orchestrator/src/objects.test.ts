import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extended } from './objects.js';

describe('extended', () => {
  it('makes what a spread makes: the same properties, values and order', () => {
    const key = fc.constantFrom('name', 'version', 'digest', 'score', 'a', 'b', '0', '10');
    const record = fc.dictionary(key, fc.jsonValue(), { maxKeys: 6 });
    fc.assert(
      fc.property(record, record, (base, extra) => {
        const made = extended(base, extra);
        const spread = { ...base, ...extra };
        expect(Object.entries(made)).toEqual(Object.entries(spread));
        expect(made).not.toBe(base);
      }),
      { numRuns: 500 },
    );
  });
});
