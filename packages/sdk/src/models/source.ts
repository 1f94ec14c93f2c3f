/** A per-file problem found while syncing a source. */
export interface SourceFileError {
  path: string;
  line: number | null;
  column: number | null;
  code: string;
  message: string;
}

/** `GET /v1/sources/{name}`: where a git or directory source stands. */
export interface SourceStatus {
  name: string;
  type: 'git' | 'directory';
  /** Repository URL without credentials, or the folder of a directory source. */
  url: string;
  branch: string | null;
  last_commit: string | null;
  last_sync_at: string | null;
  last_duration_ms: number | null;
  /** `blocked`: the last sync would have orphaned too many versions and wrote nothing (see `blocked`). */
  state: 'idle' | 'syncing' | 'blocked' | 'failed';
  /**
   * Set while the source is blocked: the sync would orphan `orphans` of the source's `total`
   * non-orphaned versions (`ratio`, above its `max_orphan_ratio`). `POST /v1/sources/{name}/sync?confirm_removals=true`
   * (admin) lets one sync proceed; a source whose files come back syncs normally again.
   */
  blocked?: { orphans: number; total: number; ratio: number } | null;
  /**
   * `created`, `unchanged`, `failed` and `conflicts` describe the last sync (an incremental sync
   * counts only what it re-parsed). `files` is the number of component files (paths matching the
   * source's globs) the source holds after the last sync, and `versions` the number of component
   * versions those files define that the catalog holds with the same content; both are reported
   * after a sync that changed nothing too.
   */
  counts: {
    created: number;
    unchanged: number;
    failed: number;
    conflicts: number;
    files: number;
    versions: number;
  };
  errors: SourceFileError[];
  /**
   * Why the last sync of the whole source failed (unreachable remote, unknown branch, timeout),
   * or null when it succeeded. Per-file problems are in `errors`.
   */
  last_error?: { code: string; message: string; at: string } | null;
}
