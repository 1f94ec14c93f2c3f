import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogEvent, ComponentDefinition } from '@nestor/sdk';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../packages/orchestrator/src/main.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { SqliteStore } from '../packages/orchestrator/src/storage/sqlite/sqlite-store.js';
import { AUTH, component, testConfig, uniqueName } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(opts: { store?: SqliteStore | MemoryStore; port?: number; dir?: string } = {}) {
  const { config, dir } = testConfig((c) => {
    c.events.heartbeat_ms = 60_000;
    c.events.client_buffer = 8;
    // Every test client is anonymous on 127.0.0.1; the per-client cap has its own tests.
    c.limits.sse.per_client = 10_000;
  });
  const app = await buildApp(config, { store: opts.store ?? new MemoryStore() });
  await app.server.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(close);
  return { app, port, url: `http://127.0.0.1:${port}`, close };
}

/** POST over a fresh connection (no pooled socket can outlive a server restart). */
function publish(url: string, body: unknown): Promise<ComponentDefinition> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/components`,
      {
        method: 'POST',
        agent: false,
        headers: { ...AUTH.write, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          if (res.statusCode === 200 || res.statusCode === 201) resolve(JSON.parse(text) as ComponentDefinition);
          else reject(new Error(`POST answered ${res.statusCode}: ${text}`));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /v1/events: bad input answers 400 before the stream starts', () => {
  it('rejects garbage Last-Event-ID, negative or non-numeric since and unknown event types', async () => {
    const { app } = await serve();
    const cases: [string, Record<string, string>][] = [
      ['/v1/events', { 'last-event-id': 'abc' }],
      ['/v1/events', { 'last-event-id': '-1' }],
      ['/v1/events?since=-5', {}],
      ['/v1/events?since=1e3', {}],
      ['/v1/events?since=99999999999999999999', {}],
      ['/v1/events?type=component.created,component.exploded', {}],
      ['/v1/events?name=,,', {}],
    ];
    for (const [url, headers] of cases) {
      const res = await app.server.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json<{ code: string }>().code).toBe('invalid_request');
    }
  });

  it('answers 401 for a presented but invalid token', async () => {
    const { app } = await serve();
    const res = await app.server.inject({
      method: 'GET',
      url: '/v1/events',
      headers: { authorization: 'Bearer nope' },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('GET /v1/events over real HTTP', () => {
  it('streams with proxy-safe headers, a retry hint, filters and a waiting future position', async () => {
    const { url } = await serve();
    const name = uniqueName('sse');
    const first = await publish(url, component({ name }));
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/events?since=${first.revision + 1}&name=${name},other&provider=aws`, {
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('cache-control')).toContain('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-catalog-revision')).toBeNull();
    expect(res.headers.get('content-encoding')).toBeNull();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    // The first frame: the retry hint and, without data, the position the stream starts after.
    expect(text).toMatch(new RegExp(`^retry: \\d+\nid: ${first.revision + 1}\n\n`));

    // `since` is one past the head: revision+1 is skipped, revision+2 onwards arrives.
    await publish(url, component({ name, version: '1.0.1' }));
    await publish(url, component({ name: uniqueName('unrelated') }));
    await publish(url, component({ name, version: '1.0.2' }));
    while (!text.includes('"version":"1.0.2"')) text += decoder.decode((await reader.read()).value);
    controller.abort();
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as CatalogEvent);
    expect(events.map((e) => e.subject.version)).toEqual(['1.0.2']);
    expect(events[0]?.type).toBe('component.created');
    expect(text).toContain(`id: ${events[0]?.id}\nevent: component.created\n`);
  });

  it('streams engine.registered and engine.removed, filtered by type', async () => {
    const { url } = await serve();
    const engine = uniqueName('eng');
    const head = await publish(url, component({ name: uniqueName('sse') }));
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/events?since=${head.revision}&type=engine.registered,engine.removed`, {
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const admin = { ...AUTH.admin, 'content-type': 'application/json' };
    const posted = await fetch(`${url}/v1/engines`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: engine, type: 'terraform' }),
    });
    expect(posted.status, await posted.text()).toBe(201);
    await publish(url, component({ name: uniqueName('between') }));
    const removed = await fetch(`${url}/v1/engines/${engine}`, { method: 'DELETE', headers: AUTH.admin });
    expect(removed.status).toBeLessThan(300);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: engine.removed')) text += decoder.decode((await reader.read()).value);
    controller.abort();
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as CatalogEvent);
    expect(events.map((e) => [e.type, e.subject.name])).toEqual([
      ['engine.registered', engine],
      ['engine.removed', engine],
    ]);
  });

  it('an EventSource resumes across a server restart with no gap and no duplicate (SQLite log)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-sse-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'events.db');
    const first = await serve({ store: new SqliteStore({ path }) });
    const received: number[] = [];
    const source = new EventSource(`${first.url}/v1/events?since=0`);
    cleanups.push(async () => source.close());
    for (const type of ['component.created', 'component.updated', 'component.deprecated']) {
      source.addEventListener(type, (e) => received.push(Number((e as MessageEvent).lastEventId)));
    }
    const name = uniqueName('restart');
    await publish(first.url, component({ name }));
    for (let i = 1; i <= 4; i++) await publish(first.url, component({ name, version: `1.0.${i}` }));
    await waitFor(() => received.length === 5);

    // Graceful shutdown ends the stream cleanly; writes land while the client is away.
    await first.close();
    const second = await serve({ store: new SqliteStore({ path }), port: first.port });
    for (let i = 5; i <= 9; i++) await publish(second.url, component({ name, version: `1.0.${i}` }));
    const patched = await second.app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${name}/versions/1.0.0`,
      headers: AUTH.write,
      payload: { deprecated: { reason: 'old' } },
    });
    expect(patched.statusCode).toBe(200);
    await waitFor(() => received.length >= 11);
    const head = await second.app.store.headSequence();
    expect(received).toEqual(Array.from({ length: head }, (_, i) => i + 1));
  });

  it('drops a subscriber that never reads, bounds what it holds and keeps serving the rest', async () => {
    const { app, port, url } = await serve();
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    await waitFor(() => app.broker.stats().subscribers === 1);
    let maxQueued = 0;
    let maxBuffered = 0;
    for (let i = 0; i < 400 && app.broker.stats().subscribers > 0; i++) {
      const e = await app.store.appendEvent({
        type: 'source.synced',
        subject: { name: 'bulk', version: null, digest: null },
        data: { pad: 'x'.repeat(256 * 1024) },
      });
      app.feed.publish(e.id);
      await new Promise((r) => setImmediate(r));
      const s = app.broker.stats();
      maxQueued = Math.max(maxQueued, s.queuedFrames);
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
    }
    await waitFor(() => app.broker.stats().subscribers === 0);
    expect(maxQueued).toBeLessThanOrEqual(app.config.events.client_buffer + 1);
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/nestor_sse_dropped_clients_total 1/);
    expect(metrics).toMatch(/nestor_sse_subscribers 0/);
    expect(metrics).toMatch(/nestor_event_log_size \d+/);
    socket.destroy();
  });

  it('survives a thousand connects that vanish at random moments and holds nothing for them', async () => {
    const { app, port, url } = await serve();
    const sockets = Array.from({ length: 1000 }, (_, i) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      // Some leave before sending the request, some mid-request, the rest once streaming.
      if (i % 3 === 0) setTimeout(() => socket.destroy(), Math.random() * 50);
      else socket.write(i % 3 === 1 ? 'GET /v1/events?since=0 HT' : 'GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
      return socket;
    });
    await publish(url, component({ name: uniqueName('storm') }));
    await waitFor(() => app.broker.stats().subscribers >= 300);
    for (const s of sockets) s.destroy();
    await waitFor(() => app.broker.stats().subscribers === 0);
    const res = await app.server.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(app.broker.oldestSubscriberPosition()).toBeNull();
  });

  it('closes every stream when the server closes', async () => {
    const { app, url, close } = await serve();
    const streams = await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/v1/events`)));
    await waitFor(() => app.broker.stats().subscribers === 20);
    const started = Date.now();
    await close();
    expect(Date.now() - started).toBeLessThan(3000);
    for (const res of streams) {
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      for (;;) if ((await reader.read()).done) break;
    }
  });
});
