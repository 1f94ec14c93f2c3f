import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { type CatalogEvent, type SseMessage, SseParser } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/logging/logger.js';
import { PromMetrics } from '../../observability/metrics/metrics.js';
import type { EventLog } from '../../storage/interfaces.js';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { LocalChangeFeed } from '../change-feed.js';
import { writableSink } from './client.js';
import { EventBroker, type EventBrokerOptions } from './server.js';

/** A log that counts reads, to show the broker reads once per wake-up and not once per client. */
class CountingLog {
  reads = 0;
  constructor(readonly inner: EventLog) {}
  readEvents(after: number, limit: number) {
    this.reads++;
    return this.inner.readEvents(after, limit);
  }
  headSequence() {
    return this.inner.headSequence();
  }
  oldestSequence() {
    return this.inner.oldestSequence();
  }
}

interface Harness {
  store: MemoryStore;
  log: CountingLog;
  feed: LocalChangeFeed;
  broker: EventBroker;
  metrics: PromMetrics;
  url: string;
  port: number;
  append(n: number, size?: number): Promise<number>;
}

const open: { server: Server; broker: EventBroker }[] = [];
afterEach(async () => {
  for (const { server, broker } of open.splice(0)) {
    await broker.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

async function harness(opts: Partial<EventBrokerOptions> = {}): Promise<Harness> {
  const store = new MemoryStore();
  const log = new CountingLog(store);
  const feed = new LocalChangeFeed();
  const metrics = new PromMetrics({ defaultMetrics: false });
  const broker = new EventBroker({
    log,
    feed,
    logger: silentLogger,
    metrics,
    heartbeatMs: 60_000,
    clientBuffer: 10,
    closeGraceMs: 200,
    ...opts,
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const since = url.searchParams.get('since');
    const types = url.searchParams.get('type');
    void broker.prepare(since === null ? null : Number(since)).then((start) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 100\n${start.kind === 'resume' ? `id: ${start.position}\n` : ''}\n`);
      const sink = writableSink(res);
      if (start.kind === 'reset') broker.reset(sink, start);
      else broker.attach(sink, start.position, types ? { types: new Set(types.split(',') as never[]) } : {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ server, broker });
  const port = (server.address() as AddressInfo).port;
  let counter = 0;
  return {
    store,
    log,
    feed,
    broker,
    metrics,
    port,
    url: `http://127.0.0.1:${port}/`,
    async append(n, size = 0) {
      let last = 0;
      for (let i = 0; i < n; i++) {
        counter++;
        const e = await store.appendEvent({
          type: counter % 2 === 0 ? 'source.synced' : 'engine.health_changed',
          subject: { name: `thing-${counter}`, version: null, digest: null },
          data: size > 0 ? { n: counter, pad: 'x'.repeat(size) } : { n: counter },
        });
        last = e.id;
        feed.publish(e.id);
      }
      return last;
    },
  };
}

/** Reads a stream until `until` says stop; returns every message. */
async function collect(
  url: string,
  until: (messages: SseMessage[]) => boolean,
  headers: Record<string, string> = {},
): Promise<{ messages: SseMessage[]; ended: boolean }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const messages: SseMessage[] = [];
  const parser = new SseParser({ onMessage: (m) => messages.push(m) });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let ended = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    parser.push(decoder.decode(value, { stream: true }));
    if (until(messages)) break;
  }
  controller.abort();
  return { messages, ended };
}

const ids = (messages: SseMessage[]) =>
  messages
    .filter((m) => m.event !== 'reset' && m.event !== 'overflow')
    .map((m) => (JSON.parse(m.data) as CatalogEvent).id);

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('EventBroker', () => {
  it('fans each event out to every subscriber from one read of the log per wake-up', async () => {
    const h = await harness();
    const clients = 40;
    const streams = Array.from({ length: clients }, () => collect(h.url, (m) => m.length >= 20));
    await waitFor(() => h.broker.stats().subscribers === clients);
    const readsBefore = h.log.reads;
    // One write per tick: each wake-up reads once, whatever the number of subscribers.
    for (let i = 0; i < 20; i++) {
      await h.append(1);
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await Promise.all(streams);
    for (const r of results) expect(ids(r.messages)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(h.log.reads - readsBefore).toBeLessThanOrEqual(25);
    const text = (await h.metrics.render()).body;
    expect(text).toMatch(/nestor_sse_events_sent_total \d+/);
    expect(Number(/nestor_sse_events_sent_total (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(clients * 20);
  });

  it('replays a backlog in pages and then continues live with no gap and no duplicate', async () => {
    const h = await harness({ pageSize: 100 });
    await h.append(1200);
    const stream = collect(`${h.url}?since=150`, (m) => ids(m).length >= 1200 - 150 + 300);
    // Writes racing the replay must be delivered exactly once too.
    for (let i = 0; i < 30; i++) {
      await h.append(10);
      await new Promise((r) => setTimeout(r, 1));
    }
    const { messages } = await stream;
    expect(ids(messages)).toEqual(Array.from({ length: 1350 }, (_, i) => i + 151));
    expect(await h.metrics.render().then((r) => r.body)).toMatch(/nestor_sse_resumes_total 1/);
  });

  it('sends event: reset and closes when the position is older than the retained log', async () => {
    const h = await harness();
    await h.append(100);
    await h.store.compactEvents(50);
    const gone = await collect(`${h.url}?since=49`, () => false);
    expect(gone.ended).toBe(true);
    expect(gone.messages.map((m) => m.event)).toEqual(['reset']);
    expect(JSON.parse(gone.messages[0]?.data ?? '{}')).toEqual({ requested: 49, oldest: 51, head: 100 });

    const kept = await collect(`${h.url}?since=50`, (m) => m.length >= 50);
    expect(ids(kept.messages)).toEqual(Array.from({ length: 50 }, (_, i) => i + 51));
    expect((await h.metrics.render()).body).toMatch(/nestor_sse_resets_total 1/);
  });

  it('accepts a position beyond the head and waits until the log passes it', async () => {
    const h = await harness();
    await h.append(5);
    const stream = collect(`${h.url}?since=12`, (m) => m.length >= 3);
    await waitFor(() => h.broker.stats().subscribers === 1);
    await h.append(10);
    expect(ids((await stream).messages)).toEqual([13, 14, 15]);
  });

  it('starts at the head when no position is given, and applies type filters', async () => {
    const h = await harness();
    await h.append(7);
    const all = collect(h.url, (m) => m.length >= 4);
    const synced = collect(`${h.url}?type=source.synced`, (m) => m.length >= 2);
    await waitFor(() => h.broker.stats().subscribers === 2);
    await h.append(4);
    expect(ids((await all).messages)).toEqual([8, 9, 10, 11]);
    const onlySynced = (await synced).messages;
    expect(onlySynced.map((m) => m.event)).toEqual(['source.synced', 'source.synced']);
    expect(ids(onlySynced)).toEqual([8, 10]);
  });

  it('tells live subscribers to relist when the log was compacted past the tail', async () => {
    const h = await harness({ pollMs: 60_000 });
    const stream = collect(h.url, () => false);
    await waitFor(() => h.broker.stats().subscribers === 1);
    // Written and compacted away before the tail hears of them (no announcement, no poll yet).
    for (let i = 0; i < 3; i++) {
      await h.store.appendEvent({
        type: 'source.synced',
        subject: { name: 'gone', version: null, digest: null },
        data: {},
      });
    }
    await h.store.compactEvents(3);
    const head = await h.append(1);
    const { messages, ended } = await stream;
    expect(ended).toBe(true);
    expect(messages.map((m) => m.event)).toEqual(['reset']);
    expect(JSON.parse(messages[0]?.data ?? '{}')).toEqual({ requested: 0, oldest: 4, head });
  });

  it('delivers by polling the log when a feed announcement is lost', async () => {
    const h = await harness({ pollMs: 50 });
    const stream = collect(h.url, (m) => m.length >= 1);
    await waitFor(() => h.broker.stats().subscribers === 1);
    await h.store.appendEvent({
      type: 'source.synced',
      subject: { name: 'quiet', version: null, digest: null },
      data: {},
    });
    expect(ids((await stream).messages)).toEqual([1]);
  });

  it('drops a client that never reads with a final overflow, keeps its memory bounded and serves others', async () => {
    const h = await harness({ clientBuffer: 8 });
    const socket = connect(h.port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    let received = 0;
    let total = Number.POSITIVE_INFINITY;
    const fast = collect(h.url, (m) => {
      received = m.length;
      return m.length >= total;
    });
    await waitFor(() => h.broker.stats().subscribers === 2);
    let maxQueued = 0;
    let maxBuffered = 0;
    let i = 0;
    for (; i < 300 && h.broker.stats().subscribers === 2; i++) {
      await h.append(1, 256 * 1024);
      const stats = h.broker.stats();
      maxQueued = Math.max(maxQueued, stats.queuedFrames);
      maxBuffered = Math.max(maxBuffered, stats.bufferedBytes);
      // The fast reader shares this process: pace the writer so only the paused socket falls behind.
      await waitFor(() => received > i);
    }
    total = i;
    await h.append(1);
    expect(ids((await fast).messages).slice(0, i)).toEqual(Array.from({ length: i }, (_, n) => n + 1));
    await waitFor(() => h.broker.stats().subscribers === 0);
    // The server cut the connection: once the client reads again it sees the end.
    socket.resume();
    await closed;
    expect(maxQueued).toBeLessThanOrEqual(9);
    // Behind a full socket frames queue as shared references; the socket holds about one frame.
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
    expect((await h.metrics.render()).body).toMatch(/nestor_sse_dropped_clients_total 1/);
  });

  it('writes heartbeat comments', async () => {
    const h = await harness({ heartbeatMs: 30 });
    const res = await fetch(h.url);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });

  it('ends every stream cleanly on close and refuses new subscribers', async () => {
    const h = await harness();
    const streams = Array.from({ length: 5 }, () => collect(h.url, () => false));
    await waitFor(() => h.broker.stats().subscribers === 5);
    await h.broker.close();
    for (const s of await Promise.all(streams)) expect(s.ended).toBe(true);
    expect(h.broker.hasCapacity()).toBe(false);
    expect(h.broker.stats().subscribers).toBe(0);
  });

  it('reports the oldest position a subscriber still needs', async () => {
    const h = await harness();
    await h.append(30);
    expect(h.broker.oldestSubscriberPosition()).toBeNull();
    const a = collect(`${h.url}?since=30`, () => false);
    await waitFor(() => h.broker.stats().subscribers === 1);
    expect(h.broker.oldestSubscriberPosition()).toBe(30);
    await h.broker.close();
    await a;
  });
});
