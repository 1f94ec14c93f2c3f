import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { compareVersions, isPrerelease, isStrictVersion, versionSortKey } from './version.js';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A core number, weighted towards small values and the edges of the safe range. */
const number = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(9, 10, 99, 100, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER),
);
const alnumChar = fc.constantFrom(...'0123456789abcxyzABCXYZ-'.split(''));
/** Alphanumeric identifiers: at least one non-digit, so semver does not read them as numbers. */
const alphanumeric = fc
  .array(alnumChar, { minLength: 1, maxLength: 6 })
  .map((chars) => chars.join(''))
  .filter((id) => !/^\d+$/.test(id));
const identifier = fc.oneof(number.map(String), alphanumeric);
const version = fc
  .tuple(number, number, number, fc.option(fc.array(identifier, { minLength: 1, maxLength: 4 }), { nil: undefined }))
  .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre ? `-${pre.join('.')}` : ''}`);
/** Pairs that often share a core or a prerelease prefix, where ordering mistakes hide. */
const close = fc.tuple(version, identifier, fc.boolean()).map(([v, extra, release]) => {
  const core = v.split('-')[0] as string;
  return [v, release ? core : `${v.includes('-') ? v : `${core}-0`}.${extra}`] as const;
});

describe('versionSortKey', () => {
  it('orders keys by bytes exactly as semver orders versions', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(version, version), close), ([a, b]) => {
        expect(byteOrder(versionSortKey(a), versionSortKey(b))).toBe(sign(semver.compare(a, b)));
      }),
      { numRuns: 3000 },
    );
  });

  it('sorts a known ladder', () => {
    const ladder = [
      '0.0.1',
      '1.0.0-0',
      '1.0.0-1',
      '1.0.0-9',
      '1.0.0-10',
      '1.0.0-9007199254740991',
      '1.0.0--',
      '1.0.0-a',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0-rc.1',
      '1.2.0',
      '1.9.0',
      '1.10.0',
      '9007199254740991.0.0',
    ];
    const shuffled = [...ladder].reverse();
    expect(shuffled.sort((a, b) => byteOrder(versionSortKey(a), versionSortKey(b)))).toEqual(ladder);
    expect([...ladder].sort(compareVersions)).toEqual(ladder);
  });

  it('rejects what is not a version', () => {
    expect(() => versionSortKey('latest')).toThrow(TypeError);
    expect(() => versionSortKey('1.2')).toThrow(TypeError);
  });
});

describe('isStrictVersion', () => {
  it('accepts every generated version and agrees with semver.valid', () => {
    fc.assert(
      fc.property(version, (v) => {
        expect(isStrictVersion(v)).toBe(true);
        expect(semver.valid(v)).toBe(v);
        expect(isPrerelease(v)).toBe(v.includes('-'));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with semver.valid on arbitrary strings without a v prefix or build metadata', () => {
    const chars = fc.constantFrom(...'0123456789.-+abvV x'.split(''));
    const text = fc.oneof(
      fc.array(chars, { maxLength: 16 }).map((c) => c.join('')),
      version.chain((v) => fc.integer({ min: 0, max: v.length }).map((i) => v.slice(0, i) + v.slice(i + 1))),
    );
    fc.assert(
      fc.property(text, (s) => {
        fc.pre(!s.includes('+') && !/^\s*[vV=]/.test(s) && s.trim() === s);
        const numericOverflow = (semver.parse(s)?.prerelease ?? []).some(
          (id) => typeof id === 'string' && /^\d+$/.test(id),
        );
        fc.pre(!numericOverflow);
        expect(isStrictVersion(s)).toBe(semver.valid(s) === s);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects a v prefix, build metadata, leading zeros and unsafe numbers', () => {
    fc.assert(
      fc.property(version, (v) => {
        expect(isStrictVersion(`v${v}`)).toBe(false);
        expect(isStrictVersion(`V${v}`)).toBe(false);
        expect(isStrictVersion(`${v}+build.1`)).toBe(false);
        expect(isStrictVersion(` ${v}`)).toBe(false);
      }),
      { numRuns: 500 },
    );
    for (const bad of [
      '1.2',
      '01.2.3',
      '1.2.3-01',
      '1.2.3-',
      '1.2.3-a..b',
      '9007199254740992.0.0',
      '1.0.0-9007199254740992',
      '1.0.0-99999999999999999999',
      '',
    ]) {
      expect(isStrictVersion(bad), bad).toBe(false);
    }
  });
});
