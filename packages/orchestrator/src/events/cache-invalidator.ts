import type { CatalogEvent } from '@nestor/sdk';
import type { Logger } from '../observability/logging/logger.js';
import type { InvalidatableCache } from '../storage/cache/interfaces.js';
import type { ChangeFeed } from './interfaces.js';
import { type FollowedLog, type LogConsumer, LogFollower } from './log-follower.js';

const PAGE = 10_000;

/**
 * Keeps a cache true to writes made by other processes (replicas, `nestor sync`): a log follower
 * hands it every event after the last position it handled, and it invalidates what changed. When
 * the follower cannot tell what changed (the log was compacted past it, or reading failed) it
 * clears the whole cache, which costs misses but never serves stale data.
 *
 * It tells the cache how far it got (`markApplied`), which is what makes the cache's applied
 * sequence usable as the catalog revision, and the follower skips the log read for events the
 * cache already applied itself (this process's own writes).
 */
export class CacheInvalidator implements LogConsumer {
  private readonly cache: InvalidatableCache;
  private readonly log: FollowedLog;
  private readonly follower: LogFollower;
  /** The head read the settles of this turn share; null until one is asked. */
  private headRead: Promise<number> | null = null;

  constructor(opts: { cache: InvalidatableCache; log: FollowedLog; logger: Logger; position: number }) {
    this.cache = opts.cache;
    this.log = opts.log;
    // The cache starts empty, so it reflects every event up to the starting position.
    this.cache.markApplied(opts.position);
    this.follower = new LogFollower({
      log: opts.log,
      consumer: this,
      logger: opts.logger,
      position: opts.position,
      pageSize: PAGE,
      alreadyApplied: () => this.cache.appliedSequence(),
    });
  }

  /** Starts following the feed. */
  follow(feed: ChangeFeed): void {
    this.follower.follow(feed);
  }

  stop(): void {
    this.follower.stop();
  }

  /** Resolves once every event up to `head` has been applied (used by tests and the feed). */
  catchUp(head: number): Promise<void> {
    return this.follower.catchUp(head);
  }

  /**
   * Reads the log's head and resolves with the cache's applied sequence once it has reached it:
   * reads through the cache then show every write committed before the call, other processes'
   * included.
   */
  async settle(): Promise<number> {
    await this.follower.catchUp(await this.sharedHead());
    return this.cache.appliedSequence();
  }

  /**
   * The log's head, read once for every settle asked in the same turn of the event loop: the
   * creates read from the sockets in one poll all validate, and each would otherwise pay a read of
   * its own. The read is made when the turn ends, after every call that shares it, so it is at least
   * the head as of each of them.
   */
  private sharedHead(): Promise<number> {
    if (this.headRead === null) {
      this.headRead = new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          this.headRead = null;
          try {
            this.log.headSequence().then(resolve, reject);
          } catch (err) {
            reject(err);
          }
        });
      });
    }
    return this.headRead;
  }

  onEvents(events: readonly CatalogEvent[]): void {
    for (const event of events) this.cache.invalidate(event);
    const last = events.at(-1);
    if (last) this.cache.markApplied(last.id);
  }

  onReset(head: number): void {
    this.cache.clear();
    this.cache.markApplied(head);
  }
}
