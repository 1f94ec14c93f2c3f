import { readFileSync } from 'node:fs';
import { ComponentSpecSchema, ERROR_CODES, type ErrorCode, PROBLEM_CONTENT_TYPE } from '@nestor/sdk';
import { type TSchema, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import type { Scope } from '../config/api-tokens.js';

/**
 * What the OpenAPI document says that no single route states: operation ids from a naming rule,
 * security from `config.scope`, and the problem answers every route shares. Applied as
 * @fastify/swagger's `transform`, so it shapes the document only and never what the server sends.
 */

/** RFC 9457 problem body as `toProblem` writes it. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the problem type' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'What went wrong, for a human' }),
    code: Type.Union(
      (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => Type.Literal(c)),
      { description: 'Stable error code (docs/errors.md)' },
    ),
    component: Type.Union([Type.String(), Type.Null()]),
    operation: Type.Union([Type.String(), Type.Null()]),
    details: Type.Object({}, { additionalProperties: true }),
    errors: Type.Array(Type.Object({}, { additionalProperties: true })),
    request_id: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** Codes that answer with each status, for the response descriptions. */
function codesWithStatus(status: number): string {
  return (Object.keys(ERROR_CODES) as ErrorCode[])
    .filter((c) => ERROR_CODES[c].status === status)
    .map((c) => `\`${c}\``)
    .join(', ');
}

/** A problem+json response for `status`, naming the codes that answer with it (all of that status unless given). */
export function problemResponse(status: number, why?: string, only?: readonly ErrorCode[]) {
  const codes = only ? only.map((c) => `\`${c}\``).join(', ') : codesWithStatus(status);
  return {
    description: `${why ?? ERROR_TITLES[status] ?? 'Error'}${codes ? ` (${codes})` : ''}`,
    // One shared component (server.ts lists it): inlined, it would repeat on every response.
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

const ERROR_TITLES: Record<number, string> = {
  400: 'The request is malformed',
  401: 'Missing or invalid bearer token',
  403: 'The token lacks the scope this operation needs',
  404: 'No such resource or route',
  405: 'Method not allowed',
  409: 'Conflict with the current state',
  412: 'The If-Match precondition does not hold',
  413: 'The request body is too large',
  415: 'The body is not JSON',
  422: 'The content is invalid',
  429: 'Rate limited; retry after the Retry-After seconds',
  500: 'Internal error',
  502: 'A backend failed',
  503: 'A dependency is unavailable, or the server is shutting down',
  504: 'A backend did not answer in time',
};

/** Routes without a rate limit (kept equal to the server's exempt set by the caller). */
export interface DocumentOptions {
  rateLimitExempt: ReadonlySet<string>;
}

interface RouteLike {
  method: string | string[];
  url: string;
  config?: { scope?: Scope } | unknown;
}

/**
 * `GET /v1/components/:name/versions` → `getComponentsByNameVersions`. Routes may state their own
 * `operationId`; this rule gives every other one a stable, unique name.
 */
function defaultOperationId(method: string, url: string): string {
  const verb = method.toLowerCase();
  const parts = url
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s));
  const words = parts.flatMap((p) => p.split(/[^A-Za-z0-9]+/)).filter((w) => w !== '' && w !== 'json');
  return verb + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

const SCOPE_TEXT: Record<Scope | 'none', string> = {
  none: 'Security: none (public).',
  read: 'Security: bearer token with the `read` scope.',
  write: 'Security: bearer token with the `write` scope.',
  admin: 'Security: bearer token with the `admin` scope.',
};

/** Adds the derived parts to one route's schema (a copy: the route's own schema is left as it is). */
export function documentRoute(
  schema: Record<string, unknown> | undefined,
  route: RouteLike,
  opts: DocumentOptions,
): Record<string, unknown> {
  const s: Record<string, unknown> = { ...(schema ?? {}) };
  const method = Array.isArray(route.method) ? (route.method[0] ?? 'GET') : route.method;
  const scope = ((route.config ?? {}) as { scope?: Scope }).scope;
  s.operationId ??= defaultOperationId(method, route.url);
  s.security = scope ? [{ bearer: [] }] : [];
  s.description = [s.description, SCOPE_TEXT[scope ?? 'none']].filter(Boolean).join('\n\n');

  const specific = (s.response ?? {}) as Record<string, unknown>;
  const common: Record<string, unknown> = {
    // Any route: an undecodable URL, a bad query or path parameter.
    400: problemResponse(400),
    // A presented token that is not valid is refused on every route, public ones included.
    401: problemResponse(401),
  };
  if (scope) common[403] = problemResponse(403);
  if (route.url.includes(':')) common[404] = problemResponse(404);
  if (['POST', 'PUT', 'PATCH'].includes(method)) {
    common[413] = problemResponse(413);
    common[415] = problemResponse(415);
  }
  if (!opts.rateLimitExempt.has(route.url)) common[429] = problemResponse(429);
  common[500] = problemResponse(500);
  common[503] = problemResponse(503);
  s.response = { ...common, ...specific };
  return s;
}

/** Description of each tag, in the order the document lists them. */
export const TAGS = [
  { name: 'components', description: 'Publish, read, search and resolve versioned components.' },
  { name: 'validation', description: 'Validate components without writing them.' },
  { name: 'changesets', description: 'Publish several versions at once, all or nothing.' },
  { name: 'impact', description: 'Dependents, diffs and multi-component resolution.' },
  { name: 'engines', description: 'Deployment engines and their health.' },
  { name: 'sources', description: 'Git and directory sources, their sync status, and the webhooks that start a sync.' },
  { name: 'events', description: 'Server-sent stream of catalog changes.' },
  { name: 'schemas', description: 'JSON Schemas for editors and CI.' },
  { name: 'tokens', description: 'Stored API tokens: create, list, revoke (admin).' },
  { name: 'audit', description: 'Who changed what, including refused writes (admin).' },
  { name: 'subscriptions', description: 'Outgoing webhooks: subscriptions and their delivery logs (admin).' },
  { name: 'operations', description: 'Liveness, readiness and build information.' },
];

/** A catalog example taken from `examples/`, or null where the examples folder is not shipped. */
function exampleSpec(): Record<string, unknown> | null {
  try {
    const url = new URL('../../../../examples/k8s/k8s-namespace/component.yaml', import.meta.url);
    return parseYaml(readFileSync(url, 'utf8')) as Record<string, unknown>;
  } catch {
    // A package installed without the repository's examples still serves a document, without examples.
    return null;
  }
}

const EXAMPLE_SPEC = exampleSpec();

/** A submitted component; the example is `examples/k8s/k8s-namespace/component.yaml`. */
export const ComponentSpecDoc: TSchema = EXAMPLE_SPEC
  ? { ...ComponentSpecSchema, examples: [EXAMPLE_SPEC] }
  : ComponentSpecSchema;

/** A stored version: the submitted fields plus the ones the server manages. */
export const ComponentDefinitionSchema: TSchema = Type.Object(
  {
    ...ComponentSpecSchema.properties,
    digest: Type.String({ description: '`sha256:<hex>` of the canonical content' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    deprecated: Type.Union([
      Type.Object({ reason: Type.String(), at: Type.String({ format: 'date-time' }) }, { additionalProperties: true }),
      Type.Null(),
    ]),
    revision: Type.Integer({ minimum: 0, description: 'Sequence of the event that last changed this version' }),
    revoked: Type.Union(
      [
        Type.Object(
          { reason: Type.String(), at: Type.String({ format: 'date-time' }) },
          { additionalProperties: true },
        ),
        Type.Null(),
      ],
      { description: 'Set while the version is revoked: latest, resolve, list and search skip it (docs/lifecycle.md)' },
    ),
    orphaned: Type.Union(
      [
        Type.Object(
          { source: Type.String(), at: Type.String({ format: 'date-time' }) },
          { additionalProperties: true },
        ),
        Type.Null(),
      ],
      { description: 'Set while the file that published the version is missing from its source' },
    ),
    published_by: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: '`token:<name>` or `source:<name>`: who published the version (null when unknown)',
      }),
    ),
  },
  {
    additionalProperties: true,
    title: 'ComponentDefinition',
    ...(EXAMPLE_SPEC
      ? {
          examples: [
            {
              ...EXAMPLE_SPEC,
              digest: `sha256:${'0'.repeat(64)}`,
              created_at: '2026-01-01T00:00:00.000Z',
              updated_at: '2026-01-01T00:00:00.000Z',
              deprecated: null,
              revision: 1,
              revoked: null,
              orphaned: null,
              published_by: 'source:platform',
            },
          ],
        }
      : {}),
  },
);

/** A JSON object whose fields are all passed through (documented by the description). */
export function openObject(description: string): TSchema {
  return Type.Object({}, { additionalProperties: true, description });
}

export const NotModified = { description: 'Not modified: the If-None-Match ETag is current', type: 'null' } as const;
export const NoContent = { description: 'Done; no body', type: 'null' } as const;
