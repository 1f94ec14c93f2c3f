import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { type ComponentSpecInput, normalizeSpec } from './component.js';
import { computeDigest } from './digest.js';

/** Rebuilds a JSON value with every object's keys in a shuffled order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i + 1));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  let s = seed;
  for (let i = entries.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
  }
  return Object.fromEntries(entries.map(([k, v], i) => [k, shuffleKeys(v, seed + i + 7)]));
}

const json = fc.jsonValue({ maxDepth: 4 });

const spec: ComponentSpecInput = {
  name: 'aws-rds-postgres',
  version: '2.3.0',
  description: 'Managed PostgreSQL',
  provider: 'aws',
  category: 'database',
  resource_type: 'postgresql',
  deployment_engines: ['terraform', 'crossplane'],
  dependencies: [{ name: 'aws-vpc', version_range: '^1.0.0' }],
  required_inputs: [{ name: 'instance_class', type: 'string', description: 'size' }],
  optional_inputs: [{ name: 'storage_gb', type: 'number', default: 20 }],
  outputs: [{ name: 'endpoint', type: 'string', sensitive: false }],
  maturity: 'beta',
  support_level: 'community',
  resource_limits: { cpu: '500m', memory: '1Gi' },
  labels: { team: 'data' },
  annotations: { 'docs.io/url': 'https://example.com' },
};

describe('canonicalJson', () => {
  it('does not depend on key order', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('is valid JSON that parses back to an equal value', () => {
    fc.assert(
      fc.property(json, (value) => {
        // Equal as JSON sees it: JSON has no negative zero, so -0 reads back as 0.
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('sorts keys, drops undefined members and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x y' }], e: undefined })).toBe(
      '{"a":[1,{"c":"x y"}],"b":1}',
    );
    expect(canonicalJson([undefined, Number.NaN, 1.5])).toBe('[null,null,1.5]');
  });
});

describe('computeDigest', () => {
  it('is a sha256 and stable across key order', () => {
    const digest = computeDigest(normalizeSpec(spec));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const shuffled = shuffleKeys(spec, seed) as ComponentSpecInput;
        expect(computeDigest(normalizeSpec(shuffled))).toBe(digest);
      }),
      { numRuns: 200 },
    );
  });

  it('treats omitted and empty optional fields alike', () => {
    const minimal: ComponentSpecInput = {
      name: 'x',
      version: '1.0.0',
      provider: 'aws',
      category: 'c',
      resource_type: 'r',
    };
    const explicit: ComponentSpecInput = {
      ...minimal,
      description: '',
      deployment_engines: [],
      dependencies: [],
      required_inputs: [],
      optional_inputs: [],
      outputs: [],
      resource_limits: {},
    };
    expect(computeDigest(normalizeSpec(explicit))).toBe(computeDigest(normalizeSpec(minimal)));
  });

  it('excludes the mutable fields', () => {
    const digest = computeDigest(normalizeSpec(spec));
    const mutated = normalizeSpec({
      ...spec,
      labels: { other: 'labels' },
      annotations: {},
      maturity: 'stable',
      support_level: 'supported',
      git_repository: 'https://example.com/repo.git',
      git_commit: 'abc123',
      git_path: 'components/x/component.yaml',
    });
    expect(computeDigest(mutated)).toBe(digest);
  });

  it('changes with every content field', () => {
    const digest = computeDigest(normalizeSpec(spec));
    const changes: Partial<ComponentSpecInput>[] = [
      { name: 'aws-rds-postgres2' },
      { version: '2.3.1' },
      { description: 'other' },
      { provider: 'gcp' },
      { category: 'storage' },
      { resource_type: 'mysql' },
      { deployment_engines: ['crossplane', 'terraform'] },
      { dependencies: [{ name: 'aws-vpc', version_range: '^2.0.0' }] },
      { required_inputs: [{ name: 'instance_class', type: 'number', description: 'size' }] },
      { optional_inputs: [{ name: 'storage_gb', type: 'number', default: 21 }] },
      { outputs: [{ name: 'endpoint', type: 'string', sensitive: true }] },
      { resource_limits: { cpu: '1', memory: '1Gi' } },
    ];
    const seen = new Set([digest]);
    for (const change of changes) {
      const other = computeDigest(normalizeSpec({ ...spec, ...change }));
      expect(seen.has(other), JSON.stringify(change)).toBe(false);
      seen.add(other);
    }
  });
});
