import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocValues } from './doc-values.js';

describe('DocValues', () => {
  it('holds each doc its last ids through sets, clears and repacks, and a view read before a write keeps its ids', () => {
    const op = fc.record({
      doc: fc.integer({ min: 0, max: 40 }),
      // Up to 300 ids a doc, so that a few writes fill the array and repack it.
      ids: fc.option(fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 300, size: 'max' }), { freq: 4 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const values = new DocValues();
        values.ensure(20);
        const model = new Map<number, number[]>();
        for (const { doc, ids } of ops) {
          values.ensure(doc + 1);
          // Views of every doc taken before the write: none may change under it.
          const views = [...model.keys()].map((d) => [d, values.of(d), [...(model.get(d) ?? [])]] as const);
          if (ids === null) {
            values.clear(doc);
            model.delete(doc);
          } else {
            values.set(doc, ids);
            model.set(doc, ids);
          }
          for (const [, view, was] of views) expect([...(view ?? [])]).toEqual(was);
          for (let d = 0; d <= 41; d++) {
            const held = model.get(d);
            expect(values.of(d) === undefined ? undefined : [...(values.of(d) as Int32Array)]).toEqual(held);
          }
          const { ids: raw, starts, counts } = values.raw();
          for (const [d, held] of model) {
            expect([...raw.subarray(starts[d] as number, (starts[d] as number) + (counts[d] as number))]).toEqual(held);
          }
        }
      }),
      { numRuns: 100, endOnFailure: true },
    );
  });
});
