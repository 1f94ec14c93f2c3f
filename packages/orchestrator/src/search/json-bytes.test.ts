import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreLength, writeScore } from './json-bytes.js';

const written = (score: number): string => {
  const out = Buffer.alloc(scoreLength(score) + 4, 0x21);
  const n = writeScore(out, 2, score);
  expect(n).toBe(scoreLength(score));
  // Nothing outside the bytes it reports is touched.
  expect(out[0]).toBe(0x21);
  expect(out[1]).toBe(0x21);
  expect(out[2 + n]).toBe(0x21);
  return out.toString('latin1', 2, 2 + n);
};

describe('writeScore', () => {
  it('writes what JSON.stringify writes for any score in cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000_000 }), (cents) => {
        const score = cents / 100;
        expect(written(score)).toBe(`,"score":${JSON.stringify(score)}}`);
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes whole, tenths and hundredths as JSON does', () => {
    expect(written(0)).toBe(',"score":0}');
    expect(written(1000000)).toBe(',"score":1000000}');
    expect(written(2000100.8)).toBe(',"score":2000100.8}');
    expect(written(0.05)).toBe(',"score":0.05}');
    expect(written(10.5)).toBe(',"score":10.5}');
    expect(written(99.99)).toBe(',"score":99.99}');
  });

  it('falls back to JSON for what is not a whole number of cents', () => {
    for (const score of [0.001, 1 / 3, -5, 1e20, Number.MAX_SAFE_INTEGER]) {
      expect(written(score)).toBe(`,"score":${JSON.stringify(score)}}`);
    }
  });
});
