import { create, NestorError } from '@nestor/sdk';
import type { FastifyInstance } from 'fastify';

/** A named readiness check; throws (a NestorError, ideally) when the dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** A degraded check is reported but does not fail readiness (e.g. an optional shared cache). */
  optional?: boolean;
}

/** `/healthz` (the process is alive) and `/readyz` (its dependencies answer). */
export function registerHealthRoutes(app: FastifyInstance, deps: { checks: ReadinessCheck[] }): void {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { tags: ['operations'], summary: 'Readiness (store and dependencies)' } },
    async (_req, reply) => {
      const results: Record<string, { status: 'ok' | 'degraded' | 'failed'; message?: string }> = {};
      let ready = true;
      await Promise.all(
        deps.checks.map(async (c) => {
          try {
            await withTimeout(c.check(), 2000, c.name);
            results[c.name] = { status: 'ok' };
          } catch (err) {
            const message = NestorError.is(err) ? err.message : 'check failed';
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

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          create('timeout')
            .component('readiness')
            .operation(name)
            .message(`${name} did not answer within ${ms} ms`)
            .build(),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
