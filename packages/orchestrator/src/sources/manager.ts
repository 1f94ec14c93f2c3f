import { type FSWatcher, watch } from 'node:fs';
import { resolve } from 'node:path';
import { create, type NestorError, notFound, type SourceStatus } from '@nestor/sdk';
import type { Tracer } from '@opentelemetry/api';
import type { SourceConfig } from '../config/config.js';
import type { LeaderLease } from '../leases/lease.js';
import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { withSpan } from '../observability/tracing/tracing.js';
import { shortRevision } from './commit-set.js';
import type { SourceSyncer, SyncOptions, SyncReport } from './syncer.js';
import { sourceFailure } from './syncer.js';

/** A configured source with its secrets resolved from the environment by the composition root. */
export interface SourceDefinition extends SourceConfig {
  /** https token (from `token_env`). */
  token: string | null;
  /** Webhook secret (from `webhook_secret_env`); without one, webhooks for the source are refused. */
  webhookSecret: string | null;
}

export interface SourceManagerOptions {
  sources: SourceDefinition[];
  /** Builds the syncer of each source (its reader, git client, parser); see `sources/wiring.ts`. */
  syncerFor: (def: SourceDefinition) => SourceSyncer;
  /** Keeps replicas (and `nestor sync` beside a server) from syncing one source at once; none: no lease. */
  lease?: LeaderLease | null;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Quiet time after a file change in a directory source before it is synced (ms). */
  watchDebounceMs?: number;
  /** When tracing is on, each sync run is a `sync.source` span. */
  tracer?: Tracer | null;
}

interface Slot {
  def: SourceDefinition;
  syncer: SourceSyncer;
  running: Promise<SyncReport> | null;
  queued: Promise<SyncReport> | null;
  state: SourceStatus['state'];
  lastError: { code: string; message: string; at: string } | null;
  timer: NodeJS.Timeout | null;
  watcher: FSWatcher | null;
  debounce: NodeJS.Timeout | null;
  /** An admin confirmed removals: the next sync to start may orphan past `max_orphan_ratio`. */
  confirmNext: boolean;
  /** What the last sync of this process was blocked by, when it was. */
  blocked: SyncReport['blocked'];
}

/**
 * The registry of git and directory sources: runs syncs (one at a time per source, duplicates
 * coalesced into at most one follow-up), polls, watches folders, and answers status.
 */
export class SourceManager {
  private readonly slots = new Map<string, Slot>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly watchDebounceMs: number;
  private readonly lease: LeaderLease | null;
  private readonly abort = new AbortController();
  private readonly tracer: Tracer | null;
  private readonly syncs;
  private readonly durations;
  private started = false;
  private stopped = false;

  constructor(opts: SourceManagerOptions) {
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.watchDebounceMs = opts.watchDebounceMs ?? 300;
    this.tracer = opts.tracer ?? null;
    this.lease = opts.lease ?? null;
    const metrics = opts.metrics ?? noopMetrics;
    this.syncs = metrics.counter('nestor_source_syncs_total', 'Source syncs by source and outcome', [
      'source',
      'outcome',
    ]);
    this.durations = metrics.histogram(
      'nestor_source_sync_duration_seconds',
      'Source sync duration',
      ['source'],
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    );
    for (const def of opts.sources) {
      const syncer = opts.syncerFor(def);
      this.slots.set(def.name, {
        def,
        syncer,
        running: null,
        queued: null,
        state: 'idle',
        lastError: null,
        timer: null,
        watcher: null,
        debounce: null,
        confirmNext: false,
        blocked: null,
      });
    }
  }

