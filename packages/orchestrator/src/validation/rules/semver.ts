import {
  BUMP_ORDER,
  type Bump,
  type ComponentSpec,
  compareVersions,
  isPrerelease,
  isStrictVersion,
  type SuccessorCheck,
  type VersionChange,
} from '@nestor/sdk';
import semver from 'semver';
import { extended } from '../../objects.js';
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
  const known = rangeProblems.get(range);
  if (known !== undefined) return known;
  const problem = judgeRange(range);
  remember(rangeProblems, range, problem);
  return problem;
}

function judgeRange(range: string): string | null {
  if (range.trim().length === 0) return 'version_range is empty; use "*" to accept any version';
  if (range.length > LIMITS.rangeLength) return `version_range is longer than ${LIMITS.rangeLength} characters`;
  if (semver.validRange(range) === null) return `${JSON.stringify(preview(range))} is not a valid semver range`;
  return null;
}

/** `semver.satisfies(version, range)`, with the range parsed once rather than on every call. */
export function satisfies(version: string, range: string): boolean {
  let parsed = ranges.get(range);
  if (parsed === undefined) {
    try {
      parsed = new semver.Range(range);
    } catch {
      parsed = null;
    }
    remember(ranges, range, parsed);
  }
  return parsed?.test(version) ?? false;
}

/**
 * Most ranges remembered by each memo. Every create validates its dependencies' ranges, and a
 * catalog uses few distinct ones (`^1.0.0`, ...): judging and parsing them again each time was a
 * visible share of a create. Both answers depend on the string alone.
 */
const MEMO_SIZE = 1_000;
const rangeProblems = new Map<string, string | null>();
const ranges = new Map<string, semver.Range | null>();

function remember<T>(memo: Map<string, T>, key: string, value: T): void {
  // A request may send any string: only a range of a usable length is kept.
  if (key.length > LIMITS.rangeLength) return;
  // Beyond the bound start over: simpler than an LRU and as good for a few hot ranges.
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(key, value);
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
function findPredecessor<T extends { version: string }>(versions: readonly T[], version: string): T | null {
  for (const v of versions) if (compareVersions(v.version, version) < 0) return v;
  return null;
}

/** The lowest version strictly above `version` (prereleases count), from a semver-descending list. */
function findSuccessor<T extends { version: string }>(versions: readonly T[], version: string): T | null {
  let found: T | null = null;
  for (const v of versions) {
    if (compareVersions(v.version, version) <= 0) break;
    found = v;
  }
  return found;
}

/** What the step from `lower` up to `higher` changes, the bump that needs, and the bump it makes. */
function judgeStep(lower: ComponentSpec, higher: ComponentSpec): Omit<SuccessorCheck, 'version'> {
  const changes: VersionChange[] = diffComponents(lower, higher);
  const lowerParsed = new semver.SemVer(lower.version);
  const higherParsed = new semver.SemVer(higher.version);
  return {
    required_bump: effectiveBump(requiredBump(changes), lowerParsed, higherParsed),
    bump_made: bumpMade(lowerParsed, higherParsed),
    changes,
  };
}

const sufficient = (step: { required_bump: Bump; bump_made: Bump }): boolean =>
  BUMP_ORDER[step.bump_made] >= BUMP_ORDER[step.required_bump];

const kindsNeeding = (changes: readonly VersionChange[], bump: Bump): string[] => [
  ...new Set(changes.filter((c) => BUMP_ORDER[c.bump] >= BUMP_ORDER[bump]).map((c) => c.kind)),
];

/**
 * Change half of the semver rule, on both sides of the new version:
 *
 * - predecessor (the highest existing version below it, so a back-ported 1.2.1 is compared with
 *   1.2.0, not with 1.3.0): the changes since it must fit the bump this version makes;
 * - successor (the lowest existing version above it, when it is inserted below existing ones): the
 *   step from this version up to the successor must fit the bump the successor makes over it.
 *   This version must not be what makes that step too small, so the check is waived when the step
 *   from the predecessor to the successor was already too small (history published before the
 *   rule, or imported): publishing in between cannot repair or worsen that.
 *
 * A prerelease on either end of a step makes its finding a warning.
 */
export const versionChangesRule: StateRule = {
  name: 'semver',
  kind: 'state',
  async check({ spec, catalog }: StateContext): Promise<RuleOutcome> {
    const f = new Findings('semver');
    if (!isStrictVersion(spec.version))
      return extended(f.outcome(), { predecessor: null, required_bump: 'none', changes: [], successor: null });
    // A deleted version is no predecessor (a purged one has no content left to compare with).
    const versions = (await catalog.versions(spec.name)).filter((v) => !v.deleted);
    const prev = findPredecessor(versions, spec.version);
    const next = findSuccessor(versions, spec.version);
    let required: Bump = 'none';
    let changes: VersionChange[] = [];
    if (prev) {
      const step = judgeStep(prev, spec);
      required = step.required_bump;
      changes = step.changes;
      const made = step.bump_made;
      if (!sufficient(step)) {
        const kinds = kindsNeeding(changes, required);
        const suggestion = semver.inc(prev.version, required === 'none' ? 'patch' : (required as semver.ReleaseType));
        const details = { predecessor: prev.version, required_bump: required, bump_made: made, kinds, suggestion };
        const message =
          `changes since ${prev.version} (${kinds.join(', ')}) need a ${required} bump, ` +
          `but ${prev.version} → ${spec.version} is ${made === 'none' ? 'no release bump' : `a ${made} bump`}` +
          (suggestion ? `; publish ${suggestion} or higher` : '');
        if (isPrerelease(spec.version)) f.warn('insufficient_version_bump', 'version', message, details);
        else f.error('insufficient_version_bump', 'version', message, details);
      }
    }
    let successor: SuccessorCheck | null = null;
    if (next) {
      const step = judgeStep(spec, next);
      successor = { version: next.version, ...step };
      if (!sufficient(step) && (!prev || sufficient(judgeStep(prev, next)))) {
        const kinds = kindsNeeding(step.changes, step.required_bump);
        const details = {
          successor: next.version,
          required_bump: step.required_bump,
          bump_made: step.bump_made,
          kinds,
        };
        const message =
          `${next.version} already exists above ${spec.version}; the step ${spec.version} → ${next.version} ` +
          `would change ${kinds.join(', ')}, which needs a ${step.required_bump} bump, but it is ` +
          `${step.bump_made === 'none' ? 'no release bump' : `a ${step.bump_made} bump`}; ` +
          `leave out what ${next.version} does not have, or publish above ${next.version}`;
        if (isPrerelease(spec.version) || isPrerelease(next.version)) {
          f.warn('insufficient_successor_bump', 'version', message, details);
        } else {
          f.error('insufficient_successor_bump', 'version', message, details);
        }
      }
    }
    return extended(f.outcome(), { predecessor: prev?.version ?? null, required_bump: required, changes, successor });
  },
};
