import { NestorError } from '../errors/errors.js';
import { fromProblem } from '../errors/http.js';
import type { CatalogEvent, EventType } from '../events/types.js';
import { globalFetch } from './global-fetch.js';

/** One dispatched SSE message, as the WHATWG event-stream grammar defines it. */
export interface SseMessage {
  /** The last event ID in effect when the message was dispatched ('' when none was ever set). */
  lastEventId: string;
  /** The `event:` field, 'message' when absent. */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
}

export interface SseParserHandlers {
  onMessage(message: SseMessage): void;
  /** A valid `retry:` field, in ms. */
  onRetry?(ms: number): void;
  /** A frame that set an id but carried no data: the server telling where the stream stands. */
  onIdOnly?(lastEventId: string): void;
}

/**
 * An incremental parser of `text/event-stream` (WHATWG HTML, "Parsing an event stream"): lines end
 * in CRLF, LF or CR (also split across chunks); comments are ignored; `data:` lines accumulate;
 * `id:` containing NUL is ignored; `retry:` takes digits only; a leading BOM is dropped.
 */
export class SseParser {
  private readonly handlers: SseParserHandlers;
  private pending = '';
  private afterCr = false;
  private started = false;
  private data: string[] = [];
  private eventType = '';
  private lastEventId = '';
  private idSeen = false;

  constructor(handlers: SseParserHandlers) {
    this.handlers = handlers;
  }

  /** Feeds decoded text; complete messages are dispatched synchronously. */
  push(chunk: string): void {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // The pending part holds no line break, so scanning resumes where the new text begins.
    let i = Math.min(this.pending.length, text.length);
    let start = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.afterCr) {
        this.afterCr = false;
        if (c === 10) {
          start = i + 1;
          continue;
        }
      }
      if (c === 10 || c === 13) {
        this.line(text.slice(start, i));
        if (c === 13) this.afterCr = true;
        start = i + 1;
      }
    }
    this.pending = text.slice(start);
  }

  /** Forgets a half-received message (the connection dropped); the last event ID stays. */
  reset(): void {
    this.pending = '';
    this.afterCr = false;
    this.started = false;
    this.data = [];
    this.eventType = '';
    this.idSeen = false;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastEventId = value;
          this.idSeen = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
    }
  }

  private dispatch(): void {
    const idSeen = this.idSeen;
    this.idSeen = false;
    if (this.data.length === 0) {
      this.eventType = '';
      if (idSeen) this.handlers.onIdOnly?.(this.lastEventId);
      return;
    }
    const message: SseMessage = {
      lastEventId: this.lastEventId,
      event: this.eventType === '' ? 'message' : this.eventType,
      data: this.data.join('\n'),
    };
    this.data = [];
    this.eventType = '';
    this.handlers.onMessage(message);
  }
}

/** Which events a stream asks the server for (comma lists on the wire; empty means all). */
export interface StreamFilter {
  types?: EventType[];
  names?: string[];
  providers?: string[];
  categories?: string[];
}

/** What a CatalogStream delivers. */
export type StreamItem =
  | { type: 'event'; event: CatalogEvent }
  /**
   * The requested position is older than the server's retained log: events were missed and the
   * caller must relist. The stream then continues after `head`.
   */
  | { type: 'reset'; requested: number; oldest: number; head: number }
  /** The server dropped this client as too slow; the stream has already resumed from `lastId`. */
  | { type: 'overflow'; lastId: number | null };

export interface CatalogStreamOptions {
  /** Base URL of the orchestrator, e.g. `http://nestor:8080`. */
  baseUrl: string;
  /** Bearer token (read scope). */
  token?: string;
  /** Start after this sequence (e.g. the `X-Catalog-Revision` of a list); absent: new events only. */
  since?: number;
  filter?: StreamFilter;
  /** Stops the stream: the iterator ends, `run` resolves. */
  signal?: AbortSignal;
  /** Reconnection backoff: full jitter over `min(maxMs, initialMs * 2^attempt)`. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Reconnect when nothing (not even a heartbeat) arrived for this long. Default 45 s. */
  idleTimeoutMs?: number;
  /** Replaces the global fetch (tests, proxies, custom agents). */
  fetch?: typeof fetch;
  /** Randomness for the jitter, in [0, 1). */
  random?: () => number;
}

/** Callback form of a stream: `run` calls these and resolves when the stream is aborted. */
export interface StreamHandlers {
  onEvent(event: CatalogEvent): void | Promise<void>;
  onReset?(item: Extract<StreamItem, { type: 'reset' }>): void | Promise<void>;
  onOverflow?(item: Extract<StreamItem, { type: 'overflow' }>): void | Promise<void>;
  /** A failed connection attempt; `attempt` counts failures since the last delivered event. */
  onRetry?(err: unknown, attempt: number): void;
}

/** Statuses that no retry can fix: the request itself is wrong or not allowed. */
const FATAL = new Set([400, 401, 403, 404, 405, 410]);

/**
 * A resumable client of `GET /v1/events`: reconnects with exponential backoff and full jitter,
 * resumes after the last event it delivered (never delivering an id twice), and surfaces the
 * server's `reset` and `overflow`. Use it as an async iterable or through `run(handlers)`.
 * Requests the server rejects (bad filter, bad token) throw the server's NestorError.
 */
