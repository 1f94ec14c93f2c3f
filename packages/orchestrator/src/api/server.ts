import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import { create, NestorError, PROBLEM_CONTENT_TYPE, statusOf, toProblem } from '@nestor/sdk';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyContextConfig,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { jsonPointerToPath } from '../catalog/decode.js';
import type { Scope } from '../config/api-tokens.js';
import type { Logger } from '../observability/logging/logger.js';
import { DeferredChildLogger } from '../observability/logging/request-logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import type { CatalogRevision } from '../storage/cache/interfaces.js';
import { authorizationHeader, type Principal, type TokenAuthenticator } from './middleware/auth.js';
import { type RateLimitOptions, rateLimitHook } from './middleware/rate-limit.js';
import { documentRoute, ProblemSchema, TAGS } from './openapi.js';
import {
  clientErrorHandler,
  clientRequestId,
  compileParamsConversion,
  convertParams,
  decodeJsonBody,
  RouteMethods,
} from './request-decoding.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a route needs; routes without one are public (health, metrics). */
    scope?: Scope;
    /** Set on streaming routes that must not get the revision header or be compressed. */
    stream?: boolean;
    /**
     * Set on routes that answer a refused body at once and discard the rest themselves (webhooks):
     * the error handler must not wait for a body their caller may never send.
     */
    discardsRefusedBody?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Catalog revision read before the handler ran (so list-then-watch never misses a change). */
    catalogRevision: number | null;
    /**
     * The matched route's config (`url`, `method`, `scope`, `stream`), read once in `onRequest`:
     * Fastify builds a new `routeOptions` object on every access. Use `routeConfigOf(req)`.
     */
    routeConfig: (FastifyContextConfig & { url?: string }) | null;
    /** Answers the request 503 once `requestTimeoutMs` have passed without an answer. */
    handlerTimer: NodeJS.Timeout | null;
  }
}

/** The header that carries the catalog revision on every `/v1` answer but the event stream. */
export const REVISION_HEADER = 'x-catalog-revision';

export interface ServerOptions {
  logger: Logger;
  metrics: Metrics;
  auth: TokenAuthenticator;
  bodyLimit: number;
  trustProxy: boolean;
  /** The catalog revision, sent as `X-Catalog-Revision` on `/v1` responses. */
  revision: CatalogRevision;
  version: string;
  /** A handler still running after this many ms is answered 503 (hijacked replies, i.e. streams, are exempt). */
  requestTimeoutMs: number;
  /** Sent on every answer, errors and 404s included (see `securityHeaders()`). */
  securityHeaders: Readonly<Record<string, string>>;
  /** Per token, or per IP for anonymous callers; the operations probes are exempt. */
  rateLimit: Omit<RateLimitOptions, 'exempt'>;
  /** Runs first on the new instance, so its hooks see every request (tracing). */
  instrument?: (app: FastifyInstance) => void;
}

/**
 * The Fastify instance with everything routes share: JSON decoding that rejects bad bytes, auth by
 * route scope, request ids, the revision header, request metrics and the one error handler that
 * turns every error into `application/problem+json`.
 */
