import { type CatalogEvent, create } from '@nestor/sdk';
import type { Clock } from '../../observability/clock.js';
import { systemClock } from '../../observability/clock.js';
import type { Logger } from '../../observability/logging/logger.js';
import type { Counter, Gauge, Metrics } from '../../observability/metrics/interfaces.js';
import type { EventLog } from '../../storage/interfaces.js';
import type { ChangeFeed } from '../interfaces.js';
import { LogFollower } from '../log-follower.js';
import { type CloseReason, type SseSink, SseSubscriber } from './client.js';
import { type EventFilter, encodeControl, encodeEvent } from './events.js';

/** What the broker reads from the durable log. */
export type BrokerLog = Pick<EventLog, 'readEvents' | 'headSequence' | 'oldestSequence'>;

export interface EventBrokerOptions {
  log: BrokerLog;
  feed: ChangeFeed;
  logger: Logger;
  metrics: Metrics;
  /** Longest a stream goes without a write: an idle one gets a heartbeat comment this often. */
  heartbeatMs: number;
  /** Frames queued per subscriber behind a full socket before it is dropped. */
  clientBuffer: number;
  clock?: Clock;
  /** The log's head is also read on this interval, so a lost feed notification only delays delivery. */
  pollMs?: number;
  /** Events read from the log per query (tail and replay). */
  pageSize?: number;
  /** Streams allowed at once over all clients; more get 429 `too_many_streams`. */
  maxSubscribers?: number;
  /** Streams allowed at once per client (a token, or an IP for anonymous callers). */
  perClient?: number;
  /** A stream whose transport stays full this long (the peer reads nothing) is cut off. */
  stallTimeoutMs?: number;
  /** Reconnection delay sent as the SSE `retry:` hint. */
  retryMs?: number;
  /** How long a peer that does not read gets to take its final frame before it is cut off. */
  closeGraceMs?: number;
}

/** A reserved place among the capped streams; `release` is idempotent. */
export interface StreamSlot {
  release(): void;
}

/** Where a new stream starts: after a position, or with a reset because that position is gone. */
export type StreamStart =
  | { kind: 'resume'; position: number; resumed: boolean }
  | { kind: 'reset'; requested: number; oldest: number; head: number };

/** Counts for `/metrics`, tests and the bench. */
export interface BrokerStats {
  subscribers: number;
  replaying: number;
  /** Newest sequence the broker has fanned out. */
  cursor: number;
  /** Frames queued behind full sockets, over all subscribers. */
  queuedFrames: number;
  /** Bytes held by sockets for all subscribers. */
  bufferedBytes: number;
}

/**
 * Fans the durable event log out to SSE subscribers. One log follower tails the log (a feed
 * announcement or the poll tick wakes it) and every new event is encoded once and handed to each
 * live subscriber, so the cost per event is one read plus one socket write per subscriber. Resuming
 * clients first replay from the log in pages at their own pace, then join the live set at the
 * exact position where the tail is, so nothing is missed or sent twice. When the tail finds the
 * log compacted past it, live subscribers are told to relist (`event: reset`), as replaying ones are.
 */
export class EventBroker {
  readonly retryMs: number;
  private readonly log: BrokerLog;
  private readonly feed: ChangeFeed;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly clientBuffer: number;
  private readonly pollMs: number;
  private readonly pageSize: number;
  private readonly maxSubscribers: number;
  private readonly perClient: number;
  private readonly stallTimeoutMs: number;
  private readonly closeGraceMs: number;
  /** Streams reserved or open, per client key; a reservation precedes the stream's first await. */
  private readonly perClientCount = new Map<string, number>();
  private reserved = 0;
  private readonly subscribers = new Set<SseSubscriber>();
  private readonly live = new Set<SseSubscriber>();
  /** Newest sequence fanned out; moved in the same tick as the fan-out, which replays rely on. */
  private cursor = 0;
  private nextId = 1;
  private starting: Promise<void> | null = null;
  private tail: LogFollower | null = null;
  private closing = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly gauge: Gauge;
  private readonly sentTotal: Counter;
  private readonly dropped: Counter;
  private readonly resumes: Counter;
  private readonly resets: Counter;