export class CatalogStream implements AsyncIterable<StreamItem> {
  private readonly opts: CatalogStreamOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private position: number | null;
  private retryMs: number;

  constructor(opts: CatalogStreamOptions) {
    this.opts = opts;
    this.fetchImpl = opts.fetch ?? globalFetch;
    this.random = opts.random ?? Math.random;
    this.position = opts.since ?? null;
    this.retryMs = opts.backoff?.initialMs ?? 500;
  }

  /** The sequence the stream has reached (its resume point), or null before the server said. */
  get lastEventId(): number | null {
    return this.position;
  }

  /** Delivers items through callbacks until the signal aborts; rejects on a fatal error. */
  async run(handlers: StreamHandlers): Promise<void> {
    for await (const item of this.connect(handlers.onRetry)) {
      if (item.type === 'event') await handlers.onEvent(item.event);
      else if (item.type === 'reset') await handlers.onReset?.(item);
      else await handlers.onOverflow?.(item);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    return this.connect()[Symbol.asyncIterator]();
  }

  private async *connect(onRetry?: StreamHandlers['onRetry']): AsyncGenerator<StreamItem> {
    const signal = this.opts.signal;
    let attempt = 0;
    let immediate = false;
    while (!signal?.aborted) {
      if (attempt > 0 || immediate) {
        const delay = immediate ? Math.min(this.retryMs, 250) : this.delay(attempt);
        immediate = false;
        if (!(await sleep(delay, signal))) return;
      }
      const controller = new AbortController();
      const abort = () => controller.abort();
      signal?.addEventListener('abort', abort, { once: true });
      let idle: ReturnType<typeof setTimeout> | undefined;
      let delivered = false;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(abort, this.opts.idleTimeoutMs ?? 45_000);
      };
      try {
        touch();
        const res = await this.fetchImpl(this.url(), {
          headers: this.headers(),
          signal: controller.signal,
        });
        if (res.status !== 200 || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
          const error = await problemOf(res);
          if (FATAL.has(res.status)) throw error;
          attempt++;
          onRetry?.(error, attempt);
          continue;
        }
        if (!res.body) throw new NestorError('internal_error', 'event stream response has no body');
        const queue: StreamItem[] = [];
        let ended = false;
        const parser = new SseParser({
          onRetry: (ms) => {
            this.retryMs = ms;
          },
          onIdOnly: (id) => {
            const n = Number(id);
            if (Number.isSafeInteger(n) && n >= 0 && this.position === null) this.position = n;
          },
          onMessage: (m) => {
            const item = this.item(m);
            if (!item) return;
            queue.push(item);
            if (item.type !== 'event') ended = true;
          },
        });
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            touch();
            parser.push(decoder.decode(value, { stream: true }));
            while (queue.length > 0) {
              const item = queue.shift() as StreamItem;
              if (item.type !== 'overflow') {
                attempt = 0;
                delivered = true;
              }
              yield item;
            }
            if (ended) break;
          }
        } finally {
          await reader.cancel().catch(() => {});
        }
        // The server ended the stream (shutdown, reset, overflow): come back promptly, unless the
        // connection delivered nothing, which backs off like a failure.
        if (delivered || ended) immediate = true;
        else attempt++;
      } catch (err) {
        if (signal?.aborted) return;
        if (NestorError.is(err)) throw err;
        attempt++;
        onRetry?.(err, attempt);
      } finally {
        clearTimeout(idle);
        signal?.removeEventListener('abort', abort);
        controller.abort();
      }
    }
  }

  private item(m: SseMessage): StreamItem | null {
    if (m.event === 'reset') {
      const d = parseObject(m.data);
      const head = numberOr(d.head, this.position ?? 0);
      const item: StreamItem = {
        type: 'reset',
        requested: numberOr(d.requested, this.position ?? 0),
        oldest: numberOr(d.oldest, 0),
        head,
      };
      this.position = head;
      return item;
    }
    if (m.event === 'overflow') return { type: 'overflow', lastId: this.position };
    let event: CatalogEvent;
    try {
      event = JSON.parse(m.data) as CatalogEvent;
    } catch {
      return null;
    }
    if (typeof event.id !== 'number') return null;
    // A resumed stream never hands out an id twice, even if a server replays one.
    if (this.position !== null && event.id <= this.position) return null;
    this.position = event.id;
    return { type: 'event', event };
  }

  private url(): string {
    const u = new URL('/v1/events', this.opts.baseUrl);
    if (this.position !== null) u.searchParams.set('since', String(this.position));
    const f = this.opts.filter;
    if (f?.types?.length) u.searchParams.set('type', f.types.join(','));
    if (f?.names?.length) u.searchParams.set('name', f.names.join(','));
    if (f?.providers?.length) u.searchParams.set('provider', f.providers.join(','));
    if (f?.categories?.length) u.searchParams.set('category', f.categories.join(','));
    return u.toString();
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'text/event-stream' };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  /** Full jitter: uniform in [0, min(max, base * 2^attempt)). */
  private delay(attempt: number): number {
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const ceiling = Math.min(max, this.retryMs * 2 ** Math.min(attempt, 30));
    return Math.floor(this.random() * ceiling);
  }
}

async function problemOf(res: Response): Promise<NestorError> {
  let body: unknown = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return fromProblem(res.status, body);
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function numberOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', done);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
