import {
  ComponentPatchSchema,
  type ComponentSpec,
  ComponentSpecSchema,
  create,
  isStrictVersion,
  MaturitySchema,
} from '@nestor/sdk';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AuditRecorder } from '../../audit/recorder.js';
import { decodeComponent } from '../../catalog/component-decoder.js';
import { decode } from '../../catalog/decode.js';
import type { CatalogManager } from '../../catalog/manager.js';
import { parseIfMatch, versionEtag } from '../../catalog/version-tag.js';
import type { CatalogQuery, SearchProjection } from '../../search/projection.js';
import { checkFilter, type Filter, parseFacets, parseSearchText } from '../../search/query.js';
import { notModified } from '../conditional-get.js';
import { auditForWrite, nameAtVersion } from '../middleware/audit.js';
import { actorOf, checkOwnership, checkProvenance } from '../middleware/ownership.js';
import { ComponentDefinitionSchema, ComponentSpecDoc, NotModified, openObject, problemResponse } from '../openapi.js';
import { PageBuffers } from '../page-buffers.js';

const NAME_PARAM = Type.String({ minLength: 1, maxLength: 253, description: 'Component name' });
const VERSION_PARAM = Type.String({ minLength: 1, maxLength: 256, description: 'Exact semver version' });
const NameParams = Type.Object({ name: NAME_PARAM });
const PatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ maxLength: 1024, description: 'ETag(s) of the version as last read, or *; stale → 412' }),
  ),
});
const VersionParams = Type.Object({ name: NAME_PARAM, version: VERSION_PARAM });

const FilterQuery = {
  provider: Type.Optional(Type.String({ maxLength: 100 })),
  category: Type.Optional(Type.String({ maxLength: 100 })),
  resource_type: Type.Optional(Type.String({ maxLength: 100 })),
  engine: Type.Optional(Type.String({ maxLength: 100 })),
  maturity: Type.Optional(MaturitySchema),
  label: Type.Optional(
    Type.Union([Type.String({ maxLength: 500 }), Type.Array(Type.String({ maxLength: 500 }), { maxItems: 20 })], {
      description: 'key=value, repeatable (all must match)',
    }),
  ),
  support_level: Type.Optional(Type.Union([Type.Literal('community'), Type.Literal('supported')])),
  include_prerelease: Type.Optional(Type.Boolean({ default: false })),
  orphaned: Type.Optional(
    Type.Boolean({
      description:
        'true: only components whose listed version (the one latest picks) is orphaned, its file gone from its source (docs/lifecycle.md)',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  facets: Type.Optional(
    Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10 })], {
      description:
        'Comma-separated facets to count over the whole filtered result: provider, category, resource_type, engine, maturity, support_level, label',
    }),
  ),
  facet_limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Values per facet, most frequent first' }),
  ),
};
const SortParam = (byDefault: string) =>
  Type.Optional(
    Type.Union([Type.Literal('relevance'), Type.Literal('name'), Type.Literal('updated')], {
      description: `Order of the results (default ${byDefault}); a query without words has no relevance and is in name order`,
    }),
  );
const ListQuerySchema = Type.Object({ ...FilterQuery, sort: SortParam('name') });
const SearchQuerySchema = Type.Object({
  q: Type.String({
    minLength: 1,
    maxLength: 500,
    description:
      'Words (prefixes, one typo for 5+ letters) and qualifiers: provider: category: resource_type: engine: maturity: support_level: label:key=value',
  }),
  ...FilterQuery,
  sort: SortParam('relevance'),
});
const FacetCountSchema = Type.Object({ value: Type.String(), count: Type.Integer() });
const resultPage = (item: TSchema) =>
  Type.Object(
    {
      items: Type.Array(item),
      next_cursor: Type.Union([Type.String(), Type.Null()]),
      total: Type.Integer({ description: 'Number of results over every page' }),
      facets: Type.Optional(
        Type.Record(Type.String(), Type.Array(FacetCountSchema), {
          description: 'Per facet asked for, `{ value, count }` over the whole filtered result, most frequent first',
        }),
      ),
    },
    { additionalProperties: true },
  );
const LatestQuery = Type.Object({ include_prerelease: Type.Optional(Type.Boolean({ default: false })) });
const ResolveQuery = Type.Object({ range: Type.String({ minLength: 1, maxLength: 500 }) });
const ValidateBody = Type.Union([ComponentSpecSchema, Type.Object({ components: Type.Array(ComponentSpecSchema) })]);

const COMPONENT = 'api';
const NAME_SHAPE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export interface CatalogRouteDeps {
  manager: CatalogManager;
  /** Answers list and search. */
  search: SearchProjection;
  /** Audit entries for publish and patch. */
  audit: AuditRecorder;
  /** Cost caps on what one request may ask for (`limits.*` in config). */
  limits: { validateBatch: number; dependencies: number };
}

