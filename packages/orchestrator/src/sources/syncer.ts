import { type ComponentSpec, computeDigest, create, NestorError, type SourceFileError } from '@nestor/sdk';
import type { ChangeFeed } from '../events/interfaces.js';
import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import { auditId } from '../storage/audit-records.js';
import type { AuditEntry, ComponentReader, EventLog, StateStore } from '../storage/interfaces.js';
import { type ChangesetCreator, publishCommitSet } from './commit-set.js';
import { fileError } from './file-errors.js';
import { type LifecycleMarker, OrphanTracker, recordBlocked } from './orphans.js';
import {
  type ComponentFileParser,
  componentFileParser,
  MAX_FILE_BYTES,
  type ParsedComponent,
  pathProblem,
} from './parser.js';
import { globMatchers, type SourceFile, type SourceReader, type SyncLimits, syncLimitExceeded } from './readers.js';
import { planSync, screenFiles, selectFiles } from './sync-plan.js';
import { recordSync, type SyncOutcome, type SyncReport, writeFailure } from './sync-record.js';
import {
  type PersistedSourceState,
  readPersistedState,
  type SyncChangeset,
  type SyncCounts,
  stateKey,
} from './sync-state.js';
import { writeInOrder } from './write-loop.js';

export type { SyncReport } from './sync-record.js';

/**
 * The writes a sync makes: `CatalogManager.createChangeset` for the files an incremental sync
 * saw change, `createComponent` file by file for a full sync (and a set too large for one write).
 */
export interface ComponentCreator extends ChangesetCreator {
  createComponent(
    spec: ComponentSpec,
    opts?: { actor?: string | null; audit?: AuditEntry },
  ): Promise<{ created: boolean }>;
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
  /** Marks versions whose files left the source as orphaned, and lifts the mark (`orphans.ts`). */
  lifecycle: LifecycleMarker;
  /** A sync that would orphan more than this share of the source's versions is blocked (0..1). */
  maxOrphanRatio: number;
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
  /** Lets this sync orphan more than `max_orphan_ratio` of the source's versions. */
  confirmRemovals?: boolean;
}

