import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_CSP } from '../packages/orchestrator/src/api/web.js';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { createLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { testConfig } from './helpers.js';

// How the orchestrator serves the catalog browser's build (design 10.8), on a hand-made build.

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

async function appWith(webDir: string): Promise<{ app: App; logs: string[]; cleanup: () => Promise<void> }> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const { config, dir } = testConfig();
  const app = await buildApp(config, { webDir, logger: createLogger({ level: 'info' }, sink) });
  return {
    app,
    logs,
    cleanup: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('a built catalog browser', () => {
  let web: string;
  let served: Awaited<ReturnType<typeof appWith>>;
  beforeAll(async () => {
    web = mkdtempSync(join(tmpdir(), 'nestor-web-serving-'));
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), INDEX);
    writeFileSync(join(web, 'assets', 'index-AbC123.js'), SCRIPT);
    served = await appWith(web);
  });
  afterAll(async () => {
    await served.cleanup();
    rmSync(web, { recursive: true, force: true });
  });

  it.each([
    '/',
    '/engines',
    '/sources',
    '/activity',
    '/components/aws-vpc',
    '/components/aws-vpc/versions/1.2.0',
    '/?q=postgres&provider=aws',
  ])('answers the client route %s with index.html, never cached, under the page CSP', async (url) => {
    const res = await served.app.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(WEB_CSP);
    expect(res.body).toBe(INDEX);
  });

  it('serves hashed assets immutable for a year, compressed when asked, and revalidates with an ETag', async () => {
    const res = await served.app.server.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.body).toBe(SCRIPT);
    const br = await served.app.server.inject({
      method: 'GET',
      url: '/assets/index-AbC123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(SCRIPT);
    const refused = await served.app.server.inject({
      method: 'GET',
      url: '/assets/index-AbC123.js',
      headers: { 'accept-encoding': 'br;q=0, gzip' },
    });
    expect(refused.headers['content-encoding']).toBe('gzip');
    const again = await served.app.server.inject({
      method: 'GET',
      url: '/assets/index-AbC123.js',
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers an unknown asset with a 404 problem, not index.html', async () => {
    const res = await served.app.server.inject({ method: 'GET', url: '/assets/index-Missing.js' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'route_not_found' });
  });

  it('leaves the API and other paths alone', async () => {
    const api = await served.app.server.inject({ method: 'GET', url: '/v1/components' });
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(api.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect((await served.app.server.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
    for (const url of ['/nope', '/components', '/components/a/b', '/v1/nope', '/index.html']) {
      const res = await served.app.server.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ code: 'route_not_found' });
    }
  });

  it('keeps the catalog browser out of the OpenAPI document', async () => {
    const doc = (await served.app.server.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1') && p.includes('components'))).toEqual([]);
    expect(doc.paths['/']).toBeUndefined();
    expect(doc.paths['/assets/{*}']).toBeUndefined();
  });
});

describe('without a web build', () => {
  it('logs why the page is not served and answers / with the usual 404 problem', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nestor-web-missing-'));
    const served = await appWith(empty);
    try {
      expect(served.logs.join('')).toMatch(/catalog browser not served: no web build.*npm run build/);
      const res = await served.app.server.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'route_not_found' });
    } finally {
      await served.cleanup();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