/** Component reads, writes and the validation dry run (DESIGN.md section 8). */
export function registerCatalogRoutes(
  app: FastifyInstance,
  { manager, search, audit, limits }: CatalogRouteDeps,
): void {
  const read = { scope: 'read' as const };
  const write = { scope: 'write' as const };
  /** The memory list and search pages are written into, reused while sockets take pages at once. */
  const pages = new PageBuffers();
  /** Decodes a submitted component and holds it to the dependency cap (validation reads each one). */
  const submitted = (body: unknown, where: { operation: string; what?: string }): ComponentSpec => {
    const spec = decodeComponent(body, { component: COMPONENT, ...where });
    if (spec.dependencies.length > limits.dependencies) {
      throw create('invalid_request')
        .component(COMPONENT)
        .operation(where.operation)
        .message(
          `${where.what ?? 'the component'} declares ${spec.dependencies.length} dependencies; at most ${limits.dependencies} are accepted (limits.dependencies)`,
        )
        .detail('field', where.what ? `${where.what}.dependencies` : 'dependencies')
        .detail('limit', 'limits.dependencies')
        .detail('max', limits.dependencies)
        .build();
    }
    return spec;
  };

  app.get(
    '/v1/components',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'listComponents',
        summary: 'Latest version of each component',
        description: 'Filtered, in name order (or `sort=updated`), with `total` and the `facets` asked for.',
        querystring: ListQuerySchema,
        response: { 200: resultPage(ComponentDefinitionSchema) },
      },
    },
    (req, reply) => {
      const q = req.query as Static<typeof ListQuerySchema>;
      return sendPage(
        reply,
        search.page(
          catalogQuery(q, req.catalogRevision, {
            words: [],
            phrase: '',
            ranked: false,
            filters: filtersOf(q),
            sort: q.sort,
          }),
          pages.take,
        ),
        pages,
      );
    },
  );

  app.get(
    '/v1/components/search',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'searchComponents',
        summary: 'Ranked full-text search',
        description:
          'Words match name, resource_type, category, provider, labels, input and output names and description ' +
          '(in that rank order), as prefixes and with one typo from 5 letters; qualifiers filter. See docs/search.md.',
        querystring: SearchQuerySchema,
        response: { 200: resultPage(ComponentDefinitionSchema) },
      },
    },
    (req, reply) => {
      const q = req.query as Static<typeof SearchQuerySchema>;
      const parsed = parseSearchText(q.q);
      return sendPage(
        reply,
        search.page(
          catalogQuery(q, req.catalogRevision, {
            words: parsed.words,
            phrase: parsed.phrase,
            ranked: true,
            filters: [...filtersOf(q), ...parsed.filters],
            sort: q.sort,
          }),
          pages.take,
        ),
        pages,
      );
    },
  );

  app.get(
    '/v1/components/:name',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'getLatestComponent',
        summary: 'Latest version',
        params: NameParams,
        querystring: LatestQuery,
        response: { 200: ComponentDefinitionSchema },
      },
    },
    async (req, reply) => {
      const { name } = checkName(req.params as Static<typeof NameParams>);
      const includePrerelease = (req.query as Static<typeof LatestQuery>).include_prerelease ?? false;
      return sendJson(reply, (await manager.getLatestComponentJson(name, includePrerelease)).json);
    },
  );

  app.get(
    '/v1/components/:name/versions',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'listComponentVersions',
        summary: 'Version history, semver-descending',
        params: NameParams,
        description: 'Deleted versions are left out; revoked ones are listed with `revoked` set.',
        response: {
          200: openObject(
            '`{ name, versions: [{ version, digest, created_at, deprecated, revoked, orphaned, maturity }] }`',
          ),
        },
      },
    },
    async (req) => {
      const { name } = checkName(req.params as Static<typeof NameParams>);
      const versions = await manager.getComponentVersions(name);
      return {
        name,
        versions: versions
          .filter((v) => !v.deleted)
          .map((v) => ({
            version: v.version,
            digest: v.digest,
            created_at: v.created_at,
            deprecated: v.deprecated,
            revoked: v.revoked ?? null,
            orphaned: v.orphaned ?? null,
            maturity: v.maturity,
          })),
      };
    },
  );

  app.get(
    '/v1/components/:name/versions/:version',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'getComponentVersion',
        summary: 'One version (strong ETag)',
        description: 'Conditional: with `If-None-Match` holding the current ETag the answer is 304 without a body.',
        params: VersionParams,
        response: { 200: ComponentDefinitionSchema, 304: NotModified },
      },
    },
    async (req, reply) => {
      const { name, version } = checkVersion(req.params as Static<typeof VersionParams>);
      const stored = await manager.getComponentJson(name, version);
      reply.header('cache-control', 'public, max-age=60');
      const etag = versionEtag(stored);
      reply.header('etag', etag);
      if (notModified(req.headers['if-none-match'], etag)) return reply.status(304).send();
      return sendJson(reply, stored.json);
    },
  );

  app.get(
    '/v1/components/:name/resolve',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'resolveComponentVersion',
        summary: 'Highest version satisfying a range',
        params: NameParams,
        querystring: ResolveQuery,
        response: { 200: ComponentDefinitionSchema },
      },
    },
    async (req) => {
      const { name } = checkName(req.params as Static<typeof NameParams>);
      return manager.resolveVersion(name, (req.query as Static<typeof ResolveQuery>).range);
    },
  );

  app.get(
    '/v1/components/:name/versions/:version/dependencies',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'listComponentDependencies',
        summary: 'Direct dependencies, resolved',
        params: VersionParams,
        response: { 200: openObject('`{ items: [...] }`: each direct dependency with the version it resolves to') },
      },
    },
    async (req) => {
      const { name, version } = checkVersion(req.params as Static<typeof VersionParams>);
      return { items: await manager.getDependencies(name, version) };
    },
  );

  app.get(
    '/v1/components/:name/dependents',
    {
      config: read,
      schema: {
        tags: ['components'],
        operationId: 'listComponentDependents',
        summary: 'Direct dependents',
        params: NameParams,
        response: { 200: openObject('`{ items: [...] }`: components that depend on this one') },
      },
    },
    async (req) => {
      const { name } = checkName(req.params as Static<typeof NameParams>);
      return { items: await manager.getDependents(name) };
    },
  );

  app.post(
    '/v1/components',
    {
      config: { ...write, audit: { action: 'component.create', subject: (req) => nameAtVersion(req.body) } },
      schema: {
        tags: ['components'],
        operationId: 'createComponent',
        summary: 'Publish a version (validated before write)',
        description: '201 with `Location` when the version is new; 200 when the same content was already published.',
        body: ComponentSpecDoc,
        response: {
          200: { description: 'The same content was already published', ...ComponentDefinitionSchema },
          201: { description: 'Published', ...ComponentDefinitionSchema },
          409: problemResponse(409, 'The version exists with different content', ['version_conflict']),
          422: problemResponse(422, 'The component is invalid'),
        },
      },
    },
    async (req, reply) => {
      const spec = submitted(req.body, { operation: 'CreateComponent' });
      checkOwnership(req.principal, spec.name, 'CreateComponent');
      checkProvenance(req.principal, spec, 'CreateComponent');
      const outcome = await manager.createComponent(spec, {
        actor: actorOf(req.principal),
        audit: auditForWrite(audit, req, 'component.create', `${spec.name}@${spec.version}`),
      });
      // A re-submission wrote nothing: the audit hook records it on its own.
      req.auditWritten = outcome.created;
      reply.status(outcome.created ? 201 : 200);
      if (outcome.created) {
        reply.header('location', `/v1/components/${spec.name}/versions/${spec.version}`);
        reply.header('x-catalog-revision', String(outcome.component.revision));
      }
      return outcome.component;
    },
  );

  app.patch(
    '/v1/components/:name/versions/:version',
    {
      config: { ...write, audit: { action: 'component.patch', subject: (req) => nameAtVersion(req.params) } },
      schema: {
        tags: ['components'],
        summary: 'Change mutable fields or deprecate',
        description:
          'With `If-Match` (the ETag of a version read), the change applies only while the version is still at that ' +
          'representation, checked in the write itself: otherwise 412 `precondition_failed` and nothing is written. ' +
          'The answer carries the new ETag.',
        operationId: 'updateComponent',
        params: VersionParams,
        headers: PatchHeaders,
        body: ComponentPatchSchema,
        response: {
          200: ComponentDefinitionSchema,
          412: problemResponse(412),
          422: problemResponse(422, 'The change is invalid'),
        },
      },
    },
    async (req, reply) => {
      const { name, version } = checkVersion(req.params as Static<typeof VersionParams>);
      checkOwnership(req.principal, name, 'UpdateComponent');
      const patch = decode(ComponentPatchSchema, req.body, { component: COMPONENT, operation: 'UpdateComponent' });
      const ifMatch = req.headers['if-match'];
      const tags = ifMatch === undefined ? '*' : parseIfMatch(ifMatch);
      const updated = await manager.updateComponent(name, version, patch, {
        ...(tags === '*' ? {} : { ifMatch: tags }),
        audit: auditForWrite(audit, req, 'component.patch', `${name}@${version}`, { fields: Object.keys(patch) }),
        onWritten: () => {
          req.auditWritten = true;
        },
      });
      reply.header('etag', versionEtag(updated));
      reply.header('x-catalog-revision', String(Math.max(updated.revision, req.catalogRevision ?? 0)));
      return updated;
    },
  );

  app.post(
    '/v1/validate',
    {
      config: read,
      schema: {
        tags: ['validation'],
        operationId: 'validateComponents',
        summary: 'Validate without writing',
        body: ValidateBody,
        response: { 200: openObject('The validation report; `{ results: [...] }` for a batch') },
      },
    },
    async (req) => {
      const body = req.body;
      if (body && typeof body === 'object' && !Array.isArray(body) && 'components' in body) {
        const list = (body as { components: unknown }).components;
        if (!Array.isArray(list)) throw invalid('"components" must be an array of components');
        if (list.length === 0) throw invalid('"components" must hold at least one component');
        if (list.length > limits.validateBatch) {
          throw create('payload_too_large')
            .component(COMPONENT)
            .operation('ValidateComponents')
            .message(
              `"components" holds ${list.length} components; at most ${limits.validateBatch} are validated per request (limits.validate_batch)`,
            )
            .detail('field', 'components')
            .detail('limit', 'limits.validate_batch')
            .detail('max', limits.validateBatch)
            .build();
        }
        const specs = list.map((item, i) =>
          submitted(item, { operation: 'ValidateComponents', what: `components[${i}]` }),
        );
        const results = [];
        for (const spec of specs) results.push(await manager.validateComponent(spec));
        return { results };
      }
      return manager.validateComponent(submitted(body, { operation: 'ValidateComponent' }));
    },
  );
}

