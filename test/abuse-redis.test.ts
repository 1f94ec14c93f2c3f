import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/orchestrator/src/config/load.js';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { createLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { AUTH, component, testConfig, uniqueName } from './helpers.js';
import { freePort } from './replicas-helpers.js';

/**
 * Hostile neighbours on the shared Redis (127.0.0.1:6379): forged and garbage change announcements
 * and poisoned cache entries written with a raw client next to running servers. Each test has its
 * own key prefix, so runs never see each other's keys, and only those keys are deleted afterwards.
 */
const REDIS = 'redis://127.0.0.1:6379';
const raw = new Redis(REDIS);
const prefixes: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const prefix of prefixes) {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
  }
  raw.disconnect();
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

interface Node {
  app: App;
  base: string;
  lines: LogLine[];
  /** Everything logged, as written. */
  text(): string;
}

/** A server on port 0 with a SQLite store in `dir`, Redis under `prefix`, warnings kept. */
async function startNode(dir: string, prefix: string, env: Record<string, string> = {}): Promise<Node> {
  const lines: LogLine[] = [];
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      written.push(chunk.toString());
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const { config, dir: own } = testConfig((c) => {
    c.store.type = 'sqlite';
    c.store.path = join(dir, 'nestor.db');
    c.cache.redis_url = REDIS;
    c.cache.redis_signing_key_env = 'TEST_SIGNING_KEY';
  });
  const app = await buildApp(config, {
    logger: createLogger({ level: 'warn' }, sink),
    env: { NESTOR_REDIS_PREFIX: prefix, TEST_SIGNING_KEY: 'abuse-test-signing-key', ...env },
  });
  const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  await app.start();
  cleanups.push(async () => {
    await app.close();
    rmSync(own, { recursive: true, force: true });
  });
  await until(async () => (await fetch(`${address}/readyz`)).status === 200);
  return { app, base: address, lines, text: () => written.join('') };
}