export async function createServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    // A client that promises more body than it sends is cut off instead of holding a socket for minutes.
    requestTimeout: 30_000,
    trustProxy: opts.trustProxy,
    // A caller's X-Request-Id is kept only when it looks like an id: it is echoed, logged and put
    // in problem bodies, so a 10 KB or odd value gets a fresh UUID instead.
    requestIdHeader: false,
    genReqId: (req) => clientRequestId(req.headers['x-request-id']) ?? randomUUID(),
    // Request logging is ours (one line per failed request, metrics for the rest).
    logController: new Fastify.LogController({ disableRequestLogging: true }),
    // The request's pino child is made when a line is first written, not for every request.
    childLoggerFactory: DeferredChildLogger.factory,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 300 },
    clientErrorHandler,
    // Undecodable URLs and over-long path parameters are answered before routing; they get the
    // same problem body as everything else.
    frameworkErrors: (err, req, reply) => {
      reply.headers(opts.securityHeaders);
      reply.header('x-request-id', req.id);
      const problem = toProblem(
        create('invalid_request').component('api').operation('Route').message(frameworkMessage(err)).build(),
        req.id,
      );
      (reply as FastifyReply).status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
    },
  });
  opts.instrument?.(app);
  app.decorateRequest('principal', null);
  app.decorateRequest('catalogRevision', null);
  app.decorateRequest('routeConfig', null);
  app.decorateRequest('handlerTimer', null);

  // Bodies are decoded by handlers (no coercion, named unknown fields); params and query strings
  // are coerced from strings by TypeBox and then checked.
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') return (data: unknown) => ({ value: data });
    const check = TypeCompiler.Compile(schema as TSchema);
    // Path parameters are strings already: when the schema asks for nothing but strings without
    // defaults, TypeBox's clone, default and convert passes would give back what they were given.
    const asIs = httpPart === 'params' && onlyStrings(schema as TSchema);
    const convert = asIs
      ? null
      : (compileParamsConversion(schema as TSchema) ?? ((data: unknown) => convertParams(schema as TSchema, data)));
    return (data: unknown) => {
      const value = convert === null ? data : convert(data);
      if (check.Check(value)) return { value };
      const first = check.Errors(value).First();
      const field = first ? jsonPointerToPath(first.path) : '';
      return {
        error: create('invalid_request')
          .component('api')
          .operation('DecodeRequest')
          .message(
            `invalid ${httpPart === 'params' ? 'path parameter' : 'query parameter'} "${field}": ${first?.message.toLowerCase() ?? 'malformed'}`,
          )
          .detail('field', field)
          .build(),
      };
    };
  });

  // Response schemas are documentation (api/openapi.ts): bodies go out as JSON.stringify makes
  // them, so a schema that leaves a field out can never drop it from what clients receive, and the
  // problem responses may point at the document's shared `Problem` component.
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'buffer' },
    (req, body, done) => {
      try {
        done(null, decodeJsonBody(body as Buffer, req.headers));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  // Any other media type is a 415 (webhooks keep raw bytes through their own parser).

  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.method, route.url));

  const duration = opts.metrics.histogram(
    'nestor_http_request_duration_seconds',
    'HTTP request duration by route, method and status',
    ['route', 'method', 'status'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );

  const limit = await rateLimitHook(app, { ...opts.rateLimit, exempt: RATE_LIMIT_EXEMPT });

  // Callback hooks rather than async ones: these run on every request, and a warm read should not
  // pay for promises it does not need.
  app.addHook('onRequest', (req, reply, done) => {
    // A handler stuck on a backend answers 503 instead of holding the caller. Our own timer rather
    // than Fastify's `handlerTimeout`, which makes an AbortController per request and aborts it
    // (a DOMException with its stack, about 18 µs) when a request body has been read, dropping
    // the timer with it: requests with a body were never timed out. Unref'd, so a request whose
    // caller went away never holds up shutdown; when it fires for one, it does nothing.
    req.handlerTimer = setTimeout(expire, opts.requestTimeoutMs, req, reply).unref();
    reply.headers(opts.securityHeaders);
    reply.header('x-request-id', req.id);
    const principal = opts.auth.authenticate(authorizationHeader(req.raw.rawHeaders));
    if (principal instanceof Promise) {
      // A stored token: looked up in the token store (a store failure answers 503).
      principal.then((p) => admitPrincipal(req, reply, p, done), done);
      return;
    }
    admitPrincipal(req, reply, principal, done);
  });

  const admitPrincipal = (
    req: FastifyRequest,
    reply: FastifyReply,
    principal: Principal | null | NestorError,
    done: (err?: Error) => void,
  ): void => {
    if (NestorError.is(principal)) {
      // A bad token is counted against the caller's address before it is refused, so that guessing
      // tokens is rate limited too.
      if (limit === null) done(principal);
      else limit.call(app, req, reply).then(() => done(principal), done);
      return;
    }
    req.principal = principal;
    if (limit === null) admit(req, done);
    else limit.call(app, req, reply).then(() => admit(req, done), done);
  };

  /** Scope check and revision read, once the caller is known and within its rate. */
  const admit = (req: FastifyRequest, done: (err?: Error) => void): void => {
    const config = routeConfigOf(req);
    const principal = req.principal;
    const scope = config.scope;
    const denied = scope ? opts.auth.authorize(principal, scope) : null;
    if (denied) {
      done(denied);
      return;
    }
    if (!req.url.startsWith('/v1') || config.stream) {
      done();
      return;
    }
    // Inline rather than through withRevision: a warm read should not allocate a callback for a
    // revision held in memory.
    let revision: number | Promise<number>;
    try {
      revision = opts.revision.current();
    } catch (err) {
      done(err as Error);
      return;
    }
    if (typeof revision === 'number') {
      req.catalogRevision = revision;
      done();
      return;
    }
    revision.then((r) => {
      req.catalogRevision = r;
      done();
    }, done);
  };

  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.url.startsWith('/v1') || routeConfigOf(req).stream || reply.hasHeader(REVISION_HEADER)) {
      done(null, payload);
      return;
    }
    if (req.catalogRevision !== null) {
      reply.header(REVISION_HEADER, String(req.catalogRevision));
      done(null, payload);
      return;
    }
    // Reached when onRequest did not get the revision (auth failed, or the read itself failed): the
    // answer goes out either way, with the header when the revision can be read now.
    withRevision(opts.revision, (err, revision) => {
      if (err === null) reply.header(REVISION_HEADER, String(revision));
      done(null, payload);
    });
  });

  app.addHook('onResponse', (req, reply, done) => {
    clearTimeout(req.handlerTimer ?? undefined);
    const route = routeConfigOf(req).url ?? 'unmatched';
    duration.observe({ route, method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500)
      req.log.warn({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
    done();
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      throw create('method_not_allowed')
        .component('api')
        .operation('Route')
        .message(`${req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`)
        .build();
    }
    throw create('route_not_found')
      .component('api')
      .operation('Route')
      .message(`no route for ${req.method} ${req.url.split('?')[0]}`)
      .build();
  });

  app.setErrorHandler((err, req, reply) => {
    let error = toNestorError(err, req);
    if (statusOf(error.code) >= 500) {
      // The log line keeps everything (request id included, via the request logger); the body
      // keeps only the code and the request id, never a backend message, ARN, path or stack.
      req.log.error(
        { err: NestorError.is(err) && err.cause ? err.cause : err, code: error.code, detail: error.message },
        'request error',
      );
      error = publicServerError(error, req.id);
    }
    const problem = toProblem(error, req.id);
    const body = JSON.stringify(problem);
    if (error.code === 'payload_too_large' && !req.raw.readableEnded && !routeConfigOf(req).discardsRefusedBody) {
      answerAfterDrain(req, reply, problem.status, body, Math.max(4 * opts.bodyLimit, MIN_DRAIN_BYTES));
      return;
    }
    reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nestor Orchestrator API',
        version: opts.version,
        description:
          'Global catalog of versioned infrastructure components. Errors are RFC 9457 problems with a stable `code`.',
      },
      servers: [{ url: '/', description: 'The orchestrator serving this document' }],
      tags: TAGS,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Problem: ProblemSchema },
      },
    },
    transform: ({ schema, url, route }) => ({
      schema: documentRoute(schema as Record<string, unknown>, route, { rateLimitExempt: RATE_LIMIT_EXEMPT }),
      url,
    }),
  });
  return app;
}

