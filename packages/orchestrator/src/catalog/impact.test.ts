import { type ComponentSpec, NestorError, type ValidationResult } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { LogFollower } from '../events/log-follower.js';
import { silentLogger } from '../observability/logging/logger.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../storage/testing.js';
import { makeSpec } from '../validation/testing.js';
import { ImpactAnnotatingValidator, ImpactIndex, ImpactService } from './impact.js';

/** A store whose dependents reads are counted. */
class CountingStore extends MemoryStore {
  dependentReads = 0;
  override async getDependents(name: string) {
    this.dependentReads++;
    return super.getDependents(name);
  }
}

function setUp() {
  const store = new CountingStore();
  const index = new ImpactIndex({ source: store });
  const follower = new LogFollower({ log: store, consumer: index, logger: silentLogger, position: 0 });
  index.attach(follower);
  return { store, index, follower };
}

const dependsOn = (target: string, range = '^1.0.0', name = randomName()) =>
  makeComponent({ name, dependencies: [{ name: target, version_range: range }] });

describe('ImpactIndex', () => {
  it('reads a name once, then advances it from the log without reading the store again', async () => {
    const { store, index } = setUp();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    const first = dependsOn(target, '^1.0.0', 'b-first');
    await store.createComponent(first);
    expect((await index.dependents(target)).map((d) => d.name)).toEqual(['b-first']);
    await store.createComponent(dependsOn(target, '*', 'a-second'));
    await store.createComponent(dependsOn(target, '*', 'c-third'));
    expect(await index.dependents(target)).toEqual([
      { name: 'a-second', version: '1.0.0', version_range: '*' },
      { name: 'b-first', version: '1.0.0', version_range: '^1.0.0' },
      { name: 'c-third', version: '1.0.0', version_range: '*' },
    ]);
    expect(store.dependentReads).toBe(1);
  });

  it('keeps a long dependents list in name-then-version order whatever order the events come in', async () => {
    const { store, index } = setUp();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    await index.dependents(target);
    const names = ['m', 'c', 'x', 'a', 'q', 'c', 'k', 'z', 'b', 'm'];
    const versions = ['1.0.0', '1.10.0', '1.0.0', '1.0.0', '1.0.0', '1.2.0', '1.0.0', '1.0.0', '1.0.0', '1.0.1'];
    for (const [i, name] of names.entries()) {
      await store.createComponent(
        makeComponent({
          name: `dep-${name}`,
          version: versions[i],
          dependencies: [{ name: target, version_range: '*' }],
        }),
      );
    }
    expect((await index.dependents(target)).map((d) => `${d.name}@${d.version}`)).toEqual([
      'dep-a@1.0.0',
      'dep-b@1.0.0',
      'dep-c@1.2.0',
      'dep-c@1.10.0',
      'dep-k@1.0.0',
      'dep-m@1.0.0',
      'dep-m@1.0.1',
      'dep-q@1.0.0',
      'dep-x@1.0.0',
      'dep-z@1.0.0',
    ]);
    expect(store.dependentReads).toBe(1);
  });

  it('does not list a dependent twice when its load already saw the write the log then replays', async () => {
    const { store, index } = setUp();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    const outcome = await store.createComponent(dependsOn(target));
    // The read happens before the index applied the event (no waiter: it does not catch up first).
    const detached = new ImpactIndex({ source: store });
    expect(await detached.dependents(target)).toHaveLength(1);
    detached.onEvents([outcome.event!]);
    expect(await detached.dependents(target)).toHaveLength(1);
    expect(await index.dependents(target)).toHaveLength(1);
  });

  it('does not keep a load that an event of the same name overtook', async () => {
    const store = new CountingStore();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let readDone!: () => void;
    const read = new Promise<void>((r) => {
      readDone = r;
    });
    const slow = Object.assign(Object.create(store) as CountingStore, {
      getDependents: async (name: string) => {
        const found = await store.getDependents(name);
        readDone();
        await gate;
        return found;
      },
    });
    const index = new ImpactIndex({ source: slow });
    const loading = index.dependents(target);
    await read;
    const late = await store.createComponent(dependsOn(target));
    index.onEvents([late.event!]);
    release();
    expect(await loading).toHaveLength(0);
    expect(await index.dependents(target)).toHaveLength(1);
  });

  it('forgets everything on reset and reads again', async () => {
    const { store, index } = setUp();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    await index.dependents(target);
    index.onReset();
    await index.dependents(target);
    expect(store.dependentReads).toBe(2);
  });
});

describe('ImpactService.summary', () => {
  it('answers zero for a name or version validation rejects, without reading or caching it', async () => {
    const { store, index } = setUp();
    const service = new ImpactService({ index });
    const none = { accepted: 0, rejected: 0, first_accepted: [], first_rejected: [] };
    expect(await service.summary('x'.repeat(100_000), '1.0.0')).toEqual(none);
    expect(await service.summary('Bad_Name', '1.0.0')).toEqual(none);
    expect(await service.summary('fine', 'v1')).toEqual(none);
    expect(store.dependentReads).toBe(0);
  });
});

describe('ImpactService.resolve', () => {
  it('gives up with resolution_too_complex once its step budget is spent', async () => {
    const { store, index } = setUp();
    const wide = randomName('wide');
    const other = randomName('other');
    const missing = randomName('gone');
    await store.createComponent(makeComponent({ name: missing }));
    for (let i = 0; i < 20; i++) {
      await store.createComponent(makeComponent({ name: wide, version: `1.${i}.0` }));
      await store.createComponent(
        makeComponent({ name: other, version: `1.${i}.0`, dependencies: [{ name: missing, version_range: '^9.0.0' }] }),
      );
    }
    const service = new ImpactService({ index, stepBudget: 50 });
    const request = [
      { name: wide, range: '*', from: 'request' },
      { name: other, range: '*', from: 'request' },
    ];
    const err = await service.resolve(request, false).catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'resolution_too_complex')).toBe(true);
    const roomy = new ImpactService({ index });
    const failed = await roomy.resolve(request, false).catch((e: unknown) => e);
    expect(NestorError.hasCode(failed, 'resolution_failed')).toBe(true);
  });
});

describe('ImpactAnnotatingValidator', () => {
  it("annotates every verdict but a create's valid one, which nobody reads", async () => {
    const { store, index } = setUp();
    const target = randomName('vpc');
    await store.createComponent(makeComponent({ name: target }));
    await store.createComponent(dependsOn(target));
    const verdicts = [true, false];
    const inner = {
      validate: async (spec: ComponentSpec) => ({ ...publishedVerdict(spec), valid: verdicts.shift() ?? true }),
    };
    const validator = new ImpactAnnotatingValidator({ inner, impact: new ImpactService({ index }) });
    const spec = makeSpec({ name: target, version: '1.1.0' });
    expect((await validator.validate(spec, { forWrite: true })).impact).toBeUndefined();
    expect((await validator.validate(spec, { forWrite: true })).impact?.accepted).toBe(1);
    expect((await validator.validate(spec)).impact?.accepted).toBe(1);
  });
});

function publishedVerdict(spec: ComponentSpec): ValidationResult {
  return {
    valid: true,
    name: spec.name,
    version: spec.version,
    digest: 'sha256:x',
    errors: [],
    warnings: [],
    required_bump: 'none',
    changes: [],
    predecessor: null,
    successor: null,
  };
}
