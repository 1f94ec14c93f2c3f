import type { Writable } from 'node:stream';
import type { CatalogEvent } from '@nestor/sdk';
import { type EventFilter, encodeControl, HEARTBEAT, isEmptyFilter, matchesFilter } from './events.js';

/**
 * Where a subscriber's frames go: the raw HTTP response in production. Kept as a port so the broker
 * never sees the transport and the bench can count bytes.
 */
export interface SseSink {
  /** Writes one frame; false when the transport's buffer is full and `onDrain` will follow. */
  write(chunk: string): boolean;
  /** Writes an optional last chunk and ends the stream cleanly. */
  end(chunk?: string): void;
  /** Drops the connection at once, discarding whatever is still buffered. */
  destroy(): void;
  /** Bytes the transport holds that the peer has not taken yet. */
  readonly bufferedBytes: number;
  /** Called once per drain after `write` returned false. */
  onDrain(listener: () => void): void;
  /** Called once when the connection is gone (peer left, ended or destroyed). */
  onClose(listener: () => void): void;
}

/** A sink over a node Writable such as `http.ServerResponse`. */
export function writableSink(stream: Writable): SseSink {
  // A write racing a disconnect must not become an unhandled 'error' event.
  stream.on('error', () => {});
  return {
    write: (chunk) => stream.write(chunk),
    end: (chunk) => {
      if (chunk === undefined) stream.end();
      else stream.end(chunk);
    },
    destroy: () => {
      stream.destroy();
    },
    get bufferedBytes() {
      return stream.writableLength;
    },
    onDrain: (listener) => {
      stream.on('drain', listener);
    },
    onClose: (listener) => {
      if (stream.destroyed) queueMicrotask(listener);
      else stream.once('close', listener);
    },
  };
}

/** Characters of replay written before waiting for the transport to drain. */
const REPLAY_SLICE_CHARS = 64 * 1024;

export type SubscriberState = 'replaying' | 'live' | 'closed';

export interface SubscriberOptions {
  id: number;
  sink: SseSink;
  filter: EventFilter;
  /** Last sequence the client has (it receives events with a larger id). */
  position: number;
  /** Frames queued behind a full transport before the subscriber is dropped as too slow. */
  bufferLimit: number;
  /** After an overflow or shutdown, how long a peer that does not read gets before it is cut off. */
  closeGraceMs: number;
  /**
   * How long the transport may stay full (the peer takes nothing) before the connection is cut:
   * bounds what a client that never reads costs, in replay as well as live.
   */
  stallTimeoutMs?: number;
  /** Called exactly once, when the connection is gone. */
  onClosed: (subscriber: SseSubscriber, reason: CloseReason) => void;
}

export type CloseReason = 'client' | 'overflow' | 'stalled' | 'shutdown' | 'reset' | 'error';

/**
 * One connected SSE client. Frames go straight to the transport while it accepts them; behind a
 * full transport they queue (shared strings, so a queued frame costs a pointer) up to
 * `bufferLimit` events, and one more makes the subscriber overflow: it gets a final `event: overflow`,
 * its queue is released at once and the connection is ended.
 */
export class SseSubscriber {
  readonly id: number;
  state: SubscriberState = 'replaying';
  /** Last sequence handed to this subscriber (written or queued, or skipped by its filter). */
  position: number;
  /** Last sequence actually written to the transport: what compaction must keep for it. */
  sent: number;
  private readonly sink: SseSink;
  private readonly filter: EventFilter;
  private readonly matchAll: boolean;
  private readonly bufferLimit: number;
  private readonly closeGraceMs: number;
  private readonly stallTimeoutMs: number | null;
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly onClosed: SubscriberOptions['onClosed'];
  private queue: { id: number; frame: string; count: number }[] = [];
  private queuedEvents = 0;
  private blocked = false;
  private drainWaiter: (() => void) | null = null;
  private closeReason: CloseReason = 'client';
  private ending = false;
  /** Something went to the transport since the last heartbeat sweep. */
  private wroteSinceSweep = false;

  constructor(opts: SubscriberOptions) {
    this.id = opts.id;
    this.sink = opts.sink;
    this.filter = opts.filter;
    this.matchAll = isEmptyFilter(opts.filter);
    this.position = opts.position;
    this.sent = opts.position;
    this.bufferLimit = opts.bufferLimit;
    this.closeGraceMs = opts.closeGraceMs;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? null;
    this.onClosed = opts.onClosed;
    this.sink.onDrain(() => this.drained());
    this.sink.onClose(() => this.closed());
  }

  /** True when the subscriber's filters let `event` through. */
  wants(event: CatalogEvent): boolean {
    return this.matchAll || matchesFilter(this.filter, event);
  }

  /**
   * Live delivery of frames the broker encoded once for everyone: the events this subscriber wants
   * go out as one write. Returns how many events were written or queued (0 when it skipped them
   * all or overflowed).
   */
  push(events: readonly CatalogEvent[], frames: readonly string[], all: () => string): number {
    if (this.state !== 'live' || this.ending || events.length === 0) return 0;
    let chunk = '';
    let count = 0;
    let last = 0;
    const first = (events[0] as CatalogEvent).id;
    if (this.matchAll && first > this.position) {
      // The common case: everything, as one string shared by every such subscriber.
      chunk = all();
      count = events.length;
      last = (events[events.length - 1] as CatalogEvent).id;
      this.position = last;
    }
    for (let i = count === 0 ? 0 : events.length; i < events.length; i++) {
      const event = events[i] as CatalogEvent;
      if (event.id <= this.position) continue;
      this.position = event.id;
      if (!this.matchAll && !matchesFilter(this.filter, event)) continue;
      chunk = count === 0 ? (frames[i] as string) : chunk + (frames[i] as string);
      count++;
      last = event.id;
    }
    if (count === 0) return 0;
    if (this.blocked) {
      this.queue.push({ id: last, frame: chunk, count });
      this.queuedEvents += count;
      if (this.queuedEvents > this.bufferLimit) {
        this.overflow();
        return 0;
      }
      return count;
    }
    this.write(chunk);
    this.sent = last;
    return count;
  }

