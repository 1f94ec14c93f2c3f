import { type Constraint, create, isStrictVersion } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import semver from 'semver';
import { decode } from '../../catalog/decode.js';
import { type ImpactService, MAX_FROM_LENGTH, MAX_RESOLVE_CONSTRAINTS } from '../../catalog/impact.js';
import { openObject, problemResponse } from '../openapi.js';

const NAME_PARAM = Type.String({ minLength: 1, maxLength: 253, description: 'Component name' });
const VERSION = Type.String({ minLength: 1, maxLength: 256, description: 'Exact semver version' });
const NameParams = Type.Object({ name: NAME_PARAM });
const VersionParams = Type.Object({ name: NAME_PARAM, version: VERSION });
const ProposedQuery = Type.Object({ proposed: VERSION });
const DiffQuery = Type.Object({ from: VERSION, to: VERSION });
const RANGE_MAX = 500;

/** `POST /v1/resolve` body (DESIGN.md 10.2). */
const ResolveBodySchema = Type.Object(
  {
    constraints: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 253 }),
          range: Type.String({ minLength: 1, maxLength: RANGE_MAX }),
          from: Type.Optional(
            Type.String({ minLength: 1, maxLength: MAX_FROM_LENGTH, description: 'Who asks; defaults to "request"' }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_RESOLVE_CONSTRAINTS },
    ),
    include_prerelease: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const COMPONENT = 'api';
const NAME_SHAPE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface ImpactRouteDeps {
  impact: ImpactService;
}

/** Impact, diff and resolution (DESIGN.md 10.2). Read scope. */
export function registerImpactRoutes(app: FastifyInstance, { impact }: ImpactRouteDeps): void {
  const read = { scope: 'read' as const };

  app.get(
    '/v1/components/:name/versions/:version/impact',
    {
      config: read,
      schema: {
        tags: ['impact'],
        operationId: 'getVersionImpact',
        summary: 'Published dependents whose ranges admit this version',
        description:
          'Every (component, version) whose direct dependency on {name} admits {version}; `selected` when ' +
          '{version} is the highest available version satisfying that range today.',
        params: VersionParams,
        response: { 200: openObject('Dependents whose ranges admit the version') },
      },
    },
    async (req, reply) => {
      const { name, version } = req.params as Static<typeof VersionParams>;
      checkName(name);
      checkVersion(version, 'version');
      return reply.type('application/json; charset=utf-8').send(await impact.versionImpactJson(name, version));
    },
  );

  app.get(
    '/v1/components/:name/impact',
    {
      config: read,
      schema: {
        tags: ['impact'],
        operationId: 'getProposedImpact',
        summary: 'Which dependents would accept or reject a proposed version',
        params: NameParams,
        querystring: ProposedQuery,
        response: { 200: openObject('Dependents that would accept or reject the proposed version') },
      },
    },
    async (req) => {
      const { name } = req.params as Static<typeof NameParams>;
      const { proposed } = req.query as Static<typeof ProposedQuery>;
      checkName(name);
      checkVersion(proposed, 'proposed');
      return impact.proposedImpact(name, proposed);
    },
  );

  app.get(
    '/v1/components/:name/diff',
    {
      config: read,
      schema: {
        tags: ['impact'],
        operationId: 'diffComponentVersions',
        summary: 'Changes between two published versions, as validation reports them',
        params: NameParams,
        querystring: DiffQuery,
        response: { 200: openObject('The changes between the two versions') },
      },
    },
    async (req) => {
      const { name } = req.params as Static<typeof NameParams>;
      const { from, to } = req.query as Static<typeof DiffQuery>;
      checkName(name);
      checkVersion(from, 'from');
      checkVersion(to, 'to');
      return impact.diff(name, from, to);
    },
  );

  app.post(
    '/v1/resolve',
    {
      config: read,
      schema: {
        tags: ['impact'],
        operationId: 'resolveConstraints',
        summary: 'One version per component satisfying every constraint over the dependency closure',
        body: ResolveBodySchema,
        response: {
          200: openObject('`{ resolved: [...] }`: one version per component'),
          422: problemResponse(422, 'No assignment satisfies every constraint', [
            'resolution_failed',
            'resolution_too_complex',
          ]),
        },
      },
    },
    async (req) => {
      const body = decode(ResolveBodySchema, req.body, { component: COMPONENT, operation: 'Resolve' });
      const constraints: Constraint[] = body.constraints.map((c, i) => {
        checkName(c.name, `constraints[${i}].name`);
        if (semver.validRange(c.range) === null) {
          throw create('invalid_range')
            .component(COMPONENT)
            .operation('Resolve')
            .message(`constraints[${i}].range ${JSON.stringify(c.range.slice(0, 80))} is not a valid semver range`)
            .detail('field', `constraints[${i}].range`)
            .build();
        }
        return { name: c.name, range: c.range, from: c.from ?? 'request' };
      });
      return { resolved: await impact.resolve(constraints, body.include_prerelease ?? false) };
    },
  );
}

function checkName(name: string, field = 'name'): void {
  if (!NAME_SHAPE.test(name) || name.length > 63) {
    throw invalid(`"${name.slice(0, 80)}" is not a valid component name (lowercase letters, digits and -)`, field);
  }
}

function checkVersion(version: string, field: string): void {
  if (!isStrictVersion(version)) {
    throw invalid(`${field} "${version.slice(0, 80)}" is not a semver version such as 1.2.3`, field);
  }
}

function invalid(message: string, field: string) {
  return create('invalid_request')
    .component(COMPONENT)
    .operation('DecodeRequest')
    .message(message)
    .detail('field', field)
    .build();
}