type FilterParams = Static<typeof ListQuerySchema>;

/**
 * A list's or search's query: the parameters both take and what the route adds, written out in one
 * literal rather than spread and extended, which costs every request several µs on Node 20 (see
 * `extended`, objects.ts).
 */
function catalogQuery(
  q: FilterParams,
  revision: number | null,
  route: Pick<CatalogQuery, 'words' | 'phrase' | 'ranked' | 'filters' | 'sort'>,
): CatalogQuery {
  return {
    includePrerelease: q.include_prerelease ?? false,
    orphaned: q.orphaned === true,
    limit: q.limit ?? 50,
    cursor: q.cursor ?? null,
    facets: parseFacets(q.facets),
    facetLimit: q.facet_limit,
    revision,
    words: route.words,
    phrase: route.phrase,
    ranked: route.ranked,
    filters: route.filters,
    sort: route.sort,
  };
}

/** The filters of the query parameters (each narrows). */
function filtersOf(q: FilterParams): Filter[] {
  const out: Filter[] = [];
  for (const facet of ['provider', 'category', 'resource_type', 'engine', 'maturity', 'support_level'] as const) {
    const value = q[facet];
    if (value !== undefined) out.push(checkFilter(facet, value, facet));
  }
  // Each `label=key=value` is a filter of its own: all must match, so one key asked with two values
  // matches nothing, and a key such as `__proto__` filters like any other (gathered into an object
  // first, it was dropped and the list answered unfiltered).
  const labels = q.label === undefined ? [] : Array.isArray(q.label) ? q.label : [q.label];
  for (const pair of labels) out.push(checkFilter('label', pair, 'label'));
  return out;
}

