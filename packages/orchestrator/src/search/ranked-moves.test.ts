import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Arrival, mergeMoves, placeInPlace } from './ranked-moves.js';

/** The list the moves make, one by one on plain arrays: what both placements must give. */
function naive(docs: number[], codes: number[], leaving: number[], arriving: Arrival[]) {
  const gone = new Set(leaving);
  const out: [number, number][] = [];
  let a = 0;
  for (let i = 0; i <= docs.length; i++) {
    // A doc arriving at `i` goes before the doc that was there, whether that one stays or leaves.
    while (a < arriving.length && (arriving[a] as Arrival).at === i) {
      const { doc, code } = arriving[a++] as Arrival;
      out.push([doc, code]);
    }
    if (i < docs.length && !gone.has(i)) out.push([docs[i] as number, codes[i] as number]);
  }
  return out;
}

const moves = fc
  .integer({ min: 0, max: 40 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      leaving: fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: n }),
      arriving: fc.array(fc.integer({ min: 0, max: n }), { maxLength: 12 }),
      spare: fc.integer({ min: 0, max: 16 }),
    }),
  )
  .map(({ n, leaving, arriving, spare }) => ({
    docs: Array.from({ length: n }, (_, i) => 1000 + i),
    codes: Array.from({ length: n }, (_, i) => (i % 7) + 1),
    leaving: n === 0 ? [] : leaving.sort((x, y) => x - y),
    arriving: arriving.sort((x, y) => x - y).map((at, i) => ({ at, doc: 5000 + i, code: (i % 5) + 1 })),
    spare,
  }));

describe('ranked moves', () => {
  it('places leaving and arriving docs alike in a copy and in place, as one by one', () => {
    fc.assert(
      fc.property(moves, ({ docs, codes, leaving, arriving, spare }) => {
        const expected = naive(docs, codes, leaving, arriving);
        const size = expected.length;

        const merged = mergeMoves(Int32Array.from(docs), Uint8Array.from(codes), leaving, arriving, size + spare);
        const fromMerge = Array.from(merged.docs.subarray(0, size), (d, i) => [d, merged.codes[i]]);
        expect(fromMerge).toEqual(expected);

        const capacity = Math.max(docs.length, size) + spare;
        const room = { docs: new Int32Array(capacity), codes: new Uint8Array(capacity) };
        room.docs.set(docs);
        room.codes.set(codes);
        placeInPlace(room, docs.length, leaving, arriving);
        const inPlace = Array.from(room.docs.subarray(0, size), (d, i) => [d, room.codes[i]]);
        expect(inPlace).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('puts a doc arriving where two docs before it left right after the docs that stay', () => {
    const room = { docs: Int32Array.from([1, 2, 3, 4, 5, 0]), codes: Uint8Array.from([5, 5, 4, 4, 3, 0]) };
    placeInPlace(room, 5, [0, 2], [{ at: 4, doc: 9, code: 4 }]);
    expect(Array.from(room.docs.subarray(0, 4))).toEqual([2, 4, 9, 5]);
    expect(Array.from(room.codes.subarray(0, 4))).toEqual([5, 4, 4, 3]);
  });
});
