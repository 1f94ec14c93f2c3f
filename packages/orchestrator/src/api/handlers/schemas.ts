import { componentJsonSchema } from '@nestor/sdk';
import type { FastifyInstance } from 'fastify';
import { openObject } from '../openapi.js';

/** `GET /v1/schemas/component.json`: the JSON Schema editors use to check `component.yaml`. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  // Built once: it depends only on the code, and every editor start asks for it.
  const body = JSON.stringify(componentJsonSchema());
  app.get(
    '/v1/schemas/component.json',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['schemas'],
        operationId: 'getComponentJsonSchema',
        summary: 'JSON Schema (draft 2020-12) of component.yaml',
        response: {
          200: {
            description: 'The JSON Schema',
            content: { 'application/schema+json': { schema: openObject('A JSON Schema document') } },
          },
        },
      },
    },
    async (_req, reply) => {
      reply.type('application/schema+json; charset=utf-8');
      reply.header('cache-control', 'public, max-age=3600');
      return body;
    },
  );
}