  constructor(opts: EventBrokerOptions) {
    this.log = opts.log;
    this.feed = opts.feed;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.heartbeatMs = opts.heartbeatMs;
    this.clientBuffer = opts.clientBuffer;
    this.pollMs = opts.pollMs ?? 1000;
    this.pageSize = opts.pageSize ?? 500;
    this.maxSubscribers = opts.maxSubscribers ?? 10_000;
    this.perClient = opts.perClient ?? 50;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 2000;
    this.closeGraceMs = opts.closeGraceMs ?? 2000;
    const m = opts.metrics;
    this.gauge = m.gauge('nestor_sse_subscribers', 'Connected SSE subscribers');
    this.sentTotal = m.counter('nestor_sse_events_sent_total', 'Events written to SSE subscribers');
    this.dropped = m.counter('nestor_sse_dropped_clients_total', 'SSE subscribers dropped as too slow');
    this.resumes = m.counter('nestor_sse_resumes_total', 'SSE streams that resumed from a position');
    this.resets = m.counter('nestor_sse_resets_total', 'SSE streams told to relist (position older than the log)');
    m.observableGauge('nestor_event_log_size', 'Events retained in the durable log', () => this.logSize());
  }

  /** Reads the head and starts listening; idempotent, and `prepare` calls it on first use. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.cursor = await this.log.headSequence();
      this.tail = new LogFollower({
        log: this.log,
        consumer: {
          onEvents: (events) => this.fanOut(events),
          onReset: (head) => this.resetLive(head),
        },
        logger: this.logger,
        position: this.cursor,
        pageSize: this.pageSize,
        // Subscribers keep their positions while the log is unreadable: waiting loses nothing.
        onReadFailure: 'retry',
        retryMs: this.pollMs,
      });
      this.tail.follow(this.feed);
      const poll = setInterval(() => this.wake(), this.pollMs);
      // Half the interval: a stream is written a heartbeat when a whole sweep passed without a
      // write, which bounds its silence by the interval (SseSubscriber.heartbeat).
      const beat = setInterval(() => this.heartbeat(), Math.max(1, Math.floor(this.heartbeatMs / 2)));
      poll.unref();
      beat.unref();
      this.timers.push(poll, beat);
    })();
    return this.starting;
  }

  /** False when the broker is closing: the caller answers 503 before starting a stream. */
  hasCapacity(): boolean {
    return !this.closing;
  }