const PROGRESS_EVERY = 1000;

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
  private readonly orphans: OrphanTracker;
  private readonly maxOrphanRatio: number;
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
    this.maxOrphanRatio = opts.maxOrphanRatio;
    this.orphans = new OrphanTracker({
      source: opts.name,
      state: opts.state,
      catalog: opts.catalog,
      marker: opts.lifecycle,
      maxRatio: opts.maxOrphanRatio,
      clock: this.clock,
      logger: opts.logger,
    });
  }

  /** The state recorded by the last complete sync, or null. */
  async persisted(): Promise<PersistedSourceState | null> {
    return readPersistedState(await this.state.getState(stateKey(this.name)));
  }

  /**
   * Runs one sync. Throws `git_failure` or `timeout` when the source cannot be read at all, and
   * `payload_too_large` when it holds more than its limits; the catalog is untouched then.
   * Everything wrong with single files is in the report. Four steps: plan and read
   * (`sync-plan.ts`), weigh removals (`orphans.ts`; a sync over `max_orphan_ratio` stops here,
   * blocked, without writing), write in order (`write-loop.ts`), mark orphans and record
   * (`sync-record.ts`).
   */
  async sync(opts: SyncOptions = {}): Promise<SyncReport> {
    const startedAt = this.clock.now();
    const t0 = performance.now();
    const progress = (phase: SyncProgress['phase'], done: number, total: number) =>
      opts.onProgress?.({ source: this.name, phase, done, total });
    let changeset: SyncChangeset | null = null;
    const finish = async (
      outcome: Omit<
        SyncOutcome,
        'startedAt' | 't0' | 'head' | 'prevCommit' | 'full' | 'orphaned' | 'unorphaned' | 'changeset'
      >,
      marks = { orphaned: 0, unorphaned: 0 },
    ) => {
      const { name, paths, reader, state, events, feed, logger } = this;
      const recorder = { name, paths, reader, state, events, feed, logger };
      const report = await recordSync(recorder, {
        startedAt,
        t0,
        head,
        prevCommit,
        full,
        changeset,
        ...outcome,
        ...marks,
      });
      progress('done', outcome.files, outcome.files);
      return report;
    };

    progress('fetch', 0, 0);
    // Without a file map (a source synced before orphans were tracked) only a full sync builds one.
    const tracked = await this.orphans.tracked();
    const plan = await planSync(this.reader, await this.persisted(), this.paths, { forceFull: !tracked });
    const { head, prevCommit, full, previous, prevTotals } = plan;
    const counts: SyncCounts = { created: 0, unchanged: 0, failed: 0, conflicts: 0, files: 0, versions: 0 };
    if (plan.upToDate && prevTotals) {
      counts.files = prevTotals.files;
      counts.versions = prevTotals.versions;
      return finish({ files: 0, counts, bytes: prevTotals.bytes, errors: [], complete: true });
    }

    progress('list', 0, 0);
    const { selected, before, files, bytes } = await selectFiles(this.reader, plan, this.matchers);
    counts.files = files;
    this.checkLimits(files, bytes);
    const { readable, errors } = screenFiles(selected, this.maxFileBytes);

    // Versions the replaced files held, judged before this sync writes anything.
    const heldBefore = previous && plan.wanted ? await this.heldVersions(previous.commit, before) : new Set<string>();

    progress('parse', 0, readable.length);
    const items = await this.parse(readable, head, full, errors);
    counts.failed += new Set(errors.map((e) => e.path)).size;
    progress('parse', readable.length, readable.length);

    const fileMap = tracked ? await this.orphans.load() : null;
    const removals = await this.orphans.plan(fileMap, { full, wanted: plan.wanted, listed: selected, items });
    if (this.orphans.blocks(removals) && !opts.confirmRemovals) {
      const { name, paths, reader, state, events, feed, logger } = this;
      const blockedCounts: SyncCounts = { ...counts, versions: prevTotals?.versions ?? 0 };
      const report = await recordBlocked(
        { name, paths, reader, state, events, feed, logger },
        { startedAt, t0, head, previous, full, counts: blockedCounts, plan: removals, maxRatio: this.maxOrphanRatio },
      );
      progress('done', 0, 0);
      return report;
    }

    const heldAfter = new Set<string>();
    // An incremental sync publishes what its commits changed as one changeset (DESIGN.md 10.4); a
    // full sync, and files retried only because they failed alone before, are written file by file.
    const together = plan.together;
    const setItems = together ? items.filter((i) => together.has(i.path)) : [];
    let lone = together ? items.filter((i) => !together.has(i.path)) : items;
    let complete = true;
    const unparsed = together ? [...new Set(errors.map((e) => e.path))].filter((p) => together.has(p)) : [];
    if (setItems.length > 0) {
      const written = await this.writeSet(setItems, unparsed, head, counts, errors, heldAfter);
      changeset = written.changeset;
      complete = written.complete;
      if (written.changeset?.outcome === 'per_file') lone = items;
    }
    if (complete) complete = await this.writeAll(lone, counts, errors, heldAfter, opts, progress);
    counts.versions = Math.max(0, (prevTotals && !full ? prevTotals.versions : 0) - heldBefore.size + heldAfter.size);
    // Marks follow the writes: a sync that could not write everything marks nothing and is redone.
    const marks = complete ? await this.orphans.settle(removals, items, heldAfter, head) : undefined;
    return finish({ files: readable.length, counts, bytes, errors, complete }, marks);
  }

  /**
   * Reads and parses the readable files, adding their per-file errors to `errors`. A file none of
   * whose documents parsed is remembered with its content id and not parsed again while unchanged.
   */
  private async parse(
    readable: SourceFile[],
    head: string,
    full: boolean,
    errors: SourceFileError[],
  ): Promise<ParsedComponent[]> {
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
    const items: ParsedComponent[] = [];
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
      items.push(...parsed.components);
    }
    return items;
  }

  /** Throws `payload_too_large` when the matching files are more or larger than allowed. */
  private checkLimits(files: number, bytes: number): void {
    if (files > this.limits.maxFiles) {
      throw syncLimitExceeded(this.name, 'files', String(files), this.limits.maxFiles);
    }
    if (bytes > this.limits.maxBytes) throw syncLimitExceeded(this.name, 'bytes', String(bytes), this.limits.maxBytes);
  }

  /** True when `f` is remembered as unparsable with the content it has now. */
  private knownUnparsable(f: SourceFile): boolean {
    const known = this.unparsable.get(f.path);
    return known !== undefined && f.contentId !== undefined && known.contentId === f.contentId;
  }

  /**
   * `name@version` of every component that `files` defined at `revision` and that the catalog
   * holds with exactly that content (what the previous sync counted for those files).
   */
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
   * Publishes the components of the changed files as one changeset (`commit-set.ts`). A refused
   * set writes nothing and reports every file of it; a set larger than one write can hold (over
   * 1 000 members, or DynamoDB's 100 items) is handed back to be written file by file.
   */
  private async writeSet(
    items: ParsedComponent[],
    unparsed: string[],
    head: string,
    counts: SyncCounts,
    errors: SourceFileError[],
    held: Set<string>,
  ): Promise<{ changeset: SyncChangeset | null; complete: boolean }> {
    const outcome = await publishCommitSet(items, {
      source: this.name,
      head,
      writer: this.writer,
      catalog: this.catalog,
      unparsed,
      audit: (id, members) => this.changesetAudit(id, head, members),
    });
    switch (outcome.kind) {
      case 'written':
        counts.created += outcome.created;
        counts.unchanged += outcome.unchanged;
        for (const id of outcome.held) held.add(id);
        // Every member published already: no changeset was made.
        if (outcome.id === null) return { changeset: null, complete: true };
        return { changeset: { id: outcome.id, members: outcome.members, outcome: 'written' }, complete: true };
      case 'refused':
        counts.failed += outcome.failed;
        counts.conflicts += outcome.conflicts;
        counts.unchanged += outcome.unchanged;
        errors.push(...outcome.errors);
        this.logger.warn(
          {
            source: this.name,
            commit: head,
            members: outcome.members,
            failed: outcome.failed,
            conflicts: outcome.conflicts,
          },
          "source sync changeset refused: nothing of the commit's files was written",
        );
        return { changeset: { id: null, members: outcome.members, outcome: 'refused' }, complete: true };
      case 'too_large':
        this.logger.info(
          { source: this.name, commit: head, members: outcome.members, reason: outcome.reason },
          'source sync changes too many components for one changeset; writing them file by file',
        );
        return { changeset: { id: null, members: outcome.members, outcome: 'per_file' }, complete: true };
      case 'incomplete':
        counts.failed += outcome.failed;
        errors.push(...outcome.errors);
        this.logger.error({ source: this.name, commit: head }, 'source sync changeset write failed');
        return { changeset: { id: null, members: outcome.members, outcome: 'failed' }, complete: false };
    }
  }

  private changesetAudit(id: string, revision: string, members: number): AuditEntry {
    return this.audit('changeset.create', id, { revision, members });
  }

  /** The entry a sync's write carries into the store's atomic write (only written when it is). */
  private audit(action: AuditEntry['action'], subject: string, details: Record<string, unknown>): AuditEntry {
    const now = this.clock.now();
    return {
      id: auditId(now),
      time: now.toISOString(),
      actor: `source:${this.name}`,
      action,
      subject,
      request_id: null,
      ip: null,
      outcome: 'ok',
      details: { source: this.name, ...details },
    };
  }

  /**
   * Writes every component through the catalog manager in dependency order (`writeInOrder`),
   * counting outcomes and turning failures into per-file errors. Returns false when the sync must
   * not be recorded (stopped, or a write failed for a reason other than the file).
   */
  private async writeAll(
    items: ParsedComponent[],
    counts: SyncCounts,
    errors: SourceFileError[],
    held: Set<string>,
    opts: SyncOptions,
    progress: (phase: SyncProgress['phase'], done: number, total: number) => void,
  ): Promise<boolean> {
    let lastLog = performance.now();
    const result = await writeInOrder(
      items.map((parsed) => ({ parsed })),
      {
        write: async ({ parsed }) => {
          const { spec } = parsed;
          const outcome = await this.writer.createComponent(spec, {
            actor: `source:${this.name}`,
            audit: this.audit('component.create', `${spec.name}@${spec.version}`, { path: parsed.path }),
          });
          held.add(`${spec.name}@${spec.version}`);
          return outcome;
        },
        failed: ({ parsed }, err) => {
          const failure = writeFailure(parsed, err);
          if (failure.conflict) counts.conflicts += 1;
          else counts.failed += 1;
          errors.push(...failure.errors);
          if (!failure.fileFault) {
            const component = `${parsed.spec.name}@${parsed.spec.version}`;
            this.logger.error({ source: this.name, component, err }, 'source sync write failed');
          }
          return failure.fileFault;
        },
        signal: opts.signal,
        progressEvery: PROGRESS_EVERY,
        onProgress: (done, total) => {
          progress('write', done, total);
          if (done > 0 && done < total && performance.now() - lastLog > 2000) {
            lastLog = performance.now();
            this.logger.info({ source: this.name, done, total }, 'source sync progress');
          }
        },
      },
    );
    counts.created += result.created;
    counts.unchanged += result.unchanged;
    return result.complete;
  }
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
