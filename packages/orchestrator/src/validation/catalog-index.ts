import type { ComponentDefinition } from '@nestor/sdk';
import { LRUCache } from 'lru-cache';
import type { ComponentVersioning, EventLog } from '../storage/interfaces.js';
import { normalizeName } from './rules/common.js';

/** What the index reads: the name list for a full build, the event log to follow changes. */
export type CatalogIndexSource = Pick<ComponentVersioning, 'listComponentNames' | 'getComponentVersions'> &
  Pick<EventLog, 'readEvents'>;

const PAGE = 1_000;
/** Further behind than this, one name listing is cheaper than replaying the log. */
const REPLAY_LIMIT = 20_000;
/** Component definitions kept for `versions` (about 2 KB each). */
const DEFAULT_MAX_VERSIONS = 20_000;

/**
 * What validation reads over and over, kept true by following the event log:
 *
 * - existing names by their normalised form, so the conflicts rule finds confusable names without
 *   listing the whole catalog on every validation. Built once from the name list, then advanced by
 *   replaying `component.created` events. Names are never deleted, so an index that knows a few
 *   names too many (written after the revision asked for) is still exact about every name that
 *   existed at it.
 * - every version of recently asked names (a new version's predecessor, its dependencies), so a
 *   create does not re-read and re-parse five dependencies' versions. Every change to a version is
 *   an event on the log, so an entry is dropped as soon as the index reads an event of its name;
 *   when the index cannot tell what changed (rebuilt from the name list), it drops them all.
 *
 * Both answer "as of revision `head` or later": the index first reads the log up to `head`.
 */
export class CatalogIndex {
  private readonly source: CatalogIndexSource;
  private readonly byFold = new Map<string, Set<string>>();
  private readonly versionsByName: LRUCache<string, readonly ComponentDefinition[]>;
  /** Revision the index is complete for; -1 before the first build. */
  private position = -1;
  /** Moves whenever a cached entry may have gone stale: a load that straddles it is not kept. */
  private epoch = 0;
  private advancing: Promise<void> | null = null;

  constructor(opts: { source: CatalogIndexSource; maxVersions?: number }) {
    this.source = opts.source;
    this.versionsByName = new LRUCache({
      maxSize: Math.max(1, opts.maxVersions ?? DEFAULT_MAX_VERSIONS),
      sizeCalculation: (versions) => versions.length + 1,
    });
  }

  /** Existing names other than `name` with the same normalised form, as of revision `head` or later. */
  async similarNames(name: string, head: number): Promise<string[]> {
    await this.advanceTo(head);
    const found = this.byFold.get(normalizeName(name));
    return found ? [...found].filter((n) => n !== name).sort() : [];
  }

  /**
   * Every version of `name` (semver-descending, as the store orders them) as of revision `head` or
   * later. The array and its definitions are shared between callers: read them, never change them.
   */
  async versions(name: string, head: number): Promise<readonly ComponentDefinition[]> {
    await this.advanceTo(head);
    const cached = this.versionsByName.get(name);
    if (cached) return cached;
    const epoch = this.epoch;
    const versions = await this.source.getComponentVersions(name);
    if (epoch === this.epoch) this.versionsByName.set(name, versions);
    return versions;
  }

  private async advanceTo(head: number): Promise<void> {
    while (this.position < head) {
      if (!this.advancing) {
        this.advancing = this.advance(head).finally(() => {
          this.advancing = null;
        });
      }
      await this.advancing;
    }
  }

  private add(name: string): void {
    const fold = normalizeName(name);
    let set = this.byFold.get(fold);
    if (!set) {
      set = new Set();
      this.byFold.set(fold, set);
    }
    set.add(name);
  }

  private async advance(head: number): Promise<void> {
    if (this.position < 0 || head - this.position > REPLAY_LIMIT) {
      await this.rebuild(head);
      return;
    }
    while (this.position < head) {
      const events = await this.source.readEvents(this.position, PAGE);
      const last = events.at(-1);
      if (!last || events[0]?.id !== this.position + 1) {
        // Sequences have no gaps, so a missing next event was compacted away: what happened to
        // the names in between is unknown, and the name list is the way back.
        await this.rebuild(head);
        return;
      }
      for (const event of events) {
        if (!event.type.startsWith('component.')) continue;
        if (event.type === 'component.created') this.add(event.subject.name);
        this.versionsByName.delete(event.subject.name);
        this.epoch++;
      }
      this.position = last.id;
    }
  }

  private async rebuild(head: number): Promise<void> {
    this.epoch++;
    this.versionsByName.clear();
    // The list is read after `head` was, so it holds at least every name that existed at `head`.
    const names = await this.source.listComponentNames();
    this.byFold.clear();
    for (const name of names) this.add(name);
    this.position = head;
  }
}
