import { NestorError } from '@nestor/sdk';
import type { FastifyInstance } from 'fastify';
import { withTimeout } from '../../timeout.js';
import { openObject } from '../openapi.js';

/** A named readiness check; throws (a NestorError, ideally) when the dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** A degraded check is reported but does not fail readiness (e.g. an optional shared cache). */
  optional?: boolean;
}

/** `/healthz` (the process is alive) and `/readyz` (its dependencies answer). */
export function registerHealthRoutes(app: FastifyInstance, deps: { checks: ReadinessCheck[] }): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getLiveness',
        summary: 'Liveness',
        response: { 200: openObject('`{ status: "ok" }`') },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Readiness (store and dependencies)',
        response: {
          200: openObject('`{ status: "ready", checks }`'),
          503: openObject('`{ status: "not_ready", checks }`: a required dependency failed'),
        },
      },
    },
    async (req, reply) => {
      const results: Record<string, { status: 'ok' | 'degraded' | 'failed'; message?: string }> = {};
      let ready = true;
      await Promise.all(
        deps.checks.map(async (c) => {
          try {
            await withTimeout(c.check(), 2000, {
              component: 'readiness',
              operation: c.name,
              message: `${c.name} did not answer within 2000 ms`,
            });
            results[c.name] = { status: 'ok' };
          } catch (err) {
            // The answer is public: a backend's own message (paths, hosts, ARNs) stays in the log.
            req.log.warn({ err, check: c.name }, 'readiness check failed');
            const message =
              NestorError.is(err) && err.component === 'readiness'
                ? err.message
                : `${c.name} check failed (${NestorError.is(err) ? err.code : 'internal_error'}); the server log has the details`;
            results[c.name] = { status: c.optional ? 'degraded' : 'failed', message };
            if (!c.optional) ready = false;
          }
        }),
      );
      reply.status(ready ? 200 : 503);
      return { status: ready ? 'ready' : 'not_ready', checks: results };
    },
  );
}