/** Probes and scrapes are never rate limited: an orchestrator must not be restarted for being busy. */
const RATE_LIMIT_EXEMPT: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Smallest bound on the bytes read and discarded after a body was refused as too large. */
const MIN_DRAIN_BYTES = 16 * 1024 * 1024;
/** Longest wait for the rest of a refused body before answering anyway. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Answers a 413 once the rest of the refused body has been read and discarded, up to `maxBytes`.
 * Answering at once and closing (what Fastify does) resets the socket while the client is still
 * writing, and clients such as Node's own `http` then report EPIPE instead of the 413. Past the
 * bound, or after DRAIN_TIMEOUT_MS, the answer goes out anyway; the connection closes either way,
 * so the server never reads a refused body for longer than that.
 */
function answerAfterDrain(req: FastifyRequest, reply: FastifyReply, status: number, body: string, maxBytes: number) {
  const raw = req.raw;
  let drained = 0;
  let answered = false;
  const answer = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    raw.removeListener('data', onData);
    raw.removeListener('end', answer);
    raw.removeListener('error', answer);
    reply.header('connection', 'close').status(status).type(PROBLEM_CONTENT_TYPE).send(body);
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) answer();
  };
  const timer = setTimeout(answer, DRAIN_TIMEOUT_MS);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    answer();
    return;
  }
  raw.on('data', onData);
  raw.once('end', answer);
  raw.once('error', answer);
  raw.resume();
}

