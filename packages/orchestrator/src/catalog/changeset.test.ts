import { type ComponentSpec, NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { LocalChangeFeed } from '../events/change-feed.js';
import { silentLogger } from '../observability/logging/logger.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { randomName } from '../storage/testing.js';
import { makeSpec, TestEngines } from '../validation/testing.js';
import { createValidator } from '../validation/validator.js';
import { CatalogManager, MAX_CHANGESET_MEMBERS } from './manager.js';

function setUp() {
  const store = new MemoryStore();
  const engines = new TestEngines();
  engines.put('terraform', 'healthy');
  const validator = createValidator({ reader: store, engines, unhealthyEngine: 'error', cacheSize: 100 });
  const manager = new CatalogManager({ store, validator, feed: new LocalChangeFeed(), logger: silentLogger });
  return { store, manager };
}

async function refusal(promise: Promise<unknown>): Promise<NestorError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!NestorError.is(err)) throw new Error(`expected a NestorError, got ${String(err)}`);
  return err;
}

const dependsOn = (name: string, range = '^1.0.0') => ({ dependencies: [{ name, version_range: range }] });

describe('CatalogManager changesets (DESIGN.md 10.4)', () => {
  it('lets a member depend on another member’s new version, which a single create refuses', async () => {
    const { store, manager } = setUp();
    const base = makeSpec({ name: randomName('base') });
    const app = makeSpec({ name: randomName('app'), ...dependsOn(base.name) });
    const alone = await refusal(manager.createComponent(app));
    expect(alone.code).toBe('validation_failed');
    const head = await store.headSequence();
    const out = await manager.createChangeset([app, base], { actor: 'token:ci', message: 'together' });
    expect(out.id).not.toBeNull();
    expect(out.revision).toBe(head + 2);
    expect(out.items).toEqual([
      { name: app.name, version: '1.0.0', status: 'created' },
      { name: base.name, version: '1.0.0', status: 'created' },
    ]);
    const record = await manager.getChangeset(out.id as string);
    expect(record).toMatchObject({ actor: 'token:ci', message: 'together', revision: head + 2 });
    expect((await store.getComponent(app.name, '1.0.0'))?.published_by).toBe('token:ci');
    expect((await refusal(manager.getChangeset('nope'))).code).toBe('changeset_not_found');
  });

  it('judges each member against its predecessor and answers every result in input order, writing nothing', async () => {
    const { store, manager } = setUp();
    const name = randomName();
    await manager.createComponent(makeSpec({ name }));
    const breaking = makeSpec({ name, version: '1.1.0', outputs: [] });
    const fine = makeSpec();
    const head = await store.headSequence();
    const err = await refusal(manager.createChangeset([fine, breaking]));
    expect(err.code).toBe('validation_failed');
    const results = err.extensions['results'] as { name: string; valid: boolean; errors: { code: string }[] }[];
    expect(results.map((r) => [r.name, r.valid])).toEqual([
      [fine.name, true],
      [name, false],
    ]);
    expect(results[1]?.errors.map((e) => e.code)).toContain('insufficient_version_bump');
    expect(await store.headSequence()).toBe(head);
    expect(await store.getComponentVersions(fine.name)).toEqual([]);
    // The dry run says the same and writes nothing either.
    const verdict = await manager.validateChangeset([fine, breaking]);
    expect(verdict.valid).toBe(false);
    expect(verdict.results.map((r) => r.valid)).toEqual([true, false]);
    expect(await store.headSequence()).toBe(head);
  });

  it('compares a member with the versions of its name the set adds', async () => {
    const { manager } = setUp();
    const name = randomName();
    const v1 = makeSpec({ name });
    const v2 = makeSpec({ name, version: '1.1.0', outputs: [] });
    const err = await refusal(manager.createChangeset([v1, v2]));
    const results = err.extensions['results'] as {
      valid: boolean;
      predecessor: string | null;
      errors: { code: string }[];
    }[];
    // Each sees the other: the lower one as the higher one's predecessor, the higher as a successor.
    expect(results.map((r) => r.valid)).toEqual([false, false]);
    expect(results[0]?.errors.map((e) => e.code)).toEqual(['insufficient_successor_bump']);
    expect(results[1]?.predecessor).toBe('1.0.0');
    expect((await manager.createChangeset([v1, makeSpec({ name, version: '2.0.0', outputs: [] })])).items).toHaveLength(
      2,
    );
  });

  it('refuses members that depend on each other in a cycle, of two or of three', async () => {
    const { manager } = setUp();
    const [a, b, c] = [randomName('a'), randomName('b'), randomName('c')];
    const two = [makeSpec({ name: a, ...dependsOn(b) }), makeSpec({ name: b, ...dependsOn(a) })];
    const err2 = await refusal(manager.createChangeset(two));
    const r2 = err2.extensions['results'] as { errors: { code: string }[] }[];
    expect(r2.map((r) => r.errors.map((e) => e.code))).toEqual([['dependency_cycle'], ['dependency_cycle']]);
    const three = [
      makeSpec({ name: a, ...dependsOn(b) }),
      makeSpec({ name: b, ...dependsOn(c) }),
      makeSpec({ name: c, ...dependsOn(a) }),
    ];
    const err3 = await refusal(manager.createChangeset(three));
    const r3 = err3.extensions['results'] as { errors: { code: string; details?: { cycle?: string[] } }[] }[];
    expect(r3.map((r) => r.errors.map((e) => e.code))).toEqual([
      ['dependency_cycle'],
      ['dependency_cycle'],
      ['dependency_cycle'],
    ]);
    expect(r3[0]?.errors[0]?.details?.cycle).toEqual([`${a}@1.0.0`, `${b}@1.0.0`, `${c}@1.0.0`, `${a}@1.0.0`]);
    // A chain without the loop is fine.
    const chain = [
      makeSpec({ name: a, ...dependsOn(b) }),
      makeSpec({ name: b, ...dependsOn(c) }),
      makeSpec({ name: c }),
    ];
    expect((await manager.createChangeset(chain)).items.map((i) => i.status)).toEqual([
      'created',
      'created',
      'created',
    ]);
  });

  it('refuses an empty set, a member given twice and too many members before reading anything', async () => {
    const { store, manager } = setUp();
    expect((await refusal(manager.createChangeset([]))).code).toBe('invalid_request');
    const spec = makeSpec();
    const twice = await refusal(manager.createChangeset([spec, makeSpec(), { ...spec }]));
    expect(twice.code).toBe('invalid_request');
    expect(twice.details).toMatchObject({ name: spec.name, version: spec.version, field: 'components[2]' });
    const many: ComponentSpec[] = Array.from({ length: 10_000 }, () => spec);
    const started = Date.now();
    const huge = await refusal(manager.createChangeset(many));
    expect(huge.code).toBe('changeset_too_large');
    expect(huge.details).toMatchObject({ members: 10_000, limit: MAX_CHANGESET_MEMBERS });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await store.headSequence()).toBe(0);
  });

  it('answers 409 naming the clashing member, and writes nothing when every member is published already', async () => {
    const { store, manager } = setUp();
    const spec = makeSpec();
    await manager.createComponent(spec);
    const other = makeSpec();
    const clash = await refusal(
      manager.createChangeset([other, { ...spec, description: 'other content' }], { actor: 'token:ci' }),
    );
    expect(clash.code).toBe('version_conflict');
    expect(clash.details).toMatchObject({ name: spec.name, version: spec.version });
    expect(await store.getComponentVersions(other.name)).toEqual([]);
    const head = await store.headSequence();
    const same = await manager.createChangeset([spec]);
    expect(same).toEqual({
      id: null,
      revision: head,
      items: [{ name: spec.name, version: '1.0.0', status: 'unchanged' }],
    });
    expect(await store.headSequence()).toBe(head);
  });
});
