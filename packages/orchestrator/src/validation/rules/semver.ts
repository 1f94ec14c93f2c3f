import { BUMP_ORDER, type Bump, compareVersions, isPrerelease, isStrictVersion, type VersionChange } from '@nestor/sdk';
import semver from 'semver';
import type { ContentContext, ContentRule, RuleOutcome, StateContext, StateRule } from '../interfaces.js';
import { bumpMade, diffComponents, requiredBump } from './changes.js';
import { Findings, LIMITS, preview } from './common.js';

/** Why a version string is not strict semver 2.0.0 without build metadata, or null when it is. */
export function versionProblem(
  version: string,
): { code: 'invalid_version' | 'build_metadata_not_allowed'; message: string; hint?: string } | null {
  if (isStrictVersion(version)) return null;
  const shown = JSON.stringify(preview(version));
  if (version.length === 0) return { code: 'invalid_version', message: 'version is empty' };
  const plus = version.indexOf('+');
  if (plus > 0 && isStrictVersion(version.slice(0, plus))) {
    return {
      code: 'build_metadata_not_allowed',
      message: `version ${shown} carries build metadata; publish ${version.slice(0, plus)} (build metadata is not part of a version's identity)`,
      hint: version.slice(0, plus),
    };
  }
  if (/^[vV]/.test(version) && isStrictVersion(version.slice(1))) {
    return {
      code: 'invalid_version',
      message: `version ${shown} has a "v" prefix; use ${version.slice(1)}`,
      hint: version.slice(1),
    };
  }
  if (/^v?\d+(\.\d+)?$/.test(version)) {
    return { code: 'invalid_version', message: `version ${shown} needs three numbers: MAJOR.MINOR.PATCH` };
  }
  return {
    code: 'invalid_version',
    message: `version ${shown} is not a semver 2.0.0 version (MAJOR.MINOR.PATCH[-PRERELEASE])`,
  };
}

/** Why a dependency range is unusable, or null when semver accepts it. */
export function rangeProblem(range: string): string | null {
  if (range.trim().length === 0) return 'version_range is empty; use "*" to accept any version';
  if (range.length > LIMITS.rangeLength) return `version_range is longer than ${LIMITS.rangeLength} characters`;
  if (semver.validRange(range) === null) return `${JSON.stringify(preview(range))} is not a valid semver range`;
  return null;
}

/** Syntax half of the semver rule: the version and every dependency range. */
export const versionFormatRule: ContentRule = {
  name: 'semver',
  kind: 'content',
  check({ content }: ContentContext): RuleOutcome {
    const f = new Findings('semver');
    const problem = versionProblem(content.version);
    if (problem) {
      f.error(problem.code, 'version', problem.message, problem.hint ? { suggestion: problem.hint } : undefined);
    }
    // Past the cap the dependencies rule reports one error; checking each entry would only bury it.
    if (content.dependencies.length <= LIMITS.dependencies) {
      content.dependencies.forEach((dep, i) => {
        const bad = rangeProblem(dep.version_range);
        if (bad) f.error('invalid_version_range', `dependencies[${i}].version_range`, bad);
      });
    }
    return f.outcome();
  },
};

const effectiveBump = (required: Bump, prev: semver.SemVer, next: semver.SemVer): Bump =>
  // Semver 2.0.0 §4: anything may change in 0.y.z; by convention a breaking change there bumps y.
  required === 'major' && prev.major === 0 && next.major === 0 ? 'minor' : required;

/** The highest version strictly below `version` (prereleases count), from a semver-descending list. */
export function findPredecessor<T extends { version: string }>(versions: readonly T[], version: string): T | null {
  for (const v of versions) if (compareVersions(v.version, version) < 0) return v;
  return null;
}

/**
 * Change half of the semver rule: compares the version with its predecessor (the highest existing
 * version below it, so a back-ported 1.2.1 is compared with 1.2.0, not with 1.3.0), lists the
 * changes and checks that the bump made is at least the one they require.
 */
export const versionChangesRule: StateRule = {
  name: 'semver',
  kind: 'state',
  async check({ spec, catalog }: StateContext): Promise<RuleOutcome> {
    const f = new Findings('semver');
    if (!isStrictVersion(spec.version))
      return { ...f.outcome(), predecessor: null, required_bump: 'none', changes: [] };
    const prev = findPredecessor(await catalog.versions(spec.name), spec.version);
    if (!prev) return { ...f.outcome(), predecessor: null, required_bump: 'none', changes: [] };
    const changes: VersionChange[] = diffComponents(prev, spec);
    const prevParsed = new semver.SemVer(prev.version);
    const nextParsed = new semver.SemVer(spec.version);
    const required = effectiveBump(requiredBump(changes), prevParsed, nextParsed);
    const made = bumpMade(prevParsed, nextParsed);
    if (BUMP_ORDER[made] < BUMP_ORDER[required]) {
      const kinds = [...new Set(changes.filter((c) => BUMP_ORDER[c.bump] >= BUMP_ORDER[required]).map((c) => c.kind))];
      const suggestion = semver.inc(prev.version, required === 'none' ? 'patch' : (required as semver.ReleaseType));
      const details = { predecessor: prev.version, required_bump: required, bump_made: made, kinds, suggestion };
      const message =
        `changes since ${prev.version} (${kinds.join(', ')}) need a ${required} bump, ` +
        `but ${prev.version} → ${spec.version} is ${made === 'none' ? 'no release bump' : `a ${made} bump`}` +
        (suggestion ? `; publish ${suggestion} or higher` : '');
      if (isPrerelease(spec.version)) f.warn('insufficient_version_bump', 'version', message, details);
      else f.error('insufficient_version_bump', 'version', message, details);
    }
    return { ...f.outcome(), predecessor: prev.version, required_bump: required, changes };
  },
};
