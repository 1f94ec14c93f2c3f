import type { VersionInfo } from '@nestor/sdk';
import type { FastifyInstance } from 'fastify';
import { openObject } from '../openapi.js';

/** `/version`, `/metrics` and `/openapi.json`. */
export function registerOperationsRoutes(
  app: FastifyInstance,
  deps: { version: VersionInfo; renderMetrics: () => Promise<{ contentType: string; body: string }> },
): void {
  app.get(
    '/version',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getVersion',
        summary: 'Build information',
        response: { 200: openObject('Version, commit and build date') },
      },
    },
    async () => deps.version,
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } },
    async (_req, reply) => {
      const { contentType, body } = await deps.renderMetrics();
      reply.type(contentType);
      return body;
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
