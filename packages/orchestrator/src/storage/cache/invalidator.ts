import type { CatalogEvent } from '@nestor/sdk';
import type { ChangeFeed } from '../../events/interfaces.js';
import type { Logger } from '../../observability/logging/logger.js';
import type { EventLog } from '../interfaces.js';

/** What the invalidator needs of a cache. */
export interface InvalidatableCache {
  invalidate(event: CatalogEvent): void;
  clear(): void;
  /** The sequence up to which every event is already reflected (writes through the cache move it). */
  appliedSequence(): number;
  /** Records that every event up to `sequence` has been applied. */
  markApplied(sequence: number): void;
}

const PAGE = 10_000;

/**
 * Keeps a cache true to writes made by other processes (replicas, `nestor sync`): on every feed
 * announcement it reads the log from the last position it handled and invalidates what changed.
 * When it cannot tell what changed (the log was compacted past it, or reading failed) it clears the
 * whole cache, which costs misses but never serves stale data.
 *
 * It tells the cache how far it got (`markApplied`), which is what makes the cache's applied
 * sequence usable as the catalog revision, and it skips the log read for events the cache already
 * applied itself (this process's own writes).
 */
export class CacheInvalidator {
  private readonly cache: InvalidatableCache;
  private readonly log: Pick<EventLog, 'readEvents'>;
  private readonly logger: Logger;
  private running: Promise<void> | null = null;
  private wanted = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(opts: {
    cache: InvalidatableCache;
    log: Pick<EventLog, 'readEvents'>;
    logger: Logger;
    position: number;
  }) {
    this.cache = opts.cache;
    this.log = opts.log;
    this.logger = opts.logger;
    // The cache starts empty, so it reflects every event up to the starting position.
    this.cache.markApplied(opts.position);
  }

  /** Starts following the feed. */
  follow(feed: ChangeFeed): void {
    this.unsubscribe = feed.subscribe((head) => this.catchUp(head));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Resolves once every event up to `head` has been applied (used by tests and the feed). */
  catchUp(head: number): Promise<void> {
    this.wanted = Math.max(this.wanted, head);
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async drain(): Promise<void> {
    // The cache's applied sequence is the position: this process's own writes move it too, and
    // their events need no second read.
    for (;;) {
      const from = this.cache.appliedSequence();
      if (from >= this.wanted) return;
      try {
        const events = await this.log.readEvents(from, PAGE);
        const first = events[0];
        if (!first || first.id !== from + 1) {
          // Compacted past our position, or the log is behind the announcement: we cannot know
          // exactly what changed.
          this.cache.clear();
          this.cache.markApplied(Math.max(this.wanted, events.at(-1)?.id ?? from));
          continue;
        }
        for (const event of events) this.cache.invalidate(event);
        const last = events.at(-1)?.id ?? from;
        this.cache.markApplied(events.length < PAGE ? Math.max(last, this.wanted) : last);
      } catch (err) {
        this.logger.warn({ err }, 'could not read the event log to invalidate the cache; clearing it');
        this.cache.clear();
        this.cache.markApplied(this.wanted);
      }
    }
  }
}
