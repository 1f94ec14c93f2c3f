import { create } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../../audit/recorder.js';
import { decodeComponent } from '../../catalog/component-decoder.js';
import { decode } from '../../catalog/decode.js';
import type { ImpactService } from '../../catalog/impact.js';
import { type CatalogManager, changesetTooLarge, MAX_CHANGESET_MEMBERS } from '../../catalog/manager.js';
import { auditForWrite } from '../middleware/audit.js';
import { actorOf, checkOwnership, checkProvenance } from '../middleware/ownership.js';
import { ComponentSpecDoc, problemResponse } from '../openapi.js';

/** Longest accepted `message`. */
const MAX_MESSAGE = 2000;
const COMPONENT = 'api';

/** The envelope; members are decoded one by one after the count is checked, so a huge set costs nothing. */
const ChangesetEnvelope = Type.Object(
  {
    components: Type.Array(Type.Unknown()),
    message: Type.Optional(Type.String({ maxLength: MAX_MESSAGE })),
  },
  { additionalProperties: false },
);
const ChangesetBodyDoc = Type.Object(
  {
    components: Type.Array(ComponentSpecDoc, {
      minItems: 1,
      maxItems: MAX_CHANGESET_MEMBERS,
      description: 'The members; no name+version twice',
    }),
    message: Type.Optional(Type.String({ maxLength: MAX_MESSAGE, description: 'Why, kept with the record' })),
  },
  { additionalProperties: false },
);
const DryRunQuery = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Validate the set and write nothing' })),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'Changeset id' }) });
const ItemSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  status: Type.Union([Type.Literal('created'), Type.Literal('unchanged')]),
});
const WrittenSchema = Type.Object({
  id: Type.Union([Type.String(), Type.Null()], { description: 'Null when every member was published already' }),
  revision: Type.Integer({ description: 'Sequence of the last event of the set' }),
  items: Type.Array(ItemSchema),
});
const DryRunSchema = Type.Object({
  valid: Type.Boolean(),
  results: Type.Array(Type.Object({}, { additionalProperties: true }), {
    description: 'One validation result per member, in input order',
  }),
  impact: Type.Array(
    Type.Object({
      name: Type.String(),
      version: Type.String(),
      accepted: Type.Integer({ description: 'Dependents whose range accepts the new version' }),
      rejected: Type.Integer({ description: 'Dependents whose range does not' }),
    }),
  ),
});
const RecordSchema = Type.Object({
  id: Type.String(),
  time: Type.String(),
  actor: Type.String(),
  message: Type.Union([Type.String(), Type.Null()]),
  revision: Type.Integer(),
  items: Type.Array(ItemSchema),
});

export interface ChangesetRouteDeps {
  manager: CatalogManager;
  audit: AuditRecorder;
  impact: Pick<ImpactService, 'summary'>;
  /** The per-component dependency cap (`limits.dependencies`), as single creates apply it. */
  limits: { dependencies: number };
}

/** Changesets (DESIGN.md 10.4; docs/changesets.md). */
export function registerChangesetRoutes(app: FastifyInstance, { manager, audit, impact, limits }: ChangesetRouteDeps) {
  app.post(
    '/v1/changesets',
    {
      config: { scope: 'write', audit: { action: 'changeset.create', subject: () => '' } },
      schema: {
        tags: ['changesets'],
        operationId: 'createChangeset',
        summary: 'Publish several versions at once, all or nothing',
        description:
          'The members are validated as one set (a member may depend on another member’s new version) and written in ' +
          'one atomic step with one `component.created` event each, consecutive, carrying `data.changeset`. 201 when ' +
          'something was written; 200 with `id: null` when every member was published already with the same content. ' +
          `At most ${MAX_CHANGESET_MEMBERS} members. With \`dry_run=true\`: 200 with the verdict and nothing written.`,
        querystring: DryRunQuery,
        body: ChangesetBodyDoc,
        response: {
          200: {
            description: 'Nothing to write, or the dry run’s verdict',
            ...Type.Union([WrittenSchema, DryRunSchema]),
          },
          201: { description: 'Written', ...WrittenSchema },
          400: problemResponse(400, 'Malformed, empty, or a member given twice', ['invalid_request']),
          403: problemResponse(403, 'A member’s name is outside the token’s `names`', ['forbidden']),
          409: problemResponse(409, 'A member exists with other content (`details.name`, `details.version`)', [
            'version_conflict',
          ]),
          422: problemResponse(422, 'A member is invalid (`results` in input order), or the set is too large', [
            'validation_failed',
            'changeset_too_large',
          ]),
        },
      },
    },
    async (req, reply) => {
      const where = { component: COMPONENT, operation: 'CreateChangeset' };
      const body = decode(ChangesetEnvelope, req.body, where);
      if (body.components.length > MAX_CHANGESET_MEMBERS) throw changesetTooLarge(body.components.length);
      const specs = body.components.map((item, i) => {
        const what = `components[${i}]`;
        const spec = decodeComponent(item, { ...where, what });
        if (spec.dependencies.length > limits.dependencies) {
          throw create('invalid_request')
            .component(COMPONENT)
            .operation('CreateChangeset')
            .message(
              `${what} declares ${spec.dependencies.length} dependencies; at most ${limits.dependencies} are accepted (limits.dependencies)`,
            )
            .detail('field', `${what}.dependencies`)
            .detail('max', limits.dependencies)
            .build();
        }
        return spec;
      });
      for (const spec of specs) {
        checkOwnership(req.principal, spec.name, 'CreateChangeset');
        checkProvenance(req.principal, spec, 'CreateChangeset');
      }
      if ((req.query as Static<typeof DryRunQuery>).dry_run) {
        // A dry run writes nothing, so it leaves no audit entry either.
        req.auditWritten = true;
        const verdict = await manager.validateChangeset(specs);
        const counts = await Promise.all(specs.map((s) => impact.summary(s.name, s.version, 0)));
        return {
          ...verdict,
          impact: specs.map((s, i) => ({
            name: s.name,
            version: s.version,
            accepted: counts[i]?.accepted ?? 0,
            rejected: counts[i]?.rejected ?? 0,
          })),
        };
      }
      const result = await manager.createChangeset(specs, {
        actor: actorOf(req.principal),
        message: body.message ?? null,
        audit: (id) => auditForWrite(audit, req, 'changeset.create', id, { members: specs.length }),
      });
      // Nothing written (every member published already): the audit hook records it on its own.
      req.auditWritten = result.id !== null;
      reply.status(result.id === null ? 200 : 201);
      if (result.id !== null) reply.header('location', `/v1/changesets/${result.id}`);
      reply.header('x-catalog-revision', String(Math.max(result.revision, req.catalogRevision ?? 0)));
      return result;
    },
  );

  app.get(
    '/v1/changesets/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['changesets'],
        operationId: 'getChangeset',
        summary: 'A written changeset',
        params: IdParams,
        response: {
          200: RecordSchema,
          404: problemResponse(404, 'No such changeset', ['changeset_not_found']),
        },
      },
    },
    async (req) => manager.getChangeset((req.params as Static<typeof IdParams>).id),
  );
}
