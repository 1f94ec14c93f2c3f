import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SourceManager } from '../../sources/manager.js';
import { field } from '../middleware/audit.js';
import { openObject } from '../openapi.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63, description: 'Source name' }) });
const SyncQuery = Type.Object({
  confirm_removals: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        "Lets this one sync orphan more than the source's `max_orphan_ratio` of its versions (a blocked source); later syncs are weighed again",
    }),
  ),
});

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
        response: {
          200: openObject(
            '`{ items: [...] }`: each source with its sync status (`state`: idle, syncing, blocked or failed; `blocked`: `{ orphans, total, ratio }` or null)',
          ),
        },
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
        response: {
          200: openObject(
            'The source with its last sync: `{ name, type, url, branch, last_commit, last_sync_at, last_duration_ms, state, blocked, counts, errors, last_error }`; `state` is idle, syncing, blocked or failed, and a blocked source carries `blocked: { orphans, total, ratio }` (`total`: its non-orphaned versions before the sync), null otherwise',
          ),
        },
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
        description:
          "A sync that would orphan more than `max_orphan_ratio` of the source's versions writes nothing and leaves the " +
          'source `blocked`; `confirm_removals=true` lets the next sync proceed (docs/lifecycle.md, "Orphans").',
        params: NameParams,
        querystring: SyncQuery,
        response: { 202: openObject('`{ status: "accepted", source, coalesced, confirm_removals }`') },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const confirm = (req.query as Static<typeof SyncQuery>).confirm_removals === true;
      sources.definition(name);
      const queued = sources.busy(name);
      sources.requestSync(name, 'api', { confirmRemovals: confirm });
      reply.status(202);
      return { status: 'accepted', source: name, coalesced: queued, confirm_removals: confirm };
    },
  );
}
