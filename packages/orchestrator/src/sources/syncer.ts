import {
  type ComponentSpec,
  computeDigest,
  create,
  NestorError,
  type SourceFileError,
  type ValidationIssue,
} from '@nestor/sdk';
import type { ChangeFeed } from '../events/interfaces.js';
import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { ComponentReader, EventLog, StateStore } from '../storage/interfaces.js';
import { fileError, isSourceFileErrorCode } from './file-errors.js';
import {
  type ComponentFileParser,
  componentFileParser,
  MAX_FILE_BYTES,
  type ParsedComponent,
  pathProblem,
} from './parser.js';
import { globMatchers, type SourceFile, type SourceReader, type SyncLimits, syncLimitExceeded } from './readers.js';
import {
  MAX_STATUS_ERRORS,
  type PersistedSourceState,
  readPersistedState,
  type SyncCounts,
  stateKey,
  totalsOf,
} from './sync-state.js';
import { orderForWrite } from './write-order.js';

/** The one write a sync makes: `CatalogManager.createComponent`. */
export interface ComponentCreator {
  createComponent(spec: ComponentSpec): Promise<{ created: boolean }>;
}

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
}

/** Progress of a running sync, for logs and the CLI. */
export interface SyncProgress {
  source: string;
  phase: 'fetch' | 'list' | 'parse' | 'write' | 'done';
  done: number;
  total: number;
}

export interface SourceSyncerOptions {
  name: string;
  reader: SourceReader;
  /** Globs under the source root. */
  paths: string[];
  writer: ComponentCreator;
  /** Where an incremental sync checks which versions the changed files held before. */
  catalog: Pick<ComponentReader, 'getComponent'>;
  state: StateStore;
  events: Pick<EventLog, 'appendEvent'>;
  feed: ChangeFeed;
  logger: Logger;
  clock?: Clock;
  maxFileBytes?: number;
  /** Checked against everything that matches at the revision, before anything is read or written. */
  limits: SyncLimits;
  /** `parseComponentFile` unless given. */
  parser?: ComponentFileParser;
}

export interface SyncOptions {
  onProgress?: (progress: SyncProgress) => void;
  /** Stops between writes; the revision is then not recorded, so the next sync finishes the work. */
  signal?: AbortSignal;
}

const PROGRESS_EVERY = 1000;

interface WriteItem {
  parsed: ParsedComponent;
}

/**
 * Brings the catalog in line with one source. Parses every matching file at the fetched revision
 * (only the files changed since the last recorded revision, plus those that failed last time),
 * writes each component through the catalog manager in dependency order, and records the
 * revision only after all of it is done: a sync that is interrupted leaves every component either
 * written or not, and the next sync redoes the rest. Writing is idempotent, so redoing is harmless.
 */
export class SourceSyncer {
  readonly name: string;
  readonly reader: SourceReader;
  private readonly paths: string[];
  private readonly writer: ComponentCreator;
  private readonly catalog: Pick<ComponentReader, 'getComponent'>;
  private readonly limits: SyncLimits;
  private readonly state: StateStore;
  private readonly events: Pick<EventLog, 'appendEvent'>;
  private readonly feed: ChangeFeed;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxFileBytes: number;
  private readonly matchers: ReturnType<typeof globMatchers>;
  private readonly parser: ComponentFileParser;
  /**
   * Files none of whose documents parsed, by path, with the content they had: failed files are
   * retried on every sync, and a hostile file must cost one parse per process, not one per sync.
   */
  private readonly unparsable = new Map<string, { contentId: string; errors: SourceFileError[] }>();

  constructor(opts: SourceSyncerOptions) {
    this.name = opts.name;
    this.reader = opts.reader;
    this.paths = opts.paths;
    this.writer = opts.writer;
    this.catalog = opts.catalog;
    this.limits = opts.limits;
    this.state = opts.state;
    this.events = opts.events;
    this.feed = opts.feed;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.maxFileBytes = opts.maxFileBytes ?? MAX_FILE_BYTES;
    this.matchers = globMatchers(opts.paths);
    this.parser = opts.parser ?? componentFileParser;
  }

  /** The state recorded by the last complete sync, or null. */
  async persisted(): Promise<PersistedSourceState | null> {
    return readPersistedState(await this.state.getState(stateKey(this.name)));
  }

