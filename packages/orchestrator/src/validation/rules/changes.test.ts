import {
  BUMP_ORDER,
  type Bump,
  CHANGE_KINDS,
  type ChangeKind,
  type ComponentSpec,
  type InputSpec,
  normalizeSpec,
  type VersionChange,
} from '@nestor/sdk';
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { bumpMade, diffComponents, requiredBump } from './changes.js';

const base: ComponentSpec = normalizeSpec({
  name: 'db',
  version: '1.0.0',
  description: 'A database',
  provider: 'aws',
  category: 'database',
  resource_type: 'postgresql',
  deployment_engines: ['terraform', 'pulumi'],
  dependencies: [{ name: 'vpc', version_range: '^1.0.0' }],
  required_inputs: [{ name: 'size', type: 'string', description: 'Instance size' }],
  optional_inputs: [
    { name: 'port', type: 'integer' },
    { name: 'tier', type: 'string', enum: ['gp2', 'gp3'], default: 'gp2' },
  ],
  outputs: [{ name: 'endpoint', type: 'string', description: 'Host' }],
  resource_limits: { cpu: '1' },
  labels: { team: 'data' },
  annotations: { owner: 'ops' },
});

const edit = (change: (s: ComponentSpec) => void): ComponentSpec => {
  const next = structuredClone(base);
  change(next);
  return next;
};

const input = (s: ComponentSpec, name: string): InputSpec => {
  const found = [...s.required_inputs, ...s.optional_inputs].find((i) => i.name === name);
  if (!found) throw new Error(`no input ${name}`);
  return found;
};

/** [what, next version made from base, kinds base→next, kinds next→base]. */
const cases: [string, ComponentSpec, ChangeKind[], ChangeKind[]][] = [
  ['remove an output', edit((s) => (s.outputs = [])), ['output_removed'], ['output_added']],
  ['retype an output', edit((s) => (s.outputs[0]!.type = 'number')), ['output_type_changed'], ['output_type_changed']],
  ['remove an optional input', edit((s) => s.optional_inputs.shift()), ['input_removed'], ['optional_input_added']],
  ['remove a required input', edit((s) => (s.required_inputs = [])), ['input_removed'], ['required_input_added']],
  ['retype an input', edit((s) => (input(s, 'size').type = 'number')), ['input_type_changed'], ['input_type_changed']],
  [
    'add a required input',
    edit((s) => s.required_inputs.push({ name: 'zone', type: 'string' })),
    ['required_input_added'],
    ['input_removed'],
  ],
  [
    'make an optional input required',
    edit((s) => s.required_inputs.push(s.optional_inputs.shift()!)),
    ['input_made_required'],
    ['input_made_optional'],
  ],
  ['change the provider', edit((s) => (s.provider = 'gcp')), ['provider_changed'], ['provider_changed']],
  [
    'change the resource type',
    edit((s) => (s.resource_type = 'mysql')),
    ['resource_type_changed'],
    ['resource_type_changed'],
  ],
  ['remove an engine', edit((s) => s.deployment_engines.pop()), ['engine_removed'], ['engine_added']],
  ['widen an enum', edit((s) => input(s, 'tier').enum!.push('io1')), ['enum_widened'], ['enum_narrowed']],
  ['drop an enum', edit((s) => delete input(s, 'tier').enum), ['enum_widened'], ['enum_narrowed']],
  [
    'swap enum values',
    edit((s) => (input(s, 'tier').enum = ['gp2', 'io1'])),
    ['enum_narrowed', 'enum_widened'],
    ['enum_narrowed', 'enum_widened'],
  ],
  [
    'change the description',
    edit((s) => (s.description = 'Another')),
    ['description_changed'],
    ['description_changed'],
  ],
  [
    'change an input description',
    edit((s) => (input(s, 'size').description = 'Size')),
    ['description_changed'],
    ['description_changed'],
  ],
  [
    'change an output description',
    edit((s) => (s.outputs[0]!.description = 'DNS name')),
    ['description_changed'],
    ['description_changed'],
  ],
  ['change the category', edit((s) => (s.category = 'storage')), ['category_changed'], ['category_changed']],
  ['change a default', edit((s) => (input(s, 'tier').default = 'gp3')), ['default_changed'], ['default_changed']],
  [
    'flag an output sensitive',
    edit((s) => (s.outputs[0]!.sensitive = true)),
    ['sensitivity_changed'],
    ['sensitivity_changed'],
  ],
  [
    'flag an input sensitive',
    edit((s) => (input(s, 'size').sensitive = true)),
    ['sensitivity_changed'],
    ['sensitivity_changed'],
  ],
  [
    'add a dependency',
    edit((s) => s.dependencies.push({ name: 'dns', version_range: '*' })),
    ['dependency_added'],
    ['dependency_removed'],
  ],
  [
    'change a dependency range',
    edit((s) => (s.dependencies[0]!.version_range = '^2.0.0')),
    ['dependency_range_changed'],
    ['dependency_range_changed'],
  ],
  [
    'change resource limits',
    edit((s) => (s.resource_limits = { cpu: '2', memory: '1Gi' })),
    ['resource_limits_changed'],
    ['resource_limits_changed'],
  ],
  ['change labels', edit((s) => (s.labels = { team: 'platform' })), ['labels_changed'], ['labels_changed']],
  ['change annotations', edit((s) => (s.annotations = {})), ['annotations_changed'], ['annotations_changed']],
];

