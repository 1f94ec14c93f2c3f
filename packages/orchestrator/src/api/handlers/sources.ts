import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SourceManager } from '../../sources/manager.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63, description: 'Source name' }) });

export interface SourceRouteDeps {
  sources: SourceManager;
}

/** Sync status of git and directory sources, and manual syncs (DESIGN.md section 8). */
export function registerSourceRoutes(app: FastifyInstance, { sources }: SourceRouteDeps): void {
  app.get(
    '/v1/sources',
    { config: { scope: 'read' }, schema: { tags: ['sources'], summary: 'Every source and its sync status' } },
    async () => ({ items: await sources.list() }),
  );

  app.get(
    '/v1/sources/:name',
    {
      config: { scope: 'read' },
      schema: { tags: ['sources'], summary: 'One source: last commit, counts, per-file errors', params: NameParams },
    },
    async (req) => sources.status((req.params as { name: string }).name),
  );

  app.post(
    '/v1/sources/:name/sync',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['sources'],
        summary: 'Start a sync now (202); requests made while one runs share one follow-up sync',
        params: NameParams,
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
