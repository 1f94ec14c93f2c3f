import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { type CatalogEvent, CatalogMirror, CatalogStream, type ComponentDefinition } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../packages/orchestrator/src/main.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { AUTH, component, TOKENS, testConfig } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve() {
  const { config } = testConfig();
  const app = await buildApp(config, { store: new MemoryStore() });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  const address = app.server.server.address() as AddressInfo;
  return { app, port: address.port, url: `http://127.0.0.1:${address.port}` };
}

/** A TCP proxy in front of the server whose connections the test can cut at any moment. */
async function proxy(port: number): Promise<{ url: string; killAll(): number; block(on: boolean): void }> {
  const sockets = new Set<Socket>();
  let blocked = false;
  const server: Server = createTcpServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    block(on) {
      blocked = on;
    },
    killAll() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
cleanups.push(() => agent.destroy());

/** A JSON request straight to the server (not through the proxy); resolves the status and body. */
function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method,
        agent,
        headers: { ...AUTH.write, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function listAll(url: string): Promise<{ items: ComponentDefinition[]; revision: number }> {
  const items: ComponentDefinition[] = [];
  let cursor: string | null = null;
  let revision = Number.POSITIVE_INFINITY;
  do {
    const res = await fetch(`${url}/v1/components?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    revision = Math.min(revision, Number(res.headers.get('x-catalog-revision')));
    const page = (await res.json()) as { items: ComponentDefinition[]; next_cursor: string | null };
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return { items, revision };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A small deterministic PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const summary = (c: ComponentDefinition) => ({
  name: c.name,
  version: c.version,
  revision: c.revision,
  labels: c.labels,
  deprecated: c.deprecated !== null,
});

describe('CatalogMirror', () => {
  it('converges to the server under 1000 random creates and patches with connections cut at random', async () => {
    const { app, port } = await serve();
    const px = await proxy(port);
    const seed = Date.now() % 100_000;
    const random = prng(seed);
    const mirror = new CatalogMirror({
      baseUrl: px.url,
      token: TOKENS.read,
      backoff: { initialMs: 5, maxMs: 100 },
      idleTimeoutMs: 5_000,
    });
    cleanups.push(() => mirror.close());
    const changes = { added: 0, updated: 0, deprecated: 0 };
    mirror.on('added', () => changes.added++);
    mirror.on('updated', () => changes.updated++);
    mirror.on('deprecated', () => changes.deprecated++);
    await mirror.ready();

    const names = Array.from({ length: 25 }, (_, i) => `mirror-${seed}-${i}`);
    const versions = new Map<string, number[]>();
    const target = app.server.server.address() as AddressInfo;
    const direct = `http://127.0.0.1:${target.port}`;
    let ok = 0;
    let cuts = 0;
    for (let i = 0; i < 1000; i++) {
      const name = names[Math.floor(random() * names.length)] as string;
      const known = versions.get(name);
      let res: { status: number; body: unknown };
      if (!known || random() < 0.3) {
        const patch = (known?.length ?? 0) as number;
        const version = `1.${patch}.0`;
        res = await call(direct, 'POST', '/v1/components', component({ name, version, description: `v${patch}` }));
        if (res.status === 201) versions.set(name, [...(known ?? []), patch]);
      } else {
        const which = known[Math.floor(random() * known.length)] as number;
        const r = random();
        const body =
          r < 0.6
            ? { labels: { team: 'platform', n: String(i) } }
            : r < 0.8
              ? { deprecated: { reason: `r${i}` } }
              : { deprecated: null };
        res = await call(direct, 'PATCH', `/v1/components/${name}/versions/1.${which}.0`, body);
      }
      if (res.status === 200 || res.status === 201) ok++;
      else throw new Error(`write ${i} answered ${res.status}: ${JSON.stringify(res.body)} (seed ${seed})`);
      if (random() < 0.02) cuts += px.killAll();
    }
    expect(ok).toBe(1000);
    expect(cuts).toBeGreaterThan(0);

    const server = await listAll(direct);
    const head = await app.store.headSequence();
    await waitFor(() => mirror.revision >= head);
    expect(mirror.list().map(summary), `seed ${seed}`).toEqual(
      server.items.map(summary).sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(changes.added).toBe(names.filter((n) => versions.has(n)).length);
    expect(changes.updated + changes.deprecated).toBeGreaterThan(0);
  });

  it('relists after a reset and reports what changed', async () => {
    const { app, port, url } = await serve();
    await call(url, 'POST', '/v1/components', component({ name: 'before-reset' }));
    const px = await proxy(port);
    const mirror = new CatalogMirror({ baseUrl: px.url, backoff: { initialMs: 5, maxMs: 50 } });
    cleanups.push(() => mirror.close());
    const seen: string[] = [];
    mirror.on('relisted', () => seen.push('relisted'));
    mirror.on('added', (c) => seen.push(`added ${c.name}@${c.version}`));
    mirror.on('updated', (c) => seen.push(`updated ${c.name}@${c.version}`));
    await mirror.ready();
    // Keep the mirror away while the log moves on and is compacted past its position.
    px.block(true);
    px.killAll();
    await call(url, 'POST', '/v1/components', component({ name: 'before-reset', version: '1.0.1' }));
    await call(url, 'POST', '/v1/components', component({ name: 'after-reset' }));
    await app.store.compactEvents(await app.store.headSequence());
    px.block(false);
    await waitFor(() => mirror.get('after-reset') !== undefined);
    // Differences are reported in name order, as the list returns them.
    expect(seen).toEqual([
      'added before-reset@1.0.0',
      'relisted',
      'added after-reset@1.0.0',
      'updated before-reset@1.0.1',
    ]);
    expect(mirror.revision).toBe(await app.store.headSequence());
  });

  it('list then watch with concurrent writers sees every later change exactly once', async () => {
    const { app, url } = await serve();
    const writer = async (w: number) => {
      for (let i = 0; i < 60; i++) {
        const res = await call(
          url,
          'POST',
          '/v1/components',
          component({ name: `w${w}-c${i % 15}`, version: `1.${i}.0` }),
        );
        expect(res.status).toBe(201);
      }
    };
    const writers = [0, 1, 2].map(writer);
    await new Promise((r) => setTimeout(r, 30));
    const listed = await listAll(url);
    const controller = new AbortController();
    const events: CatalogEvent[] = [];
    const stream = new CatalogStream({ baseUrl: url, since: listed.revision, signal: controller.signal }).run({
      onEvent: (e) => {
        events.push(e);
      },
    });
    await Promise.all(writers);
    const head = await app.store.headSequence();
    await waitFor(() => (events.at(-1)?.id ?? listed.revision) >= head);
    controller.abort();
    await stream;
    const expected = (await app.store.readEvents(listed.revision, 10_000)).map((e) => e.id);
    expect(events.map((e) => e.id)).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // The list plus the events after its revision rebuild exactly the final catalog.
    const state = new Map(listed.items.map((c) => [c.name, c]));
    for (const e of events) {
      const c = e.data.component as ComponentDefinition;
      const held = state.get(c.name);
      if (!held || e.id > held.revision) state.set(c.name, c);
    }
    const final = await listAll(url);
    expect([...state.values()].map(summary).sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(
      final.items.map(summary).sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
  });
});
