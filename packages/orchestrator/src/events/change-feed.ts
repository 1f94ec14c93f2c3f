import type { Logger } from '../observability/logging/logger.js';
import { silentLogger } from '../observability/logging/logger.js';
import type { ChangeFeed } from './interfaces.js';

export interface LocalChangeFeedOptions {
  /**
   * Reads the durable log's head. When given, the feed polls it every `pollMs` and announces what
   * it finds, so writes made by other processes on the same store (a second replica, `nestor sync`
   * next to a server) reach the cache invalidator and the stream without any other channel.
   */
  head?: () => Promise<number>;
  pollMs?: number;
  logger?: Logger;
}

/** In-process ChangeFeed: enough for one replica; the Redis feed extends it across replicas. */
export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Set<(head: number) => void>();
  private readonly stopPolling: () => void;
  /** Highest head announced so far: a poll that finds nothing new announces nothing. */
  private announced = 0;

  constructor(opts: LocalChangeFeedOptions = {}) {
    this.stopPolling = opts.head
      ? pollHead(
          opts.head,
          opts.pollMs ?? 1000,
          (head) => {
            if (head > this.announced) this.publish(head);
          },
          opts.logger ?? silentLogger,
        )
      : () => {};
  }

  publish(head: number): void {
    if (head > this.announced) this.announced = head;
    for (const listener of this.listeners) listener(head);
  }

  subscribe(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops polling (a feed without `head` has nothing to stop). */
  close(): void {
    this.stopPolling();
  }
}

/**
 * Calls `deliver` with the log's head every `intervalMs`, one read at a time (a slow store never
 * piles reads up). Returns the function that stops it. The timer does not keep the process alive.
 */
export function pollHead(
  head: () => Promise<number>,
  intervalMs: number,
  deliver: (head: number) => void,
  logger: Logger,
): () => void {
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    head()
      .then(deliver)
      .catch((err: unknown) => logger.debug({ err }, 'change feed poll failed'))
      .finally(() => {
        polling = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
