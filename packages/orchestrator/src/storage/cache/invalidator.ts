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
  private readonly log: Pick<EventLog, 'readEvents' | 'headSequence'>;
  private readonly logger: Logger;
  private running: Promise<void> | null = null;
  private wanted = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(opts: {
    cache: InvalidatableCache;
    log: Pick<EventLog, 'readEvents' | 'headSequence'>;
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
        const last = events.at(-1)?.id ?? from;
        if (!first) {
          const head = await this.log.headSequence();
          if (head > from) {
            // Compacted past our position, up to the head: we cannot know what changed.
            this.cache.clear();
            this.cache.markApplied(head);
            continue;
          }
          // The announcement was above the log (forged, or written by a process whose write this
          // store does not show yet). The revision must never claim events the data does not
          // hold, so it is dropped; a real write arrives with a later announcement or poll.
          this.logger.warn({ announced: this.wanted, head }, 'ignored an announced head above the event log');
          this.wanted = from;
          return;
        }
        if (first.id !== from + 1) {
          // Compacted past our position: we cannot know exactly what changed.
          this.cache.clear();
          this.cache.markApplied(last);
          continue;
        }
        for (const event of events) this.cache.invalidate(event);
        this.cache.markApplied(last);
      } catch (err) {
        this.logger.warn({ err }, 'could not read the event log to invalidate the cache; clearing it');
        this.cache.clear();
        this.cache.markApplied(this.wanted);
      }
    }
  }
}
