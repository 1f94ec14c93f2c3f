import { MAX_DEPENDENCIES } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../../storage/testing.js';
import { contentContext, makeSpec, stateContext } from '../testing.js';
import { dependencyListRule, dependencyResolutionRule } from './dependencies.js';

describe('dependency list', () => {
  const codes = (name: string, deps: { name: string; version_range: string }[]) =>
    dependencyListRule
      .check(contentContext(makeSpec({ name, dependencies: deps })))
      .errors.map((e) => [e.code, e.field]);

  it('accepts distinct, well-formed dependencies', () => {
    expect(
      codes('app', [
        { name: 'vpc', version_range: '^1.0.0' },
        { name: 'dns', version_range: '*' },
      ]),
    ).toEqual([]);
  });

  it('rejects self-dependencies, duplicates and malformed names', () => {
    expect(
      codes('app', [
        { name: 'app', version_range: '*' },
        { name: 'vpc', version_range: '^1' },
        { name: 'vpc', version_range: '^2' },
        { name: '../x', version_range: '*' },
      ]),
    ).toEqual([
      ['self_dependency', 'dependencies[0].name'],
      ['duplicate_dependency', 'dependencies[2].name'],
      ['invalid_dependency_name', 'dependencies[3].name'],
    ]);
  });

  it('caps an absurdly long list with one error instead of one per entry', () => {
    const deps = Array.from({ length: 10_000 }, (_, i) => ({ name: `D${i}`, version_range: 'bogus' }));
    expect(codes('app', deps)).toEqual([['too_many_dependencies', 'dependencies']]);
    const atCap = Array.from({ length: MAX_DEPENDENCIES }, (_, i) => ({ name: `d${i}`, version_range: '*' }));
    expect(codes('app', atCap)).toEqual([]);
    expect(codes('app', [...atCap, { name: 'one-more', version_range: '*' }])).toEqual([
      ['too_many_dependencies', 'dependencies'],
    ]);
  });
});

describe('dependency resolution (direct only)', () => {
  async function setup() {
    const store = new MemoryStore();
    const vpc = randomName('vpc');
    await store.createComponent(makeComponent({ name: vpc, version: '1.0.0' }));
    await store.createComponent(makeComponent({ name: vpc, version: '1.4.0' }));
    return { store, vpc };
  }

  const run = async (store: MemoryStore, deps: { name: string; version_range: string }[], name = randomName()) =>
    dependencyResolutionRule.check(await stateContext(makeSpec({ name, dependencies: deps }), store));

  it('accepts a dependency with a version in range', async () => {
    const { store, vpc } = await setup();
    expect(await run(store, [{ name: vpc, version_range: '^1.2.0' }])).toEqual({ errors: [], warnings: [] });
  });

  it('rejects a missing dependency and an unsatisfiable range', async () => {
    const { store, vpc } = await setup();
    const outcome = await run(store, [
      { name: randomName('ghost'), version_range: '*' },
      { name: vpc, version_range: '^2.0.0' },
    ]);
    expect(outcome.errors.map((e) => [e.code, e.field])).toEqual([
      ['dependency_not_found', 'dependencies[0].name'],
      ['dependency_unsatisfied', 'dependencies[1].version_range'],
    ]);
    expect(outcome.errors[1]!.details).toMatchObject({ versions: ['1.4.0', '1.0.0'] });
  });

  it('warns when only deprecated versions satisfy the range', async () => {
    const { store, vpc } = await setup();
    await store.updateComponent(vpc, '1.4.0', { deprecated: { reason: 'use 2.x' } });
    expect((await run(store, [{ name: vpc, version_range: '^1.0.0' }])).warnings).toEqual([]);
    await store.updateComponent(vpc, '1.0.0', { deprecated: { reason: 'old' } });
    const outcome = await run(store, [{ name: vpc, version_range: '^1.0.0' }]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.warnings.map((w) => w.code)).toEqual(['dependency_deprecated']);
  });

  it('rejects a direct cycle: the resolved dependency depends back on this version', async () => {
    const store = new MemoryStore();
    const a = randomName('a');
    const b = randomName('b');
    await store.createComponent(makeComponent({ name: b, dependencies: [{ name: a, version_range: '^1.0.0' }] }));
    const cyclic = await run(store, [{ name: b, version_range: '^1.0.0' }], a);
    expect(cyclic.errors.map((e) => e.code)).toEqual(['dependency_cycle']);
    const spec = makeSpec({ name: a, version: '2.0.0', dependencies: [{ name: b, version_range: '^1.0.0' }] });
    expect((await dependencyResolutionRule.check(await stateContext(spec, store))).errors).toEqual([]);
  });

  it('does not look past direct dependencies', async () => {
    const store = new MemoryStore();
    const mid = randomName('mid');
    await store.createComponent(
      makeComponent({ name: mid, dependencies: [{ name: randomName('gone'), version_range: '*' }] }),
    );
    expect((await run(store, [{ name: mid, version_range: '*' }])).errors).toEqual([]);
  });
});
