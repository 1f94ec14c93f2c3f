import { type AddressInfo, connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;
const JSON_WRITE = { ...AUTH.write, 'content-type': 'application/json' };
const JSON_ADMIN = { ...AUTH.admin, 'content-type': 'application/json' };

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  for (const name of ['pg', 'vpc']) {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: JSON_WRITE,
      payload: component({ name }),
    });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => cleanup());

type Inject = InjectOptions;

/** Sends a request and checks the answer is a problem with `status` and `code`. */
async function expectProblem(req: Inject, status: number, code: string): Promise<Record<string, unknown>> {
  const res = await app.server.inject(req);
  const body = res.json() as Record<string, unknown>;
  expect({ status: res.statusCode, code: body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['x-request-id']).toBeTruthy();
  return body;
}

let listening: Promise<number> | null = null;

/** Writes `text` to a fresh connection and reads until the server closes it. */
async function rawRequest(text: string): Promise<string> {
  listening ??= app.server
    .listen({ port: 0, host: '127.0.0.1' })
    .then(() => (app.server.server.address() as AddressInfo).port);
  const port = await listening;
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

/** Head of the log plus the stored representation of pg@1.0.0: what a rejected write must not change. */
async function snapshot(): Promise<string> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/components/pg/versions/1.0.0' });
  return `${await app.store.headSequence()}|${res.body}`;
}

describe('URLs and path parameters', () => {
  it.each([
    ['bad percent escape', '/v1/components/%zz'],
    ['overlong UTF-8', '/v1/components/%C0%AE'],
    ['overlong UTF-8, three bytes', '/v1/components/%E0%80%80'],
    ['a 10 000 character name', `/v1/components/${'a'.repeat(10_000)}`.slice(0, 10_015)],
    ['a 300 character prerelease', `/v1/components/pg/versions/1.0.0-${'a'.repeat(300)}`],
    ['a 10 000 character engine name', `/v1/engines/${'e'.repeat(10_000)}`],
  ])('%s is a 400 invalid_request problem', async (_what, url) => {
    await expectProblem({ method: 'GET', url }, 400, 'invalid_request');
  });

  it.each([
    '/v1/components/%00',
    '/v1/components/%2F',
    '/v1/components/PG',
    '/v1/components/p.g',
    '/v1/components/%F0%9F%98%80',
    '/v1/components/pg/versions/1.0.0-',
    '/v1/components/pg/versions/01.0.0',
    '/v1/components/pg/versions/1.0.0+meta',
  ])('%s is refused by the name or version check', async (url) => {
    await expectProblem({ method: 'GET', url }, 400, 'invalid_request');
  });

  it('answers 405 with Allow for a path that exists under other methods', async () => {
    const res = await app.server.inject({ method: 'PUT', url: '/v1/components' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toMatchObject({ code: 'method_not_allowed' });
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    await expectProblem({ method: 'DELETE', url: '/v1/components/pg' }, 405, 'method_not_allowed');
    await expectProblem({ method: 'GET', url: '/v1/validate' }, 405, 'method_not_allowed');
    await expectProblem(
      { method: 'PATCH', url: '/v1/components/pg/versions/1.0.0/dependencies' },
      405,
      'method_not_allowed',
    );
    await expectProblem({ method: 'GET', url: '/v1/nothing-here' }, 404, 'route_not_found');
  });
});

describe('query strings', () => {
  it.each([
    'limit=1e3',
    'limit=1.5',
    'limit=0x10',
    'limit=-1',
    'limit=0',
    'limit=501',
    'limit=10&limit=20',
    'include_prerelease=maybe',
    'include_prerelease=true&include_prerelease=false',
    'maturity=bogus',
    `label=${'a=b&label='.repeat(30)}x=y`,
    'label==x',
  ])('/v1/components?%s is a 400', async (qs) => {
    await expectProblem({ method: 'GET', url: `/v1/components?${qs}` }, 400, 'invalid_request');
  });

  it('ignores keys named after Object.prototype members, repeated or not, on every query route', async () => {
    const keys = [
      '__proto__=a&__proto__=b',
      '__proto__=a',
      '__proto__[x]=1',
      'constructor=a&constructor=b',
      'toString=x',
    ];
    for (const route of ['/v1/components?', '/v1/components/search?q=pg&', '/v1/components/pg/latest?']) {
      for (const qs of keys) {
        const res = await app.server.inject({ method: 'GET', url: `${route}${qs}&limit=1` });
        expect([200, 404], `${route}${qs}: ${res.body}`).toContain(res.statusCode);
      }
    }
    const res = await app.server.inject({ method: 'GET', url: '/v1/components?__proto__=a&__proto__=b&limit=1' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toHaveLength(1);
  });

  it('holds every label filter, whatever its key, and all of them at once', async () => {
    const total = async (qs: string) =>
      (await app.server.inject({ method: 'GET', url: `/v1/components?${qs}` })).json().total as number;
    expect(await total('label=team%3Dplatform')).toBe(2);
    expect(await total('label=__proto__%3Dplatform')).toBe(0);
    expect(await total('label=constructor%3Dx')).toBe(0);
    expect(await total('label=team%3Dplatform&label=team%3Dother')).toBe(0);
    expect(await total('label=team%3Dplatform&label=team%3Dplatform')).toBe(2);
  });

  it('takes a plain decimal limit', async () => {
    const res = await app.server.inject({ method: 'GET', url: '/v1/components?limit=1' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toHaveLength(1);
  });

  it('refuses cursors it did not issue for this endpoint', async () => {
    const list = (await app.server.inject({ method: 'GET', url: '/v1/components?limit=1' })).json();
    const b64 = (v: string) => Buffer.from(v).toString('base64url');
    for (const cursor of ['garbage', b64('{"a":1}'), b64('null'), b64('[]'), `n1.${b64('{"k":"list","after":7}')}`]) {
      await expectProblem({ method: 'GET', url: `/v1/components?cursor=${cursor}` }, 400, 'invalid_cursor');
    }
    await expectProblem(
      { method: 'GET', url: `/v1/components/search?q=component&cursor=${list.next_cursor}` },
      400,
      'invalid_cursor',
    );
  });

  it('refuses bad and huge ranges', async () => {
    await expectProblem({ method: 'GET', url: '/v1/components/pg/resolve?range=%5E%5E1' }, 400, 'invalid_range');
    await expectProblem(
      { method: 'GET', url: `/v1/components/pg/resolve?range=${encodeURIComponent('^1 || '.repeat(900))}` },
      400,
      'invalid_request',
    );
  });

  it('refuses bad event stream positions and filters before the stream starts', async () => {
    for (const [url, headers] of [
      ['/v1/events?since=abc', {}],
      ['/v1/events?since=-1', {}],
      ['/v1/events?since=1&since=2', {}],
      ['/v1/events', { 'last-event-id': '18446744073709551616' }],
      ['/v1/events', { 'last-event-id': 'zz' }],
      [`/v1/events?type=${'component.created,'.repeat(150)}`, {}],
      [`/v1/events?name=${'a,'.repeat(5000)}`, {}],
    ] as const) {
      await expectProblem({ method: 'GET', url, headers }, 400, 'invalid_request');
    }
  });
});

describe('headers', () => {
  it.each([
    ['no token', 'Bearer'],
    ['an empty token', 'Bearer '],
    ['Basic', 'Basic xxx'],
    ['a 10 KB token', `Bearer ${'x'.repeat(10_000)}`],
    ['two words', 'Bearer a b'],
  ])('Authorization with %s is a 401', async (_what, authorization) => {
    await expectProblem({ method: 'GET', url: '/v1/components', headers: { authorization } }, 401, 'unauthorized');
  });

  it('refuses two Authorization headers on a real socket, where Node would keep only the first', async () => {
    const head = await rawRequest(
      'GET /v1/components HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-read-token\r\n' +
        'Authorization: Bearer someone-else\r\nConnection: close\r\n\r\n',
    );
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    expect(head).toContain('"code":"unauthorized"');
  });

  it('keeps a short X-Request-Id and replaces a huge or odd one', async () => {
    const id = async (value: string) =>
      (await app.server.inject({ method: 'GET', url: '/v1/components', headers: { 'x-request-id': value } })).headers[
        'x-request-id'
      ];
    expect(await id('trace-42.a:b')).toBe('trace-42.a:b');
    for (const bad of ['r'.repeat(9000), 'a b', '<script>', '']) {
      const got = await id(bad);
      expect(got).not.toBe(bad);
      expect(String(got)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('ignores a garbage If-None-Match', async () => {
    for (const inm of ['"\u0001,,,W/', ','.repeat(50_000), '*garbage*']) {
      const res = await app.server.inject({
        method: 'GET',
        url: '/v1/components/pg/versions/1.0.0',
        headers: { 'if-none-match': inm },
      });
      expect(res.statusCode).toBe(200);
    }
  });
});

describe('malformed HTTP on a real socket', () => {
  const body = JSON.stringify(component({ name: 'socket' }));
  const head = `Host: x\r\n${`Authorization: ${AUTH.write.authorization}`}\r\nContent-Type: application/json\r\nConnection: close\r\n`;
  it.each([
    [
      'a Content-Length shorter than the body',
      `POST /v1/components HTTP/1.1\r\n${head}Content-Length: 10\r\n\r\n${body}`,
    ],
    [
      'a Content-Length that is not a number',
      `POST /v1/components HTTP/1.1\r\n${head}Content-Length: abc\r\n\r\n${body}`,
    ],
    [
      'two Content-Lengths',
      `POST /v1/components HTTP/1.1\r\n${head}Content-Length: 5\r\nContent-Length: 6\r\n\r\n${body}`,
    ],
    [
      'Content-Length with chunked',
      `POST /v1/components HTTP/1.1\r\n${head}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n0\r\n\r\n`,
    ],
    [
      'a bad chunk size',
      `POST /v1/components HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ],
    [
      'a 20 KB header',
      `GET /v1/components HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    ],
    ['a NUL in the path', 'GET /v1/comp\u0000onents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ])('%s is a 400 problem and writes nothing', async (_what, request) => {
    const before = await app.store.headSequence();
    const answer = await rawRequest(request);
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer).toContain('Content-Type: application/problem+json');
    expect(answer).toContain('"code":"invalid_request"');
    expect(await app.store.headSequence()).toBe(before);
  });

  it('reads a chunked body', async () => {
    const answer = await rawRequest(
      `POST /v1/validate HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});

describe('request bodies', () => {
  const pgBody = (mutate: (s: string) => string) => mutate(JSON.stringify(component({ name: 'hostile' })));

  it.each([
    ['application/json; charset=latin1', 'a charset other than UTF-8'],
    ['application/json; charset=utf-16', 'UTF-16'],
    ['text/plain', 'plain text'],
    ['application/x-www-form-urlencoded', 'a form'],
  ])('content type %s (%s) is a 415', async (type) => {
    const before = await snapshot();
    await expectProblem(
      {
        method: 'POST',
        url: '/v1/components',
        headers: { ...AUTH.write, 'content-type': type },
        payload: pgBody((s) => s),
      },
      415,
      'unsupported_media_type',
    );
    expect(await snapshot()).toBe(before);
  });

  it('takes an explicit UTF-8 charset', async () => {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: { 'content-type': 'application/json; Charset="UTF-8"' },
      payload: JSON.stringify(component({ name: 'charset-ok' })),
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses compressed bodies with 415 rather than reading them as text', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      await expectProblem(
        {
          method: 'POST',
          url: '/v1/components',
          headers: { ...JSON_WRITE, 'content-encoding': encoding },
          payload: gzipSync(pgBody((s) => s)),
        },
        415,
        'unsupported_media_type',
      );
    }
  });

  it.each([
    ['10 000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['100 000 nested objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
    ['a number that overflows', pgBody((s) => s.replace('"default":20', '"default":1e400'))],
    ['a lone surrogate', pgBody((s) => s.replace('"team":"platform"', '"team":"\\ud800"'))],
    ['a lone surrogate in a key', pgBody((s) => s.replace('"team":', '"\\udfff":'))],
    ['__proto__ deep inside', pgBody((s) => s.replace('"labels":{', '"labels":{"__proto__":{"x":"1"},'))],
    ['constructor as a label', pgBody((s) => s.replace('"labels":{', '"labels":{"constructor":"x",'))],
  ])('%s is a 400 and writes nothing', async (_what, payload) => {
    const before = await snapshot();
    const body = await expectProblem(
      { method: 'POST', url: '/v1/components', headers: JSON_WRITE, payload },
      400,
      'invalid_request',
    );
    expect(String(body.detail)).not.toMatch(/call stack/);
    expect(await snapshot()).toBe(before);
  });

  it('keeps deep but sane nesting (a default value that is a nested map)', async () => {
    let nested: unknown = 'leaf';
    for (let i = 0; i < 40; i++) nested = { k: nested };
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: { 'content-type': 'application/json' },
      payload: component({ name: 'nested', optional_inputs: [{ name: 'deep', type: 'map', default: nested }] }),
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses hostile engine registrations with 400', async () => {
    for (const endpoint of [
      'file:///etc/passwd',
      'http://[::1',
      `http://${'a'.repeat(5000)}.example`,
      'javascript:x',
    ]) {
      await expectProblem(
        { method: 'POST', url: '/v1/engines', headers: JSON_ADMIN, payload: { name: 'hostile', endpoint } },
        400,
        'invalid_request',
      );
    }
    for (const interval of ['5 years', '99999999h', 0, '1ms']) {
      await expectProblem(
        { method: 'POST', url: '/v1/engines', headers: JSON_ADMIN, payload: { name: 'hostile', interval } },
        400,
        'invalid_request',
      );
    }
    const list = (await app.server.inject({ method: 'GET', url: '/v1/engines' })).json();
    expect(list.items.map((e: { name: string }) => e.name)).not.toContain('hostile');
  });

  it('answers 404 for syncs and webhooks of unknown sources, whatever the body', async () => {
    await expectProblem({ method: 'POST', url: '/v1/sources/nope/sync', headers: AUTH.admin }, 404, 'source_not_found');
    await expectProblem(
      {
        method: 'POST',
        url: '/v1/webhooks/nope',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=zz' },
        payload: 'not json',
      },
      404,
      'source_not_found',
    );
  });
});

describe('rejected PATCH and validate requests leave the store alone', () => {
  it.each([
    '{"deprecated": {}}',
    '{"deprecated": {"reason": ""}}',
    '{"deprecated": true}',
    '{"labels": null}',
    '{"labels": {"a": 1}}',
    '{"version": "2.0.0"}',
    '{"maturity": "bogus"}',
    '[]',
    'null',
    '{"labels": {"team": "\\ud800"}}',
  ])('PATCH %s is a 400', async (payload) => {
    const before = await snapshot();
    await expectProblem(
      { method: 'PATCH', url: '/v1/components/pg/versions/1.0.0', headers: JSON_WRITE, payload },
      400,
      'invalid_request',
    );
    expect(await snapshot()).toBe(before);
  });

  it.each(['{"components": []}', '{"components": [null]}', '{"components": null}'])(
    'POST /v1/validate %s is a 400',
    async (payload) => {
      const before = await snapshot();
      await expectProblem(
        { method: 'POST', url: '/v1/validate', headers: { 'content-type': 'application/json' }, payload: payload },
        400,
        'invalid_request',
      );
      expect(await snapshot()).toBe(before);
    },
  );

  it('POST /v1/validate with 10 000 components is a 413 naming limits.validate_batch', async () => {
    const payload = JSON.stringify({ components: Array.from({ length: 10_000 }, () => null) });
    const body = await expectProblem(
      { method: 'POST', url: '/v1/validate', headers: { 'content-type': 'application/json' }, payload },
      413,
      'payload_too_large',
    );
    expect(body.details).toMatchObject({ limit: 'limits.validate_batch' });
  });

  it('random PATCH bodies never answer 5xx and change the store only on 200', async () => {
    const patch = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          labels: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), fc.jsonValue()),
          annotations: fc.jsonValue({ maxDepth: 2 }),
          maturity: fc.oneof(fc.constantFrom('experimental', 'beta', 'stable', 'deprecated'), fc.jsonValue()),
          deprecated: fc.oneof(fc.constant(null), fc.record({ reason: fc.string({ maxLength: 10 }) }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(patch, async (body) => {
        const before = await app.store.headSequence();
        const res = await app.server.inject({
          method: 'PATCH',
          url: '/v1/components/vpc/versions/1.0.0',
          headers: JSON_WRITE,
          payload: JSON.stringify(body),
        });
        expect(res.statusCode).toBeLessThan(500);
        const after = await app.store.headSequence();
        if (res.statusCode !== 200) expect(after).toBe(before);
      }),
      { numRuns: 150 },
    );
  });

  it('random validate bodies never answer 5xx or write', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.record({ components: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }) }),
        ),
        async (body) => {
          const before = await app.store.headSequence();
          const res = await app.server.inject({
            method: 'POST',
            url: '/v1/validate',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
          expect(res.statusCode).toBeLessThan(500);
          expect(await app.store.headSequence()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('labels and annotations are bounded', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
  });
  afterAll(async () => cleanup());

  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  const cases: [string, Record<string, unknown>][] = [
    ['an empty key', { labels: { '': 'x' } }],
    ['a key with a space', { labels: { 'bad key': 'x' } }],
    ['a NUL in a key', { annotations: { 'a\u0000b': 'x' } }],
    ['65 labels', { labels: many }],
    ['a 257-character label value', { labels: { team: 'x'.repeat(257) } }],
  ];
  for (const [what, extra] of cases) {
    it(`rejects ${what} on create and on PATCH with 400, writing nothing`, async () => {
      const name = uniqueName('bounded');
      const before = await app.store.headSequence();
      const created = await app.server.inject({
        method: 'POST',
        url: '/v1/components',
        headers: AUTH.write,
        payload: { ...component({ name }), ...extra },
      });
      expect(created.statusCode).toBe(400);
      expect(created.json().code).toBe('invalid_request');
      expect(await app.store.headSequence()).toBe(before);
      await app.server.inject({
        method: 'POST',
        url: '/v1/components',
        headers: AUTH.write,
        payload: component({ name }),
      });
      const head = await app.store.headSequence();
      const patched = await app.server.inject({
        method: 'PATCH',
        url: `/v1/components/${name}/versions/1.0.0`,
        headers: AUTH.write,
        payload: extra,
      });
      expect(patched.statusCode).toBe(400);
      expect(await app.store.headSequence()).toBe(head);
    });
  }

  it('accepts prefixed keys such as nestor.dev/intended-engines', async () => {
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: {
        ...component({ name: uniqueName('prefixed') }),
        annotations: { 'nestor.dev/intended-engines': 'terraform' },
      },
    });
    expect(res.statusCode).toBe(201);
  });
});
