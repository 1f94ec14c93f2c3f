import type { RedisLink } from '../infra/redis-link.js';
import type { Logger } from '../observability/logging/logger.js';
import { silentLogger } from '../observability/logging/logger.js';
import { LocalChangeFeed, pollHead } from './change-feed.js';
import type { ChangeFeed } from './interfaces.js';

export interface RedisChangeFeedOptions {
  link: RedisLink;
  /** Channel under the link's prefix. */
  channel?: string;
  /**
   * Reads the durable log's head. When given, the feed also polls it every `pollMs`, so a wake-up
   * lost by pub/sub (or Redis being down) delays delivery by at most one interval, and every head
   * announced over Redis is checked against it before anyone hears of it.
   */
  head?: () => Promise<number>;
  pollMs?: number;
  logger?: Logger;
  /** Least time between two warnings about refused messages (default 10 s); the rest are counted. */
  warnEveryMs?: number;
}

/**
 * What a replica publishes: `<head> <origin>`, the head a decimal sequence without sign or leading
 * zero and small enough to be exact, the origin the publisher's id.
 */
const MESSAGE = /^([1-9][0-9]{0,15}) ([0-9A-Za-z-]{1,64})$/;

/**
 * A ChangeFeed across replicas: `publish` wakes local listeners at once and PUBLISHes the head on
 * Redis; heads published by other replicas are delivered to local listeners too. Only heads travel:
 * listeners read the durable log from their own position, so nothing is lost when a message is.
 * Listeners see non-decreasing heads, each at most once.
 *
 * Redis is not trusted: anyone who can publish on the channel could otherwise announce a head the
 * log never reached, which would move the catalog revision ahead of the data and, because delivery
 * only ever moves forward, silence every later real announcement. So a message that does not parse
 * is dropped, and an announced head is delivered only as far as the store's own head confirms it.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly local = new LocalChangeFeed();
  private readonly link: RedisLink;
  private readonly channel: string;
  private readonly logger: Logger;
  private readonly head: (() => Promise<number>) | null;
  private readonly unsubscribeRemote: () => void;
  private readonly stopPolling: () => void;
  private readonly warnEveryMs: number;
  private delivered = 0;
  /** Highest well-formed remote announcement not yet checked against the store. */
  private pending = 0;
  private checking = false;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private suppressedWarnings = 0;

  constructor(opts: RedisChangeFeedOptions) {
    this.link = opts.link;
    this.channel = opts.channel ?? 'events:head';
    this.logger = opts.logger ?? silentLogger;
    this.head = opts.head ?? null;
    this.warnEveryMs = opts.warnEveryMs ?? 10_000;
    this.unsubscribeRemote = this.link.subscribe(this.channel, (message) => this.onRemote(message));
    this.stopPolling = opts.head
      ? pollHead(opts.head, opts.pollMs ?? 1000, (head) => this.deliver(head), this.logger)
      : () => {};
  }

  publish(head: number): void {
    this.deliver(head);
    void this.link.publish(this.channel, `${head} ${this.link.origin}`);
  }

  subscribe(listener: (head: number) => void): () => void {
    return this.local.subscribe(listener);
  }

  /** Stops listening to Redis and polling. */
  close(): void {
    this.stopPolling();
    this.unsubscribeRemote();
  }

  private onRemote(message: string): void {
    const match = MESSAGE.exec(message);
    const head = match ? Number(match[1]) : Number.NaN;
    if (!match || !Number.isSafeInteger(head)) {
      this.warn({ message: preview(message) }, 'ignored a malformed change announcement from redis');
      return;
    }
    if (match[2] === this.link.origin || head <= this.delivered) return;
    if (!this.head) {
      this.deliver(head);
      return;
    }
    this.pending = Math.max(this.pending, head);
    void this.confirm();
  }

  /** Checks pending announcements against the store's head, one read at a time. */
  private async confirm(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      while (this.pending > this.delivered) {
        const announced = this.pending;
        this.pending = 0;
        let actual: number;
        try {
          actual = await (this.head as () => Promise<number>)();
        } catch (err) {
          // The poll retries; until then the announcement waits like a lost message would.
          this.logger.debug({ err }, 'could not read the log head to confirm an announcement');
          return;
        }
        if (announced > actual) {
          this.warn(
            { announced, head: actual },
            'ignored a change announcement from redis above the log head (not yet visible, or forged)',
          );
        }
        this.deliver(Math.min(announced, actual));
      }
    } finally {
      this.checking = false;
    }
  }

  private deliver(head: number): void {
    if (head <= this.delivered) return;
    this.delivered = head;
    this.local.publish(head);
  }

  /** A peer that floods the channel must not flood the log as well. */
  private warn(fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarnAt < this.warnEveryMs) {
      this.suppressedWarnings++;
      return;
    }
    this.lastWarnAt = now;
    const suppressed = this.suppressedWarnings;
    this.suppressedWarnings = 0;
    this.logger.warn({ ...fields, channel: this.link.key(this.channel), suppressed }, msg);
  }
}

/** Enough of a hostile message to recognise it, never a whole (possibly huge) payload. */
function preview(message: string): string {
  return message.length > 80 ? `${message.slice(0, 80)}… (${message.length} characters)` : message;
}
