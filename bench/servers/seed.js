// Deterministic realistic component specs for benchmarks: a few bases that others depend on.
import { normalizeSpec } from '../../packages/sdk/dist/index.js';

const PROVIDERS = ['aws', 'gcp', 'azure', 'k8s'];
const CATEGORIES = ['database', 'compute', 'storage', 'network', 'messaging'];
const WORDS = ['postgres', 'redis', 'bucket', 'cluster', 'queue', 'gateway', 'vault', 'cache', 'stream', 'mesh'];

/** `count` specs: names `bench-<i>`, 5 base components first so others can depend on them. */
export function seedSpecs(count) {
  const specs = [];
  for (let i = 0; i < count; i++) {
    const word = WORDS[i % WORDS.length];
    const deps = i >= 5 ? [0, 1, 2, 3, 4].map((b) => ({ name: `bench-${b}`, version_range: '^1.0.0' })) : [];
    specs.push(
      normalizeSpec({
        name: `bench-${i}`,
        version: '1.0.0',
        description: `A ${word} component number ${i} for ${PROVIDERS[i % 4]} teams`,
        provider: PROVIDERS[i % 4],
        category: CATEGORIES[i % 5],
        resource_type: word,
        dependencies: deps,
        required_inputs: [{ name: 'size', type: 'string', description: 'Instance size' }],
        optional_inputs: [{ name: 'replicas', type: 'integer', default: 1 }],
        outputs: [{ name: 'endpoint', type: 'string' }],
        labels: { team: `team-${i % 20}`, tier: String(i % 3) },
      }),
    );
  }
  return specs;
}