  /**
   * Runs one sync. Throws `git_failure` or `timeout` when the source cannot be read at all, and
   * `payload_too_large` when it holds more than its limits; the catalog is untouched then.
   * Everything wrong with single files is in the report.
   */
  async sync(opts: SyncOptions = {}): Promise<SyncReport> {
    const startedAt = this.clock.now();
    const t0 = performance.now();
    const progress = (phase: SyncProgress['phase'], done: number, total: number) =>
      opts.onProgress?.({ source: this.name, phase, done, total });

    progress('fetch', 0, 0);
    const previous = await this.persisted();
    const head = await this.reader.head();
    const prevCommit = previous?.commit ?? null;
    const sameGlobs = previous !== null && sameList(previous.paths, this.paths);
    // A state recorded before the totals were kept cannot be updated by difference.
    const prevTotals = previous ? totalsOf(previous) : null;

    let changed: Set<string> | null = null;
    if (previous && sameGlobs && prevTotals) changed = await this.reader.changes(previous.commit, head);
    const full = changed === null;
    const retry = new Set((previous?.errors ?? []).map((e) => e.path));

    const counts: SyncCounts = { created: 0, unchanged: 0, failed: 0, conflicts: 0, files: 0, versions: 0 };
    if (!full && changed?.size === 0 && retry.size === 0 && prevTotals) {
      counts.files = prevTotals.files;
      counts.versions = prevTotals.versions;
      return this.finish({
        startedAt,
        t0,
        head,
        prevCommit,
        full,
        files: 0,
        counts,
        bytes: prevTotals.bytes,
        errors: [],
        complete: true,
        previous,
        progress,
      });
    }

    progress('list', 0, 0);
    const wanted = full ? null : new Set([...(changed ?? []), ...retry]);
    const considered = (files: SourceFile[]) =>
      files.filter((f) => pathProblem(f.path) !== null || this.matchers.matches(f.path));
    const selected = considered(await this.reader.list(head, this.matchers.mentions, wanted ?? undefined));
    // The limits and `counts.files` are about what the source holds, not about what changed: an
    // incremental sync updates the totals by what the changed paths held before and hold now.
    const before =
      wanted && previous ? considered(await this.reader.list(previous.commit, this.matchers.mentions, wanted)) : [];
    let bytes = bytesOf(selected);
    counts.files = selected.length;
    if (wanted && prevTotals) {
      counts.files += prevTotals.files - before.length;
      bytes += prevTotals.bytes - bytesOf(before);
    }
    this.checkLimits(counts.files, bytes);
    const errors: SourceFileError[] = [];
    const readable: SourceFile[] = [];
    for (const f of selected) {
      const unsafe = pathProblem(f.path);
      if (unsafe) {
        errors.push(fileError(f.path, 'path_not_allowed', unsafe));
        continue;
      }
      if (f.kind === 'symlink') {
        errors.push(fileError(f.path, 'symlink_not_allowed', 'symlinks are not followed; commit the file itself'));
      } else if (f.kind !== 'file') {
        errors.push(fileError(f.path, 'not_a_file', 'submodules and other non-files are not read'));
      } else if (f.size !== null && f.size > this.maxFileBytes) {
        errors.push(
          fileError(f.path, 'file_too_large', `file is ${f.size} bytes; the limit is ${this.maxFileBytes} bytes`),
        );
      } else {
        readable.push(f);
      }
    }

    // Versions the replaced files held, judged before this sync writes anything.
    const heldBefore = previous && wanted ? await this.heldVersions(previous.commit, before) : new Set<string>();

    progress('parse', 0, readable.length);
    const toParse: SourceFile[] = [];
    for (const f of readable) {
      const known = this.unparsable.get(f.path);
      if (known && this.knownUnparsable(f)) errors.push(...known.errors);
      else toParse.push(f);
    }
    if (full) {
      const present = new Set(readable.map((f) => f.path));
      for (const path of this.unparsable.keys()) if (!present.has(path)) this.unparsable.delete(path);
    }
    const contents = await this.reader.read(toParse);
    const items: WriteItem[] = [];
    const commit = this.reader.commitOf(head);
    for (const f of toParse) {
      const content = contents.get(f.path);
      if (!content) {
        errors.push(fileError(f.path, 'file_unreadable', 'file could not be read at this revision'));
        continue;
      }
      const parsed = this.parser.parse({
        path: f.path,
        content,
        repository: this.reader.url,
        commit,
        maxBytes: this.maxFileBytes,
      });
      errors.push(...parsed.errors);
      // Only whole-file failures are remembered: their errors depend on the bytes alone.
      if (f.contentId && parsed.components.length === 0 && parsed.errors.length > 0) {
        this.unparsable.set(f.path, { contentId: f.contentId, errors: parsed.errors });
      } else this.unparsable.delete(f.path);
      for (const component of parsed.components) items.push({ parsed: component });
    }
    counts.failed += new Set(errors.map((e) => e.path)).size;
    progress('parse', readable.length, readable.length);

    const heldAfter = new Set<string>();
    const complete = await this.writeAll(items, counts, errors, heldAfter, opts, progress);
    counts.versions = Math.max(0, (prevTotals && !full ? prevTotals.versions : 0) - heldBefore.size + heldAfter.size);
    return this.finish({
      startedAt,
      t0,
      head,
      prevCommit,
      full,
      files: readable.length,
      counts,
      bytes,
      errors,
      complete,
      previous,
      progress,
    });
  }

