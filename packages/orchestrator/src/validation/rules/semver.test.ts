import { isStrictVersion } from '@nestor/sdk';
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../../storage/testing.js';
import { contentContext, makeSpec, stateContext } from '../testing.js';
import { rangeProblem, satisfies, versionChangesRule, versionFormatRule, versionProblem } from './semver.js';

describe('version syntax', () => {
  const cases: [string, string | null][] = [
    ['1.0.0', null],
    ['0.0.0', null],
    ['1.2.3-rc.1', null],
    ['1.2.3-alpha-1.beta.0', null],
    ['v1.0.0', 'invalid_version'],
    ['V1.0.0', 'invalid_version'],
    ['1.0.0+build.5', 'build_metadata_not_allowed'],
    ['1.0.0-rc.1+sha.abc', 'build_metadata_not_allowed'],
    ['1.0', 'invalid_version'],
    ['1', 'invalid_version'],
    ['', 'invalid_version'],
    ['01.0.0', 'invalid_version'],
    ['1.0.0-01', 'invalid_version'],
    [' 1.0.0', 'invalid_version'],
    ['1.0.0-', 'invalid_version'],
    ['99999999999999999999.0.0', 'invalid_version'],
    ['1.0.0+', 'build_metadata_not_allowed'],
    [`1.0.0-${'a'.repeat(300)}`, 'invalid_version'],
  ];
  for (const [version, code] of cases) {
    it(`${JSON.stringify(version.slice(0, 30))} → ${code ?? 'valid'}`, () => {
      expect(versionProblem(version)?.code ?? null).toBe(code);
      const outcome = versionFormatRule.check(contentContext(makeSpec({ version })));
      expect(outcome.errors.map((e) => e.code)).toEqual(code ? [code] : []);
      if (code) expect(outcome.errors[0]!.field).toBe('version');
    });
  }

  it('suggests the version without the v prefix or build metadata', () => {
    const v = versionFormatRule.check(contentContext(makeSpec({ version: 'v2.1.0' })));
    expect(v.errors[0]!.details).toEqual({ suggestion: '2.1.0' });
    expect(v.errors[0]!.message).toContain('2.1.0');
    const b = versionFormatRule.check(contentContext(makeSpec({ version: '2.1.0+exp' })));
    expect(b.errors[0]!.details).toEqual({ suggestion: '2.1.0' });
  });

  it('isStrictVersion agrees with the semver package on random strings (v prefix and build metadata aside)', () => {
    const semverish = fc
      .tuple(
        fc.constantFrom('', 'v', '=', ' '),
        fc.array(fc.oneof(fc.nat({ max: 20 }).map(String), fc.constantFrom('00', '01', 'x', '')), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.array(fc.stringMatching(/^[0-9A-Za-z-]{0,4}$/), { minLength: 1, maxLength: 3 }), { nil: null }),
        fc.option(fc.stringMatching(/^[0-9A-Za-z.-]{0,5}$/), { nil: null }),
      )
      .map(
        ([prefix, core, pre, build]) =>
          `${prefix}${core.join('.')}${pre ? `-${pre.join('.')}` : ''}${build !== null ? `+${build}` : ''}`,
      );
    fc.assert(
      fc.property(fc.oneof(semverish, fc.string({ maxLength: 20 })), (s) => {
        // semver normalises (strips `v`, `=`, spaces, build metadata); strict means "already normal".
        const reference = semver.valid(s) === s;
        expect(isStrictVersion(s)).toBe(reference);
        if (s.includes('+') && semver.valid(s)) expect(isStrictVersion(s)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('dependency ranges', () => {
  it.each([
    ['^1.0.0', null],
    ['>=1.2.0 <2.0.0', null],
    ['1.x || 2.x', null],
    ['*', null],
    ['', 'empty'],
    ['not a range', 'not a valid'],
    ['^1.0.0 ||| x', 'not a valid'],
    ['>'.repeat(300), 'longer'],
  ])('%j', (range, problem) => {
    const found = rangeProblem(range);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it('answers as semver does, however often a range is asked about', () => {
    const ranges = fc.oneof(
      fc.constantFrom(
        '^1.0.0',
        '~1.2.0',
        '>=1.0.0 <2.0.0-0',
        '1.x || 2.x',
        '*',
        '',
        'nope',
        '^1.0.0-rc.1',
        '>'.repeat(300),
      ),
      fc.string({ maxLength: 12 }),
    );
    const versions = fc.constantFrom('1.0.0', '1.2.5', '2.0.0', '1.0.0-rc.2', '0.9.9', 'not-a-version', '');
    fc.assert(
      fc.property(ranges, versions, (range, version) => {
        const valid = semver.validRange(range) !== null && range.trim() !== '' && range.length <= 256;
        for (let i = 0; i < 2; i++) {
          expect(satisfies(version, range)).toBe(semver.satisfies(version, range));
          expect(rangeProblem(range) === null).toBe(valid);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('reports each bad range at its path', () => {
    const spec = makeSpec({
      dependencies: [
        { name: 'a', version_range: '^1.0.0' },
        { name: 'b', version_range: 'what' },
      ],
    });
    const outcome = versionFormatRule.check(contentContext(spec));
    expect(outcome.errors.map((e) => [e.code, e.field])).toEqual([
      ['invalid_version_range', 'dependencies[1].version_range'],
    ]);
  });
});

async function storeWith(name: string, versions: string[], shape: Parameters<typeof makeComponent>[0] = {}) {
  const store = new MemoryStore();
  for (const version of versions) await store.createComponent(makeComponent({ ...shape, name, version }));
  return store;
}

describe('breaking-change detection against the predecessor', () => {
  const removeOutput = { outputs: [] };

  it('has no predecessor for the first version', async () => {
    const name = randomName();
    const store = new MemoryStore();
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ name }), store));
    expect(outcome).toMatchObject({ predecessor: null, required_bump: 'none', changes: [], errors: [] });
  });

  it('rejects a breaking change published as a minor bump and names the needed version', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0', '1.1.0']);
    const outcome = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '1.2.0', ...removeOutput }), store),
    );
    expect(outcome.predecessor).toBe('1.1.0');
    expect(outcome.required_bump).toBe('major');
    expect(outcome.changes?.map((c) => c.kind)).toEqual(['output_removed']);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toMatchObject({
      rule: 'semver',
      code: 'insufficient_version_bump',
      field: 'version',
      details: { predecessor: '1.1.0', required_bump: 'major', bump_made: 'minor', suggestion: '2.0.0' },
    });
  });

  it('accepts the same breaking change as a major bump', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0']);
    const outcome = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '2.0.0', ...removeOutput }), store),
    );
    expect(outcome.errors).toEqual([]);
    expect(outcome.required_bump).toBe('major');
  });

  it('needs only a minor bump for a breaking change within 0.y.z', async () => {
    const name = randomName();
    const store = await storeWith(name, ['0.3.1']);
    const patch = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '0.3.2', ...removeOutput }), store),
    );
    expect(patch.required_bump).toBe('minor');
    expect(patch.errors.map((e) => e.code)).toEqual(['insufficient_version_bump']);
    const minor = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '0.4.0', ...removeOutput }), store),
    );
    expect(minor.errors).toEqual([]);
  });

  it('compares a back-ported patch with its own predecessor, not with the highest version', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.2.0', '1.3.0']);
    await store.createComponent(makeComponent({ name, version: '1.3.1', outputs: [] }));
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ name, version: '1.2.1' }), store));
    expect(outcome.predecessor).toBe('1.2.0');
    expect(outcome.changes).toEqual([]);
    expect(outcome.errors).toEqual([]);
  });

  it('orders prereleases: 1.0.0 is compared with 1.0.0-rc.2', async () => {
    const name = randomName();
    const store = await storeWith(name, ['0.9.0', '1.0.0-rc.1', '1.0.0-rc.2']);
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ name, version: '1.0.0' }), store));
    expect(outcome.predecessor).toBe('1.0.0-rc.2');
  });

  it('only warns when a prerelease makes too small a bump', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0']);
    const outcome = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '1.0.1-rc.1', ...removeOutput }), store),
    );
    expect(outcome.errors).toEqual([]);
    expect(outcome.warnings.map((w) => w.code)).toEqual(['insufficient_version_bump']);
  });

  it('a new predecessor changes the verdict of the same component', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0']);
    const spec = makeSpec({ name, version: '1.1.0' });
    expect((await versionChangesRule.check(await stateContext(spec, store))).errors).toEqual([]);
    await store.createComponent(makeComponent({ name, version: '1.0.5', outputs: [] }));
    const after = await versionChangesRule.check(await stateContext(spec, store));
    expect(after.predecessor).toBe('1.0.5');
    expect(after.changes?.map((c) => c.kind)).toEqual(['output_added']);
    expect(after.errors).toEqual([]);
    await store.createComponent(makeComponent({ name, version: '1.0.6', required_inputs: [] }));
    const again = await versionChangesRule.check(await stateContext(spec, store));
    expect(again.predecessor).toBe('1.0.6');
    expect(again.errors.map((e) => e.code)).toEqual(['insufficient_version_bump']);
  });

  it('reports a changed provider as a major change', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0']);
    const outcome = await versionChangesRule.check(
      await stateContext(makeSpec({ name, version: '2.0.0', provider: 'gcp' }), store),
    );
    expect(outcome.changes?.map((c) => [c.kind, c.bump])).toEqual([['provider_changed', 'major']]);
  });

  it('skips comparison for an invalid version (the syntax half reports it)', async () => {
    const store = new MemoryStore();
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ version: 'v1' }), store));
    expect(outcome).toMatchObject({ errors: [], predecessor: null, required_bump: 'none' });
  });
});

