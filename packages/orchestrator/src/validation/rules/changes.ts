import {
  BUMP_ORDER,
  type Bump,
  CHANGE_KINDS,
  type ChangeKind,
  type ComponentSpec,
  canonicalJson,
  type InputSpec,
  type OutputSpec,
  type VersionChange,
} from '@nestor/sdk';

interface PlacedInput {
  input: InputSpec;
  required: boolean;
  path: string;
}

const change = (kind: ChangeKind, path: string, message: string): VersionChange => ({
  kind,
  path,
  bump: CHANGE_KINDS[kind],
  message,
});

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

// First occurrence wins: duplicates are the interface rule's business, not a change.
function inputsOf(spec: ComponentSpec): Map<string, PlacedInput> {
  const map = new Map<string, PlacedInput>();
  spec.required_inputs.forEach((input, i) => {
    if (!map.has(input.name)) map.set(input.name, { input, required: true, path: `required_inputs[${i}]` });
  });
  spec.optional_inputs.forEach((input, i) => {
    if (!map.has(input.name)) map.set(input.name, { input, required: false, path: `optional_inputs[${i}]` });
  });
  return map;
}

function outputsOf(spec: ComponentSpec): Map<string, { output: OutputSpec; path: string }> {
  const map = new Map<string, { output: OutputSpec; path: string }>();
  spec.outputs.forEach((output, i) => {
    if (!map.has(output.name)) map.set(output.name, { output, path: `outputs[${i}]` });
  });
  return map;
}

function enumChanges(name: string, path: string, prev: InputSpec, next: InputSpec): VersionChange[] {
  if (prev.enum === undefined && next.enum === undefined) return [];
  if (prev.enum === undefined)
    return [change('enum_narrowed', `${path}.enum`, `input ${name} now only accepts listed values`)];
  if (next.enum === undefined)
    return [change('enum_widened', `${path}.enum`, `input ${name} no longer restricts its values`)];
  const before = new Set(prev.enum.map((v) => canonicalJson(v)));
  const after = new Set(next.enum.map((v) => canonicalJson(v)));
  const removed = [...before].filter((v) => !after.has(v));
  const added = [...after].filter((v) => !before.has(v));
  const out: VersionChange[] = [];
  if (removed.length > 0) {
    out.push(change('enum_narrowed', `${path}.enum`, `input ${name} no longer accepts ${removed.join(', ')}`));
  }
  if (added.length > 0) {
    out.push(change('enum_widened', `${path}.enum`, `input ${name} now also accepts ${added.join(', ')}`));
  }
  return out;
}

function inputChanges(prev: ComponentSpec, next: ComponentSpec): VersionChange[] {
  const out: VersionChange[] = [];
  const before = inputsOf(prev);
  const after = inputsOf(next);
  for (const [name, old] of before) {
    if (!after.has(name)) out.push(change('input_removed', old.path, `input ${name} was removed`));
  }
  for (const [name, now] of after) {
    const old = before.get(name);
    if (!old) {
      out.push(
        now.required
          ? change('required_input_added', now.path, `new required input ${name}`)
          : change('optional_input_added', now.path, `new optional input ${name}`),
      );
      continue;
    }
    if (old.input.type !== now.input.type) {
      out.push(
        change(
          'input_type_changed',
          `${now.path}.type`,
          `input ${name} changed type ${old.input.type} → ${now.input.type}`,
        ),
      );
    }
    if (!old.required && now.required)
      out.push(change('input_made_required', now.path, `input ${name} became required`));
    if (old.required && !now.required)
      out.push(change('input_made_optional', now.path, `input ${name} became optional`));
    out.push(...enumChanges(name, now.path, old.input, now.input));
    if (!same(old.input.default, now.input.default)) {
      out.push(change('default_changed', `${now.path}.default`, `default of input ${name} changed`));
    }
    if (Boolean(old.input.sensitive) !== Boolean(now.input.sensitive)) {
      out.push(change('sensitivity_changed', `${now.path}.sensitive`, `input ${name} changed sensitivity`));
    }
    if ((old.input.description ?? '') !== (now.input.description ?? '')) {
      out.push(change('description_changed', `${now.path}.description`, `description of input ${name} changed`));
    }
  }
  return out;
}

function outputChanges(prev: ComponentSpec, next: ComponentSpec): VersionChange[] {
  const out: VersionChange[] = [];
  const before = outputsOf(prev);
  const after = outputsOf(next);
  for (const [name, old] of before) {
    if (!after.has(name)) out.push(change('output_removed', old.path, `output ${name} was removed`));
  }
  for (const [name, now] of after) {
    const old = before.get(name);
    if (!old) {
      out.push(change('output_added', now.path, `new output ${name}`));
      continue;
    }
    if (old.output.type !== now.output.type) {
      out.push(
        change(
          'output_type_changed',
          `${now.path}.type`,
          `output ${name} changed type ${old.output.type} → ${now.output.type}`,
        ),
      );
    }
    if (Boolean(old.output.sensitive) !== Boolean(now.output.sensitive)) {
      out.push(change('sensitivity_changed', `${now.path}.sensitive`, `output ${name} changed sensitivity`));
    }
    if ((old.output.description ?? '') !== (now.output.description ?? '')) {
      out.push(change('description_changed', `${now.path}.description`, `description of output ${name} changed`));
    }
  }
  return out;
}

