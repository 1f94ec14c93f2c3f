import type { CatalogEvent } from '@nestor/sdk';
import type { Logger } from '../observability/logging/logger.js';
import type { EventLog } from '../storage/interfaces.js';
import type { ChangeFeed } from './interfaces.js';

/** What a follower reads from the durable log. */
export type FollowedLog = Pick<EventLog, 'readEvents' | 'headSequence'>;

/**
 * What a follower feeds. Both callbacks run one at a time, never concurrently with each other.
 */
export interface LogConsumer {
  /**
   * Applies consecutive events (the first is position + 1). Throwing makes the follower reset
   * the consumer, since it can no longer tell which of the events were applied.
   */
  onEvents(events: readonly CatalogEvent[]): void | Promise<void>;
  /**
   * The follower cannot tell what changed since its position (the log was compacted past it, a
   * read or `onEvents` failed, or it is further behind than `replayLimit`): rebuild from the store
   * so that the consumer reflects at least every event up to `head`. The follower's position
   * becomes `head`. Throwing leaves the position where it was; the next `catchUp` retries.
   */
  onReset(head: number): void | Promise<void>;
}

export interface LogFollowerOptions {
  log: FollowedLog;
  consumer: LogConsumer;
  logger: Logger;
  /** Every event up to this sequence is already reflected by the consumer; -1 = nothing yet. */
  position: number;
  /** Events read per page. */
  pageSize?: number;
  /** Further behind than this, a reset is cheaper than replaying the log. */
  replayLimit?: number;
  /** After a failed catch-up while following a feed, retry after this long. */
  retryMs?: number;
  /**
   * Read before each page: the consumer may already reflect events past the position through its
   * owner's own writes (a cache written through), and those are not read again.
   */
  alreadyApplied?: () => number;
  /**
   * What an unreadable log means. `reset` (default): the consumer rebuilds, since it cannot tell
   * what it missed. `retry`: the catch-up rejects and the position stays, for a consumer that
   * loses nothing by waiting (a stream that resumes from its position) but would lose much by a
   * reset.
   */
  onReadFailure?: 'reset' | 'retry';
}

const DEFAULT_PAGE = 1_000;

/**
 * Follows the durable event log for one consumer (the informer pattern): on every feed
 * announcement, or `catchUp(head)`, it reads the log in pages from its own position and hands the
 * events over. Concurrent callers share one catch-up (single flight). When the first event read is
 * not position + 1, events were compacted away and the consumer is told to rebuild (`onReset`).
 * A lost announcement only delays: the next one, or any `catchUp`, reads everything missed.
 */
export class LogFollower {
  private readonly log: FollowedLog;
  private readonly consumer: LogConsumer;
  private readonly logger: Logger;
  private readonly pageSize: number;
  private readonly replayLimit: number;
  private readonly retryMs: number;
  private readonly alreadyApplied: (() => number) | null;
  private readonly resetOnReadFailure: boolean;
  private current: number;
  private wanted: number;
  private running: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(opts: LogFollowerOptions) {
    this.log = opts.log;
    this.consumer = opts.consumer;
    this.logger = opts.logger;
    this.pageSize = Math.max(1, opts.pageSize ?? DEFAULT_PAGE);
    this.replayLimit = opts.replayLimit ?? Number.POSITIVE_INFINITY;
    this.retryMs = opts.retryMs ?? 1_000;
    this.alreadyApplied = opts.alreadyApplied ?? null;
    this.resetOnReadFailure = (opts.onReadFailure ?? 'reset') === 'reset';
    this.current = opts.position;
    this.wanted = opts.position;
  }

  /** Every event up to this sequence is reflected by the consumer (-1 before the first reset). */
  position(): number {
    return this.current;
  }

  /**
   * Records that the consumer already reflects every event up to `sequence` by other means (its
   * owner's own writes), so those events are not read again. Never moves the position backwards.
   */
  skipTo(sequence: number): void {
    if (sequence > this.current) this.current = sequence;
  }

  /** Catches up on every announcement of the feed; failures are logged and retried later. */
  follow(feed: ChangeFeed): void {
    this.unsubscribe?.();
    this.unsubscribe = feed.subscribe((head) => {
      this.catchUp(head).catch((err) => this.retryLater(err));
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * Resolves once every event up to `head` is reflected (or the head turned out to be above the
   * log: an announcement the store does not show yet is dropped, never claimed). Rejects when the
   * log cannot be read and the reset failed too; the position then stays and a later call retries.
   * Calls made while a catch-up runs join it and are served by it or by the one that follows.
   */
  async catchUp(head: number): Promise<void> {
    this.wanted = Math.max(this.wanted, head);
    if (this.alreadyApplied) this.skipTo(this.alreadyApplied());
    while (this.current < head && this.wanted >= head) {
      if (!this.running) {
        this.running = this.drain().finally(() => {
          this.running = null;
        });
      }
      await this.running;
    }
  }

  private retryLater(err: unknown): void {
    this.logger.warn({ err }, 'log follower could not catch up; retrying');
    if (this.retryTimer || !this.unsubscribe) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.catchUp(this.wanted).catch((e) => this.retryLater(e));
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private async drain(): Promise<void> {
    while (this.current < this.wanted) {
      if (this.alreadyApplied) this.skipTo(this.alreadyApplied());
      if (this.current >= this.wanted) return;
      const from = this.current;
      if (from < 0 || this.wanted - from > this.replayLimit) {
        await this.reset(this.wanted);
        continue;
      }
      let events: CatalogEvent[];
      try {
        events = await this.log.readEvents(from, this.pageSize);
      } catch (err) {
        if (!this.resetOnReadFailure) throw err;
        this.logger.warn({ err }, 'log follower could not read the event log; resetting its consumer');
        // The head asked for came from the log or a confirmed announcement: when the log's own
        // head cannot be read either, the consumer rebuilds to that.
        await this.reset(await this.log.headSequence().catch(() => this.wanted));
        continue;
      }
      const first = events[0];
      if (!first) {
        const head = await this.log.headSequence();
        if (head > from) {
          // Compacted past our position, up to the head.
          await this.reset(head);
          continue;
        }
        // Announced above the log: nothing to read yet, and nothing may be claimed.
        this.logger.warn({ announced: this.wanted, head }, 'ignored an announced head above the event log');
        this.wanted = from;
        return;
      }
      if (first.id !== from + 1) {
        await this.reset(await this.log.headSequence());
        continue;
      }
      try {
        await this.consumer.onEvents(events);
      } catch (err) {
        this.logger.warn({ err }, 'log consumer failed to apply events; resetting it');
        await this.reset(await this.log.headSequence());
        continue;
      }
      this.current = Math.max(this.current, (events.at(-1) as CatalogEvent).id);
    }
  }

  private async reset(head: number): Promise<void> {
    const target = Math.max(head, this.current);
    await this.consumer.onReset(target);
    this.current = target;
    this.wanted = Math.max(this.wanted, target);
  }
}