const kinds = (changes: VersionChange[]) => changes.map((c) => c.kind).sort();
const maxBump = (ks: ChangeKind[]): Bump =>
  ks.reduce<Bump>((acc, k) => (BUMP_ORDER[CHANGE_KINDS[k]] > BUMP_ORDER[acc] ? CHANGE_KINDS[k] : acc), 'none');

describe('diffComponents', () => {
  it('finds nothing between a version and itself', () => {
    expect(diffComponents(base, structuredClone(base))).toEqual([]);
    expect(requiredBump([])).toBe('none');
  });

  for (const [what, next, forward, backward] of cases) {
    it(`${what}: ${forward.join('+')} forwards, ${backward.join('+')} backwards`, () => {
      const there = diffComponents(base, next);
      expect(kinds(there)).toEqual([...forward].sort());
      expect(requiredBump(there)).toBe(maxBump(forward));
      for (const c of there) expect(c.bump).toBe(CHANGE_KINDS[c.kind as ChangeKind]);
      const back = diffComponents(next, base);
      expect(kinds(back)).toEqual([...backward].sort());
      expect(requiredBump(back)).toBe(maxBump(backward));
    });
  }

  it('covers every change kind in the table', () => {
    const covered = new Set(cases.flatMap(([, , f, b]) => [...f, ...b]));
    expect([...covered].sort()).toEqual(Object.keys(CHANGE_KINDS).sort());
  });

  it('reports paths into the version that has the thing', () => {
    const removed = diffComponents(base, cases[0]![1]);
    expect(removed[0]!.path).toBe('outputs[0]');
    const retyped = diffComponents(base, cases[4]![1]);
    expect(retyped[0]!.path).toBe('required_inputs[0].type');
  });

  it('combines a retype and a move of the same input', () => {
    const next = edit((s) => {
      const port = s.optional_inputs.shift()!;
      s.required_inputs.push({ ...port, type: 'string' });
    });
    expect(kinds(diffComponents(base, next))).toEqual(['input_made_required', 'input_type_changed']);
  });
});

describe('bumpMade', () => {
  const cases: [string, string, Bump][] = [
    ['1.2.3', '2.0.0', 'major'],
    ['1.2.3', '1.3.0', 'minor'],
    ['1.2.3', '1.2.4', 'patch'],
    ['1.0.0-rc.1', '1.0.0', 'major'],
    ['1.1.0-rc.1', '1.1.0', 'minor'],
    ['1.1.1-rc.1', '1.1.1', 'patch'],
    ['1.0.0-rc.1', '1.0.0-rc.2', 'none'],
    ['1.0.0', '1.0.1-rc.1', 'patch'],
    ['1.0.0', '2.0.0-alpha', 'major'],
    ['0.1.0', '0.2.0', 'minor'],
  ];
  for (const [from, to, bump] of cases) {
    it(`${from} → ${to} is ${bump}`, () => {
      expect(bumpMade(new semver.SemVer(from), new semver.SemVer(to))).toBe(bump);
    });
  }
});

const NAMES = ['a', 'b', 'c', 'd'];
const TYPES = ['string', 'number', 'integer', 'boolean', 'list', 'secret'];
const arbInput = fc.record(
  {
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom(...TYPES),
    enum: fc.option(fc.uniqueArray(fc.constantFrom('x', 'y', 'z'), { minLength: 1 }), { nil: undefined }),
    sensitive: fc.option(fc.boolean(), { nil: undefined }),
  },
  { requiredKeys: ['name', 'type'] },
);
const arbSpec = fc
  .record({
    required: fc.array(arbInput, { maxLength: 4 }),
    optional: fc.array(arbInput, { maxLength: 4 }),
    outputs: fc.array(fc.record({ name: fc.constantFrom(...NAMES), type: fc.constantFrom(...TYPES) }), {
      maxLength: 4,
    }),
    engines: fc.subarray(['terraform', 'pulumi', 'crossplane']),
    provider: fc.constantFrom('aws', 'gcp'),
    description: fc.constantFrom('one', 'two'),
  })
  .map((r) =>
    normalizeSpec({
      name: 'p',
      version: '1.0.0',
      provider: r.provider,
      category: 'c',
      resource_type: 'r',
      description: r.description,
      deployment_engines: r.engines,
      required_inputs: r.required,
      optional_inputs: r.optional,
      outputs: r.outputs,
    }),
  );