function engineChanges(prev: ComponentSpec, next: ComponentSpec): VersionChange[] {
  const before = new Set(prev.deployment_engines);
  const after = new Set(next.deployment_engines);
  const out: VersionChange[] = [];
  for (const engine of before) {
    if (!after.has(engine)) {
      out.push(change('engine_removed', 'deployment_engines', `deployment engine ${engine} is no longer supported`));
    }
  }
  for (const engine of after) {
    if (!before.has(engine)) out.push(change('engine_added', 'deployment_engines', `new deployment engine ${engine}`));
  }
  return out;
}

function dependencyChanges(prev: ComponentSpec, next: ComponentSpec): VersionChange[] {
  const before = new Map<string, string>();
  for (const d of prev.dependencies) if (!before.has(d.name)) before.set(d.name, d.version_range);
  const after = new Set(next.dependencies.map((d) => d.name));
  const out: VersionChange[] = [];
  for (const name of before.keys()) {
    if (!after.has(name)) out.push(change('dependency_removed', 'dependencies', `dependency ${name} was removed`));
  }
  const seen = new Set<string>();
  next.dependencies.forEach((dep, i) => {
    if (seen.has(dep.name)) return;
    seen.add(dep.name);
    const old = before.get(dep.name);
    if (old === undefined) {
      out.push(change('dependency_added', `dependencies[${i}]`, `new dependency ${dep.name}`));
    } else if (old !== dep.version_range) {
      out.push(
        change(
          'dependency_range_changed',
          `dependencies[${i}].version_range`,
          `dependency ${dep.name} range ${old} → ${dep.version_range}`,
        ),
      );
    }
  });
  return out;
}

/**
 * Every difference between a version and its predecessor that matters to the people using it,
 * each with the bump it requires (`CHANGE_KINDS`). Pure: the same pair always gives the same list.
 */
export function diffComponents(prev: ComponentSpec, next: ComponentSpec): VersionChange[] {
  const out: VersionChange[] = [];
  if (prev.provider !== next.provider) {
    out.push(change('provider_changed', 'provider', `provider changed ${prev.provider} → ${next.provider}`));
  }
  if (prev.resource_type !== next.resource_type) {
    out.push(
      change(
        'resource_type_changed',
        'resource_type',
        `resource_type changed ${prev.resource_type} → ${next.resource_type}`,
      ),
    );
  }
  out.push(...inputChanges(prev, next), ...outputChanges(prev, next), ...engineChanges(prev, next));
  if (prev.category !== next.category) {
    out.push(change('category_changed', 'category', `category changed ${prev.category} → ${next.category}`));
  }
  if (prev.description !== next.description)
    out.push(change('description_changed', 'description', 'description changed'));
  out.push(...dependencyChanges(prev, next));
  if (!same(prev.resource_limits, next.resource_limits)) {
    out.push(change('resource_limits_changed', 'resource_limits', 'resource limits changed'));
  }
  if (!same(prev.labels, next.labels)) out.push(change('labels_changed', 'labels', 'labels changed'));
  if (!same(prev.annotations, next.annotations)) {
    out.push(change('annotations_changed', 'annotations', 'annotations changed'));
  }
  return out;
}

/** The largest bump any of the changes requires; `none` for no changes. */
export function requiredBump(changes: readonly VersionChange[]): Bump {
  let bump: Bump = 'none';
  for (const c of changes) if (BUMP_ORDER[c.bump] > BUMP_ORDER[bump]) bump = c.bump;
  return bump;
}

/**
 * The bump made from `prev` to `next` (`next` higher), as semver reads it: a release after its own
 * prerelease counts as the bump that prerelease previews (1.0.0-rc.1 → 1.0.0 is major), and a step
 * between prereleases of the same release counts as `none`.
 */
export function bumpMade(
  prev: { major: number; minor: number; patch: number; prerelease: readonly unknown[] },
  next: {
    major: number;
    minor: number;
    patch: number;
    prerelease: readonly unknown[];
  },
): Bump {
  if (next.major !== prev.major) return 'major';
  if (next.minor !== prev.minor) return 'minor';
  if (next.patch !== prev.patch) return 'patch';
  if (prev.prerelease.length > 0 && next.prerelease.length === 0) {
    if (prev.minor === 0 && prev.patch === 0) return 'major';
    if (prev.patch === 0) return 'minor';
    return 'patch';
  }
  return 'none';
}
