import { rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Problem } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeConfig } from '../packages/orchestrator/src/config/load.js';
import { type App, buildApp, type Config } from '../packages/orchestrator/src/main.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { AUTH, testConfig } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(mutate: (c: Config) => void = () => {}): Promise<{ app: App; port: number }> {
  const { config, dir } = testConfig((c) => {
    c.events.heartbeat_ms = 60_000;
    mutate(c);
  });
  const app = await buildApp(config, { store: new MemoryStore() });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, port };
}

interface Stream {
  status: number;
  res: IncomingMessage;
  text: () => string;
  close: () => void;
}

/** Opens `GET <path>` on its own connection and resolves once the status line is in. */
function open(port: number, path: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('error', () => {});
      const stream = {
        status: res.statusCode ?? 0,
        res,
        text: () => text,
        close: () => {
          req.destroy();
        },
      };
      cleanups.push(stream.close);
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

async function body(stream: Stream): Promise<string> {
  if (!stream.res.readableEnded) await new Promise((r) => stream.res.once('end', r));
  return stream.text();
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function appendBulk(app: App, n: number, padBytes: number): Promise<void> {
  let last = 0;
  for (let i = 0; i < n; i++) {
    const e = await app.store.appendEvent({
      type: 'source.synced',
      subject: { name: 'bulk', version: null, digest: null },
      data: { pad: 'x'.repeat(padBytes) },
    });
    last = e.id;
  }
  app.feed.publish(last);
}

/** A client that sends its request and then never reads: the kernel's windows fill, then ours. */
function deafClient(port: number, path: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  socket.pause();
  cleanups.push(() => {
    socket.destroy();
  });
  return socket;
}

describe('SSE stream caps', () => {
  it('caps streams per client (token, or IP when anonymous) with 429 too_many_streams, and frees slots on close', async () => {
    const { app, port } = await serve((c) => {
      c.limits.sse.per_client = 3;
    });
    const anonymous = await Promise.all(Array.from({ length: 3 }, () => open(port, '/v1/events')));
    expect(anonymous.map((s) => s.status)).toEqual([200, 200, 200]);
    const over = await open(port, '/v1/events');
    expect(over.status).toBe(429);
    const problem = JSON.parse(await body(over)) as Problem;
    expect(problem).toMatchObject({ code: 'too_many_streams', status: 429, details: { scope: 'client', limit: 3 } });

    // A token is a client of its own, whatever address it comes from.
    const reader = await Promise.all(Array.from({ length: 3 }, () => open(port, '/v1/events', AUTH.read)));
    expect(reader.map((s) => s.status)).toEqual([200, 200, 200]);
    expect((await open(port, '/v1/events', AUTH.read)).status).toBe(429);
    expect((await open(port, '/v1/events', AUTH.write)).status).toBe(200);

    anonymous[0]?.close();
    await waitFor(async () => {
      const again = await open(port, '/v1/events');
      again.close();
      return again.status === 200;
    });
    expect(app.broker.stats().subscribers).toBeLessThanOrEqual(7);
  });

  it('caps the total over all clients, and many concurrent clients get 200 or 429, never 5xx', async () => {
    const { app, port } = await serve((c) => {
      c.limits.sse.max_streams = 40;
      c.limits.sse.per_client = 1_000;
    });
    const all = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        open(port, i % 2 === 0 ? '/v1/events' : '/v1/events?since=0', i % 3 === 0 ? AUTH.read : {}),
      ),
    );
    const statuses = all.map((s) => s.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.filter((s) => s === 429)).toHaveLength(80);
    const refused = all.find((s) => s.status === 429) as Stream;
    expect(JSON.parse(await body(refused))).toMatchObject({ code: 'too_many_streams', details: { scope: 'server' } });
    expect(app.broker.stats().subscribers).toBe(40);
    for (const s of all) s.close();
    await waitFor(() => app.broker.stats().subscribers === 0);
    // Nothing leaked: the whole cap is available again.
    const again = await Promise.all(Array.from({ length: 40 }, () => open(port, '/v1/events')));
    expect(again.every((s) => s.status === 200)).toBe(true);
  });
});

