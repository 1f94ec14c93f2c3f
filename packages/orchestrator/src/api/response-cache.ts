import type {
  FastifyContextConfig,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onSendHookHandler,
} from 'fastify';
import { LRUCache } from 'lru-cache';
import type { CatalogRevision } from '../storage/cache/interfaces.js';
import { notModified } from './conditional-get.js';
import { hookList, REVISION_HEADER } from './server.js';

export interface ResponseCacheOptions {
  /** Upper bound in approximate bytes of cached bodies and headers; 0 turns the cache off. */
  maxBytes: number;
  /** How long a representation may be served (the store cache's TTL, so neither outlives the other). */
  ttlMs: number;
  /**
   * The revision the answers are stamped with; its generation moves whenever the data behind a read
   * may have changed without the revision moving yet (writes by other processes reach the store
   * cache through the log).
   */
  revision: CatalogRevision;
}

interface Representation {
  /** The revision and generation the read that made it ran at: a hit must be at both. */
  revision: number;
  generation: number;
  headers: Record<string, string>;
  etag: string | null;
  /** Bytes rather than a string: a hit then costs no UTF-8 encoding and no length scan. */
  body: Buffer;
}

/** Headers a hit writes itself from the exchange, whatever the representation held. */
const WRITTEN_BY_HIT = new Set([REVISION_HEADER, 'content-length']);
const PREFIX = '/v1/components';
/** How many query URLs asked once are remembered for admission. */
const ASKED_URLS = 10_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** Key (the URL) the answer to this request may be cached under; null when it is not cacheable. */
    responseCacheKey: string | null;
    /** The store cache's generation when this request missed, which its answer is cached at. */
    responseCacheGeneration: number;
    /**
     * Headers the reply held before the handler ran (request id, security headers, trace id):
     * they belong to the exchange, and a hit gets its own from the same hooks.
     */
    responseCacheExchangeHeaders: ReadonlySet<string> | null;
  }
}

/**
 * Serialized answers of component reads, by URL (query included), each stamped with the catalog
 * revision and the store cache's generation it was read at; a hit must be at both. Every write moves
 * the revision and every invalidation moves the generation, so an entry is only served while the
 * read that made it would give the same bytes. The URL alone is the key (a lookup builds no key
 * string), and a newer read replaces an older one's entry.
 * A list or search page (a URL with a query) is kept from its second asking within the last
 * 10 000 such URLs; an exact or latest read from its first.
 * A hit is answered from `onRequest`, after auth and the revision read, so decoding, the handler,
 * serialization and the onSend hooks never run; `If-None-Match` is honoured as the handler would.
 *
 * Register after `createServer` and before the routes: the hooks are added to the routes it serves.
 */
