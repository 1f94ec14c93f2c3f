import type { SourceFileError, SourceStatus } from '@nestor/sdk';

/** Why a sync wrote nothing: it would orphan more than `max_orphan_ratio` of the source's versions. */
export type BlockedSync = NonNullable<SourceStatus['blocked']>;

/** How a sync's changed files were published, as its report and log show it. */
export interface SyncChangeset {
  /** The changeset's id; null when nothing was written. */
  id: string | null;
  /** Versions that were new to the catalog when the set was submitted. */
  members: number;
  /**
   * `written`: one changeset; `refused`: a member failed, nothing of the set was written;
   * `per_file`: more than one changeset can hold, written file by file instead; `failed`: the write
   * itself failed (store down, shutdown), the sync is not recorded and is redone.
   */
  outcome: 'written' | 'refused' | 'per_file' | 'failed';
}

/** Per-outcome counts of a sync, as the source status shows them. */
export type SyncCounts = SourceStatus['counts'];

/** What is kept between syncs under the state key `source:<name>`. */
export interface PersistedSourceState {
  commit: string;
  paths: string[];
  last_sync_at: string;
  last_duration_ms: number;
  counts: SyncCounts;
  /** Total size of the `counts.files` files, so that an incremental sync checks `max_bytes`. */
  bytes?: number;
  errors: SourceFileError[];
  /**
   * Set by a blocked sync (which records nothing else: `commit` stays the last synced revision),
   * cleared by the next complete one.
   */
  blocked?: BlockedSync & { commit: string; at: string };
}

/** Most per-file errors kept in a source's status. */
export const MAX_STATUS_ERRORS = 1000;
/** The state key a source's last recorded sync is kept under. */
export function stateKey(source: string): string {
  return `source:${source}`;
}

/** Reads a persisted state, or null when there is none or it has another shape. */
export function readPersistedState(value: unknown): PersistedSourceState | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Partial<PersistedSourceState>;
  if (typeof v.commit !== 'string' || !Array.isArray(v.paths) || !Array.isArray(v.errors)) return null;
  return v as PersistedSourceState;
}

/** Files, versions and bytes of a recorded state, or null when it predates them. */
export function totalsOf(state: PersistedSourceState): { files: number; versions: number; bytes: number } | null {
  const counts: Partial<SyncCounts> = state.counts ?? {};
  if (typeof counts.files !== 'number' || typeof counts.versions !== 'number' || typeof state.bytes !== 'number') {
    return null;
  }
  return { files: counts.files, versions: counts.versions, bytes: state.bytes };
}
