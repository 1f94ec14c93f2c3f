import { isPrerelease } from '@nestor/sdk';

/**
 * The one rule for which version is a name's latest, shared by every store so that they cannot
 * disagree. Two notions exist: the default latest is the highest stable version, or the highest of
 * all when the name has only prereleases; with `includePrerelease` it is the highest of all.
 *
 * Stores keep the picks in their own shape (a sorted array, flagged rows, a head item) and ask this
 * module whether a version takes the pick. Imports only the SDK: stores depend on it, never the
 * other way round.
 */

/** What the rule reads of a stored version. */
export interface VersionRecord {
  version: string;
  revoked?: unknown;
  deleted?: unknown;
}

/**
 * Whether a version may be a name's latest at all: a revoked or deleted version may not (DESIGN.md
 * 10.3), here and nowhere else. The same test decides what resolve may choose and what a
 * dependency may be satisfied by.
 */
export function eligibleForLatest(record: VersionRecord): boolean {
  return !record.revoked && !record.deleted;
}

/**
 * Whether `candidate` takes the latest pick (of the notion `includePrerelease` names) from the
 * version that holds it. `holder` says only whether the holder is a prerelease (null when the name
 * has no pick yet); `sortsAbove` whether the candidate's version is higher than the holder's. Both
 * come from the store, which may compare versions in its own encoding (a sortable key in SQL).
 */
export function takesLatest(
  candidate: VersionRecord,
  holder: { prerelease: boolean } | null | undefined,
  sortsAbove: boolean,
  includePrerelease: boolean,
): boolean {
  if (!eligibleForLatest(candidate)) return false;
  if (!holder) return true;
  if (includePrerelease) return sortsAbove;
  // A prerelease takes the pick only from another prerelease; a release always takes it from one.
  if (isPrerelease(candidate.version)) return holder.prerelease && sortsAbove;
  return holder.prerelease || sortsAbove;
}

/** The latest of versions sorted semver-descending, by the notion `includePrerelease` names. */
export function pickLatest<T extends VersionRecord>(descending: readonly T[], includePrerelease: boolean): T | null {
  let pick: T | null = null;
  for (const v of descending) {
    // Each version sorts below every one before it.
    if (takesLatest(v, pick && { prerelease: isPrerelease(pick.version) }, false, includePrerelease)) pick = v;
  }
  return pick;
}
