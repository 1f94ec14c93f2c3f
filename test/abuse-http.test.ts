// Hostile HTTP callers against a real server on port 0 (issue 11, items 8 and 9): oversized
// bodies seen by Node's own client, security headers on every answer, rate limits, the handler
// timeout, 5xx bodies without backend detail, and per-request cost caps.
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { create, TEXT_LIMITS } from '@nestor/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { createLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import type { StoredJson } from '../packages/orchestrator/src/storage/interfaces.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { AUTH, component, postComponent, testApp, uniqueName } from './helpers.js';

const execFileAsync = promisify(execFile);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function listen(app: App): Promise<string> {
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
}

/** One request with Node's own client, the body written in 64 KiB pieces as a streaming client does. */
function send(
  base: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${opts.path}`, { method: opts.method, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    // A hang is a finding, not a test timeout: it fails with the request that caused it.
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer within 5 s to ${opts.method} ${opts.path}`)));
    const body = opts.body ?? Buffer.alloc(0);
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 65_536);
        offset += piece.length;
        if (!req.write(piece)) {
          req.once('drain', writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
}

/**
 * Node's client in a process of its own: in the server's process the two share one event loop and
 * take turns, so the client never finds the socket closed under a write the way a real one does.
 */
async function sendFromChild(url: string, bytes: number, headers: Record<string, string>): Promise<Answer> {
  const script = `
    const { request } = require('node:http');
    const body = Buffer.alloc(${bytes}, 0x78);
    const req = request(${JSON.stringify(url)}, { method: 'POST', headers: ${JSON.stringify(headers)} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() })));
    });
    req.on('error', (err) => process.stdout.write(JSON.stringify({ error: err.code || err.message })));
    let offset = 0;
    const more = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 65536);
        offset += piece.length;
        if (!req.write(piece)) return req.once('drain', more);
      }
      req.end();
    };
    more();`;
  const { stdout } = await execFileAsync(process.execPath, ['-e', script], { timeout: 20_000 });
  const out = JSON.parse(stdout) as Answer & { error?: string };
  if (out.error) throw new Error(`the client saw ${out.error} instead of an answer`);
  return out;
}

function problem(a: Answer): { code: string; detail: string; request_id?: string; details: Record<string, unknown> } {
  expect(a.headers['content-type']).toMatch(/^application\/problem\+json/);
  return JSON.parse(a.body);
}

describe('oversized bodies', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let base: string;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp((c) => {
      c.server.body_limit = 64 * 1024;
    }));
    base = await listen(app);
  });
  afterAll(async () => cleanup());

  // Large enough that the client is still writing when the server has decided, within what the
  // server drains (16 MiB at least).
  const OVERSIZED = 3_000_000;

  it('answers 413 payload_too_large that node:http receives (Content-Length over the limit)', async () => {
    const before = await app.store.headSequence();
    for (let i = 0; i < 3; i++) {
      const res = await sendFromChild(`${base}/v1/components`, OVERSIZED, {
        ...AUTH.write,
        'content-type': 'application/json',
        'content-length': String(OVERSIZED),
      });
      expect(res.status).toBe(413);
      expect(problem(res).code).toBe('payload_too_large');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(await app.store.headSequence()).toBe(before);
  });

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const res = await sendFromChild(`${base}/v1/validate`, OVERSIZED, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    });
    expect(res.status).toBe(413);
    expect(problem(res).code).toBe('payload_too_large');
  });

  it('answers at once, closing the connection, when the declared body is beyond what it drains', async () => {
    const started = Date.now();
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        `${base}/v1/validate`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(2 ** 30) } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () =>
            resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.write('{"components": [');
    });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(problem(res).code).toBe('payload_too_large');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still serves the next request after a refused body', async () => {
    const res = await send(base, { method: 'GET', path: '/v1/components' });
    expect(res.status).toBe(200);
  });
});

