import semver from 'semver';

/** Highest change a new version introduces relative to its predecessor. */
export type Bump = 'major' | 'minor' | 'patch' | 'none';
export const BUMP_ORDER: Record<Bump, number> = { none: 0, patch: 1, minor: 2, major: 3 };

/** One entry of a version history. */
export interface VersionSummary {
  version: string;
  digest: string;
  created_at: string;
  deprecated: { reason: string; at: string } | null;
}

/** `GET /v1/components/{name}/versions`. */
export interface VersionHistory {
  name: string;
  versions: VersionSummary[];
}

const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;

/**
 * Strict semver 2.0.0: no `v` prefix, no build metadata, numbers (prerelease identifiers
 * included) within JavaScript's safe range, so that every store can order them exactly.
 */
export function isStrictVersion(version: string): boolean {
  if (version.length > 256 || !STRICT_SEMVER.test(version)) return false;
  const parsed = semver.parse(version);
  if (parsed === null || parsed.version !== version) return false;
  // semver keeps numeric identifiers beyond the safe range as strings yet compares them as numbers.
  return parsed.prerelease.every((id) => typeof id === 'number' || !/^\d+$/.test(id) || isSafeDigits(id));
}

function isSafeDigits(digits: string): boolean {
  return digits.length <= 16 && Number(digits) <= Number.MAX_SAFE_INTEGER;
}

/** True when the version carries a prerelease tag (`1.0.0-rc.1`). */
export function isPrerelease(version: string): boolean {
  return version.includes('-');
}

/** semver ordering (1.10.0 > 1.9.0; 1.0.0-rc.1 < 1.0.0). Both sides must be valid versions. */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

const NUM_WIDTH = 16;
const pad = (digits: string) => digits.padStart(NUM_WIDTH, '0');

/**
 * A string whose byte order equals semver order, for stores that can only sort strings (SQLite
 * indexes, DynamoDB sort keys). Numbers are zero-padded; a release ends in `~`, which sorts above
 * the `-` that starts a prerelease; prerelease identifiers are `0<padded number>` or
 * `1<text>`, joined by `!`, which sorts below every identifier character.
 */
export function versionSortKey(version: string): string {
  const parsed = semver.parse(version);
  if (!parsed) throw new TypeError(`not a semver version: ${version}`);
  const core = `${pad(String(parsed.major))}.${pad(String(parsed.minor))}.${pad(String(parsed.patch))}`;
  if (parsed.prerelease.length === 0) return `${core}~`;
  // semver hands back MAX_SAFE_INTEGER itself as a string; every all-digit identifier is numeric.
  const ids = parsed.prerelease.map((id) =>
    typeof id === 'number' || /^\d+$/.test(id) ? `0${pad(String(id))}` : `1${id}`,
  );
  return `${core}-${ids.join('!')}`;
}