export function registerResponseCache(app: FastifyInstance, opts: ResponseCacheOptions): void {
  if (opts.maxBytes <= 0) return;
  const cache = new LRUCache<string, Representation>({
    maxSize: opts.maxBytes,
    ttl: opts.ttlMs > 0 ? opts.ttlMs : 300_000,
  });
  /** Query URLs asked once and not kept yet (the admission of `lookUp`). */
  const asked = new LRUCache<string, true>({ max: ASKED_URLS });
  app.decorateRequest('responseCacheKey', null);
  app.decorateRequest('responseCacheExchangeHeaders', null);
  app.decorateRequest('responseCacheGeneration', 0);

  const lookUp: onRequestHookHandler = (req, reply, done) => {
    if (req.method !== 'GET' || req.catalogRevision === null || !req.url.startsWith(PREFIX)) {
      done();
      return;
    }
    const generation = opts.revision.generation();
    const hit = cache.get(req.url);
    if (hit === undefined || hit.revision !== req.catalogRevision || hit.generation !== generation) {
      // A list or search page is kept from its second asking: most distinct queries are asked
      // once, and keeping each would hold tens of KB of garbage-to-be per request.
      if (hit === undefined && req.url.includes('?') && !asked.has(req.url)) {
        asked.set(req.url, true);
        done();
        return;
      }
      req.responseCacheKey = req.url;
      req.responseCacheGeneration = generation;
      req.responseCacheExchangeHeaders = new Set(Object.keys(reply.getHeaders()));
      done();
      return;
    }
    answer(req, reply, hit);
  };

  const keep: onSendHookHandler = (req, reply, payload, done) => {
    const key = req.responseCacheKey;
    // The generation is read again: an invalidation while the handler ran may have let it read
    // data the revision does not describe yet, and such an answer must not outlive this request.
    const revision = req.catalogRevision;
    const generation = req.responseCacheGeneration;
    if (
      key !== null &&
      revision !== null &&
      reply.statusCode === 200 &&
      (typeof payload === 'string' || Buffer.isBuffer(payload)) &&
      opts.revision.generation() === generation
    ) {
      const exchange = req.responseCacheExchangeHeaders;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (typeof value === 'string' && !WRITTEN_BY_HIT.has(name) && !exchange?.has(name)) headers[name] = value;
      }
      const etag = headers['etag'] ?? null;
      const body = ownBytes(payload);
      const size = body.length + 2 * key.length + 256;
      if (size <= opts.maxBytes) cache.set(key, { revision, generation, headers, etag, body }, { size });
      // A string is encoded once, into the bytes kept and sent; a buffer is sent as it came.
      done(null, typeof payload === 'string' ? body : payload);
      return;
    }
    done(null, payload);
  };

  // Decided once per route rather than on every request: only the component reads get the two
  // hooks (route hooks run after the server's own, so auth and the revision read come first), and
  // every other route, writes included, runs neither.
  app.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig | undefined;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('GET') || config?.scope !== 'read' || config.stream || !route.url.startsWith(PREFIX)) return;
    route.onRequest = [...hookList(route.onRequest), lookUp];
    route.onSend = [...hookList(route.onSend), keep];
  });
}

/**
 * An answer's bytes in memory of their own, sized to them: a string encoded once into it; a buffer as
 * it is, or copied when it is a view into larger memory. A list or search page is written into a
 * reused buffer of at least 64 KiB (`PageBuffers`), and a small encoding lands in Node's shared
 * pool: an entry holding such a view would hold all of that memory while the cache counted only the
 * answer (a 3 KiB page pinned 64 KiB, so the budget could be overrun twentyfold), and would keep the
 * page's memory from being reused. Made once, when an answer is admitted; a hit sends it as it is.
 */
export function ownBytes(body: string | Buffer): Buffer {
  if (typeof body === 'string') {
    const own = Buffer.allocUnsafeSlow(Buffer.byteLength(body, 'utf8'));
    own.write(body, 0, 'utf8');
    return own;
  }
  if (body.byteOffset === 0 && body.buffer.byteLength === body.length) return body;
  const own = Buffer.allocUnsafeSlow(body.length);
  body.copy(own);
  return own;
}

/**
 * Writes a hit straight to the socket: it needs nothing of `reply.send` (serializers, onSend hooks,
 * payload checks), and skipping that is most of what a hit would otherwise cost beyond the write.
 * `onResponse` hooks still run (metrics, tracing), and headers earlier hooks set are kept.
 */
function answer(req: FastifyRequest, reply: FastifyReply, hit: Representation): void {
  const headers: Record<string, string | number | string[] | undefined> = reply.getHeaders();
  headers[REVISION_HEADER] = String(req.catalogRevision);
  reply.hijack();
  if (hit.etag !== null && notModified(req.headers['if-none-match'], hit.etag)) {
    for (const [name, value] of Object.entries(hit.headers)) if (name !== 'content-type') headers[name] = value;
    reply.raw.writeHead(304, headers);
    reply.raw.end();
    return;
  }
  Object.assign(headers, hit.headers);
  headers['content-length'] = hit.body.length;
  reply.raw.writeHead(200, headers);
  reply.raw.end(hit.body);
}
