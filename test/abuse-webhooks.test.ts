import { createHmac, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { componentYaml, TempRepo } from './git-helpers.js';
import { testConfig } from './helpers.js';
import { rawPost } from './webhook-client.js';

// Hostile webhooks against a real server on port 0 with real git sources: random headers, bodies,
// signatures and framings. Nothing may answer 5xx, crash, grow memory without bound, or sync.
const SECRET = 'abuse secret: not so secret';
const MiB = 1024 * 1024;
let app: App;
let guardedRepo: TempRepo;
let openRepo: TempRepo;
let dataDir: string;
let port: number;

const gitSource = (name: string, repo: TempRepo) => ({
  name,
  type: 'git' as const,
  url: repo.url,
  path: null,
  branch: 'main',
  paths: ['**/component.yaml'],
  interval_ms: 0,
  webhook_secret_env: 'ABUSE_HOOK_SECRET',
  token_env: null,
  ssh_key_path: null,
});

beforeAll(async () => {
  guardedRepo = new TempRepo();
  guardedRepo.write('base/component.yaml', componentYaml({ name: 'abuse-base' }));
  guardedRepo.commit('base');
  openRepo = new TempRepo();
  openRepo.write('open/component.yaml', componentYaml({ name: 'abuse-open' }));
  openRepo.commit('open');
  const { config, dir } = testConfig((c) => {
    c.sources = [gitSource('guarded', guardedRepo), gitSource('open', openRepo)];
  });
  dataDir = dir;
  app = await buildApp(config, { env: { ABUSE_HOOK_SECRET: SECRET } });
  await app.sources.sync('guarded');
  await app.sources.sync('open');
  // A commit only a sync would pick up: any sync of `guarded` creates abuse-pending.
  guardedRepo.write('pending/component.yaml', componentYaml({ name: 'abuse-pending' }));
  guardedRepo.commit('pending');
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app.close();
  guardedRepo.cleanup();
  openRepo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const hmacHex = (body: Buffer, secret: string) => createHmac('sha256', secret).update(body).digest('hex');
/** Header values a client can send (printable ASCII). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'not a type',
  '',
);
const pushJson = (ref: string, after: string) => JSON.stringify({ ref, before: '0'.repeat(40), after });
/** A body that prints as its length and first bytes in a counterexample, not as a megabyte of numbers. */
class Body {
  constructor(readonly bytes: Buffer) {}
  [fc.toStringMethod](): string {
    return `Body(${this.bytes.length} bytes: ${JSON.stringify(this.bytes.subarray(0, 80).toString('latin1'))})`;
  }
}
/** Bodies: random bytes, push payloads, form payloads, or (by size) one just over the 1 MiB limit. */
const body = fc
  .oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
    {
      weight: 3,
      arbitrary: fc
        .record({ ref: fc.oneof(fc.constant('refs/heads/main'), headerValue), after: hex64 })
        .map(({ ref, after }) => Buffer.from(pushJson(ref, after))),
    },
    {
      weight: 1,
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify(v))}`)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * MiB }).map((extra) => Buffer.alloc(MiB + extra, '{')) },
  )
  .map((b) => new Body(b));
const event = fc.constantFrom('push', 'ping', 'issues', 'Push Hook', 'Tag Push Hook', '', 'PUSH');

/** A signature that is wrong for (body, SECRET) in every way a caller could get it wrong. */
const badSignature = (b: Buffer) =>
  fc.oneof(
    headerValue,
    hex64,
    hex64.map((h) => `sha256=${h}`),
    fc.constant(`sha256=${hmacHex(b, `${SECRET}x`)}`),
    fc.constant(`sha256=${hmacHex(Buffer.concat([b, Buffer.from(' ')]), SECRET)}`),
    fc.constant(`sha1=${hmacHex(b, SECRET).slice(0, 40)}`),
    fc.constant(hmacHex(b, SECRET).toUpperCase().slice(1)),
  );
const badToken = fc.oneof(
  headerValue,
  fc.constant(`${SECRET}x`),
  fc.constant(` x${SECRET}`),
  fc.constant(SECRET.slice(0, -1)),
  fc.constant(''),
);

const badDelivery = body.chain((body) =>
  fc.record({
    body: fc.constant(body),
    source: fc.oneof(
      { weight: 5, arbitrary: fc.constant('guarded') },
      { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,70}$/) },
    ),
    headers: fc.record(
      {
        'content-type': contentType,
        'x-github-event': event,
        'x-github-delivery': headerValue,
        'x-hub-signature-256': badSignature(body.bytes),
        'x-gitea-event': event,
        'x-gitea-signature': badSignature(body.bytes).map((s) => s.replace(/^sha256=/, '')),
        'x-gitlab-event': event,
        'x-gitlab-token': badToken,
        'x-forgejo-event': event,
      },
      { requiredKeys: [] },
    ),
    chunked: fc.boolean(),
  }),
);

const ALLOWED = new Map<number, string[]>([
  [400, ['invalid_request']],
  [401, ['invalid_signature']],
  [404, ['source_not_found']],
  [413, ['payload_too_large']],
  [415, ['unsupported_media_type']],
]);

async function send(source: string, headers: Record<string, string | undefined>, b: Buffer, chunked: boolean) {
  const defined = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const outcome = await rawPost({
    port,
    path: `/v1/webhooks/${source}`,
    headers: defined,
    chunk: b,
    contentLength: chunked ? null : undefined,
    timeoutMs: 15_000,
  });
  if (outcome.kind !== 'answer') throw new Error(`client saw ${outcome.code} for ${JSON.stringify(defined)}`);
  return outcome;
}

function problemCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

describe('hostile webhooks', () => {
  it('never answers 2xx or 5xx to a bad signature, syncs nothing and stores nothing', async () => {
    const head = await app.store.headSequence();
    const status = await app.sources.status('guarded');
    const rssBefore = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(badDelivery, async ({ body, source, headers, chunked }) => {
        const res = await send(source, headers, body.bytes, chunked);
        const allowed = ALLOWED.get(res.status);
        expect(allowed, `status ${res.status}: ${res.body}`).toBeDefined();
        expect(allowed).toContain(problemCode(res.body));
      }),
      { numRuns: 200 },
    );
    // Give a wrongly requested sync time to show itself before looking.
    await new Promise((r) => setTimeout(r, 500));
    expect(await app.store.headSequence()).toBe(head);
    const after = await app.sources.status('guarded');
    expect(after.last_sync_at).toBe(status.last_sync_at);
    expect(after.last_commit).toBe(status.last_commit);
    const pending = await app.server.inject({ method: 'GET', url: '/v1/components/abuse-pending' });
    expect(pending.statusCode).toBe(404);
    expect((process.memoryUsage().rss - rssBefore) / MiB).toBeLessThan(150);
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 120_000);

  it('answers correctly signed deliveries of any shape with 200, 202 or a clear 4xx, never 5xx', async () => {
    const provider = fc.constantFrom('github', 'gitea', 'gitlab');
    const signed = fc.record({
      provider,
      body,
      event,
      type: contentType,
      chunked: fc.boolean(),
      delivery: fc.option(headerValue),
    });
    await fc.assert(
      fc.asyncProperty(signed, async ({ provider: p, body: wrapped, event: e, type, chunked, delivery }) => {
        const b = wrapped.bytes;
        const headers: Record<string, string | undefined> = { 'content-type': type };
        if (p === 'github') {
          Object.assign(headers, { 'x-github-event': e, 'x-hub-signature-256': `sha256=${hmacHex(b, SECRET)}` });
          headers['x-github-delivery'] = delivery ?? randomUUID();
        } else if (p === 'gitea') {
          Object.assign(headers, { 'x-gitea-event': e, 'x-gitea-signature': hmacHex(b, SECRET) });
          headers['x-gitea-delivery'] = delivery ?? randomUUID();
        } else {
          Object.assign(headers, { 'x-gitlab-event': e, 'x-gitlab-token': SECRET });
          headers['x-gitlab-event-uuid'] = delivery ?? randomUUID();
        }
        const res = await send('open', headers, b, chunked);
        expect(res.status, res.body).toBeLessThan(500);
        if (res.status >= 400) expect(ALLOWED.get(res.status), res.body).toContain(problemCode(res.body));
        else expect([200, 202]).toContain(res.status);
        // Over the limit it is 413, or 415 when the media type is refused first (before any body is read).
        if (b.length > MiB) expect([413, 415]).toContain(res.status);
      }),
      { numRuns: 150 },
    );
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 120_000);
});
