// Validation benchmarks (issue 3 targets), in-process against a seeded SQLite catalog:
// - full validation of a component with 5 dependencies against N components: p99 <= 2 ms uncached
//   (no verdict or content cache: every rule runs; state reads go through the catalog index, which
//   follows the log and keeps recently asked names' versions, as in a running server)
// - the same, cached: p99 <= 0.2 ms
// The baseline is the bare cost of hashing the same component (canonical JSON + sha256).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../packages/orchestrator/dist/config/config.js';
import { buildCatalogCore } from '../packages/orchestrator/dist/core.js';
import { StaticEngineReader } from '../packages/orchestrator/dist/engines/static-reader.js';
import { silentLogger } from '../packages/orchestrator/dist/observability/logging/logger.js';
import { noopMetrics } from '../packages/orchestrator/dist/observability/metrics/metrics.js';
import { createValidator } from '../packages/orchestrator/dist/validation/validator.js';
import { computeDigest } from '../packages/sdk/dist/index.js';
import { percentile } from './lib.js';
import { seedSpecs } from './servers/seed.js';

async function time(iterations, fn) {
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

export async function benchValidation({ components = 10_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-validation-'));
  // The catalog as the server wires it, on SQLite, without the caches: the figures are for validation.
  const config = defaultConfig();
  config.store = { ...config.store, type: 'sqlite', path: join(dir, 'nestor.db') };
  config.cache = { ...config.cache, enabled: false };
  config.validation = { ...config.validation, cache_size: 0 };
  config.examples = { ...config.examples, enabled: false };
  const engines = new StaticEngineReader([]);
  const core = await buildCatalogCore(config, { logger: silentLogger, engines, env: {} });
  const { baseStore: store, manager } = core;
  // The validators measured side by side, over the same store and engines as the core's.
  const make = (cacheSize) =>
    createValidator({
      reader: store,
      engines,
      unhealthyEngine: 'error',
      cacheSize,
      metrics: noopMetrics,
      logger: silentLogger,
    });
  const specs = seedSpecs(components);
  const started = process.hrtime.bigint();
  for (const spec of specs) await manager.createComponent(spec);
  const createPerSecond = components / (Number(process.hrtime.bigint() - started) / 1e9);

  const candidate = (i) => ({ ...specs[components - 1], name: 'bench-candidate', description: `variant ${i}` });
  const uncachedValidator = make(0);
  const cachedValidator = make(10_000);
  const first = await uncachedValidator.validate(candidate(0));
  if (!first.valid) throw new Error(`candidate is invalid: ${JSON.stringify(first.errors)}`);

  const iterations = 5_000;
  await time(500, (i) => uncachedValidator.validate(candidate(i)));
  const baseline = await time(iterations, (i) => computeDigest(candidate(i)));
  const uncached = await time(iterations, (i) => uncachedValidator.validate(candidate(i)));
  const fixed = candidate(0);
  await cachedValidator.validate(fixed);
  const cached = await time(iterations, () => cachedValidator.validate(fixed));
  await core.close();
  rmSync(dir, { recursive: true, force: true });

  return {
    title: `Validation of a component with 5 dependencies against ${components} components (SQLite)`,
    rows: [
      { name: 'baseline: canonical JSON + sha256', ...baseline },
      { name: 'full validation, uncached (every rule runs)', ...uncached, target: 'p99 <= 2 ms' },
      { name: 'full validation, cached verdict', ...cached, target: 'p99 <= 0.2 ms' },
    ],
    extra: [
      { name: 'uncached p99 / baseline p99', value: (uncached.p99 / baseline.p99).toFixed(1) },
      {
        name: `create with full validation (${components})`,
        value: `${Math.round(createPerSecond)}/s`,
        target: '>= 2000/s',
      },
    ],
    pass: uncached.p99 <= 2 && cached.p99 <= 0.2 && createPerSecond >= 2000,
  };
}
