import { NestorError, type SourceFileError, type ValidationIssue } from '@nestor/sdk';
import type { ChangeFeed } from '../events/interfaces.js';
import type { Logger } from '../observability/logging/logger.js';
import type { EventLog, StateStore } from '../storage/interfaces.js';
import { fileError, isSourceFileErrorCode } from './file-errors.js';
import type { ParsedComponent } from './parser.js';
import type { SourceReader } from './readers.js';
import {
  type BlockedSync,
  MAX_STATUS_ERRORS,
  type PersistedSourceState,
  type SyncChangeset,
  type SyncCounts,
  stateKey,
} from './sync-state.js';

/** What one sync did. */
export interface SyncReport {
  source: string;
  /** Revision synced: a commit, or `dir:<hash>` for a folder. */
  commit: string;
  previous_commit: string | null;
  /** True when every matching file was parsed (first sync, force-push, changed globs). */
  full: boolean;
  /** Files parsed by this sync (changed files only on an incremental sync). */
  files: number;
  counts: SyncCounts;
  /** Every per-file problem the source has at this revision. */
  errors: SourceFileError[];
  duration_ms: number;
  started_at: string;
  /** False when a write failed for a reason other than the file itself; the commit was not recorded. */
  complete: boolean;
  /** Sequence of the `source.synced` event, or null when nothing changed. */
  event_id: number | null;
  /** Set when the sync wrote nothing because it would orphan too many versions (`max_orphan_ratio`). */
  blocked: BlockedSync | null;
  /** Versions marked orphaned by this sync (their files left the source). */
  orphaned: number;
  /** Versions whose orphan mark this sync lifted (their files came back with the same content). */
  unorphaned: number;
  /**
   * How an incremental sync published its changed files (docs/changesets.md); null for a full
   * sync (file by file) and when no changed file defined a component.
   */
  changeset: SyncChangeset | null;
}

/** How a failed write shows in a source's status. */
export interface WriteFailure {
  errors: SourceFileError[];
  /** The version is published with other content (counted as a conflict, not a failure). */
  conflict: boolean;
  /** False when the failure was not the file's fault: the sync is then not recorded and is redone. */
  fileFault: boolean;
}

/** The per-file errors of a write that failed, located in the file where the parser can. */
export function writeFailure(parsed: ParsedComponent, err: unknown): WriteFailure {
  const id = `${parsed.spec.name}@${parsed.spec.version}`;
  if (NestorError.hasCode(err, 'version_conflict')) {
    const errors = [fileError(parsed.path, 'version_conflict', `${id}: ${err.message}`, parsed.position)];
    return { errors, conflict: true, fileFault: true };
  }
  if (NestorError.hasCode(err, 'validation_failed')) {
    return { errors: validationErrors(parsed, err.errors, err.message), conflict: false, fileFault: true };
  }
  if (NestorError.hasCode(err, 'invalid_request')) {
    const field = typeof err.details.field === 'string' ? err.details.field : '';
    const errors = [fileError(parsed.path, 'invalid_request', `${id}: ${err.message}`, parsed.locate(field))];
    return { errors, conflict: false, fileFault: true };
  }
  const code = NestorError.is(err) && isSourceFileErrorCode(err.code) ? err.code : 'internal_error';
  const message = err instanceof Error ? err.message : String(err);
  const errors = [fileError(parsed.path, code, `${id}: could not be written: ${message}`, parsed.position)];
  return { errors, conflict: false, fileFault: false };
}

/** A failed rule's per-file errors (the first five issues), each located at its field. */
export function validationErrors(
  parsed: ParsedComponent,
  issues: readonly ValidationIssue[],
  message: string,
): SourceFileError[] {
  const id = `${parsed.spec.name}@${parsed.spec.version}`;
  const errors = issues
    .slice(0, 5)
    .map((issue) =>
      fileError(
        parsed.path,
        'validation_failed',
        `${id}: ${issue.message} (${issue.rule}/${issue.code}${issue.field ? ` at ${issue.field}` : ''})`,
        parsed.locate(issue.field),
      ),
    );
  if (errors.length === 0) errors.push(fileError(parsed.path, 'validation_failed', `${id}: ${message}`));
  return errors;
}

