import type { Clock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import { auditId } from '../storage/audit-records.js';
import type { AuditEntry, ComponentReader, StateStore } from '../storage/interfaces.js';
import { FileMapStore, type FileVersions, type StoredFileMap } from './file-map.js';
import type { ParsedComponent } from './parser.js';
import type { SourceFile } from './readers.js';
import type { SyncRecorder, SyncReport } from './sync-record.js';
import { type BlockedSync, type PersistedSourceState, type SyncCounts, stateKey } from './sync-state.js';

/** The lifecycle writes a sync makes besides creates: `CatalogManager.orphanComponent` and its inverse. */
export interface LifecycleMarker {
  orphanComponent(
    name: string,
    version: string,
    source: string,
    opts?: { audit?: AuditEntry },
  ): Promise<{ changed: boolean }>;
  unorphanComponent(name: string, version: string, opts?: { audit?: AuditEntry }): Promise<{ changed: boolean }>;
}

/** What a sync would orphan, judged before it writes anything. */
export interface RemovalPlan {
  /** The map read before the sync; null for a source synced before orphans were tracked. */
  before: StoredFileMap | null;
  /** Mapped paths the source no longer holds. */
  removed: Set<string>;
  /** Versions only removed files defined that the catalog holds unorphaned and not deleted. */
  orphans: { name: string; version: string }[];
  total: number;
  ratio: number;
}

/** Which files a sync looked at. */
export interface SyncScope {
  /** True when every matching file was listed; otherwise only `wanted` paths were. */
  full: boolean;
  wanted: Set<string> | null;
  /** Every matching path the source holds among those looked at (readable or not). */
  listed: SourceFile[];
  /** What the readable files define now. */
  items: ParsedComponent[];
}

/**
 * Orphans (DESIGN.md 10.3): a sync never deletes. A version that only vanished files defined is
 * marked orphaned, through the catalog manager so its event and audit entry are written; a
 * version a file defines again with the same content (a create that changed nothing) loses the
 * mark. Before any write, the removals are weighed against `max_orphan_ratio`: a sync that would
 * orphan more than that share of the source's versions is blocked and writes nothing.
 */
export class OrphanTracker {
  private readonly source: string;
  private readonly files: FileMapStore;
  private readonly catalog: Pick<ComponentReader, 'getComponent'>;
  private readonly marker: LifecycleMarker;
  private readonly maxRatio: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(opts: {
    source: string;
    state: StateStore;
    catalog: Pick<ComponentReader, 'getComponent'>;
    marker: LifecycleMarker;
    maxRatio: number;
    clock: Clock;
    logger: Logger;
  }) {
    this.source = opts.source;
    this.files = new FileMapStore({ state: opts.state, source: opts.source });
    this.catalog = opts.catalog;
    this.marker = opts.marker;
    this.maxRatio = opts.maxRatio;
    this.clock = opts.clock;
    this.logger = opts.logger;
  }

  /** Whether a file map was recorded; without one the next sync must be full. */
  tracked(): Promise<boolean> {
    return this.files.exists();
  }

  /** The file map of the last complete sync, or null. */
  load(): Promise<StoredFileMap | null> {
    return this.files.read();
  }

  /** The versions this sync would orphan and their share of the source's versions. */
  async plan(before: StoredFileMap | null, scope: SyncScope): Promise<RemovalPlan> {
    const map = before?.files ?? new Map<string, string[]>();
    const listed = new Set(scope.listed.map((f) => f.path));
    const removed = new Set<string>();
    for (const path of map.keys()) {
      const looked = scope.full || (scope.wanted?.has(path) ?? false);
      if (looked && !listed.has(path)) removed.add(path);
    }
    // A version some remaining file still defines (a moved file, an unchanged one) keeps its source.
    const kept = new Set(scope.items.map((i) => idOf(i.spec)));
    const all = new Set<string>();
    for (const [path, ids] of map) {
      for (const id of ids) {
        all.add(id);
        if (!removed.has(path)) kept.add(id);
      }
    }
    const orphans: RemovalPlan['orphans'] = [];
    const candidates = new Set<string>();
    for (const path of removed) for (const id of map.get(path) ?? []) if (!kept.has(id)) candidates.add(id);
    for (const id of [...candidates].sort()) {
      const ref = refOf(id);
      const stored = await this.catalog.getComponent(ref.name, ref.version);
      if (stored && !stored.deleted && !stored.orphaned) orphans.push(ref);
    }
    const total = all.size;
    const ratio = total === 0 ? 0 : orphans.length / total;
    return { before, removed, orphans, total, ratio };
  }

  /** Whether the plan needs `confirm_removals`. */
  blocks(plan: RemovalPlan): boolean {
    return plan.orphans.length > 0 && plan.ratio > this.maxRatio;
  }

  /**
   * After a complete write: marks the plan's orphans, lifts the mark of versions held again, and
   * stores the new file map. `held` is every `name@version` this sync wrote or found unchanged.
   */
  async settle(
    plan: RemovalPlan,
    items: ParsedComponent[],
    held: ReadonlySet<string>,
    revision: string,
  ): Promise<{ orphaned: number; unorphaned: number }> {
    const previous = plan.before?.files ?? new Map<string, string[]>();
    const known = new Set([...previous.values()].flat());
    let orphaned = 0;
    for (const { name, version } of plan.orphans) {
      const audit = this.entry('component.orphan', `${name}@${version}`, revision);
      if ((await this.marker.orphanComponent(name, version, this.source, { audit })).changed) orphaned++;
    }
    let unorphaned = 0;
    for (const id of held) {
      if (known.has(id)) continue;
      const { name, version } = refOf(id);
      const stored = await this.catalog.getComponent(name, version);
      if (!stored?.orphaned) continue;
      const audit = this.entry('component.unorphan', id, revision);
      if ((await this.marker.unorphanComponent(name, version, { audit })).changed) unorphaned++;
    }
    const next: FileVersions = new Map();
    for (const [path, ids] of previous) if (!plan.removed.has(path)) next.set(path, [...ids]);
    for (const item of items) {
      const id = idOf(item.spec);
      if (!held.has(id)) continue;
      const ids = next.get(item.path) ?? [];
      if (!ids.includes(id)) ids.push(id);
      next.set(item.path, ids);
    }
    await this.files.write(next, plan.before?.generation ?? null);
    if (orphaned > 0 || unorphaned > 0) {
      this.logger.info({ source: this.source, orphaned, unorphaned, revision }, 'source sync changed orphan marks');
    }
    return { orphaned, unorphaned };
  }

  private entry(action: string, subject: string, revision: string): AuditEntry {
    const now = this.clock.now();
    return {
      id: auditId(now),
      time: now.toISOString(),
      actor: `source:${this.source}`,
      action,
      subject,
      request_id: null,
      ip: null,
      outcome: 'ok',
      details: { source: this.source, revision },
    };
  }
}

/** What a blocked sync had looked at, for its record. */
export interface BlockedOutcome {
  startedAt: Date;
  t0: number;
  head: string;
  previous: PersistedSourceState | null;
  full: boolean;
  counts: SyncCounts;
  plan: RemovalPlan;
  maxRatio: number;
}

/**
 * Records a blocked sync: the source keeps its last synced revision (so the next sync weighs the
 * same removals again) and its state carries `blocked`, announced by one `source.synced` event
 * with `state: "blocked"` when the block is new; later polls that find the same block write nothing.
 */
export async function recordBlocked(to: SyncRecorder, r: BlockedOutcome): Promise<SyncReport> {
  const duration = Math.round(performance.now() - r.t0);
  const blocked: BlockedSync = { orphans: r.plan.orphans.length, total: r.plan.total, ratio: round(r.plan.ratio) };
  const prev = r.previous;
  let eventId: number | null = null;
  const same = prev?.blocked && prev.blocked.commit === r.head && prev.blocked.orphans === blocked.orphans;
  if (prev && !same) {
    const state: PersistedSourceState = {
      ...prev,
      blocked: { ...blocked, commit: r.head, at: r.startedAt.toISOString() },
    };
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
          previous_commit: prev.commit,
          full: r.full,
          state: 'blocked',
          blocked,
          max_orphan_ratio: r.maxRatio,
          duration_ms: duration,
        },
      },
      { kind: 'state', key: stateKey(to.name), value: state },
    );
    eventId = event.id;
    to.feed.publish(event.id);
  }
  to.logger.warn(
    { source: to.name, commit: r.head, ...blocked, max_orphan_ratio: r.maxRatio },
    'source sync blocked: it would orphan too many versions; nothing was written (POST /v1/sources/{name}/sync?confirm_removals=true lets it proceed)',
  );
  return {
    source: to.name,
    commit: r.head,
    previous_commit: prev?.commit ?? null,
    full: r.full,
    files: 0,
    counts: r.counts,
    errors: prev?.errors ?? [],
    duration_ms: duration,
    started_at: r.startedAt.toISOString(),
    complete: false,
    event_id: eventId,
    blocked,
    orphaned: 0,
    unorphaned: 0,
    changeset: null,
  };
}

function round(ratio: number): number {
  return Math.round(ratio * 10_000) / 10_000;
}

function idOf(spec: { name: string; version: string }): string {
  return `${spec.name}@${spec.version}`;
}

/** Names never hold `@`, so the first one splits. */
function refOf(id: string): { name: string; version: string } {
  const at = id.indexOf('@');
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}
