import type { SourceFileError } from '@nestor/sdk';
import { fileError } from './file-errors.js';
import { pathProblem } from './parser.js';
import type { globMatchers, SourceFile, SourceReader } from './readers.js';
import { type PersistedSourceState, totalsOf } from './sync-state.js';

/** Which files one sync looks at, decided before anything is read. */
export interface SyncPlan {
  head: string;
  previous: PersistedSourceState | null;
  prevCommit: string | null;
  /** Files, versions and bytes of the previous state, or null when it predates them. */
  prevTotals: ReturnType<typeof totalsOf>;
  /** True when every matching file is parsed (first sync, force-push, changed globs). */
  full: boolean;
  /** The paths an incremental sync reads (changed ones and those that failed last time); null when full. */
  wanted: Set<string> | null;
  /**
   * The paths an incremental sync publishes as one changeset: those changed since the recorded
   * revision and those of a set refused last time (`changeset_refused`); null when full.
   */
  together: Set<string> | null;
  /** True when an incremental sync has nothing to read. */
  upToDate: boolean;
}

/**
 * Fetches the source and plans the sync: incremental (the paths changed since the recorded
 * revision, plus those that failed last time) when the globs are the same and the recorded state
 * has totals to update, full otherwise (and when `forceFull`: no file map to update).
 */
export async function planSync(
  reader: SourceReader,
  previous: PersistedSourceState | null,
  paths: string[],
  opts: { forceFull?: boolean } = {},
): Promise<SyncPlan> {
  const head = await reader.head();
  const prevCommit = previous?.commit ?? null;
  const sameGlobs = previous !== null && sameList(previous.paths, paths);
  // A state recorded before the totals were kept cannot be updated by difference.
  const prevTotals = previous ? totalsOf(previous) : null;
  let changed: Set<string> | null = null;
  if (previous && sameGlobs && prevTotals && !opts.forceFull) changed = await reader.changes(previous.commit, head);
  const full = changed === null;
  const retry = new Set((previous?.errors ?? []).map((e) => e.path));
  const upToDate = !full && changed?.size === 0 && retry.size === 0 && prevTotals !== null;
  const wanted = full ? null : new Set([...(changed ?? []), ...retry]);
  // A refused set stays one set: retrying its valid files alone would publish half a commit.
  const refused = (previous?.errors ?? []).filter((e) => e.code === 'changeset_refused').map((e) => e.path);
  const together = full ? null : new Set([...(changed ?? []), ...refused]);
  return { head, previous, prevCommit, prevTotals, full, wanted, together, upToDate };
}

/** What the source holds, for the limits and `counts.files`; `before` is what the wanted paths held before. */
export interface SyncSelection {
  selected: SourceFile[];
  before: SourceFile[];
  files: number;
  bytes: number;
}

/**
 * Lists the files the plan reads. The limits and the totals are about what the source holds, not
 * about what changed: an incremental sync updates them by what the changed paths held before and
 * hold now.
 */
export async function selectFiles(
  reader: SourceReader,
  plan: SyncPlan,
  matchers: ReturnType<typeof globMatchers>,
): Promise<SyncSelection> {
  const { wanted, previous, prevTotals } = plan;
  const selected = considered(await reader.list(plan.head, matchers.mentions, wanted ?? undefined), matchers);
  const before =
    wanted && previous ? considered(await reader.list(previous.commit, matchers.mentions, wanted), matchers) : [];
  let files = selected.length;
  let bytes = bytesOf(selected);
  if (wanted && prevTotals) {
    files += prevTotals.files - before.length;
    bytes += prevTotals.bytes - bytesOf(before);
  }
  return { selected, before, files, bytes };
}

/** Files matched by the globs, and those at a path that is refused (reported, never read). */
export function considered(files: SourceFile[], matchers: ReturnType<typeof globMatchers>): SourceFile[] {
  return files.filter((f) => pathProblem(f.path) !== null || matchers.matches(f.path));
}

/**
 * Splits listed files into the regular files that may be read and the per-file errors of the
 * others: refused paths, symlinks, submodules and other non-files, files over the size limit.
 */
export function screenFiles(
  files: SourceFile[],
  maxFileBytes: number,
): { readable: SourceFile[]; errors: SourceFileError[] } {
  const errors: SourceFileError[] = [];
  const readable: SourceFile[] = [];
  for (const f of files) {
    const unsafe = pathProblem(f.path);
    if (unsafe) {
      errors.push(fileError(f.path, 'path_not_allowed', unsafe));
    } else if (f.kind === 'symlink') {
      errors.push(fileError(f.path, 'symlink_not_allowed', 'symlinks are not followed; commit the file itself'));
    } else if (f.kind !== 'file') {
      errors.push(fileError(f.path, 'not_a_file', 'submodules and other non-files are not read'));
    } else if (f.size !== null && f.size > maxFileBytes) {
      errors.push(fileError(f.path, 'file_too_large', `file is ${f.size} bytes; the limit is ${maxFileBytes} bytes`));
    } else {
      readable.push(f);
    }
  }
  return { readable, errors };
}

function bytesOf(files: SourceFile[]): number {
  let bytes = 0;
  for (const f of files) if (f.kind === 'file') bytes += f.size ?? 0;
  return bytes;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
