import { create, isStrictVersion, TEXT_LIMITS } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { decode } from '../../catalog/decode.js';
import type { CatalogManager } from '../../catalog/manager.js';
import { ComponentDefinitionSchema, problemResponse } from '../openapi.js';

const NAME_SHAPE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const VersionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, description: 'Component name' }),
  version: Type.String({ minLength: 1, maxLength: 256, description: 'Exact semver version' }),
});
const Reason = Type.String({ minLength: 1, maxLength: TEXT_LIMITS.reason, description: 'Why (shown on reads)' });
const RevokeBody = Type.Object({ reason: Reason }, { additionalProperties: false });
const DeleteQuery = Type.Object({ reason: Type.Optional(Reason) });
const COMPONENT = 'api';

/** Revoke, delete and restore of one version (DESIGN.md 10.3; docs/lifecycle.md). All need admin. */
export function registerLifecycleRoutes(app: FastifyInstance, { manager }: { manager: CatalogManager }): void {
  const admin = { scope: 'admin' as const };
  const params = (raw: unknown) => {
    const p = raw as Static<typeof VersionParams>;
    if (!NAME_SHAPE.test(p.name) || p.name.length > 63) {
      throw invalidParam(
        `"${p.name.slice(0, 80)}" is not a valid component name (lowercase letters, digits and -)`,
        'name',
      );
    }
    if (!isStrictVersion(p.version)) {
      throw invalidParam(`"${p.version.slice(0, 80)}" is not a semver version such as 1.2.3`, 'version');
    }
    return p;
  };
  const revision = (c: { revision: number }, current: number | null | undefined) =>
    String(Math.max(c.revision, current ?? 0));

  app.post(
    '/v1/components/:name/versions/:version/revoke',
    {
      config: admin,
      schema: {
        tags: ['lifecycle'],
        operationId: 'revokeComponentVersion',
        summary: 'Revoke a version (admin)',
        description:
          'Latest, resolve, list and search skip a revoked version, and a new component whose dependency only revoked ' +
          'versions satisfy fails validation (`dependency_revoked`); an exact read still answers it with `revoked` set. ' +
          'Revoking a revoked version changes nothing.',
        params: VersionParams,
        body: RevokeBody,
        response: {
          200: ComponentDefinitionSchema,
          404: problemResponse(404, 'No such version', ['component_not_found']),
          410: problemResponse(410, 'The version is deleted', ['component_deleted']),
        },
      },
    },
    async (req, reply) => {
      const { name, version } = params(req.params);
      const body = decode(RevokeBody, req.body, { component: COMPONENT, operation: 'RevokeComponent' });
      const c = await manager.revokeComponent(name, version, body.reason);
      reply.header('x-catalog-revision', revision(c, req.catalogRevision));
      return c;
    },
  );

  app.delete(
    '/v1/components/:name/versions/:version',
    {
      config: admin,
      schema: {
        tags: ['lifecycle'],
        operationId: 'deleteComponentVersion',
        summary: 'Delete a version softly (admin)',
        description:
          'The version answers 410 `component_deleted` from now on and its number is never reusable; it is purged for ' +
          'good after `lifecycle.purge_after` and can be restored until then. Refused with 409 `has_dependents` while a ' +
          'version that is neither revoked nor deleted depends on it through a range no other version satisfies.',
        params: VersionParams,
        querystring: DeleteQuery,
        response: {
          200: ComponentDefinitionSchema,
          404: problemResponse(404, 'No such version', ['component_not_found']),
          409: problemResponse(409, 'Versions depend on it', ['has_dependents']),
          410: problemResponse(410, 'Already deleted', ['component_deleted']),
        },
      },
    },
    async (req, reply) => {
      const { name, version } = params(req.params);
      const { reason } = req.query as Static<typeof DeleteQuery>;
      const c = await manager.deleteComponent(name, version, reason ?? null);
      reply.header('x-catalog-revision', revision(c, req.catalogRevision));
      return c;
    },
  );

  app.post(
    '/v1/components/:name/versions/:version/restore',
    {
      config: admin,
      schema: {
        tags: ['lifecycle'],
        operationId: 'restoreComponentVersion',
        summary: 'Lift a revocation or a not-yet-purged deletion (admin)',
        description: 'Restoring an active version changes nothing. A purged version stays gone (410).',
        params: VersionParams,
        response: {
          200: ComponentDefinitionSchema,
          404: problemResponse(404, 'No such version', ['component_not_found']),
          410: problemResponse(410, 'The version was purged', ['component_deleted']),
        },
      },
    },
    async (req, reply) => {
      const { name, version } = params(req.params);
      const c = await manager.restoreComponent(name, version);
      reply.header('x-catalog-revision', revision(c, req.catalogRevision));
      return c;
    },
  );
}

function invalidParam(message: string, field: string) {
  return create('invalid_request')
    .component(COMPONENT)
    .operation('DecodeRequest')
    .message(message)
    .detail('field', field)
    .build();
}
