import { eligibleForLatest } from '../../storage/latest-rule.js';
import type { ContentContext, ContentRule, RuleOutcome, StateContext, StateRule } from '../interfaces.js';
import { Findings, LIMITS, nameProblem } from './common.js';
import { rangeProblem, satisfies } from './semver.js';

/** Shape of the dependency list: bounded, no self-dependency, no duplicates, well-formed names. */
export const dependencyListRule: ContentRule = {
  name: 'dependencies',
  kind: 'content',
  check({ content }: ContentContext): RuleOutcome {
    const f = new Findings('dependencies');
    const deps = content.dependencies;
    if (deps.length > LIMITS.dependencies) {
      f.error(
        'too_many_dependencies',
        'dependencies',
        `${deps.length} dependencies; at most ${LIMITS.dependencies} direct dependencies are allowed`,
        { count: deps.length, limit: LIMITS.dependencies },
      );
      return f.outcome();
    }
    const first = new Map<string, number>();
    deps.forEach((dep, i) => {
      const problem = nameProblem(dep.name);
      if (problem) {
        f.error('invalid_dependency_name', `dependencies[${i}].name`, `dependency ${problem.message}`);
        return;
      }
      if (dep.name === content.name) {
        f.error('self_dependency', `dependencies[${i}].name`, `${dep.name} cannot depend on itself`);
      }
      const earlier = first.get(dep.name);
      if (earlier === undefined) first.set(dep.name, i);
      else {
        f.error(
          'duplicate_dependency',
          `dependencies[${i}].name`,
          `${dep.name} is already listed at dependencies[${earlier}]`,
        );
      }
    });
    return f.outcome();
  },
};

/**
 * Each direct dependency (never transitive ones) against the catalog: it must exist and have a
 * version in range; only-deprecated matches warn; a dependency whose resolved version depends back
 * on this version is a cycle.
 */
export const dependencyResolutionRule: StateRule = {
  name: 'dependencies',
  kind: 'state',
  async check({ spec, catalog }: StateContext): Promise<RuleOutcome> {
    const f = new Findings('dependencies');
    if (spec.dependencies.length > LIMITS.dependencies) return f.outcome();
    const seen = new Set<string>();
    const checks = spec.dependencies.map(async (dep, i) => {
      // Malformed entries are reported by the content rules; resolving them would only add noise.
      if (seen.has(dep.name) || dep.name === spec.name || nameProblem(dep.name) || rangeProblem(dep.version_range)) {
        return;
      }
      seen.add(dep.name);
      const field = `dependencies[${i}]`;
      const versions = await catalog.versions(dep.name);
      if (versions.length === 0) {
        f.error('dependency_not_found', `${field}.name`, `dependency ${dep.name} does not exist in the catalog`, {
          dependency: dep.name,
        });
        return;
      }
      const inRange = versions.filter((v) => satisfies(v.version, dep.version_range));
      // Revoked and deleted versions satisfy nothing (the rule latest and resolve follow).
      const matching = inRange.filter(eligibleForLatest);
      const best = matching[0];
      if (!best && inRange.length > 0) {
        f.error(
          'dependency_revoked',
          `${field}.version_range`,
          `every version of ${dep.name} in ${dep.version_range} is revoked or deleted`,
          {
            dependency: dep.name,
            version_range: dep.version_range,
            versions: inRange.slice(0, 10).map((v) => ({
              version: v.version,
              state: v.deleted ? 'deleted' : 'revoked',
              reason: v.deleted ? v.deleted.reason : (v.revoked?.reason ?? null),
            })),
          },
        );
        return;
      }
      if (!best) {
        f.error(
          'dependency_unsatisfied',
          `${field}.version_range`,
          `no version of ${dep.name} satisfies ${dep.version_range}`,
          {
            dependency: dep.name,
            version_range: dep.version_range,
            versions: versions.slice(0, 10).map((v) => v.version),
          },
        );
        return;
      }
      if (matching.every((v) => v.deprecated !== null)) {
        f.warn(
          'dependency_deprecated',
          `${field}.version_range`,
          `every version of ${dep.name} in ${dep.version_range} is deprecated`,
          { dependency: dep.name, resolved: best.version, reason: best.deprecated?.reason ?? null },
        );
      }
      const back = best.dependencies.find((d) => d.name === spec.name);
      if (back && satisfies(spec.version, back.version_range)) {
        f.error(
          'dependency_cycle',
          `${field}.name`,
          `${dep.name}@${best.version} depends on ${spec.name} ${back.version_range}, which this version satisfies: a cycle`,
          { dependency: dep.name, resolved: best.version, version_range: back.version_range },
        );
      }
    });
    await Promise.all(checks);
    // Parallel lookups finish in any order; findings must not.
    const byField = (a: { field: string }, b: { field: string }) => fieldIndex(a.field) - fieldIndex(b.field);
    f.errors.sort(byField);
    f.warnings.sort(byField);
    return f.outcome();
  },
};

const fieldIndex = (field: string): number => Number(/\[(\d+)\]/.exec(field)?.[1] ?? 0);
