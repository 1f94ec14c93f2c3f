import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addWords, foldText, tokenize } from './text.js';

/** The definition of folding (docs/search.md): NFKD, marks dropped, lower case. */
function referenceFold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The definition of a word (docs/search.md): letter/digit runs of the folded text, cut at 64. */
function reference(text: string): string[] {
  return (referenceFold(text).match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.slice(0, 64));
}

const anyText = fc.string({
  unit: fc.constantFrom('a', 'Z', '9', '-', ' ', 'é', 'Ü', 'ß', 'İ', '١', '😀', 'ﬁ', 'e\u0301'),
  maxLength: 80,
});

describe('foldText', () => {
  it('folds as the Unicode definition does, ASCII or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 100 }), anyText), (text) => {
        expect(foldText(text)).toBe(referenceFold(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addWords', () => {
  it('keeps each word of several texts once, at the lowest group it came in', () => {
    const texts = fc.array(fc.tuple(fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 60 }), anyText), fc.nat(3)), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(texts, (pieces) => {
        const words = new Map<string, number>();
        const expected = new Map<string, number>();
        for (const [text, group] of pieces) {
          addWords(text, group, words);
          for (const w of reference(text)) if ((expected.get(w) ?? 9) > group) expected.set(w, group);
        }
        expect(words).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
    // Whole ASCII words before the first other character, then the rest folded.
    const words = new Map<string, number>([['cache', 1]]);
    addWords('Redis CACHE for Zürich', 2, words);
    expect([...words]).toEqual([
      ['cache', 1],
      ['redis', 2],
      ['for', 2],
      ['zurich', 2],
    ]);
  });
});

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
      fc.property(anyText, (text) => {
        expect(tokenize(text)).toEqual(reference(text));
      }),
      { numRuns: 1000 },
    );
  });
});