function freshPrefix(): string {
  const prefix = `nestor-abuse:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-abuse-redis-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function create(node: Node, name: string, version = '1.0.0'): Promise<number> {
  const res = await fetch(`${node.base}/v1/components`, {
    method: 'POST',
    headers: { ...AUTH.write, 'content-type': 'application/json' },
    body: JSON.stringify(component({ name, version })),
  });
  expect(res.status).toBe(201);
  return Number(res.headers.get('x-catalog-revision'));
}

async function revision(node: Node): Promise<{ status: number; revision: number }> {
  const res = await fetch(`${node.base}/v1/components?limit=500`);
  await res.arrayBuffer();
  return { status: res.status, revision: Number(res.headers.get('x-catalog-revision')) };
}

describe('hostile change announcements on Redis', () => {
  it('never move the revision ahead of the data, never crash, and do not silence real announcements', async () => {
    const prefix = freshPrefix();
    const dir = tempDir();
    const a = await startNode(dir, prefix);
    const b = await startNode(dir, prefix);
    const head = await create(a, uniqueName('abuse'));
    await until(async () => (await revision(b)).revision === head);

    const channel = `${prefix}events:head`;
    const hostile = [
      '',
      'NaN x',
      '-1 x',
      '0 x',
      '1.5 x',
      '1e308 x',
      'Infinity x',
      '0x10 x',
      `${Number.MAX_SAFE_INTEGER + 2} x`,
      '99999999999999999999999999999 x',
      `${head + 1}`,
      '{"head":99}',
      '[1,2,3]',
      '\u0000\u0001\u0002',
      'é'.repeat(200_000),
      `${head + 1_000} forged-replica`,
      `${Number.MAX_SAFE_INTEGER} forged-replica`,
    ];
    for (const message of hostile) await raw.publish(channel, message);
    // A pattern a replica never uses on a channel it never reads must not matter either.
    await raw.publish(`${prefix}events:other`, `${head + 5} x`);

    await until(() =>
      [a, b].every((n) => n.lines.some((l) => l.msg.includes('change announcement') && l.level === 40)),
    );
    for (const node of [a, b]) {
      const seen = await revision(node);
      expect(seen.status).toBe(200);
      expect(seen.revision).toBe(head);
      expect((await fetch(`${node.base}/readyz`)).status).toBe(200);
    }

    // A real write by one replica still reaches the other through Redis after all that.
    const name = uniqueName('after');
    const next = await create(a, name);
    await until(async () => (await revision(b)).revision === next, 5_000);
    const read = await fetch(`${b.base}/v1/components/${name}`);
    expect(read.status).toBe(200);
    expect(Number(read.headers.get('x-catalog-revision'))).toBe(next);

    for (const node of [a, b]) {
      // Readiness probes made while the replica starts may log Redis as still connecting.
      const warnings = node.lines.filter((l) => l.level === 40 && l.msg !== 'readiness check failed');
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.every((l) => l.msg.startsWith('ignored'))).toBe(true);
      // The 200 000-character message is cut short in the log, and nothing was logged at error level.
      expect(node.text().length).toBeLessThan(20_000);
      expect(node.lines.filter((l) => l.level >= 50)).toEqual([]);
    }
  }, 60_000);
});

describe('poisoned shared cache entries', () => {
  it('are never served: every kind reads as a logged miss and the client gets the stored component', async () => {
    const prefix = freshPrefix();
    const dir = tempDir();
    const a = await startNode(dir, prefix);
    const name = uniqueName('poison');
    await create(a, name);
    const url = `${a.base}/v1/components/${name}/versions/1.0.0`;
    const original = (await (await fetch(url)).json()) as { description: string; digest: string };
    const key = `${prefix}v1:get|${name}|1.0.0`;
    await until(async () => (await raw.exists(key)) === 1);
    const sealed = (await raw.get(key)) as string;
    expect(sealed).toMatch(/^n1\.[0-9a-f]{64}\./);

    const forged = JSON.stringify({ ...original, description: 'POISONED' });
    const otherName = uniqueName('other');
    await create(a, otherName);
    await fetch(`${a.base}/v1/components/${otherName}/versions/1.0.0`);
    const otherKey = `${prefix}v1:get|${otherName}|1.0.0`;
    await until(async () => (await raw.exists(otherKey)) === 1);
    const poisons: Record<string, string> = {
      'plain JSON without an envelope': forged,
      'altered bytes under a real digest': sealed.replace(original.description, 'POISONED'),
      'a forged digest': `n1.${'0'.repeat(64)}.${forged}`,
      truncated: sealed.slice(0, Math.floor(sealed.length / 2)),
      'not JSON': 'n1.garbage',
      'binary garbage': '\u0000\uffff\ud800',
      "another component's valid entry": (await raw.get(otherKey)) as string,
      'a huge value': `n1.${'a'.repeat(64)}.${'x'.repeat(2_000_000)}`,
    };
    for (const [kind, poison] of Object.entries(poisons)) {
      await raw.set(key, poison);
      // Drop the in-process caches, as on a fresh replica: the next read goes to Redis.
      (a.app.store as unknown as { clear(): void }).clear();
      const res = await fetch(url);
      const text = await res.text();
      expect(res.status, kind).toBe(200);
      expect(text, kind).not.toContain('POISONED');
      expect((JSON.parse(text) as { digest: string; name: string }).digest, kind).toBe(original.digest);
      expect((JSON.parse(text) as { name: string }).name, kind).toBe(name);
    }
    const refused = a.lines.filter((l) => l.msg.startsWith('ignored a shared cache entry'));
    expect(refused).toHaveLength(Object.keys(poisons).length);
    expect(refused.every((l) => l.key === key)).toBe(true);
    // The fill after the store read replaced the poison with a good entry.
    await until(async () => ((await raw.get(key)) ?? '').startsWith('n1.'));
    expect(a.lines.filter((l) => l.level >= 50)).toEqual([]);
  }, 60_000);
});

describe('Redis with TLS and AUTH', () => {
  it('connects over rediss:// with a password from the environment, and never logs the password', async () => {
    const certs = tempDir();
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: certs, stdio: 'ignore' });
    openssl('genrsa', '-out', 'ca.key', '2048');
    openssl('req', '-x509', '-new', '-key', 'ca.key', '-days', '1', '-subj', '/CN=nestor-test-ca', '-out', 'ca.pem');
    openssl('genrsa', '-out', 'redis.key', '2048');
    openssl('req', '-new', '-key', 'redis.key', '-subj', '/CN=127.0.0.1', '-out', 'redis.csr');
    writeFileSync(join(certs, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'redis.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'redis.pem',
    );
    const port = await freePort();
    const password = `pw-${randomUUID()}`;
    const server = await startTlsRedis(port, certs, password);
    cleanups.push(() => stop(server));

    const prefix = `nestor-abuse:${randomUUID()}:`;
    const withPassword = await startNodeAt(`rediss://127.0.0.1:${port}`, certs, prefix, {
      REDIS_PW: password,
    });
    // Writes made before the TLS handshake and AUTH finish skip the shared cache (it is optional):
    // wait for Redis to be connected so that the entry below has a reason to exist.
    await until(async () =>
      ((await (await fetch(`${withPassword.base}/readyz`)).text()) as string).includes('"redis":{"status":"ok"'),
    );
    const name = uniqueName('tls');
    await create(withPassword, name);
    const read = await fetch(`${withPassword.base}/v1/components/${name}/versions/1.0.0`);
    expect(read.status).toBe(200);
    // The entry went through TLS and AUTH into the shared cache.
    const direct = new Redis(`rediss://127.0.0.1:${port}`, {
      password,
      tls: { ca: readFileSync(join(certs, 'ca.pem'), 'utf8') },
    });
    direct.on('error', () => undefined); // the server is stopped under it at the end
    cleanups.push(async () => direct.disconnect());
    await until(async () => (await direct.exists(`${prefix}v1:get|${name}|1.0.0`)) === 1);

    // An ACL user named in the URL, its password from the environment.
    const userPassword = `user-${randomUUID()}`;
    await direct.call('ACL', 'SETUSER', 'nestor', 'on', `>${userPassword}`, '~*', '&*', '+@all');
    const asUser = await startNodeAt(`rediss://nestor@127.0.0.1:${port}`, certs, prefix, { REDIS_PW: userPassword });
    await until(async () =>
      ((await (await fetch(`${asUser.base}/readyz`)).text()) as string).includes('"redis":{"status":"ok"'),
    );
    expect(asUser.text()).not.toContain(userPassword);

    const wrong = await startNodeAt(`rediss://127.0.0.1:${port}`, certs, prefix, { REDIS_PW: 'wrong-password' });
    await until(() => wrong.lines.some((l) => l.msg.startsWith('redis unavailable')));
    const ready = await fetch(`${wrong.base}/readyz`);
    expect(ready.status).toBe(200); // Redis is optional: the store still serves
    for (const node of [withPassword, wrong]) {
      expect(node.text()).not.toContain(password);
      expect(node.text()).not.toContain('wrong-password');
    }
  }, 60_000);

  it('refuses a redis_url that is not redis:// or rediss:// without echoing it', () => {
    let message = '';
    try {
      loadConfig({}, { NESTOR_CACHE_REDIS_URL: 'http://user:hunter2@127.0.0.1:6379' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('rediss://');
    expect(message).not.toContain('hunter2');
  });
});

async function startNodeAt(url: string, certs: string, prefix: string, env: Record<string, string>): Promise<Node> {
  const lines: LogLine[] = [];
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      written.push(chunk.toString());
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const { config, dir } = testConfig((c) => {
    c.cache.redis_url = url;
    c.cache.redis_password_env = 'REDIS_PW';
    c.cache.redis_tls_ca_file = join(certs, 'ca.pem');
  });
  const app = await buildApp(config, {
    logger: createLogger({ level: 'trace' }, sink),
    env: { NESTOR_REDIS_PREFIX: prefix, ...env },
  });
  const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, base: address, lines, text: () => written.join('') };
}

function startTlsRedis(port: number, certs: string, password: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        join(certs, 'redis.pem'),
        '--tls-key-file',
        join(certs, 'redis.key'),
        '--tls-ca-cert-file',
        join(certs, 'ca.pem'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        password,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
