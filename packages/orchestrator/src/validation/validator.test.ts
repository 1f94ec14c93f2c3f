import { readFileSync } from 'node:fs';
import { CHANGE_KINDS, type ComponentSpec, computeDigest, normalizeSpec } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Counter, Histogram, Labels, Metrics } from '../observability/metrics/interfaces.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../storage/testing.js';
import { LruValidationCache } from './cache.js';
import { StoreCatalogState } from './catalog-state.js';
import { ISSUE_CODES } from './rules/common.js';
import { makeSpec, TestEngines } from './testing.js';
import { createValidator, defaultRules, fingerprint, RuleValidator } from './validator.js';

/** Records every counter increment and histogram observation, by name and labels. */
class RecordingMetrics implements Metrics {
  readonly counts = new Map<string, number>();
  readonly observations: { name: string; labels: Labels }[] = [];

  counter(name: string): Counter {
    return {
      inc: (labels: Labels = {}, value = 1) => {
        const key = `${name}${JSON.stringify(labels)}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + value);
      },
    };
  }
  histogram(name: string): Histogram {
    return { observe: (labels: Labels) => this.observations.push({ name, labels }) };
  }
  gauge() {
    return { set: () => {}, inc: () => {}, dec: () => {} };
  }
  observableGauge(): void {}
  count(name: string, labels: Labels): number {
    return this.counts.get(`${name}${JSON.stringify(labels)}`) ?? 0;
  }
}

function setup(opts: { cacheSize?: number; unhealthyEngine?: 'error' | 'warn' } = {}) {
  const store = new MemoryStore();
  const engines = new TestEngines();
  engines.put('terraform', 'healthy');
  const metrics = new RecordingMetrics();
  const validator = createValidator({
    reader: store,
    engines,
    unhealthyEngine: opts.unhealthyEngine ?? 'error',
    cacheSize: opts.cacheSize ?? 100,
    metrics,
  });
  return { store, engines, metrics, validator };
}

const HIT = 'nestor_validation_cache_hits_total';
const MISS = 'nestor_validation_cache_misses_total';

describe('validator', () => {
  it('passes a well-formed component and reports its digest', async () => {
    const { validator } = setup();
    const spec = makeSpec();
    const result = await validator.validate(spec);
    expect(result).toEqual({
      valid: true,
      name: spec.name,
      version: '1.0.0',
      digest: computeDigest(spec),
      errors: [],
      warnings: [],
      required_bump: 'none',
      changes: [],
      predecessor: null,
      successor: null,
    });
  });

  it('reports every rule finding at once, each with rule, code and field', async () => {
    const { validator } = setup();
    const result = await validator.validate(
      makeSpec({
        name: 'Bad_Name',
        version: 'v1.0',
        deployment_engines: ['nomad'],
        dependencies: [{ name: randomName('ghost'), version_range: '^1' }],
        required_inputs: [{ name: 'x', type: 'wobbly' }],
      }),
    );
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => [e.rule, e.code, e.field])).toEqual([
      ['metadata', 'invalid_name', 'name'],
      ['semver', 'invalid_version', 'version'],
      ['interface', 'unknown_type', 'required_inputs[0].type'],
      ['dependencies', 'dependency_not_found', 'dependencies[0].name'],
      ['engines', 'engine_not_found', 'deployment_engines[0]'],
    ]);
  });

  it('carries required_bump, changes and predecessor from the semver rule', async () => {
    const { validator, store } = setup();
    const first = makeComponent();
    await store.createComponent(first);
    const result = await validator.validate(makeSpec({ name: first.name, version: '1.1.0', outputs: [] }));
    expect(result).toMatchObject({ valid: false, required_bump: 'major', predecessor: '1.0.0' });
    expect(result.changes.map((c) => c.kind)).toEqual(['output_removed']);
  });

  it('never throws on random specs, however malformed', async () => {
    const { validator } = setup();
    const arbInput = fc.record({
      name: fc.string({ maxLength: 8 }),
      type: fc.oneof(fc.constantFrom('string', 'number', 'integer', 'list', 'secret'), fc.string({ maxLength: 6 })),
      default: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      enum: fc.option(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }), { nil: undefined }),
    });
    const arbSpec = fc
      .record({
        name: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('../../etc')),
        version: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('1.0.0', 'v1.0.0', '1.0.0+x', '1.0.0-rc.1')),
        provider: fc.string({ maxLength: 4 }),
        deps: fc.array(fc.record({ name: fc.string({ maxLength: 6 }), version_range: fc.string({ maxLength: 8 }) }), {
          maxLength: 4,
        }),
        engines: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
        required: fc.array(arbInput, { maxLength: 3 }),
        optional: fc.array(arbInput, { maxLength: 3 }),
      })
      .map((r) =>
        normalizeSpec({
          name: r.name,
          version: r.version,
          provider: r.provider,
          category: 'c',
          resource_type: 'r',
          dependencies: r.deps,
          deployment_engines: r.engines,
          required_inputs: r.required,
          optional_inputs: r.optional,
        }),
      );
    await fc.assert(
      fc.asyncProperty(arbSpec, async (spec) => {
        const result = await validator.validate(spec);
        expect(result.valid).toBe(result.errors.length === 0);
        for (const issue of [...result.errors, ...result.warnings]) {
          expect((ISSUE_CODES as Record<string, readonly string[]>)[issue.rule]).toContain(issue.code);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('validation cache: never a stale verdict', () => {
  it('answers a repeated validation from the cache, and a copy each time', async () => {
    const { validator, metrics } = setup();
    const spec = makeSpec();
    const first = await validator.validate(spec);
    first.errors.push({ rule: 'metadata', code: 'invalid_name', field: 'name', message: 'tampered' });
    const second = await validator.validate(spec);
    expect(metrics.count(HIT, { cache: 'verdict' })).toBe(1);
    expect(second.errors).toEqual([]);
  });

  it('a dependency published after a failed validation makes the same component valid', async () => {
    const { validator, store } = setup();
    const dep = randomName('vpc');
    const spec = makeSpec({ dependencies: [{ name: dep, version_range: '^1.0.0' }] });
    expect((await validator.validate(spec)).errors.map((e) => e.code)).toEqual(['dependency_not_found']);
    expect((await validator.validate(spec)).valid).toBe(false);
    await store.createComponent(makeComponent({ name: dep, provider: 'aws', resource_type: 'vpc' }));
    expect((await validator.validate(spec)).valid).toBe(true);
  });

  it('an engine turning unhealthy makes a previously valid verdict invalid', async () => {
    const { validator, engines } = setup();
    const spec = makeSpec({ deployment_engines: ['terraform'] });
    expect((await validator.validate(spec)).valid).toBe(true);
    engines.put('terraform', 'unhealthy');
    const after = await validator.validate(spec);
    expect(after.valid).toBe(false);
    expect(after.errors.map((e) => e.code)).toEqual(['engine_unhealthy']);
  });

  it('a new predecessor version changes the semver verdict', async () => {
    const { validator, store } = setup();
    const name = randomName();
    await store.createComponent(makeComponent({ name, version: '1.0.0' }));
    const spec = makeSpec({ name, version: '1.1.0' });
    expect(await validator.validate(spec)).toMatchObject({ valid: true, predecessor: '1.0.0' });
    await store.createComponent(makeComponent({ name, version: '1.0.1', required_inputs: [] }));
    const after = await validator.validate(spec);
    expect(after).toMatchObject({ valid: false, predecessor: '1.0.1', required_bump: 'major' });
  });

  it('a deprecation elsewhere is seen at once', async () => {
    const { validator, store } = setup();
    const dep = makeComponent({ name: randomName('vpc') });
    await store.createComponent(dep);
    const spec = makeSpec({ dependencies: [{ name: dep.name, version_range: '*' }] });
    expect((await validator.validate(spec)).warnings).toEqual([]);
    await store.updateComponent(dep.name, dep.version, { deprecated: { reason: 'gone' } });
    expect((await validator.validate(spec)).warnings.map((w) => w.code)).toEqual(['dependency_deprecated']);
  });

  it('keys verdicts by the whole spec: a label change with the same digest gives its own change list', async () => {
    const { validator, store } = setup();
    const first = makeComponent();
    await store.createComponent(first);
    const a = makeSpec({ name: first.name, version: '1.0.1', labels: {} });
    const b: ComponentSpec = { ...a, labels: { team: 'x' } };
    expect(computeDigest(a)).toBe(computeDigest(b));
    expect(fingerprint(a)).not.toBe(fingerprint(b));
    expect((await validator.validate(a)).changes).toEqual([]);
    expect((await validator.validate(b)).changes.map((c) => c.kind)).toEqual(['labels_changed']);
  });

  it('reuses content outcomes across catalog writes, and re-runs state rules', async () => {
    const { validator, store, metrics } = setup();
    const spec = makeSpec();
    await validator.validate(spec);
    await store.createComponent(makeComponent());
    await validator.validate(spec);
    expect(metrics.count(MISS, { cache: 'verdict' })).toBe(2);
    expect(metrics.count(HIT, { cache: 'content' })).toBe(1);
  });

  it('is bounded', async () => {
    const cache = new LruValidationCache({ maxEntries: 3 });
    const store = new MemoryStore();
    const validator = new RuleValidator({
      rules: defaultRules({ unhealthyEngine: 'error' }),
      state: new StoreCatalogState({ store, engines: new TestEngines() }),
      cache,
    });
    for (let i = 0; i < 20; i++) await validator.validate(makeSpec());
    expect(cache.size()).toBe(6);
  });

  it('does not remember a valid verdict for a write (the write moves its stamp), but a failed one', async () => {
    const { validator, metrics } = setup();
    const valid = makeSpec();
    await validator.validate(valid, { forWrite: true });
    await validator.validate(valid, { forWrite: true });
    expect(metrics.count(HIT, { cache: 'verdict' })).toBe(0);
    expect((await validator.validate(valid)).valid).toBe(true);
    const invalid = makeSpec({ dependencies: [{ name: randomName('vpc'), version_range: '^1.0.0' }] });
    expect((await validator.validate(invalid, { forWrite: true })).valid).toBe(false);
    const again = await validator.validate(invalid, { forWrite: true });
    expect(metrics.count(HIT, { cache: 'verdict' })).toBe(1);
    expect(again.errors.map((e) => e.code)).toEqual(['dependency_not_found']);
  });

  it('takes the digest the caller computed instead of hashing the spec again', async () => {
    const { validator } = setup();
    const spec = makeSpec();
    const result = await validator.validate(spec, { digest: 'sha256:given' });
    expect(result.digest).toBe('sha256:given');
    expect((await validator.validate(spec)).digest).toBe(computeDigest(spec));
  });

  it('judges every call afresh without a cache', async () => {
    const { validator, metrics } = setup({ cacheSize: 0 });
    const spec = makeSpec();
    await validator.validate(spec);
    await validator.validate(spec);
    expect(metrics.count(HIT, { cache: 'verdict' }) + metrics.count(MISS, { cache: 'verdict' })).toBe(0);
  });
});

describe('confusable names across compaction', () => {
  it('rebuilds the name index when the log it follows was compacted', async () => {
    const { validator, store } = setup();
    await validator.validate(makeSpec());
    const name = randomName('queue');
    await store.createComponent(makeComponent({ name }));
    await store.compactEvents(await store.headSequence());
    const result = await validator.validate(makeSpec({ name: name.replace('-', '') }));
    expect(result.errors.map((e) => e.code)).toEqual(['similar_name']);
  });

  it('follows the log incrementally between validations', async () => {
    const { validator, store } = setup();
    await validator.validate(makeSpec());
    const names = [randomName('topic'), randomName('topic')];
    for (const name of names) await store.createComponent(makeComponent({ name }));
    for (const name of names) {
      expect((await validator.validate(makeSpec({ name: name.replace('-', '') }))).errors.map((e) => e.code)).toEqual([
        'similar_name',
      ]);
    }
  });
});

describe('metrics', () => {
  it('records durations by rule, cache hits and misses, failures by code', async () => {
    const { validator, metrics } = setup();
    const spec = makeSpec({ version: 'v1.0.0' });
    await validator.validate(spec);
    await validator.validate(spec);
    const rules = new Set(
      metrics.observations.filter((o) => o.name === 'nestor_validation_duration_seconds').map((o) => o.labels.rule),
    );
    expect([...rules].sort()).toEqual([
      'all',
      'conflicts',
      'dependencies',
      'engines',
      'interface',
      'metadata',
      'semver',
    ]);
    expect(metrics.count(MISS, { cache: 'verdict' })).toBe(1);
    expect(metrics.count(HIT, { cache: 'verdict' })).toBe(1);
    expect(metrics.count('nestor_validation_failures_total', { rule: 'semver', code: 'invalid_version' })).toBe(2);
  });
});

describe('docs/validation.md', () => {
  const doc = readFileSync(new URL('../../../../docs/validation.md', import.meta.url), 'utf8');

  it('documents every rule code', () => {
    for (const [rule, codes] of Object.entries(ISSUE_CODES)) {
      for (const code of codes) expect(doc, `${rule}: ${code}`).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
    }
  });

  it('documents every change kind with its bump', () => {
    for (const [kind, bump] of Object.entries(CHANGE_KINDS)) {
      expect(doc, kind).toMatch(new RegExp(`\\|\\s*\`${kind}\`\\s*\\|\\s*${bump}\\s*\\|`));
    }
  });
});
