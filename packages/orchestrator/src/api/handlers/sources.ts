import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SourceManager } from '../../sources/manager.js';
import { field } from '../middleware/audit.js';
import { openObject } from '../openapi.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63, description: 'Source name' }) });

export interface SourceRouteDeps {
  sources: SourceManager;
}

/** Sync status of git and directory sources, and manual syncs (DESIGN.md section 8). */
export function registerSourceRoutes(app: FastifyInstance, { sources }: SourceRouteDeps): void {
  app.get(
    '/v1/sources',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['sources'],
        operationId: 'listSources',
        summary: 'Every source and its sync status',
        response: { 200: openObject('`{ items: [...] }`: each source with its sync status') },
      },
    },
    async () => ({ items: await sources.list() }),
  );

  app.get(
    '/v1/sources/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['sources'],
        operationId: 'getSource',
        summary: 'One source: last commit, counts, per-file errors',
        params: NameParams,
        response: { 200: openObject('The source with its last sync') },
      },
    },
    async (req) => sources.status((req.params as { name: string }).name),
  );

  app.post(
    '/v1/sources/:name/sync',
    {
      config: { scope: 'admin', audit: { action: 'source.sync', subject: (req) => field(req.params, 'name') } },
      schema: {
        tags: ['sources'],
        operationId: 'syncSource',
        summary: 'Start a sync now (202); requests made while one runs share one follow-up sync',
        params: NameParams,
        response: { 202: openObject('`{ status: "accepted", source, coalesced }`') },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      sources.definition(name);
      const queued = sources.busy(name);
      sources.requestSync(name, 'api');
      reply.status(202);
      return { status: 'accepted', source: name, coalesced: queued };
    },
  );
}