describe('SSE clients that never read', () => {
  it('drops a client that reads nothing during replay after the stall timeout, holding a bounded amount meanwhile', async () => {
    const { app, port } = await serve((c) => {
      c.events.stall_timeout_ms = 1_000;
    });
    await appendBulk(app, 600, 16 * 1024);
    const heapBefore = process.memoryUsage().heapUsed;
    const deaf = Array.from({ length: 5 }, () => deafClient(port, '/v1/events?since=0'));
    let maxBuffered = 0;
    let maxSubscribers = 0;
    const started = Date.now();
    const droppedSoFar = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^nestor_sse_dropped_clients_total (\d+)/m.exec(text)?.[1] ?? 0);
    };
    await waitFor(async () => {
      const stats = app.broker.stats();
      maxBuffered = Math.max(maxBuffered, stats.bufferedBytes);
      maxSubscribers = Math.max(maxSubscribers, stats.subscribers);
      // All five were accepted and dropped; on a loaded machine they need not all be open at once.
      return stats.subscribers === 0 && maxSubscribers > 0 && (await droppedSoFar()) === 5;
      // Generous: on a loaded machine the five connections alone can take seconds to be accepted.
    }, 40_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    // Each stalled client holds about one replay slice (64 KiB plus a frame) in our buffers, not the log.
    expect(maxBuffered).toBeLessThan(5 * 128 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
    await waitFor(() => deaf.every((s) => s.readableEnded || s.destroyed || s.closed), 5_000).catch(() => {});
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/nestor_sse_dropped_clients_total 5/);
    const healthy = await open(port, '/v1/events?since=599');
    expect(healthy.status).toBe(200);
  }, 60_000);

  it('never lets a stalled replay hold compaction beyond events.retain; the client gets event: reset', async () => {
    const { app, port } = await serve((c) => {
      c.events.retain = 10;
      c.events.hard_cap = 1_000_000;
      c.events.stall_timeout_ms = 60_000;
    });
    await appendBulk(app, 2_000, 4 * 1024);
    const socket = deafClient(port, '/v1/events?since=0');
    await waitFor(() => app.broker.stats().subscribers === 1 && app.broker.stats().bufferedBytes > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(app.broker.stats().replaying).toBe(1);
    expect(app.broker.oldestSubscriberPosition()).toBeLessThan(1_990);

    const deleted = await app.compactor.runOnce();
    expect(deleted).toBe(1_990);
    expect(await app.store.oldestSequence()).toBe(1_991);

    let received = '';
    socket.on('data', (c: Buffer) => {
      received += c.toString('utf8');
    });
    socket.resume();
    await waitFor(() => received.includes('event: reset'));
    expect(received).toMatch(/event: reset\ndata: \{"requested":\d+,"oldest":1991,"head":2000\}/);
    await waitFor(() => app.broker.stats().subscribers === 0);
  });
});

describe('SSE hostile positions and filters', () => {
  it('answers 400 invalid_request to every hostile Last-Event-ID and since, never 5xx', async () => {
    const { app, port } = await serve();
    const hostile = [
      '-1',
      '1e3',
      '0x10',
      '1.5',
      '+7',
      '99999999999999999999',
      '9007199254740993',
      'NaN',
      'Infinity',
      '١٢٣',
      '12abc',
      '1,2',
      '%00',
      'x'.repeat(8_000),
    ];
    for (const value of hostile) {
      const header = await open(port, '/v1/events', { 'last-event-id': encodeURIComponent(value) });
      expect(header.status, `Last-Event-ID ${value.slice(0, 20)}`).toBe(400);
      expect(JSON.parse(await body(header))).toMatchObject({ code: 'invalid_request' });
      const query = await open(port, `/v1/events?since=${encodeURIComponent(value)}`);
      expect(query.status, `since ${value.slice(0, 20)}`).toBe(400);
      expect(JSON.parse(await body(query))).toMatchObject({ code: 'invalid_request' });
    }
    // Raw bytes a browser would never send in a header, straight on the socket.
    for (const raw of ['\u00ff\u00fe', '1\t2', '\u0001']) {
      const socket = connect(port, '127.0.0.1');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          if (text.includes('\r\n\r\n')) resolve(text);
        });
        socket.on('error', () => resolve(text));
        socket.on('close', () => resolve(text));
        socket.write(Buffer.from(`GET /v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${raw}\r\n\r\n`, 'latin1'));
      });
      socket.destroy();
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
    }
    // A future position is legal: the stream waits for the log to get there.
    const future = await open(port, '/v1/events?since=9007199254740991');
    expect(future.status).toBe(200);
    future.close();
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers 400 to hostile filters and streams unknown names as matching nothing', async () => {
    const { port } = await serve();
    const bad = [
      '/v1/events?type=component.exploded',
      '/v1/events?type=,,,',
      '/v1/events?type=',
      `/v1/events?name=${Array.from({ length: 101 }, (_, i) => `n${i}`).join(',')}`,
      `/v1/events?name=${'a'.repeat(5_000)}`,
      '/v1/events?type=component.created&type=component.updated',
    ];
    for (const path of bad) {
      const res = await open(port, path);
      expect(res.status, path).toBeLessThan(500);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(await body(res)), path).toMatchObject({ code: 'invalid_request' });
    }
    const odd = await open(
      port,
      `/v1/events?name=${encodeURIComponent('💥,\u0000,<script>')}&category=${'c,'.repeat(99)}c`,
    );
    expect(odd.status).toBe(200);
    odd.close();
  });
});

describe('SSE limits in config', () => {
  it('reads limits.sse and events.stall_timeout, with defaults, and names a bad key', () => {
    const defaults = decodeConfig({});
    expect(defaults.limits.sse).toEqual({ max_streams: 10_000, per_client: 50 });
    expect(defaults.events.stall_timeout_ms).toBe(30_000);
    const set = decodeConfig({ limits: { sse: { max_streams: 7, per_client: 2 } }, events: { stall_timeout: '5s' } });
    expect(set.limits.sse).toEqual({ max_streams: 7, per_client: 2 });
    expect(set.events.stall_timeout_ms).toBe(5_000);
    expect(() => decodeConfig({ limits: { sse: { max_streams: 0 } } })).toThrow(/limits\.sse\.max_streams/);
    expect(() => decodeConfig({ limits: { sse: { per_client: -1 } } })).toThrow(/limits\.sse\.per_client/);
    expect(() => decodeConfig({ limits: { sse: { max: 1 } } })).toThrow(/unknown config key "limits\.sse\.max"/);
    expect(() => decodeConfig({ limits: { streams: 1 } })).toThrow(/unknown config key "limits\.streams"/);
    expect(() => decodeConfig({ events: { stall_timeout: '10ms' } })).toThrow(/events\.stall_timeout/);
  });
});
