import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Counter, Metrics } from '../observability/metrics/interfaces.js';
import type { EventLog } from '../storage/interfaces.js';

export interface CompactionPolicy {
  /** Newest events always kept (count). */
  retain: number;
  /** Events older than this may go even within `retain`; null keeps by count only. */
  retainAgeMs: number | null;
  /** Beyond this many events, the oldest go even if a connected subscriber still needs them. */
  hardCap: number;
}

export interface EventCompactorOptions extends CompactionPolicy {
  log: Pick<EventLog, 'readEvents' | 'headSequence' | 'oldestSequence' | 'compactEvents'>;
  /** The lowest position a connected subscriber still needs, or null with none connected. */
  oldestSubscriberPosition: () => number | null;
  logger: Logger;
  metrics: Metrics;
  /** Interval of `start()`'s runs. */
  intervalMs: number;
  clock?: Clock;
}

/** Events examined per run when looking for the age cut-off, so one run stays short. */
const AGE_SCAN_LIMIT = 10_000;
const AGE_SCAN_PAGE = 1_000;

/**
 * Applies the retention policy to the event log: keep the newest `retain` events and drop older
 * ones; drop events past `retainAgeMs` even within `retain`, except those a connected subscriber
 * has not been sent yet. Subscribers never keep more than `retain` events alive.
 */
export class EventCompactor {
  private readonly opts: EventCompactorOptions;
  private readonly clock: Clock;
  private readonly removed: Counter;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(opts: EventCompactorOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.removed = opts.metrics.counter('nestor_event_log_compacted_total', 'Events removed from the log by retention');
  }

  /** Runs every `intervalMs` until `stop()`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((err: unknown) => this.opts.logger.warn({ err }, 'event log compaction failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the interval and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => 0);
  }

  /** The sequence up to which events may be deleted now (0: nothing to delete). */
  async cutoff(): Promise<number> {
    const { log, retain, retainAgeMs, hardCap } = this.opts;
    const [head, oldest] = await Promise.all([log.headSequence(), log.oldestSequence()]);
    if (oldest === 0 || oldest > head) return 0;
    const byCount = head - retain;
    let upTo = byCount;
    if (retainAgeMs !== null) upTo = Math.max(upTo, await this.lastExpired(oldest - 1, retainAgeMs));
    // A subscriber holds back only what the age rule would drop: one that stalls (or replays
    // slowly on purpose) can never make the log outgrow `retain`; it gets `event: reset` instead.
    const protectedFrom = this.opts.oldestSubscriberPosition();
    if (protectedFrom !== null) upTo = Math.max(Math.min(upTo, protectedFrom), byCount);
    upTo = Math.max(upTo, head - hardCap);
    return upTo >= oldest ? upTo : 0;
  }

  /** One compaction; resolves to the number of events deleted. Concurrent calls share one run. */
  runOnce(): Promise<number> {
    this.running ??= (async () => {
      try {
        const upTo = await this.cutoff();
        if (upTo === 0) return 0;
        const deleted = await this.opts.log.compactEvents(upTo);
        if (deleted > 0) {
          this.removed.inc({}, deleted);
          this.opts.logger.info({ up_to: upTo, deleted }, 'event log compacted');
        }
        return deleted;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Sequence of the newest event older than the age limit, scanning from the oldest. */
  private async lastExpired(after: number, maxAgeMs: number): Promise<number> {
    const limit = this.clock.now().getTime() - maxAgeMs;
    let position = after;
    let expired = 0;
    for (let scanned = 0; scanned < AGE_SCAN_LIMIT; scanned += AGE_SCAN_PAGE) {
      const events = await this.opts.log.readEvents(position, AGE_SCAN_PAGE);
      for (const event of events) {
        if (Date.parse(event.time) >= limit) return expired;
        expired = event.id;
      }
      if (events.length < AGE_SCAN_PAGE) return expired;
      position = expired;
    }
    return expired;
  }
}
