import { NestorError } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FACETS, parseFacets, parseSearchText } from './query.js';
import { MAX_QUERY_WORDS, withinOneEdit } from './text.js';

const KNOWN_VALUES: Record<string, fc.Arbitrary<string>> = {
  provider: fc.constantFrom('aws', 'gcp', 'azure'),
  category: fc.constantFrom('database', 'cache'),
  resource_type: fc.constantFrom('aws_vpc', 'namespace'),
  engine: fc.constantFrom('terraform', 'pulumi'),
  maturity: fc.constantFrom('alpha', 'beta', 'stable'),
  support_level: fc.constantFrom('community', 'supported'),
  label: fc.constantFrom('team=data', 'tier=1', 'a=b=c'),
};

describe('search query parser', () => {
  it('never throws anything but an invalid_request problem, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500, unit: 'binary' }), (q) => {
        try {
          const parsed = parseSearchText(q);
          expect(parsed.words.length).toBeLessThanOrEqual(MAX_QUERY_WORDS);
          for (const w of parsed.words) expect(w).toMatch(/^[\p{L}\p{N}]+$/u);
        } catch (err) {
          expect(err).toBeInstanceOf(NestorError);
          expect((err as NestorError).code).toBe('invalid_request');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('ends a qualifier value at white space as /\\s/u reads it, for every UTF-16 unit', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const unit = String.fromCharCode(code);
      const { filters } = parseSearchText(`provider:aws${unit}x`);
      expect(filters[0]?.value).toBe(/\s/u.test(unit) ? 'aws' : `aws${unit}x`);
    }
  });

  it('reads every known qualifier as a filter and the rest as words', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...FACETS), { maxLength: 4 }),
        fc.array(fc.stringMatching(/^[a-z0-9]{1,10}$/), { maxLength: 5 }),
        fc.context(),
        (facets, words, ctx) => {
          const values = facets.map((f) => fc.sample(KNOWN_VALUES[f] as fc.Arbitrary<string>, 1)[0] as string);
          const q = [...facets.map((f, i) => `${f}:${values[i]}`), ...words].join(' ');
          ctx.log(q);
          const parsed = parseSearchText(q);
          expect(parsed.filters).toEqual(facets.map((facet, i) => ({ facet, value: values[i] })));
          expect(parsed.words).toEqual([...new Set(words)]);
        },
      ),
    );
  });

  it('refuses an unknown qualifier, naming it', () => {
    fc.assert(
      fc.property(
        fc
          .stringMatching(/^[a-z][a-z_]{0,15}$/)
          .filter((k) => !(FACETS as readonly string[]).includes(k) && k !== 'labels'),
        (key) => {
          const err = (() => {
            try {
              parseSearchText(`redis ${key}:x`);
            } catch (e) {
              return e as NestorError;
            }
            return null;
          })();
          expect(err?.code).toBe('invalid_request');
          expect(err?.message).toContain(`"${key}:"`);
          expect(err?.details['qualifier']).toBe(key);
        },
      ),
    );
  });

  it('treats operators, quotes and punctuation as text, never as syntax', () => {
    expect(parseSearchText('"redis" AND (cache OR NEAR/3 db*)').words).toEqual([
      'redis',
      'and',
      'cache',
      'or',
      'near',
      '3',
      'db',
    ]);
    expect(parseSearchText(':: : :x').words).toEqual(['x']);
    expect(parseSearchText('label:"team=data platform" redis').filters).toEqual([
      { facet: 'label', value: 'team=data platform' },
    ]);
    expect(parseSearchText('مرحبا 🚀 Ünïcode').words).toEqual(['مرحبا', 'unicode']);
  });

  it('refuses values a field can never hold', () => {
    for (const q of ['maturity:gold', 'support_level:x', 'label:team', 'provider:', 'label:=x']) {
      expect(() => parseSearchText(q)).toThrow(NestorError);
    }
  });

  it('parses facet lists and refuses an unknown facet', () => {
    expect(parseFacets('provider, label,provider')).toEqual(['provider', 'label']);
    expect(parseFacets(['category', 'engine'])).toEqual(['category', 'engine']);
    expect(() => parseFacets('provider,colour')).toThrow(/unknown facet "colour"/);
  });

  it('keeps a facet text it parsed, never its refusal, and parses long texts each time', () => {
    const first = parseFacets('engine,maturity');
    expect(parseFacets('engine,maturity')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => parseFacets('maturity,colour')).toThrow(/unknown facet "colour"/);
    expect(() => parseFacets('maturity,colour')).toThrow(/unknown facet "colour"/);
    const long = Array.from({ length: 40 }, () => 'provider').join(',');
    expect(parseFacets(long)).toEqual(['provider']);
    expect(parseFacets(long)).not.toBe(parseFacets(long));
  });

  it('counts one edit, transpositions included, and nothing more', () => {
    expect(withinOneEdit('kubernets', 'kubernetes')).toBe(true);
    expect(withinOneEdit('postgers', 'postgres')).toBe(true);
    expect(withinOneEdit('redsi', 'redis')).toBe(true);
    expect(withinOneEdit('cachx', 'cache')).toBe(true);
    expect(withinOneEdit('cahce', 'cache')).toBe(true);
    expect(withinOneEdit('caxhx', 'cache')).toBe(false);
    expect(withinOneEdit('kubrenets', 'kubernetes')).toBe(false);
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z]{1,12}$/), (a, b) => {
        expect(withinOneEdit(a, b)).toBe(withinOneEdit(b, a));
        expect(withinOneEdit(a, b)).toBe(osa(a, b) <= 1);
      }),
      { numRuns: 3000 },
    );
  });
});

/** Optimal string alignment distance, the textbook way (the reference for `withinOneEdit`). */
function osa(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        (d[i - 1] as number[])[j]! + 1,
        (d[i] as number[])[j - 1]! + 1,
        (d[i - 1] as number[])[j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, (d[i - 2] as number[])[j - 2]! + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
