import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { facetsJson } from './facets-json.js';
import { FACETS } from './query.js';

const facetCounts = fc.array(
  fc.record({
    value: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('aws', 'team=payments', 'a"b\\c')),
    count: fc.nat(),
  }),
  { maxLength: 12 },
);

describe('facetsJson', () => {
  it('writes the text JSON.stringify writes, whatever the values hold', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...FACETS), facetCounts), (facets) => {
        expect(facetsJson(facets)).toBe(JSON.stringify(facets));
      }),
      { numRuns: 500 },
    );
  });

  it('skips facets without a list and writes an empty object for none', () => {
    expect(facetsJson({})).toBe('{}');
    expect(facetsJson({ provider: undefined, category: [] })).toBe('{"category":[]}');
    expect(facetsJson({ provider: undefined, engine: [{ value: 'terraform', count: 3 }] })).toBe(
      '{"engine":[{"value":"terraform","count":3}]}',
    );
  });

  it('keeps answering alike past the values it keeps', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => ({ value: `team=t${i}`, count: i }));
    expect(facetsJson({ label: many })).toBe(JSON.stringify({ label: many }));
    expect(facetsJson({ label: many.slice(0, 3) })).toBe(JSON.stringify({ label: many.slice(0, 3) }));
  });
});
