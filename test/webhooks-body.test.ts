import { createHmac, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { componentYaml, TempRepo } from './git-helpers.js';
import { testConfig } from './helpers.js';
import { floodFromChild, hostileUpload, type RawOutcome, rawPost } from './webhook-client.js';

// Webhook bodies are read only after the headers passed, hashed as they stream in, and held to
// `webhooks.body_limit` (1 MiB by default, separate from `server.body_limit`).
const SECRET = 'webhook body secret';
const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');
let app: App;
let repo: TempRepo;
let dataDir: string;
let port: number;

beforeAll(async () => {
  repo = new TempRepo();
  repo.write('base/component.yaml', componentYaml({ name: 'body-base' }));
  repo.commit('base');
  const source = {
    type: 'git' as const,
    url: repo.url,
    path: null,
    branch: 'main',
    paths: ['**/component.yaml'],
    interval_ms: 0,
    token_env: null,
    ssh_key_path: null,
  };
  const { config, dir } = testConfig((c) => {
    c.sources = [
      { ...source, name: 'platform', webhook_secret_env: 'BODY_HOOK_SECRET' },
      { ...source, name: 'unsigned', webhook_secret_env: null },
    ];
  });
  dataDir = dir;
  app = await buildApp(config, { env: { BODY_HOOK_SECRET: SECRET } });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app.close();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const sign = (body: Buffer | string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const github = (extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-github-event': 'push',
  'x-github-delivery': randomUUID(),
  ...extra,
});

function answer(outcome: RawOutcome, what: string) {
  if (outcome.kind !== 'answer') throw new Error(`${what}: the client saw ${outcome.code} instead of an answer`);
  return { status: outcome.status, code: (JSON.parse(outcome.body) as { code?: string }).code, ms: outcome.ms };
}

describe('webhook headers are judged before the body is read', () => {
  // Each request declares 512 KiB (under the limit) and sends none of it: only an answer given
  // from the headers arrives before the client gives up.
  const cases: [string, string, Record<string, string>, number, string][] = [
    ['unknown source', '/v1/webhooks/nope', github({ 'x-hub-signature-256': sign('x') }), 404, 'source_not_found'],
    ['no provider headers', '/v1/webhooks/platform', { 'content-type': 'application/json' }, 401, 'invalid_signature'],
    [
      'a source without a secret',
      '/v1/webhooks/unsigned',
      github({ 'x-hub-signature-256': sign('x') }),
      401,
      'invalid_signature',
    ],
    ['a GitHub push without a signature', '/v1/webhooks/platform', github(), 401, 'invalid_signature'],
    [
      'a malformed GitHub signature',
      '/v1/webhooks/platform',
      github({ 'x-hub-signature-256': 'sha256=zz' }),
      401,
      'invalid_signature',
    ],
    [
      'a SHA-1 GitHub signature only',
      '/v1/webhooks/platform',
      github({ 'x-hub-signature': `sha1=${'0'.repeat(40)}` }),
      401,
      'invalid_signature',
    ],
    [
      'a malformed Gitea signature',
      '/v1/webhooks/platform',
      { 'x-gitea-event': 'push', 'x-gitea-signature': 'nothex' },
      401,
      'invalid_signature',
    ],
    [
      'a wrong GitLab token',
      '/v1/webhooks/platform',
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong' },
      401,
      'invalid_signature',
    ],
    [
      'a GitLab push without a token',
      '/v1/webhooks/platform',
      { 'x-gitlab-event': 'Push Hook' },
      401,
      'invalid_signature',
    ],
  ];
  for (const [what, path, headers, status, code] of cases) {
    it(`answers ${status} ${code} for ${what}`, async () => {
      const outcome = await rawPost({ port, path, headers, contentLength: 512 * 1024, timeoutMs: 3_000 });
      expect(answer(outcome, what)).toMatchObject({ status, code });
    });
  }

  it('answers 413 payload_too_large for a declared length over webhooks.body_limit, signature or not', async () => {
    for (const headers of [
      github({ 'x-hub-signature-256': sign('x') }),
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET },
    ]) {
      const outcome = await rawPost({
        port,
        path: '/v1/webhooks/platform',
        headers,
        contentLength: MiB + 1,
        timeoutMs: 3_000,
      });
      expect(answer(outcome, 'declared 1 MiB + 1')).toMatchObject({ status: 413, code: 'payload_too_large' });
    }
  });

  it('still accepts a signed push of exactly the limit', async () => {
    const json = JSON.stringify({ ref: 'refs/heads/other', after: repo.head(), pad: '' });
    const body = Buffer.from(json.replace('"pad":""', `"pad":"${'x'.repeat(MiB - json.length)}"`));
    expect(body.length).toBe(MiB);
    const outcome = await rawPost({
      port,
      path: '/v1/webhooks/platform',
      headers: github({ 'x-hub-signature-256': sign(body) }),
      chunk: body,
    });
    expect(answer(outcome, 'a 1 MiB push')).toMatchObject({ status: 202 });
    expect(JSON.parse(outcome.kind === 'answer' ? outcome.body : '{}')).toMatchObject({ status: 'ignored' });
  });
});

describe('oversized webhook bodies', () => {
  it('shows the 413 to a client that writes a 30 MiB body before reading (no EPIPE or reset)', async () => {
    // One write of the whole body, as `req.end(body)` and fetch do: the answer comes while the
    // client is still sending, and closing the socket on unread bytes would reset it.
    const body = Buffer.alloc(30 * MiB, 'a');
    for (let i = 0; i < 4; i++) {
      const outcome = await rawPost({
        port,
        path: '/v1/webhooks/platform',
        headers: github({ 'x-hub-signature-256': sign('x') }),
        chunk: body,
      });
      expect(answer(outcome, `attempt ${i + 1}`)).toMatchObject({ status: 413, code: 'payload_too_large' });
      const viaFetch = await fetch(`http://127.0.0.1:${port}/v1/webhooks/platform`, {
        method: 'POST',
        headers: github({ 'x-hub-signature-256': sign('x') }),
        body,
      });
      expect(viaFetch.status).toBe(413);
    }
  });

  it('refuses a chunked body once it passes the limit, with a 413 the client sees', async () => {
    const outcome = await rawPost({
      port,
      path: '/v1/webhooks/platform',
      headers: github({ 'x-hub-signature-256': sign('x') }),
      chunk: CHUNK,
      repeat: (3 * MiB) / CHUNK.length,
      contentLength: null,
    });
    expect(answer(outcome, 'chunked 3 MiB')).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('checks a chunked body signed correctly, hashing it as it streams', async () => {
    const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/elsewhere', after: repo.head() }));
    const good = await rawPost({
      port,
      path: '/v1/webhooks/platform',
      headers: github({ 'x-hub-signature-256': sign(body) }),
      chunk: body,
      contentLength: null,
    });
    expect(answer(good, 'signed chunked')).toMatchObject({ status: 202 });
    const bad = await rawPost({
      port,
      path: '/v1/webhooks/platform',
      headers: github({ 'x-hub-signature-256': sign(body, 'other secret') }),
      chunk: body,
      contentLength: null,
    });
    expect(answer(bad, 'wrongly signed chunked')).toMatchObject({ status: 401, code: 'invalid_signature' });
  });

  it('stops reading a refused body after the discard bound (32 MiB) instead of draining 200 MiB', async () => {
    const head = [
      'POST /v1/webhooks/platform HTTP/1.1',
      'host: 127.0.0.1',
      'content-type: application/json',
      'x-github-event: push',
      `content-length: ${200 * MiB}`,
      '',
      '',
    ].join('\r\n');
    const upload = await hostileUpload(port, head, 200 * MiB);
    expect(upload.head).toMatch(/^HTTP\/1\.1 401/);
    expect(upload.end).toBe('cut');
    // 32 MiB discarded plus what the socket buffers held when the server cut it.
    expect(upload.written).toBeGreaterThan(32 * MiB);
    expect(upload.written).toBeLessThan(64 * MiB);
  });

  it('drains a refused body under the bound and keeps the connection for the next request', async () => {
    const body = 'x'.repeat(3 * MiB);
    const unsigned = `POST /v1/webhooks/platform HTTP/1.1\r\nhost: a\r\nx-github-event: push\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const health = 'GET /healthz HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n';
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.write(unsigned + health);
    await new Promise((r) => socket.on('close', r));
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['401', '200']);
  });
});

describe('twenty parallel 25 MiB unsigned posts', () => {
  function healthz(): Promise<number> {
    return new Promise((resolve) => {
      const started = Date.now();
      const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? Date.now() - started : Number.POSITIVE_INFINITY));
      });
      req.on('error', () => resolve(Number.POSITIVE_INFINITY));
      req.end();
    });
  }

  for (const [what, headers, chunked] of [
    ['declared as 25 MiB, without a signature', github(), false],
    [
      'chunked, with a wrong signature (read and hashed up to the limit)',
      github({ 'x-hub-signature-256': sign('x') }),
      true,
    ],
  ] as const) {
    it(`leave memory flat and the server answering: ${what}`, async () => {
      const before = process.memoryUsage();
      let peakRss = before.rss;
      let peakBuffers = before.arrayBuffers;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      }, 5);
      const health: number[] = [];
      let flooding = true;
      const prober = (async () => {
        while (flooding) {
          health.push(await healthz());
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const results = await floodFromChild({
        port,
        path: '/v1/webhooks/platform',
        headers,
        count: 20,
        bytes: 25 * MiB,
        chunked,
      });
      flooding = false;
      await prober;
      clearInterval(sampler);
      const after = process.memoryUsage();
      const codes = results.map((r) => (r.body ? (JSON.parse(r.body) as { code: string }).code : r.error));
      expect(new Set(codes)).toEqual(new Set([chunked ? 'payload_too_large' : 'invalid_signature']));
      // 20 × 25 MiB is 500 MiB; holding a fifth of it at once would break the RSS bound, a third
      // the buffers bound. Chunks read and dropped still count in arrayBuffers until V8 collects
      // them, which it does after external memory has grown by some tens of MiB: on a fast
      // machine on Node 24 that garbage alone peaked at 105 MiB, so the buffers bound leaves room for it.
      expect((peakRss - before.rss) / MiB).toBeLessThan(100);
      expect((peakBuffers - before.arrayBuffers) / MiB).toBeLessThan(160);
      expect((after.heapUsed - before.heapUsed) / MiB).toBeLessThan(50);
      // Health checks kept being answered while the posts were in flight (generous: 2 shared cores).
      expect(health.length).toBeGreaterThan(0);
      expect(health.every((ms) => ms < 10_000)).toBe(true);
    }, 120_000);
  }
});

describe('a configured webhooks.body_limit', () => {
  it('holds webhooks to it while other routes keep server.body_limit', async () => {
    const { config, dir } = testConfig((c) => {
      c.webhooks.body_limit = 4096;
      c.sources = [
        {
          name: 'small',
          type: 'git',
          url: repo.url,
          path: null,
          branch: 'main',
          paths: ['**/component.yaml'],
          interval_ms: 0,
          webhook_secret_env: 'SMALL_HOOK_SECRET',
          token_env: null,
          ssh_key_path: null,
        },
      ];
    });
    const small = await buildApp(config, { env: { SMALL_HOOK_SECRET: SECRET } });
    try {
      const post = (body: string) =>
        small.server.inject({
          method: 'POST',
          url: '/v1/webhooks/small',
          payload: body,
          headers: github({ 'x-hub-signature-256': sign(body) }),
        });
      const fits = JSON.stringify({ ref: 'refs/heads/other', pad: 'x'.repeat(4000) });
      expect((await post(fits)).statusCode).toBe(202);
      const over = await post(JSON.stringify({ ref: 'refs/heads/other', pad: 'x'.repeat(4100) }));
      expect(over.statusCode).toBe(413);
      expect(over.json()).toMatchObject({ code: 'payload_too_large' });
      // A 10 KiB validation request is still under server.body_limit (1 MiB).
      const validate = await small.server.inject({
        method: 'POST',
        url: '/v1/validate',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-read-token' },
        payload: JSON.stringify({ name: 'x', description: 'y'.repeat(10_000) }),
      });
      expect(validate.statusCode).not.toBe(413);
    } finally {
      await small.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