  /**
   * Takes one of the stream slots for `client` (a token or an IP), synchronously, so concurrent
   * requests cannot all pass the check before any of them counts. Throws `too_many_streams` when
   * the total or the client's cap is reached. The slot must be released exactly once: `attach`
   * and `reset` take it over, otherwise the caller releases it.
   */
  reserve(client: string): StreamSlot {
    const mine = this.perClientCount.get(client) ?? 0;
    if (this.reserved >= this.maxSubscribers || mine >= this.perClient) {
      const total = this.reserved >= this.maxSubscribers;
      throw create('too_many_streams')
        .component('sse')
        .operation('Subscribe')
        .message(
          total
            ? `the server holds its maximum of ${this.maxSubscribers} event streams; retry later`
            : `this client already holds ${mine} event streams, the most allowed (${this.perClient}); close one first`,
        )
        .detail('limit', total ? this.maxSubscribers : this.perClient)
        .detail('scope', total ? 'server' : 'client')
        .build();
    }
    this.reserved++;
    this.perClientCount.set(client, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.reserved--;
        const left = (this.perClientCount.get(client) ?? 1) - 1;
        if (left <= 0) this.perClientCount.delete(client);
        else this.perClientCount.set(client, left);
      },
    };
  }

  /**
   * Decides where a stream starts. `after` null means "new events only" (the head). A position
   * older than the retained log (`after + 1 < oldestSequence`) is a reset: the client must relist.
   * A position beyond the head is accepted: the stream waits until the log passes it.
   */
  async prepare(after: number | null): Promise<StreamStart> {
    await this.start();
    if (after === null) return { kind: 'resume', position: await this.log.headSequence(), resumed: false };
    const oldest = await this.log.oldestSequence();
    if (after + 1 < oldest) {
      this.resets.inc();
      return { kind: 'reset', requested: after, oldest, head: await this.log.headSequence() };
    }
    this.resumes.inc();
    return { kind: 'resume', position: after, resumed: true };
  }

  /** Ends a stream whose position is gone with `event: reset` (carrying the head to relist at). */
  reset(sink: SseSink, start: Extract<StreamStart, { kind: 'reset' }>, slot?: StreamSlot): void {
    sink.onClose(() => slot?.release());
    sink.end(encodeControl('reset', { requested: start.requested, oldest: start.oldest, head: start.head }));
    // A peer that does not read would otherwise keep the connection, and its slot, for ever.
    const timer = setTimeout(() => sink.destroy(), this.closeGraceMs);
    timer.unref();
    sink.onClose(() => clearTimeout(timer));
  }

  /** Attaches a stream whose headers are already written; events after `position` follow. */
  attach(sink: SseSink, position: number, filter: EventFilter, slot?: StreamSlot): SseSubscriber {
    const subscriber = new SseSubscriber({
      id: this.nextId++,
      sink,
      filter,
      position,
      bufferLimit: this.clientBuffer,
      closeGraceMs: this.closeGraceMs,
      stallTimeoutMs: this.stallTimeoutMs,
      onClosed: (s, reason) => {
        slot?.release();
        this.detach(s, reason);
      },
    });
    this.subscribers.add(subscriber);
    this.gauge.inc();
    if (this.closing) {
      subscriber.end('shutdown');
    } else if (position >= this.cursor) {
      this.goLive(subscriber);
    } else {
      void this.replay(subscriber);
    }
    return subscriber;
  }

  /**
   * The lowest position any connected subscriber still needs (its last written sequence), or null
   * with no subscribers. Compaction keeps every event after it.
   */
  oldestSubscriberPosition(): number | null {
    let min: number | null = null;
    for (const s of this.subscribers) {
      if (s.state !== 'closed' && (min === null || s.sent < min)) min = s.sent;
    }
    return min;
  }

  stats(): BrokerStats {
    let replaying = 0;
    let queuedFrames = 0;
    let bufferedBytes = 0;
    for (const s of this.subscribers) {
      if (s.state === 'replaying') replaying++;
      queuedFrames += s.queued;
      bufferedBytes += s.bufferedBytes;
    }
    return { subscribers: this.subscribers.size, replaying, cursor: this.cursor, queuedFrames, bufferedBytes };
  }

  /** Reads the log's head, and the log up to it, now instead of waiting for the feed. */
  wake(): void {
    const tail = this.tail;
    if (this.closing || tail === null) return;
    this.log
      .headSequence()
      .then((head) => tail.catchUp(head))
      .catch((err: unknown) => this.logger.warn({ err }, 'reading the event log for SSE subscribers failed'));
  }

  /**
   * Ends every stream cleanly and stops listening. Resolves when every connection is gone (peers
   * that do not read are cut off after the grace period).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.tail?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const gone = [...this.subscribers].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.state === 'closed') resolve();
          else {
            this.waiters.set(s, resolve);
            s.end('shutdown');
          }
        }),
    );
    await Promise.all(gone);
  }

  private readonly waiters = new Map<SseSubscriber, () => void>();

  private fanOut(events: readonly CatalogEvent[]): void {
    if (this.closing) return;
    const fresh = events.filter((e) => e.id > this.cursor);
    if (fresh.length === 0) return;
    const frames = fresh.map(encodeEvent);
    let joined: string | null = null;
    const all = () => {
      joined ??= frames.length === 1 ? (frames[0] as string) : frames.join('');
      return joined;
    };
    let sent = 0;
    for (const s of this.live) sent += s.push(fresh, frames, all);
    this.cursor = (fresh[fresh.length - 1] as CatalogEvent).id;
    if (sent > 0) this.sentTotal.inc({}, sent);
  }

  /** The log was compacted past the tail: live subscribers missed events and must relist. */
  private async resetLive(head: number): Promise<void> {
    // Taken out of the live set and the cursor moved in one tick: no later fan-out reaches them,
    // and no replay joins the live set behind the gap.
    const missed = [...this.live];
    this.live.clear();
    this.cursor = Math.max(this.cursor, head);
    const oldest = await this.log.oldestSequence();
    for (const s of missed) {
      this.resets.inc();
      s.end('reset', encodeControl('reset', { requested: s.position, oldest, head }));
    }
  }

  private async replay(subscriber: SseSubscriber): Promise<void> {
    const started = this.clock.now().getTime();
    let replayed = 0;
    try {
      while (subscriber.state === 'replaying') {
        const events = await this.log.readEvents(subscriber.position, this.pageSize);
        const first = events[0];
        if (first && first.id > subscriber.position + 1) {
          // Compaction passed this subscriber while it was not reading: what it missed is gone.
          const oldest = await this.log.oldestSequence();
          if (subscriber.position + 1 < oldest) {
            this.resets.inc();
            subscriber.end(
              'reset',
              encodeControl('reset', { requested: subscriber.position, oldest, head: await this.log.headSequence() }),
            );
            return;
          }
        }
        if (!(await subscriber.replay(events, events.map(encodeEvent)))) return;
        replayed += events.length;
        if (subscriber.state !== 'replaying') return;
        // Synchronous with the tail's fan-out: from here on the tail delivers to this subscriber.
        if (subscriber.position >= this.cursor) {
          this.goLive(subscriber);
          this.sentTotal.inc({}, replayed);
          this.logger.debug(
            { subscriber: subscriber.id, replayed, ms: this.clock.now().getTime() - started },
            'sse replay caught up',
          );
          return;
        }
        if (events.length === 0) {
          // Events between the position and the tail vanished (compaction over the hard cap).
          this.resets.inc();
          const head = await this.log.headSequence();
          subscriber.end(
            'reset',
            encodeControl('reset', {
              requested: subscriber.position,
              oldest: await this.log.oldestSequence(),
              head,
            }),
          );
          return;
        }
      }
    } catch (err) {
      this.logger.warn({ err, subscriber: subscriber.id }, 'sse replay failed; closing the stream');
      subscriber.end('error');
    }
  }

  private goLive(subscriber: SseSubscriber): void {
    subscriber.goLive();
    this.live.add(subscriber);
  }

  private heartbeat(): void {
    for (const s of this.subscribers) s.heartbeat();
  }

  private detach(subscriber: SseSubscriber, reason: CloseReason): void {
    if (!this.subscribers.delete(subscriber)) return;
    this.live.delete(subscriber);
    this.gauge.dec();
    if (reason === 'overflow' || reason === 'stalled') {
      this.dropped.inc();
      this.logger.info(
        { subscriber: subscriber.id, position: subscriber.sent, reason },
        reason === 'stalled' ? 'sse subscriber read nothing; dropped' : 'sse subscriber too slow; dropped',
      );
    }
    const waiter = this.waiters.get(subscriber);
    if (waiter) {
      this.waiters.delete(subscriber);
      waiter();
    }
  }

  private async logSize(): Promise<number> {
    const [oldest, head] = await Promise.all([this.log.oldestSequence(), this.log.headSequence()]);
    return oldest === 0 || oldest > head ? 0 : head - oldest + 1;
  }
}
