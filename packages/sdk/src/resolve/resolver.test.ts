import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { NestorError } from '../errors/errors.js';
import { type CandidateVersion, type CatalogView, type Constraint, resolveConstraints } from './resolver.js';

type Catalog = Record<string, CandidateVersion[]>;
const viewOf =
  (catalog: Catalog): CatalogView =>
  (name) =>
    catalog[name] ?? [];
const v = (version: string, deps: Record<string, string> = {}, extra: Partial<CandidateVersion> = {}) => ({
  version,
  dependencies: Object.entries(deps).map(([name, version_range]) => ({ name, version_range })),
  ...extra,
});
const req = (name: string, range: string, from = 'request'): Constraint => ({ name, range, from });

function failureOf(fn: () => unknown): NestorError {
  try {
    fn();
  } catch (err) {
    if (NestorError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a NestorError');
}

describe('resolveConstraints', () => {
  it('picks the highest satisfying versions, in dependency order with ties by name', () => {
    const catalog: Catalog = {
      app: [v('1.0.0', { vpc: '^1.0.0', db: '^2.0.0' }), v('1.1.0', { vpc: '^1.2.0', db: '^2.0.0' })],
      db: [v('2.0.0', { vpc: '^1.0.0' }), v('2.3.0', { vpc: '^1.0.0' }), v('3.0.0')],
      vpc: [v('1.0.0'), v('1.2.0'), v('1.4.1'), v('2.0.0')],
    };
    const out = resolveConstraints([req('app', '^1.0.0')], viewOf(catalog));
    expect(out.map((r) => `${r.name}@${r.version}`)).toEqual(['vpc@1.4.1', 'db@2.3.0', 'app@1.1.0']);
    expect(out[0]?.required_by).toEqual([
      { from: 'app@1.1.0', range: '^1.2.0' },
      { from: 'db@2.3.0', range: '^1.0.0' },
    ]);
    expect(out[2]?.required_by).toEqual([{ from: 'request', range: '^1.0.0' }]);
  });

  it('backtracks when the highest choice leads to a conflict', () => {
    const catalog: Catalog = {
      a: [v('2.0.0', { c: '^2.0.0' }), v('1.0.0', { c: '^1.0.0' })],
      b: [v('1.0.0', { c: '^1.0.0' })],
      c: [v('1.0.0'), v('2.0.0')],
    };
    const out = resolveConstraints([req('a', '*'), req('b', '*')], viewOf(catalog));
    expect(out.map((r) => `${r.name}@${r.version}`)).toEqual(['c@1.0.0', 'a@1.0.0', 'b@1.0.0']);
  });

  it('never chooses revoked or deleted versions; flags deprecated ones', () => {
    const dep = { reason: 'use 1.1', at: '2026-01-01T00:00:00.000Z' };
    const catalog: Catalog = {
      a: [
        v('1.3.0', {}, { revoked: { reason: 'cve' } }),
        v('1.2.0', {}, { deleted: true }),
        v('1.1.0', {}, { deprecated: dep }),
      ],
    };
    const [only] = resolveConstraints([req('a', '^1.0.0')], viewOf(catalog));
    expect(only).toMatchObject({ name: 'a', version: '1.1.0', deprecated: dep });
    const err = failureOf(() => resolveConstraints([req('a', '>=1.2.0')], viewOf(catalog)));
    expect(err.code).toBe('resolution_failed');
    expect(err.extensions['conflicts']).toEqual([
      { name: 'a', constraints: [{ from: 'request', range: '>=1.2.0' }], available: ['1.1.0'] },
    ]);
  });

  it('names a minimal conflicting set with where each constraint came from', () => {
    const catalog: Catalog = {
      a: [v('1.0.0', { c: '^1.0.0' })],
      b: [v('1.0.0', { c: '^2.0.0' })],
      c: [v('1.0.0'), v('2.0.0')],
      d: [v('1.0.0')],
    };
    const err = failureOf(() =>
      resolveConstraints([req('d', '*', 'ci'), req('a', '*', 'team-a'), req('b', '*', 'team-b')], viewOf(catalog)),
    );
    expect(err.code).toBe('resolution_failed');
    expect(err.details['constraints']).toEqual([
      { name: 'a', range: '*', from: 'team-a' },
      { name: 'b', range: '*', from: 'team-b' },
    ]);
    expect(err.extensions['conflicts']).toEqual([
      {
        name: 'c',
        constraints: [
          { from: 'a@1.0.0', range: '^1.0.0' },
          { from: 'b@1.0.0', range: '^2.0.0' },
        ],
        available: ['2.0.0', '1.0.0'],
      },
    ]);
  });

  it('treats an unknown name as a conflict with nothing available', () => {
    const err = failureOf(() => resolveConstraints([req('ghost', '^1.0.0')], viewOf({})));
    expect(err.extensions['conflicts']).toEqual([
      { name: 'ghost', constraints: [{ from: 'request', range: '^1.0.0' }], available: [] },
    ]);
  });

  it('resolves cyclic dependencies across versions without looping', () => {
    const catalog: Catalog = {
      a: [v('1.0.0', { b: '^1.0.0' }), v('2.0.0', { b: '^2.0.0' })],
      b: [v('1.0.0', { a: '^1.0.0' }), v('2.0.0', { a: '^1.0.0' })],
    };
    const out = resolveConstraints([req('a', '*')], viewOf(catalog));
    expect(out.map((r) => `${r.name}@${r.version}`)).toEqual(['a@1.0.0', 'b@1.0.0']);
  });

  it('gives up with resolution_too_complex once the step budget is spent', () => {
    // Every a/b pair is tried before the last name turns out impossible: 30 x 30 choices.
    const many = (deps: Record<string, string>) => Array.from({ length: 30 }, (_, i) => v(`1.${i}.0`, deps));
    const catalog: Catalog = { a: many({}), b: many({ z: '^9.0.0' }), z: [v('1.0.0')] };
    const err = failureOf(() =>
      resolveConstraints([req('a', '*'), req('b', '*')], viewOf(catalog), { stepBudget: 100 }),
    );
    expect(err.code).toBe('resolution_too_complex');
  });

  it('includes prereleases only when asked', () => {
    const catalog: Catalog = { a: [v('1.0.0'), v('1.1.0-rc.1')] };
    expect(resolveConstraints([req('a', '^1.0.0')], viewOf(catalog))[0]?.version).toBe('1.0.0');
    expect(resolveConstraints([req('a', '^1.0.0')], viewOf(catalog), { includePrerelease: true })[0]?.version).toBe(
      '1.1.0-rc.1',
    );
  });
});

// --- Properties over small random catalogs.
const NAMES = ['a', 'b', 'c', 'd'];
const VERSIONS = ['1.0.0', '1.1.0', '2.0.0'];
const RANGES = ['*', '^1.0.0', '^2.0.0', '>=1.1.0', '<1.1.0', '1.0.0 || 2.0.0'];

const catalogArb: fc.Arbitrary<Catalog> = fc
  .tuple(
    ...NAMES.map(() =>
      fc.subarray(VERSIONS).chain((versions) =>
        fc.tuple(
          ...versions.map((version) =>
            fc.record({
              version: fc.constant(version),
              dependencies: fc
                .uniqueArray(fc.constantFrom(...NAMES), { maxLength: 2 })
                .chain((names) =>
                  fc.tuple(
                    ...names.map((name) =>
                      fc.record({ name: fc.constant(name), version_range: fc.constantFrom(...RANGES) }),
                    ),
                  ),
                ),
              revoked: fc.boolean().map((r) => (r ? { reason: 'x' } : null)),
            }),
          ),
        ),
      ),
    ),
  )
  .map((perName) => Object.fromEntries(NAMES.map((n, i) => [n, perName[i] as CandidateVersion[]])));

const requestArb = fc.array(
  fc.record({ name: fc.constantFrom(...NAMES, 'zz'), range: fc.constantFrom(...RANGES), from: fc.constant('request') }),
  { minLength: 1, maxLength: 3 },
);

/** Every assignment of each name to a version or to nothing; true when one satisfies everything. */
function bruteForceExists(catalog: Catalog, request: Constraint[]): boolean {
  const names = [...new Set([...NAMES, ...request.map((c) => c.name)])];
  const options = names.map((n) => [null, ...(catalog[n] ?? []).filter((x) => !x.revoked)]);
  const pick: (CandidateVersion | null)[] = [];
  const ok = (): boolean => {
    const at = new Map(names.map((n, i) => [n, pick[i] ?? null]));
    const holds = (name: string, range: string) => {
      const chosen = at.get(name);
      return chosen != null && semver.satisfies(chosen.version, range);
    };
    if (!request.every((c) => holds(c.name, c.range))) return false;
    for (const chosen of at.values()) {
      if (chosen && !chosen.dependencies.every((d) => holds(d.name, d.version_range))) return false;
    }
    return true;
  };
  const walk = (i: number): boolean => {
    if (i === names.length) return ok();
    for (const option of options[i] ?? []) {
      pick[i] = option;
      if (walk(i + 1)) return true;
    }
    return false;
  };
  return walk(0);
}

describe('resolveConstraints properties', () => {
  it('every answer satisfies every constraint; "none exists" agrees with brute force', () => {
    fc.assert(
      fc.property(catalogArb, requestArb, (catalog, request) => {
        let resolved: ReturnType<typeof resolveConstraints> | null = null;
        try {
          resolved = resolveConstraints(request, viewOf(catalog));
        } catch (err) {
          if (!NestorError.hasCode(err, 'resolution_failed')) throw err;
        }
        if (resolved === null) {
          expect(bruteForceExists(catalog, request)).toBe(false);
          return;
        }
        const at = new Map(resolved.map((r) => [r.name, r.version]));
        expect(at.size).toBe(resolved.length);
        const check = (name: string, range: string) => {
          const version = at.get(name);
          expect(version, `${name} ${range}`).toBeDefined();
          expect(semver.satisfies(version as string, range)).toBe(true);
        };
        for (const c of request) check(c.name, c.range);
        for (const r of resolved) {
          const chosen = (catalog[r.name] ?? []).find((x) => x.version === r.version);
          expect(chosen?.revoked).toBeFalsy();
          for (const d of chosen?.dependencies ?? []) check(d.name, d.version_range);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('every conflict reported names constraints that really came from the request or a dependency', () => {
    fc.assert(
      fc.property(catalogArb, requestArb, (catalog, request) => {
        try {
          resolveConstraints(request, viewOf(catalog));
        } catch (err) {
          if (!NestorError.hasCode(err, 'resolution_failed')) throw err;
          const conflicts = err.extensions['conflicts'] as {
            name: string;
            constraints: { from: string; range: string }[];
          }[];
          expect(conflicts.length).toBeGreaterThan(0);
          for (const conflict of conflicts) {
            for (const c of conflict.constraints) {
              if (c.from === 'request') {
                expect(request.some((r) => r.name === conflict.name && r.range === c.range)).toBe(true);
              } else {
                const [name, version] = c.from.split('@');
                const dependent = (catalog[name as string] ?? []).find((x) => x.version === version);
                expect(dependent?.dependencies).toContainEqual({ name: conflict.name, version_range: c.range });
              }
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
