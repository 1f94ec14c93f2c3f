import { invalidRequest } from '@nestor/sdk';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../storage/interfaces.js';

const AuditQuerySchema = Type.Object({
  actor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 300, description: '`token:<name>`, `source:<name>` or `anonymous`' }),
  ),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. `component.create`' })),
  subject: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 300,
      description: '`name@version`, an id, or a bare name for all its versions',
    }),
  ),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive lower bound on `time`' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive upper bound on `time`' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

const CURSOR = /^\d{15}-[0-9a-f]{8}$/;

/** `GET /v1/audit` (admin): newest first, filtered, cursor-paged. */
export function registerAuditRoutes(app: FastifyInstance, { log }: { log: AuditLog }): void {
  app.get(
    '/v1/audit',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['audit'],
        operationId: 'listAudit',
        summary: 'The audit log, newest first (admin)',
        querystring: AuditQuerySchema,
        response: {
          200: Type.Object(
            {
              items: Type.Array(
                Type.Object(
                  {
                    id: Type.String(),
                    time: Type.String({ format: 'date-time' }),
                    actor: Type.String(),
                    action: Type.String(),
                    subject: Type.String(),
                    request_id: Type.Union([Type.String(), Type.Null()]),
                    ip: Type.Union([Type.String(), Type.Null()]),
                    outcome: Type.Union(['ok', 'denied', 'invalid', 'conflict', 'error'].map((o) => Type.Literal(o))),
                    details: Type.Object({}, { additionalProperties: true }),
                  },
                  { additionalProperties: true },
                ),
              ),
              next_cursor: Type.Union([Type.String(), Type.Null()]),
            },
            { additionalProperties: true },
          ),
        },
      },
    },
    async (req) => {
      const q = req.query as Static<typeof AuditQuerySchema>;
      if (q.cursor !== undefined && !CURSOR.test(q.cursor)) {
        throw invalidRequest('api', 'ListAudit', 'cursor is not one this server handed out', { field: 'cursor' });
      }
      const since = q.since === undefined ? undefined : isoTime(q.since, 'since');
      const until = q.until === undefined ? undefined : isoTime(q.until, 'until');
      const page = await log.listAudit({
        actor: q.actor,
        action: q.action,
        subject: q.subject,
        since,
        until,
        limit: q.limit ?? 50,
        cursor: q.cursor ?? null,
      });
      return { items: page.items, next_cursor: page.nextCursor };
    },
  );
}

function isoTime(value: string, field: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalidRequest('api', 'ListAudit', `${field} must be an ISO 8601 date-time`, { field });
  return new Date(t).toISOString();
}