/** Where a sync's outcome is recorded. */
export interface SyncRecorder {
  name: string;
  paths: string[];
  reader: SourceReader;
  state: StateStore;
  events: Pick<EventLog, 'appendEvent'>;
  feed: ChangeFeed;
  logger: Logger;
}

/** The outcome of one sync, before it is recorded. */
export interface SyncOutcome {
  startedAt: Date;
  t0: number;
  head: string;
  prevCommit: string | null;
  full: boolean;
  files: number;
  counts: SyncCounts;
  bytes: number;
  errors: SourceFileError[];
  complete: boolean;
  orphaned: number;
  unorphaned: number;
  changeset: SyncChangeset | null;
}

/**
 * Records a complete sync (its state and, when something moved, the `source.synced` event in the
 * same write), logs it and returns its report. An incomplete sync records nothing, so the next one
 * redoes the work from the previous revision.
 */
export async function recordSync(to: SyncRecorder, r: SyncOutcome): Promise<SyncReport> {
  const duration = Math.round(performance.now() - r.t0);
  const errors = [...r.errors]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0)))
    .slice(0, MAX_STATUS_ERRORS);
  let eventId: number | null = null;
  if (r.complete) {
    const state: PersistedSourceState = {
      commit: r.head,
      paths: [...to.paths],
      last_sync_at: r.startedAt.toISOString(),
      last_duration_ms: duration,
      counts: r.counts,
      bytes: r.bytes,
      errors,
    };
    // Recorded last: a sync killed before this point is redone from the previous revision. The
    // status and its event are one write: the log never announces a sync whose status a crash
    // lost, nor does a status appear whose event is missing.
    if (r.head !== r.prevCommit || r.counts.created > 0 || r.orphaned > 0 || r.unorphaned > 0) {
      const event = await to.events.appendEvent(
        {
          type: 'source.synced',
          subject: { name: to.name, version: null, digest: null },
          data: {
            source: to.name,
            type: to.reader.type,
            url: to.reader.url,
            branch: to.reader.branch,
            commit: r.head,
            previous_commit: r.prevCommit,
            full: r.full,
            files: r.files,
            counts: r.counts,
            orphaned: r.orphaned,
            unorphaned: r.unorphaned,
            errors: errors.length,
            duration_ms: duration,
          },
        },
        { kind: 'state', key: stateKey(to.name), value: state },
      );
      eventId = event.id;
      to.feed.publish(event.id);
    } else {
      await to.state.putState(stateKey(to.name), state);
    }
  }
  const report: SyncReport = {
    source: to.name,
    commit: r.head,
    previous_commit: r.prevCommit,
    full: r.full,
    files: r.files,
    counts: r.counts,
    errors,
    duration_ms: duration,
    started_at: r.startedAt.toISOString(),
    complete: r.complete,
    event_id: eventId,
    blocked: null,
    orphaned: r.orphaned,
    unorphaned: r.unorphaned,
    changeset: r.changeset,
  };
  // A poll that found nothing new is routine: keep it out of the info log.
  const changed =
    r.counts.created > 0 ||
    r.counts.failed > 0 ||
    r.counts.conflicts > 0 ||
    r.orphaned + r.unorphaned > 0 ||
    r.changeset !== null ||
    !r.complete;
  to.logger[changed ? 'info' : 'debug'](
    {
      source: to.name,
      commit: r.head,
      full: r.full,
      files: r.files,
      counts: r.counts,
      orphaned: r.orphaned,
      unorphaned: r.unorphaned,
      changeset: r.changeset,
      errors: errors.length,
      ms: duration,
      complete: r.complete,
    },
    'source synced',
  );
  return report;
}