function checkName<T extends { name: string }>(params: T): T {
  if (!NAME_SHAPE.test(params.name) || params.name.length > 63) {
    throw invalid(
      `"${params.name.slice(0, 80)}" is not a valid component name (lowercase letters, digits and -)`,
      'name',
    );
  }
  return params;
}

function checkVersion<T extends { name: string; version: string }>(params: T): T {
  checkName(params);
  if (!isStrictVersion(params.version)) {
    throw invalid(`"${params.version.slice(0, 80)}" is not a semver version such as 1.2.3`, 'version');
  }
  return params;
}

function invalid(message: string, field?: string) {
  const b = create('invalid_request').component(COMPONENT).operation('DecodeRequest').message(message);
  if (field) b.detail('field', field);
  return b.build();
}

/**
 * Sends a stored definition's JSON text as it is: it is already the answer's body, so parsing it
 * only to serialise it again would be wasted (docs/decisions.md, decision 24).
 */
function sendJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/**
 * Sends a list or search page, made at once when the projection had nothing to wait for: the
 * handler then returns nothing and the answer goes out without a promise (a handler returning
 * its reply synchronously would have Fastify send it a second time).
 */
function sendPage(
  reply: FastifyReply,
  page: Buffer | Promise<Buffer>,
  buffers: PageBuffers,
): Promise<void> | undefined {
  // The response cache keeps a copy of an answer it takes (`ownBytes`), never the page's memory.
  if (Buffer.isBuffer(page)) {
    sendJson(reply, page);
    buffers.release(page, reply.raw);
    return undefined;
  }
  return page.then((json) => {
    sendJson(reply, json);
    buffers.release(json, reply.raw);
  });
}