/** Public text for each 5xx code: what happened on our side, and where the operator should look. */
function publicServerError(error: NestorError, requestId: string): NestorError {
  // Messages the API layer writes itself (handler timeout, shutting down) hold no backend detail.
  if (error.component === 'api' && error.code !== 'internal_error') return error;
  const what: Record<string, string> = {
    storage_failure: 'the catalog store failed',
    git_failure: 'a git operation failed',
    service_unavailable: 'a service the request needs is unavailable',
    timeout: 'a backend did not answer in time',
  };
  const b = create(error.code).message(
    `${what[error.code] ?? 'internal error'}; the server log has the details under request id ${requestId}`,
  );
  if (error.component) b.component(error.component);
  if (error.operation) b.operation(error.operation);
  return b.build();
}

/** Whether an object schema's properties are all strings with no default. */
function onlyStrings(schema: TSchema): boolean {
  const properties = (schema as { type?: unknown; properties?: Record<string, TSchema> }).properties;
  if (schema['type'] !== 'object' || properties === undefined) return false;
  return Object.values(properties).every((p) => p['type'] === 'string' && !('default' in p));
}

/** A route option's hooks as an array (Fastify takes one function or several). */
export function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * A request still unanswered when its timer fires is answered 503 through the error handler.
 * Replies already sent, hijacked (the event stream, response-cache hits) or whose caller has gone
 * are left alone; an answer already under way is cut off, as nothing else can end it.
 */
function expire(req: FastifyRequest, reply: FastifyReply): void {
  if (reply.sent || reply.raw.destroyed) return;
  const err = create('service_unavailable')
    .component('api')
    .operation(`${req.method} ${req.routeOptions.url ?? req.url}`)
    .message('the request did not complete in time (server.request_timeout); retry later')
    .build();
  if (reply.raw.headersSent) {
    reply.raw.destroy(err);
    return;
  }
  reply.send(err);
}

/** The matched route's config, read from Fastify once per request. */
export function routeConfigOf(req: FastifyRequest): FastifyContextConfig & { url?: string } {
  if (req.routeConfig === null) req.routeConfig = req.routeOptions.config ?? {};
  return req.routeConfig;
}

/** Calls back with the revision at once when it is held in memory, after the read otherwise. */
function withRevision(revision: CatalogRevision, callback: (err: Error | null, revision: number) => void): void {
  let value: number | Promise<number>;
  try {
    value = revision.current();
  } catch (err) {
    callback(err as Error, 0);
    return;
  }
  if (typeof value === 'number') callback(null, value);
  else
    value.then(
      (v) => callback(null, v),
      (err: unknown) => callback(err as Error, 0),
    );
}

function frameworkMessage(err: { code?: string }): string {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return 'a path parameter is longer than 300 characters';
  if (err.code === 'FST_ERR_BAD_URL') return 'the URL is not valid: bad percent-encoding or non-UTF-8 bytes';
  return 'the request could not be routed';
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

/** Maps Fastify's own errors (body too large, bad content type, ...) onto stable codes. */
function toNestorError(err: unknown, req: FastifyRequest): NestorError {
  if (NestorError.is(err)) return err;
  const e = (err ?? {}) as FastifyLikeError;
  const status = e.statusCode ?? 500;
  const b = (code: Parameters<typeof create>[0], message: string) =>
    create(code)
      .component('api')
      .operation(`${req.method} ${req.routeOptions.url ?? req.url}`)
      .message(message)
      .build();
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413)
    return b('payload_too_large', 'request body is too large');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
    return b(
      'unsupported_media_type',
      `unsupported content type ${req.headers['content-type'] ?? '(none)'}; send application/json`,
    );
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return b('invalid_request', e.message ?? 'malformed request body');
  }
  if (status === 405) return b('method_not_allowed', e.message ?? 'method not allowed');
  if (status >= 400 && status < 500) return b('invalid_request', e.message ?? 'bad request');
  return new NestorError('internal_error', 'internal error', { cause: err });
}
