import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import { create } from '@nestor/sdk';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/logging/logger.js';
import { notModified } from './conditional-get.js';

/** Where `npm run build` puts the catalog browser (packages/web/dist), from src/api or dist/api alike. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The catalog browser's policy: everything from this origin only — scripts, styles, the API and
 * its event stream — nothing inline, no third-party host, no framing, no plugins. (`data:` images
 * cover the empty favicon of index.html.)
 */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Client routes of design 10.8: each loads index.html directly, so links can be shared. */
const CLIENT_ROUTES = [
  '/',
  '/engines',
  '/sources',
  '/activity',
  '/components/:name',
  '/components/:name/versions/:version',
];

const IMMUTABLE = 'public, max-age=31536000, immutable';
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
/** Text worth compressing; each variant is made once, on the first request that accepts it. */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.txt']);

interface Asset {
  body: Buffer;
  compressible: boolean;
  /** Compressed variants, made on first use (start-up of every test server stays cheap). */
  br?: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
}

/** The built files, read into memory once: index.html and everything under `assets/`. */
interface WebBundle {
  index: Asset;
  /** By path under `/assets/` (e.g. `index-DO7Mjgub.js`). */
  assets: Map<string, Asset>;
}

/** Reads a built catalog browser, or returns null when `dir` holds no `index.html`. */
function loadWebBundle(dir: string): WebBundle | null {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return null;
  const assets = new Map<string, Asset>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const file of walk(assetsDir)) {
      const path = relative(assetsDir, file).split(sep).join('/');
      assets.set(path, asset(readFileSync(file), extname(file)));
    }
  }
  return { index: asset(readFileSync(indexPath), '.html'), assets };
}

function asset(body: Buffer, ext: string): Asset {
  return {
    body,
    compressible: COMPRESSIBLE.has(ext) && body.length > 512,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

function brotliOf(a: Asset): Buffer {
  a.br ??= brotliCompressSync(a.body, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: a.body.length },
  });
  return a.br;
}

function gzipOf(a: Asset): Buffer {
  a.gzip ??= gzipSync(a.body, { level: 9 });
  return a.gzip;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else yield full;
  }
}

export interface WebRouteDeps {
  /** The built catalog browser (default {@link DEFAULT_WEB_DIR}). */
  dir: string;
  logger: Logger;
}

/**
 * Serves the catalog browser (design 10.8): its client routes answer index.html (`no-cache`, so a
 * new build is picked up at once), `/assets/*` the hashed files (cached for a year, immutable), an
 * unknown asset a 404 problem; every other path (`/v1`, `/healthz`, ...) is untouched. The files are
 * read at start-up (and compressed once, when first asked for); without a build the routes are not
 * registered and a log line says why.
 */
export function registerWebRoutes(app: FastifyInstance, { dir, logger }: WebRouteDeps): boolean {
  const bundle = loadWebBundle(dir);
  if (!bundle) {
    // Info, not a warning: an API-only server (built with `tsc -b` alone) is a valid deployment.
    logger.info(
      { dir },
      'catalog browser not served: no web build (index.html missing); run `npm run build` to build packages/web',
    );
    return false;
  }
  logger.info({ dir, assets: bundle.assets.size }, 'catalog browser served at /');
  const schema = { hide: true };

  const sendIndex = (req: FastifyRequest, reply: FastifyReply) => send(req, reply, bundle.index, 'no-cache');
  for (const url of CLIENT_ROUTES) app.get(url, { schema }, sendIndex);

  app.get('/assets/*', { schema }, (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const found = bundle.assets.get(path);
    if (!found) {
      throw create('route_not_found')
        .component('web')
        .operation('GetAsset')
        .message(`no asset ${path.slice(0, 200)} in the catalog browser's build`)
        .build();
    }
    return send(req, reply, found, IMMUTABLE);
  });
  return true;
}

function send(req: FastifyRequest, reply: FastifyReply, a: Asset, cacheControl: string): FastifyReply {
  reply.header('content-security-policy', WEB_CSP);
  reply.header('cache-control', cacheControl);
  reply.header('etag', a.etag);
  reply.header('vary', 'accept-encoding');
  if (notModified(req.headers['if-none-match'], a.etag)) return reply.status(304).send();
  reply.type(a.type);
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  if (a.compressible && accepted.has('br')) return reply.header('content-encoding', 'br').send(brotliOf(a));
  if (a.compressible && accepted.has('gzip')) return reply.header('content-encoding', 'gzip').send(gzipOf(a));
  return reply.send(a.body);
}

/** Codings the client accepts (a `q=0` refuses one). */
function acceptedEncodings(header: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (!coding) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    out.add(coding);
  }
  return out;
}
