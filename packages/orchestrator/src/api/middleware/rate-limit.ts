import rateLimit from '@fastify/rate-limit';
import { create } from '@nestor/sdk';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { Redis } from 'ioredis';

export interface RateLimitOptions {
  /** Requests per caller in one window; 0 turns rate limiting off. */
  max: number;
  windowMs: number;
  /** Counters shared by every replica when set; otherwise each process counts alone. */
  redis: Redis | null;
  /** Key prefix in Redis, so that several deployments can share one server. */
  prefix: string;
  /** Route URLs (as registered) that are never limited: probes and scrapes must not be refused. */
  exempt: ReadonlySet<string>;
}

/**
 * Registers @fastify/rate-limit and returns its check as an `onRequest` hook, or null when the
 * limit is off. The caller places the hook: after authentication (a token's requests count against
 * the token, anonymous ones and failed logins against the IP) and before the response cache, whose
 * hits would otherwise never be counted. The plugin's own per-route hooks run after every global
 * hook, too late for either, so it is registered with `global: false`.
 */
export async function rateLimitHook(
  app: FastifyInstance,
  opts: RateLimitOptions,
): Promise<onRequestAsyncHookHandler | null> {
  if (opts.max <= 0) return null;
  await app.register(rateLimit, {
    global: false,
    max: opts.max,
    timeWindow: opts.windowMs,
    ...(opts.redis ? { redis: opts.redis, nameSpace: `${opts.prefix}rate:` } : {}),
    // Redis being down must not turn every request into a 500: requests pass uncounted until it
    // is back (the store cache and change feed degrade the same way).
    skipOnError: true,
    keyGenerator: (req) => (req.principal ? `token:${req.principal.name}` : `ip:${req.ip}`),
    allowList: (req) => opts.exempt.has(req.routeOptions.url ?? ''),
    // Only a refusal carries headers: the counters are a caller's business only once they bite.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (req, ctx) =>
      create('rate_limited')
        .component('api')
        .operation('RateLimit')
        .message(
          `more than ${ctx.max} requests in ${Math.round(opts.windowMs / 1000)} s from this ${req.principal ? 'token' : 'address'}; retry in ${ctx.after}`,
        )
        .detail('limit', ctx.max)
        .detail('window_seconds', Math.round(opts.windowMs / 1000))
        .detail('retry_after_seconds', Math.ceil(ctx.ttl / 1000))
        .build(),
  });
  return app.rateLimit() as onRequestAsyncHookHandler;
}
