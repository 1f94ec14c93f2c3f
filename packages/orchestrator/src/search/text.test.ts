import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldText, tokenize } from './text.js';

/** The definition of a word (docs/search.md): letter/digit runs of the folded text, cut at 64. */
function reference(text: string): string[] {
  return (foldText(text).match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.slice(0, 64));
}

describe('tokenize', () => {
  it('cuts ASCII text as the Unicode definition does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 200 }), (text) => {
        expect(tokenize(text)).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
    expect(tokenize(`AWS-rds_Postgres ${'x'.repeat(70)}Y`)).toEqual(['aws', 'rds', 'postgres', 'x'.repeat(64)]);
  });

  it('cuts any text as the Unicode definition does', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', 'Z', '9', '-', ' ', 'é', 'Ü', 'ß', 'İ', '١', '😀', 'ﬁ'),
          maxLength: 80,
        }),
        (text) => {
          expect(tokenize(text)).toEqual(reference(text));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