const inputNames = (s: ComponentSpec) => new Set([...s.required_inputs, ...s.optional_inputs].map((i) => i.name));

type Mutation = [op: number, pick: number, name: string];
const arbMutations = fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(), fc.constantFrom(...NAMES, 'e', 'f')), {
  maxLength: 3,
});

/** A next version made by a few random edits of `prev`: most pairs then differ a little, as real ones do. */
function mutate(prev: ComponentSpec, mutations: Mutation[]): ComponentSpec {
  const next = structuredClone(prev);
  const inputs = () => [...next.required_inputs, ...next.optional_inputs];
  for (const [op, pick, name] of mutations) {
    const anInput = inputs()[pick % Math.max(1, inputs().length)];
    const anOutput = next.outputs[pick % Math.max(1, next.outputs.length)];
    switch (op) {
      case 0:
        next.required_inputs = next.required_inputs.filter((i) => i !== anInput);
        next.optional_inputs = next.optional_inputs.filter((i) => i !== anInput);
        break;
      case 1:
        next.outputs = next.outputs.filter((o) => o !== anOutput);
        break;
      case 2:
        next.optional_inputs.push({ name, type: 'string' });
        break;
      case 3:
        next.outputs.push({ name, type: 'string' });
        break;
      case 4:
        if (anInput) anInput.type = TYPES[pick % TYPES.length]!;
        break;
      case 5:
        if (anOutput) anOutput.sensitive = !anOutput.sensitive;
        break;
      case 6:
        next.description = `${next.description}!`;
        break;
      case 7:
        if (anInput) anInput.description = name;
        break;
      case 8:
        if (anInput) anInput.enum = pick % 2 === 0 ? undefined : ['x'];
        break;
      default:
        next.labels = { ...next.labels, [name]: 'v' };
    }
  }
  return next;
}

describe('change properties', () => {
  it('a change set that needs at most a patch never removes an input or an output', () => {
    let patchOnly = 0;
    fc.assert(
      fc.property(arbSpec, arbMutations, (prev, mutations) => {
        const next = mutate(prev, mutations);
        const bump = requiredBump(diffComponents(prev, next));
        if (BUMP_ORDER[bump] > BUMP_ORDER.patch) return;
        patchOnly += 1;
        const after = inputNames(next);
        for (const name of inputNames(prev)) expect(after.has(name)).toBe(true);
        const outputs = new Set(next.outputs.map((o) => o.name));
        for (const o of prev.outputs) expect(outputs.has(o.name)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(patchOnly).toBeGreaterThan(20);
  });

  it('removing an input or output always requires a major bump', () => {
    fc.assert(
      fc.property(arbSpec, arbMutations, (prev, mutations) => {
        const next = mutate(prev, mutations);
        const lost =
          [...inputNames(prev)].some((n) => !inputNames(next).has(n)) ||
          prev.outputs.some((o) => !next.outputs.some((p) => p.name === o.name));
        if (lost) expect(requiredBump(diffComponents(prev, next))).toBe('major');
      }),
      { numRuns: 300 },
    );
  });

  it('required_bump is monotone: adding changes never lowers it', () => {
    const arbChange = fc
      .constantFrom(...(Object.keys(CHANGE_KINDS) as ChangeKind[]))
      .map((kind): VersionChange => ({ kind, path: kind, bump: CHANGE_KINDS[kind], message: kind }));
    fc.assert(
      fc.property(fc.array(arbChange), fc.array(arbChange), (some, more) => {
        expect(BUMP_ORDER[requiredBump([...some, ...more])]).toBeGreaterThanOrEqual(BUMP_ORDER[requiredBump(some)]);
        expect(requiredBump([...some, ...more])).toBe(requiredBump([...more, ...some]));
      }),
    );
  });

  it('the diff of a version with itself is empty, whatever it holds', () => {
    fc.assert(
      fc.property(arbSpec, (spec) => {
        expect(diffComponents(spec, structuredClone(spec))).toEqual([]);
      }),
    );
  });
});
