import type { Logger } from '../observability/logging/logger.js';
import { silentLogger } from '../observability/logging/logger.js';
import type { RedisLink } from '../storage/cache/redis.js';
import { LocalChangeFeed, pollHead } from './change-feed.js';
import type { ChangeFeed } from './interfaces.js';

export interface RedisChangeFeedOptions {
  link: RedisLink;
  /** Channel under the link's prefix. */
  channel?: string;
  /**
   * Reads the durable log's head. When given, the feed also polls it every `pollMs`, so a wake-up
   * lost by pub/sub (or Redis being down) delays delivery by at most one interval.
   */
  head?: () => Promise<number>;
  pollMs?: number;
  logger?: Logger;
}

/**
 * A ChangeFeed across replicas: `publish` wakes local listeners at once and PUBLISHes the head on
 * Redis; heads published by other replicas are delivered to local listeners too. Only heads travel:
 * listeners read the durable log from their own position, so nothing is lost when a message is.
 * Listeners see non-decreasing heads, each at most once.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly local = new LocalChangeFeed();
  private readonly link: RedisLink;
  private readonly channel: string;
  private readonly logger: Logger;
  private readonly unsubscribeRemote: () => void;
  private readonly stopPolling: () => void;
  private delivered = 0;

  constructor(opts: RedisChangeFeedOptions) {
    this.link = opts.link;
    this.channel = opts.channel ?? 'events:head';
    this.logger = opts.logger ?? silentLogger;
    this.unsubscribeRemote = this.link.subscribe(this.channel, (message) => {
      const head = Number(message.split(' ')[0]);
      if (Number.isSafeInteger(head) && head > 0) this.deliver(head);
    });
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

  private deliver(head: number): void {
    if (head <= this.delivered) return;
    this.delivered = head;
    this.local.publish(head);
  }
}
