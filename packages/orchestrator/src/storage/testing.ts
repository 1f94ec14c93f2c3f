import { randomBytes } from 'node:crypto';
import { type ComponentSpecInput, computeDigest, type DeploymentEngine, normalizeSpec } from '@nestor/sdk';
import type { NewComponent } from './interfaces.js';

/**
 * Builders for tests of anything that reads or writes a store. They live beside the stores (not in
 * a test file) so that other packages' tests can import them.
 */

/** A fresh valid component name, unique per call: `<prefix>-<8 hex>`. */
export function randomName(prefix = 'comp'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A valid, normalised component with its digest. Defaults describe an AWS PostgreSQL database
 * deployed with terraform; `overrides` replace whole fields.
 */
export function makeComponent(overrides: Partial<ComponentSpecInput> = {}): NewComponent {
  const spec = normalizeSpec({
    name: randomName(),
    version: '1.0.0',
    description: 'A managed relational database',
    provider: 'aws',
    category: 'database',
    resource_type: 'postgresql',
    deployment_engines: ['terraform'],
    required_inputs: [{ name: 'instance_class', type: 'string', description: 'Instance size' }],
    optional_inputs: [{ name: 'storage_gb', type: 'number', description: 'Disk size', default: 20 }],
    outputs: [{ name: 'endpoint', type: 'string', description: 'Connection endpoint' }],
    maturity: 'stable',
    support_level: 'supported',
    ...overrides,
  });
  return { ...spec, digest: computeDigest(spec) };
}

/** A registered engine that was never probed. */
export function makeEngine(overrides: Partial<DeploymentEngine> = {}): DeploymentEngine {
  return {
    name: randomName('engine'),
    type: 'terraform',
    endpoint: 'http://127.0.0.1:9000',
    health_path: '/healthz',
    health: 'unknown',
    last_checked: null,
    last_latency_ms: null,
    consecutive_failures: 0,
    message: null,
    labels: {},
    origin: 'api',
    missing: false,
    interval_ms: 10_000,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    ...overrides,
  };
}