  /** Throws `payload_too_large` when the matching files are more or larger than allowed. */
  private checkLimits(files: number, bytes: number): void {
    if (files > this.limits.maxFiles) {
      throw syncLimitExceeded(this.name, 'files', String(files), this.limits.maxFiles);
    }
    if (bytes > this.limits.maxBytes) throw syncLimitExceeded(this.name, 'bytes', String(bytes), this.limits.maxBytes);
  }

  /**
   * `name@version` of every component that `files` defined at `revision` and that the catalog
   * holds with exactly that content (what the previous sync counted for those files).
   */
  private knownUnparsable(f: SourceFile): boolean {
    const known = this.unparsable.get(f.path);
    return known !== undefined && f.contentId !== undefined && known.contentId === f.contentId;
  }

  private async heldVersions(revision: string, files: SourceFile[]): Promise<Set<string>> {
    const held = new Set<string>();
    // A file remembered as unparsable defines no version: no need to read or parse it again.
    const before = files.filter(
      (f) =>
        f.kind === 'file' &&
        pathProblem(f.path) === null &&
        (f.size ?? 0) <= this.maxFileBytes &&
        !this.knownUnparsable(f),
    );
    const contents = await this.reader.read(before);
    for (const f of before) {
      const content = contents.get(f.path);
      if (!content) continue;
      const parsed = this.parser.parse({
        path: f.path,
        content,
        repository: this.reader.url,
        commit: this.reader.commitOf(revision),
        maxBytes: this.maxFileBytes,
      });
      for (const { spec } of parsed.components) {
        const id = `${spec.name}@${spec.version}`;
        if (held.has(id)) continue;
        const stored = await this.catalog.getComponent(spec.name, spec.version);
        if (stored && stored.digest === computeDigest(spec)) held.add(id);
      }
    }
    return held;
  }

  /**
   * Writes in dependency order; components that failed only because a dependency was missing are
   * retried while the previous pass made progress (a dependency may sit later in a cycle-broken
   * order or arrive from another file of the batch).
   */
  private async writeAll(
    items: WriteItem[],
    counts: SyncCounts,
    errors: SourceFileError[],
    held: Set<string>,
    opts: SyncOptions,
    progress: (phase: SyncProgress['phase'], done: number, total: number) => void,
  ): Promise<boolean> {
    let pending = orderForWrite(items);
    const total = pending.length;
    let done = 0;
    let complete = true;
    let lastLog = performance.now();
    progress('write', 0, total);
    for (;;) {
      const retry: { item: WriteItem; err: NestorError }[] = [];
      let createdThisPass = 0;
      for (const item of pending) {
        if (opts.signal?.aborted) return false;
        const { spec } = item.parsed;
        try {
          const outcome = await this.writer.createComponent(spec);
          held.add(`${spec.name}@${spec.version}`);
          if (outcome.created) {
            counts.created += 1;
            createdThisPass += 1;
          } else counts.unchanged += 1;
          done += 1;
        } catch (err) {
          if (NestorError.hasCode(err, 'validation_failed') && missingDependency(err.errors)) {
            retry.push({ item, err });
            continue;
          }
          done += 1;
          if (!this.recordWriteError(item, err, counts, errors)) complete = false;
        }
        if (done % PROGRESS_EVERY === 0) {
          progress('write', done, total);
          if (performance.now() - lastLog > 2000) {
            lastLog = performance.now();
            this.logger.info({ source: this.name, done, total }, 'source sync progress');
          }
        }
      }
      if (retry.length === 0) break;
      if (createdThisPass === 0) {
        for (const { item, err } of retry) {
          done += 1;
          this.recordWriteError(item, err, counts, errors);
        }
        break;
      }
      pending = retry.map((r) => r.item);
    }
    progress('write', done, total);
    return complete;
  }