describe('security headers', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let base: string;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
    base = await listen(app);
    expect((await postComponent(app, component({ name: 'headers-probe' }))).statusCode).toBe(201);
  });
  afterAll(async () => cleanup());

  const expectSecurityHeaders = (a: Answer) => {
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['referrer-policy']).toBe('no-referrer');
    expect(a.headers['content-security-policy']).toContain("default-src 'none'");
    expect(a.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  };

  it('are on successes, errors, 404s, 401s and framework errors alike', async () => {
    const answers = await Promise.all([
      send(base, { method: 'GET', path: '/healthz' }),
      send(base, { method: 'GET', path: '/v1/components/headers-probe' }),
      send(base, { method: 'GET', path: '/v1/components/nope' }),
      send(base, { method: 'GET', path: '/no/such/route' }),
      send(base, { method: 'GET', path: '/v1/components', headers: { authorization: 'Bearer wrong' } }),
      send(base, { method: 'POST', path: '/v1/components', headers: AUTH.read }),
      send(base, { method: 'GET', path: '/v1/components/%E0%A4%A' }),
      send(base, { method: 'GET', path: '/v1/components?limit=9999' }),
      send(base, { method: 'DELETE', path: '/v1/components' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 404, 401, 403, 400, 400, 405]);
    for (const a of answers) expectSecurityHeaders(a);
  });

  it('are on response-cache hits (written straight to the socket) and their 304s', async () => {
    const path = '/v1/components/headers-probe/versions/1.0.0';
    const first = await send(base, { method: 'GET', path });
    const hit = await send(base, { method: 'GET', path });
    expect(hit.body).toBe(first.body);
    expectSecurityHeaders(hit);
    const etag = String(hit.headers.etag);
    const notModified = await send(base, { method: 'GET', path, headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expectSecurityHeaders(notModified);
  });

  it('are on answers to requests Node cannot parse', async () => {
    const res = await send(base, {
      method: 'POST',
      path: '/v1/validate',
      headers: { 'content-type': 'application/json', 'content-length': '2', 'transfer-encoding': 'chunked' },
      body: Buffer.from('{}'),
    }).catch(() => null);
    // Node's parser refuses the conflicting framing; the raw answer carries nosniff too.
    if (res !== null) {
      expect(res.status).toBe(400);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('rate limits', () => {
  const MAX = 5;

  it('answers 429 rate_limited with Retry-After once an address is over its limit, and exempts the probes', async () => {
    const { app, cleanup } = await testApp((c) => {
      c.limits.rate = { max: MAX, window_ms: 60_000 };
    });
    try {
      const base = await listen(app);
      for (let i = 0; i < MAX; i++)
        expect((await send(base, { method: 'GET', path: '/v1/components' })).status).toBe(200);
      const refused = await send(base, { method: 'GET', path: '/v1/components' });
      expect(refused.status).toBe(429);
      const body = problem(refused);
      expect(body.code).toBe('rate_limited');
      expect(body.details).toMatchObject({ limit: MAX, window_seconds: 60 });
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      // Cached reads are counted like any other.
      expect((await send(base, { method: 'GET', path: '/v1/components/any' })).status).toBe(429);
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        expect((await send(base, { method: 'GET', path })).status).toBe(200);
      }
      // A token has its own budget; a bad token is counted against the (spent) address.
      expect((await send(base, { method: 'GET', path: '/v1/components', headers: AUTH.read })).status).toBe(200);
      const badToken = await send(base, {
        method: 'GET',
        path: '/v1/components',
        headers: { authorization: 'Bearer guessed' },
      });
      expect(badToken.status).toBe(429);
    } finally {
      await cleanup();
    }
  });

  it('counts per token across replicas sharing Redis', async () => {
    const prefix = `nestor-test-${uniqueName('rate')}:`;
    const replica = () =>
      testApp((c) => {
        c.limits.rate = { max: MAX, window_ms: 60_000 };
        c.cache.redis_url = 'redis://127.0.0.1:6379';
      });
    process.env.NESTOR_REDIS_PREFIX = prefix;
    const a = await replica();
    const b = await replica();
    delete process.env.NESTOR_REDIS_PREFIX;
    try {
      const baseA = await listen(a.app);
      const baseB = await listen(b.app);
      // Until its connection is up a replica lets requests through uncounted (a Redis outage must
      // not refuse every request), so the count starts once both are connected.
      await redisReady(baseA);
      await redisReady(baseB);
      const statuses: number[] = [];
      for (let i = 0; i < MAX + 1; i++) {
        const base = i % 2 === 0 ? baseA : baseB;
        statuses.push((await send(base, { method: 'GET', path: '/v1/engines', headers: AUTH.read })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      // Another token is not affected.
      expect((await send(baseB, { method: 'GET', path: '/v1/engines', headers: AUTH.write })).status).toBe(200);
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  it('is off with max 0', async () => {
    const { app, cleanup } = await testApp((c) => {
      c.limits.rate.max = 0;
    });
    try {
      for (let i = 0; i < 50; i++) expect((await app.server.inject({ url: '/v1/components' })).statusCode).toBe(200);
    } finally {
      await cleanup();
    }
  });
});

async function redisReady(base: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await send(base, { method: 'GET', path: '/readyz' });
    if (JSON.parse(res.body).checks?.redis?.status === 'ok') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis did not become ready');
}

/** A memory store whose reads of one name fail or never finish: a backend in trouble. */
class TroubledStore extends MemoryStore {
  pingFails = false;

  override async ping(): Promise<void> {
    if (this.pingFails) {
      throw create('storage_failure')
        .component('sqlite')
        .operation('Ping')
        .message('SQLITE_CANTOPEN: unable to open database file /srv/nestor/data/nestor.db')
        .build();
    }
  }

  override async getLatestComponentJson(name: string, opts?: { includePrerelease?: boolean }) {
    if (name === 'hangs') return new Promise<StoredJson | null>(() => {});
    if (name === 'fails') {
      throw create('storage_failure')
        .component('dynamodb')
        .operation('GetItem')
        .message(
          'AccessDeniedException: arn:aws:dynamodb:eu-west-1:123456789012:table/nestor at /srv/nestor/data/nestor.db',
        )
        .cause(new Error('socket hang up'))
        .build();
    }
    if (name === 'crashes') throw new TypeError("Cannot read properties of undefined (reading 'secret_field')");
    return super.getLatestComponentJson(name, opts);
  }
}

describe('handler timeout and 5xx bodies', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let base: string;
  const logLines: string[] = [];
  const store = new TroubledStore({});
  beforeAll(async () => {
    const logSink = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    });
    const { testConfig } = await import('./helpers.js');
    const { buildApp } = await import('../packages/orchestrator/src/main.js');
    const { config } = testConfig((c) => {
      c.server.request_timeout_ms = 300;
      c.cache.enabled = false;
    });
    app = await buildApp(config, { store, logger: createLogger({ level: 'info' }, logSink) });
    cleanup = () => app.close();
    base = await listen(app);
  });
  afterAll(async () => cleanup());

  it('answers a handler that never finishes with 503 service_unavailable instead of hanging', async () => {
    const started = Date.now();
    const res = await send(base, { method: 'GET', path: '/v1/components/hangs' });
    expect(res.status).toBe(503);
    expect(problem(res).code).toBe('service_unavailable');
    expect(problem(res).detail).toContain('server.request_timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers HEAD on the event stream at once, without subscribing', async () => {
    const res = await send(base, { method: 'HEAD', path: '/v1/events' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(app.broker.oldestSubscriberPosition()).toBeNull();
  });

  it('keeps the event stream open past the timeout', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 600));
    const reader = res.body?.getReader();
    const read = reader?.read();
    controller.abort();
    await read?.catch(() => undefined);
  });

  it('sends storage_failure without the backend message, ARN or path, and with the request id the log has', async () => {
    const res = await send(base, {
      method: 'GET',
      path: '/v1/components/fails',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(res.status).toBe(503);
    const body = problem(res);
    expect(body.code).toBe('storage_failure');
    expect(body.request_id).toBe('abc-123');
    expect(res.body).not.toMatch(/arn:aws|\/srv\/nestor|AccessDenied|socket hang up/);
    const line = logLines.find((l) => l.includes('abc-123') && l.includes('arn:aws:dynamodb'));
    expect(line).toBeDefined();
  });

  it('answers /readyz 503 without the backend message, which the log keeps', async () => {
    store.pingFails = true;
    try {
      const res = await send(base, { method: 'GET', path: '/readyz' });
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).checks.store).toMatchObject({ status: 'failed' });
      expect(JSON.parse(res.body).checks.store.message).toContain('storage_failure');
      expect(res.body).not.toMatch(/\/srv\/nestor|SQLITE_CANTOPEN/);
      expect(logLines.some((l) => l.includes('SQLITE_CANTOPEN'))).toBe(true);
    } finally {
      store.pingFails = false;
    }
  });

  it('sends internal_error without the exception text or stack', async () => {
    const res = await send(base, {
      method: 'GET',
      path: '/v1/components/crashes',
      headers: { 'x-request-id': 'xyz-9' },
    });
    expect(res.status).toBe(500);
    const body = problem(res);
    expect(body.code).toBe('internal_error');
    expect(body.request_id).toBe('xyz-9');
    expect(res.body).not.toMatch(/secret_field|TypeError|at .*\.ts/);
    expect(logLines.some((l) => l.includes('xyz-9') && l.includes('secret_field'))).toBe(true);
  });
});

describe('cost caps for anonymous callers', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp((c) => {
      c.limits.validate_batch = 10;
      c.limits.dependencies = 5;
    }));
  });
  afterAll(async () => cleanup());

  const validate = (payload: unknown) =>
    app.server.inject({ method: 'POST', url: '/v1/validate', payload: payload as Record<string, unknown> });

  it('refuses a validate batch over limits.validate_batch with 413 naming the limit', async () => {
    const components = Array.from({ length: 11 }, (_, i) => component({ name: `batch-${i}` }));
    const res = await validate({ components });
    expect(res.statusCode).toBe(413);
    const body = res.json();
    expect(body.code).toBe('payload_too_large');
    expect(body.details).toMatchObject({ limit: 'limits.validate_batch', max: 10 });
    expect(body.detail).toContain('limits.validate_batch');
    expect((await validate({ components: components.slice(0, 10) })).statusCode).toBe(200);
  });

  it('refuses more dependencies than limits.dependencies with 400 naming the limit, on validate and create', async () => {
    const dependencies = Array.from({ length: 6 }, (_, i) => ({ name: `dep-${i}`, version_range: '^1.0.0' }));
    const one = await validate(component({ name: 'fan-out', dependencies }));
    expect(one.statusCode).toBe(400);
    expect(one.json().details).toMatchObject({ field: 'dependencies', limit: 'limits.dependencies', max: 5 });
    const batch = await validate({ components: [component({ name: 'ok' }), component({ name: 'fan', dependencies })] });
    expect(batch.statusCode).toBe(400);
    expect(batch.json().details.field).toBe('components[1].dependencies');
    const before = await app.store.headSequence();
    const created = await postComponent(app, component({ name: 'fan-out', dependencies }));
    expect(created.statusCode).toBe(400);
    expect(await app.store.headSequence()).toBe(before);
  });

  const tooLong = (n: number) => 'x'.repeat(n + 1);
  const cases: [string, (name: string) => Record<string, unknown>, string][] = [
    ['description', (name) => component({ name, description: tooLong(TEXT_LIMITS.description) }), 'description'],
    [
      'an input description',
      (name) =>
        component({
          name,
          required_inputs: [{ name: 'a', type: 'string', description: tooLong(TEXT_LIMITS.fieldDescription) }],
        }),
      'required_inputs[0].description',
    ],
    [
      'an output description',
      (name) =>
        component({
          name,
          outputs: [{ name: 'a', type: 'string', description: tooLong(TEXT_LIMITS.fieldDescription) }],
        }),
      'outputs[0].description',
    ],
    [
      'an engine name',
      (name) => component({ name, deployment_engines: [tooLong(TEXT_LIMITS.identifier)] }),
      'deployment_engines[0]',
    ],
    ['the provider', (name) => component({ name, provider: tooLong(TEXT_LIMITS.identifier) }), 'provider'],
    ['a label value', (name) => component({ name, labels: { team: tooLong(256) } }), 'labels.team'],
    ['an annotation value', (name) => component({ name, annotations: { note: tooLong(4096) } }), 'annotations.note'],
    ['git_repository', (name) => component({ name, git_repository: tooLong(TEXT_LIMITS.reference) }), 'git_repository'],
  ];

  it.each(cases)('refuses an over-long %s with 400 invalid_request naming the field', async (_what, make, field) => {
    const before = await app.store.headSequence();
    const validated = await validate(make('long-text'));
    expect(validated.statusCode).toBe(400);
    expect(validated.json()).toMatchObject({ code: 'invalid_request', details: { field } });
    const created = await postComponent(app, make('long-text') as never);
    expect(created.statusCode).toBe(400);
    expect(await app.store.headSequence()).toBe(before);
  });

  it('refuses an over-long deprecated.reason with 400 and keeps the version as it was', async () => {
    expect((await postComponent(app, component({ name: 'deprecate-me' }))).statusCode).toBe(201);
    const patch = (reason: string) =>
      app.server.inject({
        method: 'PATCH',
        url: '/v1/components/deprecate-me/versions/1.0.0',
        headers: AUTH.write,
        payload: { deprecated: { reason } },
      });
    const refused = await patch(tooLong(TEXT_LIMITS.reason));
    expect(refused.statusCode).toBe(400);
    expect(refused.json().details.field).toBe('deprecated.reason');
    const stored = await app.server.inject({ url: '/v1/components/deprecate-me/versions/1.0.0' });
    expect(stored.json().deprecated).toBeNull();
    expect((await patch('x'.repeat(TEXT_LIMITS.reason))).statusCode).toBe(200);
  });
});

describe('random hostile requests against a real server', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let base: string;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp((c) => {
      c.server.body_limit = 16 * 1024;
      c.limits.validate_batch = 5;
      c.limits.dependencies = 5;
    }));
    base = await listen(app);
  });
  afterAll(async () => cleanup());

  const PATHS = [
    '/v1/components',
    '/v1/components/search',
    '/v1/components/a',
    '/v1/components/a/versions/1.0.0',
    '/v1/components/a/resolve',
    '/v1/validate',
    '/v1/engines',
    '/v1/events',
    '/v1/sources/x',
    '/v1/webhooks/x',
    '/healthz',
  ];
  const HEADER_NAMES = [
    'content-type',
    'content-encoding',
    'accept',
    'authorization',
    'if-none-match',
    'x-request-id',
    'last-event-id',
    'x-forwarded-for',
    'range',
  ];
  const headerValue = fc.oneof(
    fc.string({ maxLength: 200 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
    fc.constantFrom('application/json', 'application/json; charset=latin1', 'gzip', 'Bearer ', '*', '-1'),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
    fc.nat(40).map((n) => Buffer.from(JSON.stringify({ components: Array.from({ length: n }, () => ({})) }))),
    fc.nat(30_000).map((n) => Buffer.from(JSON.stringify({ description: 'x'.repeat(n) }))),
  );
  const query = fc.dictionary(
    fc.constantFrom('limit', 'cursor', 'label', 'q', 'range', 'since', 'include_prerelease', 'type', '__proto__'),
    fc.string({ maxLength: 60 }),
  );

  it('never answers 5xx, always answers a coded problem for errors with nosniff, and stores nothing', async () => {
    const before = await app.store.headSequence();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'),
        fc.constantFrom(...PATHS),
        query,
        fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 4 }),
        body,
        async (method, path, q, headers, payload) => {
          if (path === '/v1/events' && method === 'GET') return; // a stream: answered, then held open
          const qs = new URLSearchParams(q).toString();
          const sendBody = method !== 'GET' && method !== 'HEAD' ? payload : undefined;
          const res = await send(base, {
            method,
            path: qs ? `${path}?${qs}` : path,
            headers: { ...headers, ...(sendBody ? { 'content-length': String(sendBody.length) } : {}) },
            ...(sendBody ? { body: sendBody } : {}),
          });
          expect(res.status).toBeLessThan(500);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
          if (res.status >= 400 && method !== 'HEAD') {
            const p = problem(res);
            expect(p.code).toMatch(/^[a-z_]+$/);
          }
        },
      ),
      { numRuns: 250 },
    );
    expect(await app.store.headSequence()).toBe(before);
  }, 60_000);
});
