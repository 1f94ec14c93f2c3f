import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { makeSpec, stateContext, TestEngines } from '../testing.js';
import { enginesRule } from './engines.js';

async function run(engines: TestEngines, names: string[], unhealthyEngine: 'error' | 'warn' = 'error') {
  const spec = makeSpec({ deployment_engines: names });
  return enginesRule({ unhealthyEngine }).check(await stateContext(spec, new MemoryStore(), engines));
}
const summary = (o: { errors: { code: string }[]; warnings: { code: string }[] }) => ({
  errors: o.errors.map((e) => e.code),
  warnings: o.warnings.map((w) => w.code),
});

describe('engines rule', () => {
  const engines = new TestEngines();
  engines.put('terraform', 'healthy');
  engines.put('pulumi', 'unhealthy');
  engines.put('crossplane', 'unknown');
  engines.put('gone', 'healthy', { missing: true });

  it('accepts a registered healthy engine', async () => {
    expect(summary(await run(engines, ['terraform']))).toEqual({ errors: [], warnings: [] });
  });

  it('rejects an unknown engine and an unhealthy one', async () => {
    const outcome = await run(engines, ['terraform', 'nomad', 'pulumi']);
    expect(outcome.errors.map((e) => [e.code, e.field])).toEqual([
      ['engine_not_found', 'deployment_engines[1]'],
      ['engine_unhealthy', 'deployment_engines[2]'],
    ]);
  });

  it('only warns about an unhealthy engine when configured to', async () => {
    expect(summary(await run(engines, ['pulumi', 'gone'], 'warn'))).toEqual({
      errors: [],
      warnings: ['engine_unhealthy', 'engine_missing'],
    });
    expect(summary(await run(engines, ['gone']))).toEqual({ errors: ['engine_missing'], warnings: [] });
  });

  it('accepts an engine of unknown health with a warning', async () => {
    expect(summary(await run(engines, ['crossplane']))).toEqual({ errors: [], warnings: ['engine_health_unknown'] });
  });

  it('warns when no engine is named', async () => {
    expect(summary(await run(engines, []))).toEqual({ errors: [], warnings: ['no_deployment_engine'] });
  });

  it('rejects duplicates and absurd lists', async () => {
    expect(summary(await run(engines, ['terraform', 'terraform'])).errors).toEqual(['duplicate_engine']);
    const many = Array.from({ length: 10_000 }, (_, i) => `e${i}`);
    expect(summary(await run(engines, many)).errors).toEqual(['too_many_engines']);
  });
});