  /** Records a failed write; returns false when the failure was not the file's fault. */
  private recordWriteError(item: WriteItem, err: unknown, counts: SyncCounts, errors: SourceFileError[]): boolean {
    const { parsed } = item;
    const id = `${parsed.spec.name}@${parsed.spec.version}`;
    if (NestorError.hasCode(err, 'version_conflict')) {
      counts.conflicts += 1;
      errors.push(fileError(parsed.path, 'version_conflict', `${id}: ${err.message}`, parsed.position));
      return true;
    }
    if (NestorError.hasCode(err, 'validation_failed')) {
      counts.failed += 1;
      const issues = err.errors.length > 0 ? err.errors.slice(0, 5) : [];
      if (issues.length === 0) errors.push(fileError(parsed.path, 'validation_failed', `${id}: ${err.message}`));
      for (const issue of issues) {
        errors.push(
          fileError(
            parsed.path,
            'validation_failed',
            `${id}: ${issue.message} (${issue.rule}/${issue.code}${issue.field ? ` at ${issue.field}` : ''})`,
            parsed.locate(issue.field),
          ),
        );
      }
      return true;
    }
    if (NestorError.hasCode(err, 'invalid_request')) {
      counts.failed += 1;
      const field = typeof err.details.field === 'string' ? err.details.field : '';
      errors.push(fileError(parsed.path, 'invalid_request', `${id}: ${err.message}`, parsed.locate(field)));
      return true;
    }
    counts.failed += 1;
    const code = NestorError.is(err) && isSourceFileErrorCode(err.code) ? err.code : 'internal_error';
    const message = err instanceof Error ? err.message : String(err);
    errors.push(fileError(parsed.path, code, `${id}: could not be written: ${message}`, parsed.position));
    this.logger.error({ source: this.name, component: id, err }, 'source sync write failed');
    return false;
  }

  private async finish(r: {
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
    previous: PersistedSourceState | null;
    progress: (phase: SyncProgress['phase'], done: number, total: number) => void;
  }): Promise<SyncReport> {
    const duration = Math.round(performance.now() - r.t0);
    const errors = [...r.errors]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0)))
      .slice(0, MAX_STATUS_ERRORS);
    let eventId: number | null = null;
    if (r.complete) {
      const state: PersistedSourceState = {
        commit: r.head,
        paths: [...this.paths],
        last_sync_at: r.startedAt.toISOString(),
        last_duration_ms: duration,
        counts: r.counts,
        bytes: r.bytes,
        errors,
      };
      // Recorded last: a sync killed before this point is redone from the previous revision. The
      // status and its event are one write: the log never announces a sync whose status a crash
      // lost, nor does a status appear whose event is missing.
      if (r.head !== r.prevCommit || r.counts.created > 0) {
        const event = await this.events.appendEvent(
          {
            type: 'source.synced',
            subject: { name: this.name, version: null, digest: null },
            data: {
              source: this.name,
              type: this.reader.type,
              url: this.reader.url,
              branch: this.reader.branch,
              commit: r.head,
              previous_commit: r.prevCommit,
              full: r.full,
              files: r.files,
              counts: r.counts,
              errors: errors.length,
              duration_ms: duration,
            },
          },
          { kind: 'state', key: stateKey(this.name), value: state },
        );
        eventId = event.id;
        this.feed.publish(event.id);
      } else {
        await this.state.putState(stateKey(this.name), state);
      }
    }
    r.progress('done', r.files, r.files);
    const report: SyncReport = {
      source: this.name,
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
    };
    // A poll that found nothing new is routine: keep it out of the info log.
    const changed = r.counts.created > 0 || r.counts.failed > 0 || r.counts.conflicts > 0 || !r.complete;
    this.logger[changed ? 'info' : 'debug'](
      {
        source: this.name,
        commit: r.head,
        full: r.full,
        files: r.files,
        counts: r.counts,
        errors: errors.length,
        ms: duration,
        complete: r.complete,
      },
      'source synced',
    );
    return report;
  }
}

function bytesOf(files: SourceFile[]): number {
  let bytes = 0;
  for (const f of files) if (f.kind === 'file') bytes += f.size ?? 0;
  return bytes;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function missingDependency(issues: ValidationIssue[]): boolean {
  return issues.length > 0 && issues.every((i) => i.rule === 'dependencies' || /dependenc/.test(i.code));
}

/** The error a sync throws when its source cannot be read at all. */
export function sourceFailure(source: string, err: unknown): NestorError {
  if (NestorError.is(err)) return err;
  return create('internal_error')
    .component('sync')
    .operation('SyncSource')
    .message(`source ${source}: ${err instanceof Error ? err.message : String(err)}`)
    .cause(err)
    .build();
}