describe('breaking-change detection against the successor', () => {
  const withExtraOutput = (name: string, version: string) =>
    makeSpec({
      name,
      version,
      outputs: [...makeSpec().outputs, { name: 'extra_arn', type: 'string', description: 'only here' }],
    });

  it('rejects a version inserted below an existing one when the step up to it would break', async () => {
    // 1.0.0 and 1.3.0 exist; 1.2.0 adds an output (a minor change: fine against 1.0.0) that 1.3.0
    // lacks, so 1.2.0 → 1.3.0 would remove it: a major change in a minor bump.
    const name = randomName();
    const store = await storeWith(name, ['1.0.0', '1.3.0']);
    const outcome = await versionChangesRule.check(await stateContext(withExtraOutput(name, '1.2.0'), store));
    expect(outcome.predecessor).toBe('1.0.0');
    expect(outcome.changes?.map((c) => c.kind)).toEqual(['output_added']);
    expect(outcome.successor).toMatchObject({ version: '1.3.0', required_bump: 'major', bump_made: 'minor' });
    expect(outcome.successor?.changes.map((c) => c.kind)).toEqual(['output_removed']);
    expect(outcome.errors.map((e) => [e.code, e.details?.['successor']])).toEqual([
      ['insufficient_successor_bump', '1.3.0'],
    ]);
  });

  it('accepts the insertion when the successor makes a big enough bump over it', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0', '2.0.0']);
    const outcome = await versionChangesRule.check(await stateContext(withExtraOutput(name, '1.5.0'), store));
    expect(outcome.predecessor).toBe('1.0.0');
    expect(outcome.successor).toMatchObject({ version: '2.0.0', required_bump: 'major', bump_made: 'major' });
    expect(outcome.errors).toEqual([]);
  });

  it('checks the successor of the lowest version too', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.3.0']);
    const outcome = await versionChangesRule.check(await stateContext(withExtraOutput(name, '1.2.0'), store));
    expect(outcome.predecessor).toBeNull();
    expect(outcome.errors.map((e) => e.code)).toEqual(['insufficient_successor_bump']);
  });

  it('does not blame the new version for a step that was already too small', async () => {
    const name = randomName();
    const store = new MemoryStore();
    await store.createComponent(makeComponent({ name, version: '1.0.0' }));
    // Stored directly, as an import of history published before the rule would be.
    await store.createComponent(makeComponent({ name, version: '1.1.0', outputs: [] }));
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ name, version: '1.0.1' }), store));
    expect(outcome.successor?.required_bump).toBe('major');
    expect(outcome.errors).toEqual([]);
  });

  it('only warns when either end of the step is a prerelease', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0', '1.3.0-rc.1']);
    const outcome = await versionChangesRule.check(await stateContext(withExtraOutput(name, '1.2.0'), store));
    expect(outcome.errors).toEqual([]);
    expect(outcome.warnings.map((w) => w.code)).toEqual(['insufficient_successor_bump']);
  });

  it('reports no successor for the highest version', async () => {
    const name = randomName();
    const store = await storeWith(name, ['1.0.0']);
    const outcome = await versionChangesRule.check(await stateContext(makeSpec({ name, version: '1.0.1' }), store));
    expect(outcome.successor).toBeNull();
  });
});
