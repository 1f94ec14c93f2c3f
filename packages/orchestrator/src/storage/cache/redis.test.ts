import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { NestorError } from '@nestor/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisChangeFeed } from '../../events/redis-feed.js';
import { RedisLink } from '../../infra/redis-link.js';
import { createLogger } from '../../observability/logging/logger.js';
import { RedisSharedCache } from './redis.js';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
const prefix = `nestor-test:${randomUUID()}:`;
const links: RedisLink[] = [];

function link(url = SHARED_REDIS, extra: Partial<ConstructorParameters<typeof RedisLink>[0]> = {}): RedisLink {
  const l = new RedisLink({ url, prefix, ...extra });
  links.push(l);
  return l;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A sink for a logger, and the JSON lines written to it. */
function logLines(): { lines: { level: number; msg: string; key?: string }[]; sink: Writable } {
  const lines: { level: number; msg: string; key?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, sink };
}

afterAll(async () => {
  // Only this run's keys: the shared Redis is never flushed.
  const cleaner = new RedisLink({ url: SHARED_REDIS, prefix });
  await until(() => cleaner.available);
  const keys = await cleaner.client.keys(`${prefix}*`);
  if (keys.length > 0) await cleaner.client.del(...keys);
  await cleaner.close();
  for (const l of links) await l.close();
});

describe('RedisSharedCache on the shared Redis', () => {
  it('stores, expires and deletes values under the prefix', async () => {
    const l = link();
    await until(() => l.available);
    const cache = new RedisSharedCache({ link: l, namespace: 'cache:' });
    await cache.set('a', 'one', 60_000);
    await cache.set('b', 'two', 30);
    expect(await cache.get('a')).toBe('one');
    expect(await l.client.get(`${prefix}cache:a`)).toMatch(/^n1\.[0-9a-f]{64}\.one$/);
    await new Promise((r) => setTimeout(r, 60));
    expect(await cache.get('b')).toBeNull();
    await cache.delete(['a']);
    expect(await cache.get('a')).toBeNull();
  });
});

describe('RedisSharedCache entries are checked before use', () => {
  it('reads a tampered, truncated, moved, unsigned or foreign-signed entry as a miss, logs and drops it', async () => {
    const { lines, sink } = logLines();
    const l = link();
    await until(() => l.available);
    const logger = createLogger({ level: 'warn' }, sink);
    const cache = new RedisSharedCache({ link: l, namespace: 'signed:', signingKey: 'replica-secret', logger });
    const foreign = new RedisSharedCache({ link: l, namespace: 'signed:', signingKey: 'attacker-secret' });
    const raw = (k: string) => `${prefix}signed:${k}`;

    await cache.set('good', '{"a":1}', 60_000);
    expect(await cache.get('good')).toBe('{"a":1}');
    const sealed = (await l.client.get(raw('good'))) as string;

    const poisons: Record<string, string> = {
      plain: '{"a":1}',
      tampered: sealed.replace('{"a":1}', '{"a":2}'),
      truncated: sealed.slice(0, -2),
      shortDigest: `n1.${sealed.slice(3, 40)}.{"a":1}`,
      empty: '',
    };
    for (const [k, v] of Object.entries(poisons)) await l.client.set(raw(k), v);
    await l.client.set(raw('moved'), sealed); // a valid entry copied under another key
    await foreign.set('foreign', '{"a":1}', 60_000); // signed with another key
    for (const k of [...Object.keys(poisons), 'moved', 'foreign']) {
      expect(await cache.get(k), k).toBeNull();
    }
    await until(async () => (await l.client.exists(raw('tampered'), raw('moved'), raw('foreign'))) === 0);
    const refused = lines.filter((x) => x.msg.startsWith('ignored a shared cache entry'));
    expect(refused).toHaveLength(Object.keys(poisons).length + 2);
    expect(refused.map((x) => x.key)).toContain(raw('moved'));
    expect(await cache.get('good')).toBe('{"a":1}');
  });
});

describe('RedisChangeFeed', () => {
  it('delivers heads published on one replica to the others, once and in order', async () => {
    const a = new RedisChangeFeed({ link: link() });
    const b = new RedisChangeFeed({ link: link() });
    const seenA: number[] = [];
    const seenB: number[] = [];
    a.subscribe((h) => seenA.push(h));
    b.subscribe((h) => seenB.push(h));
    await until(() => links.every((l) => l.available));
    await new Promise((r) => setTimeout(r, 100));
    a.publish(1);
    a.publish(2);
    a.publish(2);
    await until(() => seenB.length >= 2);
    expect(seenA).toEqual([1, 2]);
    expect(seenB).toEqual([1, 2]);
    a.close();
    b.close();
  });

  it('drops malformed announcements and heads above the log, and still hears real ones afterwards', async () => {
    const { lines, sink } = logLines();
    const channel = `events:head:${randomUUID()}`;
    let head = 3;
    const l = link();
    const feed = new RedisChangeFeed({
      link: l,
      channel,
      head: async () => head,
      pollMs: 60_000,
      warnEveryMs: 0,
      logger: createLogger({ level: 'warn' }, sink),
    });
    const seen: number[] = [];
    feed.subscribe((h) => seen.push(h));
    await until(() => l.available);
    await new Promise((r) => setTimeout(r, 100));
    const raw = l.client;
    const hostile = [
      'abc',
      '-5 x',
      '0 x',
      '1e3 x',
      '007 x',
      '99999999999999999999 x',
      ' 4 x',
      '4',
      '{"head":4}',
      'x'.repeat(100_000),
    ];
    for (const message of hostile) await raw.publish(l.key(channel), message);
    await raw.publish(l.key(channel), '9007199254740991 forged'); // well-formed, far above the log
    await until(() => lines.length >= hostile.length + 1);
    expect(seen).toEqual([3]); // the forged head is confirmed only as far as the log goes

    head = 5;
    await raw.publish(l.key(channel), '5 other-replica');
    await until(() => seen.includes(5));
    expect(seen).toEqual([3, 5]);
    expect(lines.filter((x) => x.msg.startsWith('ignored a malformed'))).toHaveLength(hostile.length);
    expect(lines.filter((x) => x.msg.includes('above the log head'))).toHaveLength(1);
    expect(Math.max(...lines.map((x) => JSON.stringify(x).length))).toBeLessThan(1000);
    feed.close();
  });

  it('falls back to polling the log head when pub/sub is unavailable', async () => {
    const dead = link('redis://127.0.0.1:1', { connectTimeoutMs: 100 });
    let head = 0;
    const feed = new RedisChangeFeed({ link: dead, head: async () => head, pollMs: 20 });
    const seen: number[] = [];
    feed.subscribe((h) => seen.push(h));
    head = 7;
    await until(() => seen.includes(7), 2000);
    feed.close();
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function startRedis(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.on('error', reject);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
  });
}

function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('Redis outage (own redis-server)', () => {
  it('degrades to misses while Redis is down, logs each state change once and recovers by itself', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const { lines, sink } = logLines();
    const url = `redis://127.0.0.1:${port}`;
    const l = link(url, { logger: createLogger({ level: 'info' }, sink) });
    const other = link(url);
    const cache = new RedisSharedCache({ link: l });
    const feedA = new RedisChangeFeed({ link: l });
    const feedB = new RedisChangeFeed({ link: other });
    const seen: number[] = [];
    feedB.subscribe((h) => seen.push(h));
    await until(() => l.available && other.available);
    await cache.set('k', 'v', 60_000);
    expect(await cache.get('k')).toBe('v');
    await l.check();

    await stopRedis(server);
    await until(() => !l.available);
    const started = Date.now();
    expect(await cache.get('k')).toBeNull();
    await cache.set('k2', 'v2', 60_000);
    expect(Date.now() - started).toBeLessThan(200);
    const err = await l.check().catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'service_unavailable')).toBe(true);
    feedA.publish(1);
    await new Promise((r) => setTimeout(r, 300));

    server = await startRedis(port);
    await until(() => l.available && other.available, 10_000);
    await cache.set('k', 'again', 60_000);
    expect(await cache.get('k')).toBe('again');
    await l.check();
    // The subscriber resubscribed by itself after the restart.
    await until(async () => {
      feedA.publish(seen.length + 2);
      await new Promise((r) => setTimeout(r, 50));
      return seen.length > 0;
    });

    const warns = lines.filter((x) => x.msg.startsWith('redis unavailable'));
    const infos = lines.filter((x) => x.msg.startsWith('redis available again'));
    expect(warns).toHaveLength(1);
    expect(infos).toHaveLength(1);
    feedA.close();
    feedB.close();
    await stopRedis(server);
  }, 30_000);
});

describe('A slow Redis (own redis-server)', () => {
  it('a command that times out on an open connection does not take the link down for good', async () => {
    const port = await freePort();
    const server = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const { lines, sink } = logLines();
    const l = link(url, { logger: createLogger({ level: 'info' }, sink) });
    const admin = link(url);
    const feed = new RedisChangeFeed({ link: l });
    await until(() => l.available && admin.available);
    // The server answers nobody for 800 ms: the link's 250 ms command timeout fires on a
    // connection that never closes, so no 'ready' event will come to say it is back.
    await admin.client.call('CLIENT', 'PAUSE', '800', 'ALL');
    expect(await l.publish('heads', '1')).toBe(false);
    expect(await l.publish('heads', '2')).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(await l.publish('heads', '3')).toBe(true);
    await l.check();
    // One warning for the slow spell, and no outage reported.
    expect(lines.filter((x) => x.msg.startsWith('redis publish failed'))).toHaveLength(1);
    expect(lines.filter((x) => x.msg.startsWith('redis unavailable'))).toHaveLength(0);
    feed.close();
    await stopRedis(server);
  }, 30_000);
});