  /**
   * Replay delivery of one page of the log: the frames this subscriber wants go out as one write.
   * The broker reads the log at this subscriber's pace, so instead of queueing it waits for the
   * transport to drain. Resolves false when the connection is gone.
   */
  async replay(events: readonly CatalogEvent[], frames: readonly string[]): Promise<boolean> {
    if (this.state !== 'replaying' || this.ending || events.length === 0) return this.state === 'replaying';
    let chunk = '';
    let last = this.sent;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as CatalogEvent;
      if (event.id <= this.position || !this.wants(event)) continue;
      chunk += frames[i] as string;
      last = event.id;
      // Written in slices, each after the last drained: a peer that reads nothing then holds one
      // slice of our memory, not a page of the log.
      if (chunk.length >= REPLAY_SLICE_CHARS) {
        if (!(await this.replayWrite(chunk, last))) return false;
        chunk = '';
      }
    }
    this.position = Math.max(this.position, (events[events.length - 1] as CatalogEvent).id);
    if (chunk !== '') return this.replayWrite(chunk, last);
    return this.state === 'replaying' && !this.ending;
  }

  private async replayWrite(chunk: string, last: number): Promise<boolean> {
    const accepted = this.write(chunk);
    this.sent = last;
    if (!accepted) {
      await new Promise<void>((resolve) => {
        this.drainWaiter = resolve;
      });
    }
    return this.state === 'replaying' && !this.ending;
  }

  /** Switches from replay to live delivery; only the broker calls this, once the log is caught up. */
  goLive(): void {
    if (this.state === 'replaying') this.state = 'live';
  }

  /**
   * The broker's sweep, every half heartbeat interval: writes a heartbeat comment when nothing went
   * to the transport since the sweep before, so no stream is silent for longer than the interval
   * while a stream that carries an event every half interval costs none: sent to every stream on the
   * interval, 10 000 subscribers meant 10 000 writes at once, and a fan-out that met them waited
   * behind them. Nothing is written behind a full transport either: there the queue is the proof
   * of life.
   */
  heartbeat(): void {
    if (this.state === 'closed' || this.blocked || this.ending) return;
    if (this.wroteSinceSweep) {
      this.wroteSinceSweep = false;
      return;
    }
    this.write(HEARTBEAT);
  }

  /** Events waiting behind a full transport. */
  get queued(): number {
    return this.queuedEvents;
  }

  /** Bytes the transport holds for this subscriber. */
  get bufferedBytes(): number {
    return this.sink.bufferedBytes;
  }

  /** Ends the stream with a last control frame (or none) and cuts it off if the peer will not read. */
  end(reason: CloseReason, finalFrame?: string): void {
    if (this.state === 'closed' || this.ending) return;
    this.ending = true;
    this.closeReason = reason;
    this.queue = [];
    this.queuedEvents = 0;
    this.releaseWaiter();
    this.sink.end(finalFrame);
    if (this.bufferedBytes > 0 || this.blocked) {
      const timer = setTimeout(() => this.sink.destroy(), this.closeGraceMs);
      timer.unref();
      this.sink.onClose(() => clearTimeout(timer));
    }
  }

  private overflow(): void {
    this.end('overflow', encodeControl('overflow', { reason: 'client too slow', last_sent: this.sent }));
  }

  /** Writes to the transport; a full one starts the stall clock, which only a drain stops. */
  private write(chunk: string): boolean {
    this.wroteSinceSweep = true;
    const accepted = this.sink.write(chunk);
    this.blocked = !accepted;
    if (!accepted && this.stallTimeoutMs !== null && this.stallTimer === null) {
      this.stallTimer = setTimeout(() => this.stalled(), this.stallTimeoutMs);
      this.stallTimer.unref();
    }
    return accepted;
  }

  /** The peer took nothing for the whole stall timeout: nothing more can reach it, so cut it off. */
  private stalled(): void {
    this.stallTimer = null;
    if (this.state === 'closed') return;
    if (!this.ending) {
      this.ending = true;
      this.closeReason = 'stalled';
      this.queue = [];
      this.queuedEvents = 0;
      this.releaseWaiter();
    }
    this.sink.destroy();
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private drained(): void {
    this.blocked = false;
    this.clearStall();
    if (this.drainWaiter) {
      this.releaseWaiter();
      return;
    }
    while (!this.blocked && this.queue.length > 0 && !this.ending) {
      const next = this.queue.shift() as { id: number; frame: string; count: number };
      this.queuedEvents -= next.count;
      this.write(next.frame);
      this.sent = next.id;
    }
  }

  private releaseWaiter(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = null;
    waiter?.();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearStall();
    this.queue = [];
    this.queuedEvents = 0;
    this.releaseWaiter();
    this.onClosed(this, this.closeReason);
  }
}
