import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FacetCounts, type FacetValueTable } from './facet-counts.js';
import { FACETS } from './query.js';

function tableOf(texts: readonly string[]): FacetValueTable {
  return {
    valueText: (id) => texts[id] as string,
    valueOpening: (id) => Buffer.from(`{"value":${JSON.stringify(texts[id])},"count":`),
  };
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('aws', 'team=payments', 'a"b\\c', 'région', '\u0000', '😀'),
);

/** Values, each in one facet and distinct within it as interned values are, with a count (zero: not counted). */
const counted = fc.uniqueArray(
  fc.record({ text, facet: fc.integer({ min: 0, max: FACETS.length - 1 }), count: fc.nat(40) }),
  { selector: (v) => `${v.facet}\u0000${v.text}`, maxLength: 80 },
);

/** What `writeTo` writes, checked to be `byteLength` bytes and to touch nothing around them. */
function written(counts: FacetCounts): string {
  const out = Buffer.alloc(counts.byteLength() + 4, 0x21);
  const n = counts.writeTo(out, 2);
  expect(n).toBe(counts.byteLength());
  expect([out[0], out[1], out[2 + n]]).toEqual([0x21, 0x21, 0x21]);
  return out.toString('utf8', 2, 2 + n);
}

describe('FacetCounts', () => {
  it('ranks each facet by count, then value, cut at the limit; its bytes are the JSON of its lists', () => {
    fc.assert(
      fc.property(counted, fc.subarray([...FACETS]), fc.integer({ min: 1, max: 100 }), (values, facets, limit) => {
        const table = tableOf(values.map((v) => v.text));
        const byFacet = FACETS.map((_, f) => values.flatMap((v, id) => (v.facet === f ? [id] : [])));
        const counts = FacetCounts.build(
          table,
          facets,
          (i) => byFacet[FACETS.indexOf(facets[i] as (typeof FACETS)[number])] as number[],
          (id) => (values[id] as { count: number }).count,
          limit,
        );
        const expected = Object.fromEntries(
          facets.map((facet) => {
            const list = values
              .filter((v) => v.facet === FACETS.indexOf(facet) && v.count > 0)
              .map((v) => ({ value: v.text, count: v.count }))
              .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
              .slice(0, limit);
            return [facet, list];
          }),
        );
        expect(counts.lists()).toEqual(expected);
        expect(written(counts)).toBe(JSON.stringify(counts.lists()));
      }),
      { numRuns: 300 },
    );
  });

  it('ranks a facet of many values (sorted rather than inserted) alike', () => {
    const texts = Array.from({ length: 300 }, (_, i) => `team=t${(i * 37) % 300}`);
    const counts = FacetCounts.build(
      tableOf(texts),
      ['label'],
      () => texts.map((_, id) => id),
      (id) => id % 7,
      250,
    );
    const expected = texts
      .map((value, id) => ({ value, count: id % 7 }))
      .filter((v) => v.count > 0)
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, 250);
    expect(counts.lists()).toEqual({ label: expected });
    expect(written(counts)).toBe(JSON.stringify({ label: expected }));
  });

  it('lists every facet asked with no value when none was counted', () => {
    expect(FacetCounts.none(['provider', 'label']).lists()).toEqual({ provider: [], label: [] });
    expect(written(FacetCounts.none(['provider', 'label']))).toBe('{"provider":[],"label":[]}');
    expect(written(FacetCounts.none([]))).toBe('{}');
  });
});