  /** Names of every source, in config order. */
  names(): string[] {
    return [...this.slots.keys()];
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  /** A source's definition; throws `source_not_found`. */
  definition(name: string): SourceDefinition {
    return this.slot(name).def;
  }

  /** Status of every source. */
  list(): Promise<SourceStatus[]> {
    return Promise.all(this.names().map((n) => this.status(n)));
  }

  /** Status of one source; throws `source_not_found`. */
  async status(name: string): Promise<SourceStatus> {
    const slot = this.slot(name);
    const persisted = await slot.syncer.persisted();
    // The block is recorded with the source, so every replica (and a restarted one) reports it.
    const blocked = slot.state === 'blocked' ? slot.blocked : (persisted?.blocked ?? null);
    const state = slot.state === 'idle' && blocked ? 'blocked' : slot.state;
    return {
      name,
      type: slot.def.type,
      url: slot.syncer.reader.url,
      branch: slot.def.type === 'git' ? slot.def.branch : null,
      last_commit: persisted?.commit ?? null,
      last_sync_at: persisted?.last_sync_at ?? null,
      last_duration_ms: persisted?.last_duration_ms ?? null,
      state,
      blocked:
        state === 'blocked' && blocked
          ? { orphans: blocked.orphans, total: blocked.total, ratio: blocked.ratio }
          : null,
      counts: {
        created: 0,
        unchanged: 0,
        failed: 0,
        conflicts: 0,
        files: 0,
        versions: 0,
        ...persisted?.counts,
      },
      errors: persisted?.errors ?? [],
      last_error: slot.lastError,
    };
  }

  /**
   * Runs a sync now, or joins the one already queued: while a sync runs, every further request
   * shares one follow-up sync (new commits may have arrived since the running one fetched).
   * Throws `source_not_found`, or whatever made the sync fail (`git_failure`, `timeout`, ...).
   */
  sync(name: string, opts: Omit<SyncOptions, 'signal'> = {}): Promise<SyncReport> {
    const slot = this.slot(name);
    // A confirmation joins whichever sync starts next, also one another request already queued.
    if (opts.confirmRemovals) slot.confirmNext = true;
    if (!slot.running) return this.launch(slot, opts);
    if (!slot.queued) {
      slot.queued = slot.running
        .catch(() => undefined)
        .then(() => {
          slot.queued = null;
          return this.launch(slot, opts);
        });
    }
    return slot.queued;
  }

  /**
   * Asks for a sync without waiting (webhooks, polls, the API); failures land in the status.
   * `confirmRemovals` lets that sync orphan past the source's `max_orphan_ratio`.
   */
  requestSync(name: string, reason: string, opts: { confirmRemovals?: boolean } = {}): void {
    if (this.stopped) return;
    this.logger.debug(
      { source: name, reason, confirm_removals: opts.confirmRemovals === true },
      'source sync requested',
    );
    this.sync(name, opts).catch(() => undefined);
  }

  /** Whether a sync of the source is running or queued. */
  busy(name: string): boolean {
    const slot = this.slot(name);
    return slot.running !== null || slot.queued !== null;
  }

  /** Starts the first sync of every source, polling, and folder watches. */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const slot of this.slots.values()) {
      const name = slot.def.name;
      this.requestSync(name, 'start');
      if (slot.def.interval_ms > 0) {
        slot.timer = setInterval(() => this.requestSync(name, 'poll'), slot.def.interval_ms);
        slot.timer.unref();
      }
      if (slot.def.type === 'directory') this.watch(slot);
    }
  }

  /** Stops timers and watches, interrupts running syncs between writes, and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const waits: Promise<unknown>[] = [];
    for (const slot of this.slots.values()) {
      if (slot.timer) clearInterval(slot.timer);
      if (slot.debounce) clearTimeout(slot.debounce);
      slot.watcher?.close();
      slot.timer = null;
      slot.debounce = null;
      slot.watcher = null;
      if (slot.running) waits.push(slot.running.catch(() => undefined));
      if (slot.queued) waits.push(slot.queued.catch(() => undefined));
    }
    await Promise.all(waits);
  }

  private watch(slot: Slot): void {
    const root = resolve(slot.def.path ?? '.');
    try {
      slot.watcher = watch(root, { recursive: true, persistent: false }, () => {
        if (slot.debounce) clearTimeout(slot.debounce);
        slot.debounce = setTimeout(() => {
          slot.debounce = null;
          this.requestSync(slot.def.name, 'watch');
        }, this.watchDebounceMs);
        slot.debounce.unref();
      });
      slot.watcher.on('error', (err) => {
        this.logger.warn({ source: slot.def.name, err }, 'folder watch failed; polling continues');
        slot.watcher?.close();
        slot.watcher = null;
      });
    } catch (err) {
      this.logger.warn({ source: slot.def.name, path: root, err }, 'cannot watch folder; polling only');
    }
  }

  private launch(slot: Slot, opts: Omit<SyncOptions, 'signal'>): Promise<SyncReport> {
    const confirmRemovals = slot.confirmNext;
    slot.confirmNext = false;
    const p = this.run(slot, { ...opts, confirmRemovals }).finally(() => {
      if (slot.running === p) slot.running = null;
    });
    slot.running = p;
    return p;
  }

  private run(slot: Slot, opts: Omit<SyncOptions, 'signal'>): Promise<SyncReport> {
    if (!this.tracer) return this.runUntraced(slot, opts);
    return withSpan(
      this.tracer,
      'sync.source',
      { 'nestor.source': slot.def.name, 'nestor.source.type': slot.def.type },
      () => this.runUntraced(slot, opts),
    );
  }

  private async runUntraced(slot: Slot, opts: Omit<SyncOptions, 'signal'>): Promise<SyncReport> {
    const name = slot.def.name;
    if (this.stopped) throw this.unavailable(name, 'the orchestrator is shutting down');
    if (!this.lease) return this.runLeading(slot, opts, this.abort.signal);
    const outcome = await this.lease.runIfLeader(name, (lost) =>
      this.runLeading(slot, opts, AbortSignal.any([this.abort.signal, lost])),
    );
    if (outcome.ran) return outcome.value;
    // Another replica (or `nestor sync`) is syncing this source right now; its result is ours too.
    throw this.unavailable(name, 'another process is syncing this source; try again shortly');
  }

  private async runLeading(slot: Slot, opts: Omit<SyncOptions, 'signal'>, signal: AbortSignal): Promise<SyncReport> {
    const name = slot.def.name;
    slot.state = 'syncing';
    const t0 = performance.now();
    try {
      const report = await slot.syncer.sync({ ...opts, signal });
      slot.blocked = report.blocked;
      if (report.blocked) {
        slot.state = 'blocked';
        slot.lastError = null;
        this.syncs.inc({ source: name, outcome: 'blocked' });
        return report;
      }
      if (report.complete && report.changeset?.outcome === 'refused') {
        // Recorded (its per-file errors are the status's), but nothing of the commit was written.
        slot.state = 'failed';
        slot.lastError = {
          code: 'validation_failed',
          message: `the changeset of ${shortRevision(report.commit)} was refused: nothing of its ${report.changeset.members} changed component(s) was written; see errors`,
          at: this.clock.now().toISOString(),
        };
        this.syncs.inc({ source: name, outcome: 'refused' });
        return report;
      }
      slot.state = report.complete ? 'idle' : 'failed';
      slot.lastError = report.complete
        ? null
        : {
            code: this.stopped ? 'service_unavailable' : 'storage_failure',
            message: this.stopped
              ? 'sync interrupted by shutdown; the next sync completes it'
              : 'some components could not be written; the next sync retries them',
            at: this.clock.now().toISOString(),
          };
      this.syncs.inc({ source: name, outcome: report.complete ? 'ok' : 'incomplete' });
      return report;
    } catch (err) {
      const error = sourceFailure(name, err);
      slot.state = 'failed';
      slot.lastError = { code: error.code, message: error.message, at: this.clock.now().toISOString() };
      this.syncs.inc({ source: name, outcome: 'failed' });
      this.logger.warn({ source: name, code: error.code, message: error.message }, 'source sync failed');
      throw error;
    } finally {
      this.durations.observe({ source: name }, (performance.now() - t0) / 1000);
    }
  }

  private unavailable(name: string, why: string): NestorError {
    return create('service_unavailable')
      .component('sync')
      .operation('SyncSource')
      .message(`source ${name}: ${why}`)
      .build();
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) {
      throw notFound('source_not_found', 'sync', 'GetSource', `source ${name} is not configured`, { source: name });
    }
    return slot;
  }
}
